#pragma once

// iCalendar (RFC 5545) as bytes: the one writer of the calendar feeds (resources/calendars.hpp)
// and of the .ics attached to e-mails (mail/message.hpp). Pure: no I/O, no storage. Thread-safe.
//
// Times are written in the event's own zone (DTSTART;TZID=Asia/Yakutsk:20261201T100000) with a
// VTIMEZONE for each zone used, made by ICU (icu::VTimeZone) from the zone's last transition
// before its first event on, so a calendar program lands «10:00 Якутск» at 10:00 Yakutsk time
// whatever its own zone. ICU's zone data is checked against the tz database the API's JSON uses
// (date/tz.h, the system's): where the two disagree about an event's offset, or ICU does not know
// the zone, that event is written in UTC instead, which is never wrong.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/time.hpp"

namespace civic::events::calendar {

// A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped with a backslash, a line
// break (LF, CRLF or a lone CR) as "\n"; other control characters (but TAB) are dropped, as
// TEXT may not hold them.
std::string EscapeText(std::string_view text);

// One content line as it goes on the wire (RFC 5545 3.1): cut into lines of at most 75 octets
// each, never inside a UTF-8 sequence, each continuation starting with a space; every line ends
// in CRLF. `line` holds no line break.
std::string FoldLine(std::string_view line);

// A UTC DATE-TIME: "20261201T010000Z" (seconds truncated from milliseconds).
std::string UtcDateTime(Instant instant);

// One VEVENT.
struct Entry {
  std::string uid;          // stable: "event-7@civic-platform", "session-3@civic-platform"
  std::string summary;      // the title
  std::string description;  // "" for none
  std::string location;     // "" for none
  std::string related_to;   // the UID of the event a session is part of; "" for none
  Instant starts_at{};
  Instant ends_at{};
  std::string time_zone;  // IANA zone its times are shown in; "" for UTC
  Instant stamp{};        // DTSTAMP
  Instant last_modified{};
  bool cancelled = false;  // STATUS:CANCELLED, else STATUS:CONFIRMED
};

struct Calendar {
  std::string name;    // NAME and X-WR-CALNAME; "" for none
  std::string method;  // "PUBLISH" for a file sent by e-mail; "" for a feed (no METHOD)
  // How often a subscriber should fetch the feed again (REFRESH-INTERVAL, X-PUBLISHED-TTL);
  // 0 for none.
  int refresh_minutes = 0;
  std::vector<Entry> entries;
};

// The calendar: VCALENDAR with a VTIMEZONE per zone its entries use, then a VEVENT per entry in
// their order. SEQUENCE is the seconds of last_modified since the epoch, so a later change
// always has a larger one. The same calendar always gives the same bytes (no clock is read).
std::string Write(const Calendar& calendar);

// The VTIMEZONE of `zone` (lines folded, CRLF) as ICU writes it, with the zone's transitions
// from the last one at or before `from` on (so that its first observance begins before `from`);
// nothing when ICU does not know the zone.
std::optional<std::string> VTimezone(const std::string& zone, Instant from);

// Whether ICU and the tz database of the API agree on `zone`'s UTC offset at `instant` (and ICU
// knows the zone): then local times with TZID are exact.
bool ZoneDataAgree(const std::string& zone, Instant instant);

// ICU's time zone data version ("2022e").
std::string IcuZoneDataVersion();

}  // namespace civic::events::calendar
