#include "civic/domain/time.hpp"

// date.h trips a false GCC 12 maybe-uninitialized warning inside its own parser.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <date/date.h>
#include <date/tz.h>
#pragma GCC diagnostic pop

#include <sstream>

namespace civic {

std::optional<Instant> ParseInstant(std::string_view text) {
  // Strict shape: YYYY-MM-DDTHH:MM:SS[.fff...](Z|±HH:MM)
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  std::string s(text);
  if (s.back() == 'Z' || s.back() == 'z') {
    s.back() = '+';
    s += "00:00";
  }
  s[10] = 'T';
  std::istringstream in(s);
  date::sys_time<std::chrono::milliseconds> tp;
  std::chrono::minutes offset{};
  in >> date::parse("%FT%T%Ez", tp, offset);
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) {
    return std::nullopt;
  }
  return Instant{tp.time_since_epoch()};
}

std::string FormatUtc(Instant instant) { return date::format("%FT%TZ", instant); }

std::string FormatInZone(Instant instant, const std::string& zone) {
  const date::time_zone* tz = date::locate_zone(zone);
  return date::format("%FT%T%Ez", date::zoned_time<std::chrono::milliseconds>{tz, instant});
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
  const unsigned m = static_cast<unsigned>(std::stoi(std::string(text.substr(5, 2))));
  const unsigned d = static_cast<unsigned>(std::stoi(std::string(text.substr(8, 2))));
  return date::year_month_day{date::year{y}, date::month{m}, date::day{d}}.ok();
}

bool IsValidTimeZone(const std::string& zone) {
  if (zone.empty() || zone.size() > 64) {
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
