#include "civic/domain/time.hpp"

// date.h trips a false GCC 12 maybe-uninitialized warning inside its own parser.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <date/date.h>
#include <date/tz.h>
#pragma GCC diagnostic pop

#include <cstdio>
#include <sstream>
#include <unordered_map>

namespace civic {

std::optional<Instant> ParseInstant(std::string_view text) {
  // Strict shape: YYYY-MM-DDTHH:MM:SS[.fff...](Z|±HH:MM)
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  // date::parse takes any two digits for the offset ("+25:00", "-99:99"): check them here.
  const bool utc = text.back() == 'Z' || text.back() == 'z';
  if (!utc) {
    const std::string_view offset = text.substr(text.size() - 6);
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if ((offset[0] != '+' && offset[0] != '-') || offset[3] != ':' || !digit(offset[1]) ||
        !digit(offset[2]) || !digit(offset[4]) || !digit(offset[5]) ||
        (offset[1] - '0') * 10 + (offset[2] - '0') > 23 || offset[4] > '5') {
      return std::nullopt;
    }
  }
  std::string s(text);
  if (utc) {
    s.back() = '+';
    s += "00:00";
  }
  s[10] = 'T';
  // RFC 3339 allows any number of fraction digits; instants keep milliseconds, so the rest is
  // cut off (truncated, never rounded into the next second).
  if (s.size() > 20 && s[19] == '.') {
    size_t end = 20;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') {
      ++end;
    }
    if (end == 20) {
      return std::nullopt;  // a point without digits
    }
    if (end > 23) {
      s.erase(23, end - 23);
    }
  }
  std::istringstream in(s);
  date::sys_time<std::chrono::milliseconds> tp;
  std::chrono::minutes offset{};
  in >> date::parse("%FT%T%Ez", tp, offset);
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) {
    return std::nullopt;
  }
  const Instant instant{tp.time_since_epoch()};
  if (instant < kMinInstant || instant > kMaxInstant) {
    return std::nullopt;
  }
  return instant;
}

namespace {

// "YYYY-MM-DDTHH:MM:SS.mmm" of `local` (an instant shifted to local time) then `suffix`.
std::string FormatFields(Instant local, const char* suffix) {
  const auto days = std::chrono::floor<date::days>(local);
  const date::year_month_day ymd{days};
  auto in_day = local - days;
  const auto h = std::chrono::duration_cast<std::chrono::hours>(in_day);
  in_day -= h;
  const auto m = std::chrono::duration_cast<std::chrono::minutes>(in_day);
  in_day -= m;
  const auto sec = std::chrono::duration_cast<std::chrono::seconds>(in_day);
  in_day -= sec;
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02uT%02d:%02d:%02d.%03d%s",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(h.count()),
                static_cast<int>(m.count()), static_cast<int>(sec.count()),
                static_cast<int>(in_day.count()), suffix);
  return buffer;
}

// The zone by name, looked up once per thread and name (the database is immutable).
const date::time_zone* Zone(const std::string& name) {
  thread_local std::unordered_map<std::string, const date::time_zone*> cache;
  auto it = cache.find(name);
  if (it != cache.end()) {
    return it->second;
  }
  const date::time_zone* zone = date::locate_zone(name);
  cache.emplace(name, zone);
  return zone;
}

}  // namespace

std::string FormatUtc(Instant instant) { return FormatFields(instant, "Z"); }

std::string FormatInZone(Instant instant, const std::string& zone) {
  const auto info = Zone(zone)->get_info(std::chrono::floor<std::chrono::seconds>(instant));
  // An RFC 3339 offset has no seconds, but a zone's local mean time before ~1920 may (Moscow:
  // +02:30:17). The local time is shifted by the offset as written, so that the text still
  // names this very instant (and parses back to it).
  const auto offset = std::chrono::duration_cast<std::chrono::minutes>(info.offset);
  const long minutes = offset.count();
  const long magnitude = minutes < 0 ? -minutes : minutes;
  char suffix[40];
  std::snprintf(suffix, sizeof(suffix), "%c%02ld:%02ld", minutes < 0 ? '-' : '+', magnitude / 60,
                magnitude % 60);
  return FormatFields(instant + offset, suffix);
}

std::string LocalDate(Instant instant, const std::string& zone) {
  Instant local = instant;
  if (IsValidTimeZone(zone)) {
    const auto info = Zone(zone)->get_info(std::chrono::floor<std::chrono::seconds>(instant));
    local += std::chrono::duration_cast<std::chrono::milliseconds>(info.offset);
  }
  return FormatFields(local, "").substr(0, 10);
}

bool IsIsoDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9')) {
      return false;
    }
  }
  const int y = std::stoi(std::string(text.substr(0, 4)));
  if (y < 1900) {  // the range instants have (1900..9999)
    return false;
  }
  const unsigned m = static_cast<unsigned>(std::stoi(std::string(text.substr(5, 2))));
  const unsigned d = static_cast<unsigned>(std::stoi(std::string(text.substr(8, 2))));
  return date::year_month_day{date::year{y}, date::month{m}, date::day{d}}.ok();
}

std::string NextDate(std::string_view date) {
  const int y = std::stoi(std::string(date.substr(0, 4)));
  const unsigned m = static_cast<unsigned>(std::stoi(std::string(date.substr(5, 2))));
  const unsigned d = static_cast<unsigned>(std::stoi(std::string(date.substr(8, 2))));
  const date::sys_days next =
      date::sys_days{date::year_month_day{date::year{y}, date::month{m}, date::day{d}}} +
      date::days{1};
  return FormatFields(Instant{next.time_since_epoch()}, "").substr(0, 10);
}

bool IsValidTimeZone(const std::string& zone) {
  // "localtime" is the host's own zone (a link to /etc/localtime): it names a different zone on
  // each machine, so a city stored with it would change its clock when the service moves.
  if (zone.empty() || zone.size() > 64 || zone == "localtime") {
    return false;
  }
  try {
    date::locate_zone(zone);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

Instant SystemClock::Now() const {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace civic
