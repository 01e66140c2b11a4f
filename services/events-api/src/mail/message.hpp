#pragma once

// E-mail messages as bytes (RFC 5322, MIME): a Russian text and HTML body from templates, and
// the event's calendar file attached. Pure: no I/O.

#include <map>
#include <string>
#include <string_view>

#include "civic/domain/event.hpp"
#include "civic/domain/time.hpp"

namespace civic::events::mail {

// A subject for a header: as is when it is printable ASCII, else RFC 2047 encoded-words
// ("=?UTF-8?B?...?="), each at most 75 characters, split between UTF-8 characters.
std::string EncodeHeader(std::string_view text);

// Base64 in lines of 76 characters, each ending in CRLF.
std::string Base64Lines(std::string_view bytes);

// `text` with each "{{name}}" replaced by values[name] (HTML-escaped when `html`); unknown
// names are left as they are.
std::string Fill(std::string_view text, const std::map<std::string, std::string>& values,
                 bool html);

// The event as an iCalendar file with METHOD:PUBLISH, written by calendar::Write (the writer of
// the calendar feeds): one VEVENT with UID event-<id>@civic-platform, times in the event's zone
// with its VTIMEZONE, SUMMARY, LOCATION (venue and city), STATUS (CANCELLED for a cancelled
// event), SEQUENCE and LAST-MODIFIED from updated_at, DTSTAMP `now`.
std::string Ics(const Event& event, const std::string& city, Instant now);

struct Message {
  std::string from;
  std::string to;
  std::string subject;
  std::string text;
  std::string html;
  std::string ics;         // empty: no attachment
  std::string message_id;  // without the angle brackets
  Instant date{};
};

// The message: multipart/mixed holding multipart/alternative (text/plain, text/html; UTF-8,
// base64) and the .ics (text/calendar, attachment "event.ics"). CRLF line ends.
std::string Render(const Message& message);

}  // namespace civic::events::mail
