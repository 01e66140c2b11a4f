#pragma once

// Events and sessions as calendar entries (calendar/ical.hpp): what a calendar program shows of
// them. Pure.

#include <string>

#include "calendar/ical.hpp"
#include "civic/domain/event.hpp"
#include "civic/domain/session.hpp"

namespace civic::events::calendar {

// "event-<id>@civic-platform", "session-<id>@civic-platform": the same for an event in every
// feed and e-mail, so a calendar program updates the entry it has rather than adding one.
std::string EventUid(int64_t event_id);
std::string SessionUid(int64_t session_id);

// The event: its title, description, venue and city (`city_name`, "" when unknown) as the
// location, its times in its city's zone, cancelled when it is. DTSTAMP is its last change.
Entry EventEntry(const Event& event, const std::string& city_name);

// A session of `event`: its title, description, room with the event's venue and city, its times
// in the event's zone, related to the event's entry; cancelled with the event. Its last change
// is the later of the session's and the event's.
Entry SessionEntry(const Session& session, const Event& event, const std::string& city_name);

}  // namespace civic::events::calendar
