#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace civic {

// An instant on the UTC time line, millisecond precision.
using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

// The instants the domain takes: from 1900 on, and early enough that every zone's local time
// still has a four-digit year.
inline constexpr Instant kMinInstant{std::chrono::milliseconds(-2'208'988'800'000)};  // 1900-01-01
inline constexpr Instant kMaxInstant{
    std::chrono::milliseconds(253'402'214'399'999)};  // 9999-12-30T23:59:59.999Z

// Parses an RFC 3339 date-time that carries an offset ("2026-03-05T10:00:00+09:00",
// "2026-03-05T01:00:00.250Z"; offsets up to ±23:59; fraction digits past milliseconds are
// truncated: ".123456789" is .123). Returns nothing when the text is not one
// (no offset: nothing) or names an instant outside [kMinInstant, kMaxInstant].
std::optional<Instant> ParseInstant(std::string_view text);
// "2026-03-05T01:00:00.250Z" (milliseconds always present).
std::string FormatUtc(Instant instant);
// The instant in the IANA zone's local time with its offset: "2026-03-05T10:00:00+09:00".
// REQUIRES: IsValidTimeZone(zone).
std::string FormatInZone(Instant instant, const std::string& zone);
// Whether `text` is a calendar date "YYYY-MM-DD" that exists (2026-02-30 does not), in the
// years 1900..9999 that instants have.
bool IsIsoDate(std::string_view text);
// The calendar date "YYYY-MM-DD" of `instant` in the IANA zone's local time (in UTC when `zone`
// is empty or not a zone): 2026-09-07T20:00:00Z is "2026-09-08" in Asia/Yakutsk (UTC+9).
std::string LocalDate(Instant instant, const std::string& zone);
// The calendar date after `date` ("2026-02-28" -> "2026-03-01"). REQUIRES: IsIsoDate(date).
std::string NextDate(std::string_view date);
// Whether `zone` names a zone of the IANA database (e.g. "Asia/Yakutsk").
bool IsValidTimeZone(const std::string& zone);

// Source of the current time; injected so rules and tests are deterministic.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Instant Now() const override;
};

}  // namespace civic
