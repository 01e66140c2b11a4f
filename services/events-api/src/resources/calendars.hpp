#pragma once

// Calendar feeds (iCalendar, RFC 5545, written by calendar/ical.hpp) for calendar programs to
// subscribe to:
//   GET /v1/events/{id}/calendar.ics     the event and its sessions      (as GET of the event)
//   GET /v1/programs/{id}/calendar.ics   the program's events            (rows the caller reads:
//   GET /v1/cities/{id}/calendar.ics     the events held in the city      the public: not drafts)
//   GET /v1/people/{id}/calendar.ics     the person's confirmed registrations and session
//                                        sign-ups (admins; organisers of a program the person
//                                        takes part in, for their programs' events)
//   GET /v1/calendar-feeds/{token}       the same person's feed, for the holder of its token
//   POST, DELETE /v1/people/{id}/calendar-feed   issue (or rotate) and withdraw the token
// Feeds hold the events ending at most kFeedPastDays ago, at most kFeedMaxEvents of them from
// the earliest; they carry an ETag (If-None-Match: 304) and Cache-Control.
//
// The token (`calf_` and 43 base64url characters, 256 random bits) is shown once, in the answer
// to the POST; only its SHA-256 is stored. A new one replaces the old, which then opens nothing.
// Calendar programs cannot send headers, so the token is in the path: the access log and the
// metrics name the route pattern only, and no answer or log line repeats the token.

#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "storage/store.hpp"

namespace civic::events::resources {

inline constexpr int kFeedPastDays = 365;
inline constexpr int kFeedMaxEvents = 1000;

void AddCalendarRoutes(http::Router& router, Store& store, const Clock& clock);

}  // namespace civic::events::resources
