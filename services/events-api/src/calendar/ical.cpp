#include "calendar/ical.hpp"

// date.h trips a false GCC 12 maybe-uninitialized warning inside its own parser.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <date/date.h>
#include <date/tz.h>
#pragma GCC diagnostic pop

#include <unicode/timezone.h>
#include <unicode/tztrans.h>
#include <unicode/unistr.h>
#include <unicode/vtzone.h>

#include <map>
#include <memory>

namespace civic::events::calendar {

namespace {

// "YYYYMMDDTHHMMSS" of the fields of `instant` read as UTC.
std::string Fields(Instant instant) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(instant);
  const auto days = std::chrono::floor<date::days>(seconds);
  const date::year_month_day ymd{days};
  const date::hh_mm_ss<std::chrono::seconds> time{seconds - days};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02uT%02d%02d%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buffer;
}

// A zone as both tz databases see it.
class Zone {
 public:
  explicit Zone(const std::string& name) : name_(name) {
    const icu::UnicodeString id = icu::UnicodeString::fromUTF8(name);
    icu::UnicodeString canonical;
    UBool system = false;
    UErrorCode status = U_ZERO_ERROR;
    icu::TimeZone::getCanonicalID(id, canonical, system, status);
    if (U_SUCCESS(status) && system) {
      icu_.reset(icu::TimeZone::createTimeZone(id));
    }
    try {
      tz_ = date::locate_zone(name);
    } catch (const std::exception&) {
      tz_ = nullptr;
    }
  }

  // The UTC offset ICU gives at `instant`, when both databases know the zone and agree on it.
  std::optional<std::chrono::seconds> AgreedOffset(Instant instant) const {
    if (!icu_ || tz_ == nullptr) {
      return std::nullopt;
    }
    int32_t raw = 0;
    int32_t dst = 0;
    UErrorCode status = U_ZERO_ERROR;
    icu_->getOffset(static_cast<UDate>(instant.time_since_epoch().count()), false, raw, dst,
                    status);
    if (U_FAILURE(status)) {
      return std::nullopt;
    }
    const std::chrono::seconds icu_offset{(static_cast<int64_t>(raw) + dst) / 1000};
    const auto info = tz_->get_info(std::chrono::floor<std::chrono::seconds>(instant));
    if (info.offset != icu_offset) {
      return std::nullopt;
    }
    return icu_offset;
  }

 private:
  std::string name_;
  std::unique_ptr<icu::TimeZone> icu_;
  const date::time_zone* tz_ = nullptr;
};

// Unfolds ICU's lines (a line starting with a space or tab continues the one before) and folds
// them again by our rule.
std::string Refolded(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t') && !lines.empty()) {
      lines.back() += line.substr(1);
    } else if (!line.empty()) {
      lines.push_back(std::move(line));
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& line : lines) {
    out += FoldLine(line);
  }
  return out;
}

void Add(std::string& out, std::string_view name, std::string_view value) {
  std::string line(name);
  line += ':';
  line += value;
  out += FoldLine(line);
}

}  // namespace

std::string EscapeText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' || c == ';' || c == ',') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      if (i + 1 >= text.size() || text[i + 1] != '\n') {
        out += "\\n";  // a lone CR; a CR before LF goes with the LF
      }
    } else if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) {
      continue;
    } else {
      out += c;
    }
  }
  return out;
}

std::string FoldLine(std::string_view line) {
  std::string out;
  out.reserve(line.size() + line.size() / 70 * 3 + 2);
  size_t start = 0;
  size_t limit = 75;
  while (line.size() - start > limit) {
    size_t end = start + limit;
    // Back to the first byte of the UTF-8 sequence `end` is in (never past `start`).
    while (end > start && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (end == start) {
      end = start + limit;  // not UTF-8: cut anywhere rather than loop
    }
    out.append(line.substr(start, end - start));
    out += "\r\n ";
    start = end;
    limit = 74;  // the leading space counts
  }
  out.append(line.substr(start));
  out += "\r\n";
  return out;
}

std::string UtcDateTime(Instant instant) { return Fields(instant) + "Z"; }

std::optional<std::string> VTimezone(const std::string& zone, Instant from) {
  const icu::UnicodeString id = icu::UnicodeString::fromUTF8(zone);
  icu::UnicodeString canonical;
  UBool system = false;
  UErrorCode status = U_ZERO_ERROR;
  icu::TimeZone::getCanonicalID(id, canonical, system, status);
  if (U_FAILURE(status) || !system) {
    return std::nullopt;
  }
  std::unique_ptr<icu::VTimeZone> vtz(icu::VTimeZone::createVTimeZoneByID(id));
  if (!vtz) {
    return std::nullopt;
  }
  // From just before the zone's last transition at or before `from`: the first observance
  // written then has its onset before every time of the calendar (a time before the first onset
  // is read differently by different programs).
  UDate start = static_cast<UDate>(from.time_since_epoch().count());
  icu::TimeZoneTransition previous;
  if (vtz->getPreviousTransition(start, true, previous)) {
    start = previous.getTime() - 1000.0;
  }
  icu::UnicodeString written;
  vtz->write(start, written, status);
  if (U_FAILURE(status)) {
    return std::nullopt;
  }
  std::string text;
  written.toUTF8String(text);
  std::string out = Refolded(text);
  // The DTSTARTs name the zone as given: ICU must have kept that name.
  if (out.rfind("BEGIN:VTIMEZONE\r\n", 0) != 0 ||
      out.find("\r\nTZID:" + zone + "\r\n") == std::string::npos) {
    return std::nullopt;
  }
  return out;
}

bool ZoneDataAgree(const std::string& zone, Instant instant) {
  return Zone(zone).AgreedOffset(instant).has_value();
}

std::string IcuZoneDataVersion() {
  UErrorCode status = U_ZERO_ERROR;
  const char* version = icu::TimeZone::getTZDataVersion(status);
  return U_SUCCESS(status) && version != nullptr ? version : "";
}

std::string Write(const Calendar& calendar) {
  // Which entries are written in their zone, and each zone's first instant.
  std::map<std::string, std::unique_ptr<Zone>> zones;
  std::map<std::string, Instant> first;
  std::vector<std::optional<std::chrono::seconds>> offsets_start(calendar.entries.size());
  std::vector<std::optional<std::chrono::seconds>> offsets_end(calendar.entries.size());
  for (size_t i = 0; i < calendar.entries.size(); ++i) {
    const Entry& e = calendar.entries[i];
    if (e.time_zone.empty()) {
      continue;
    }
    auto& zone = zones[e.time_zone];
    if (!zone) {
      zone = std::make_unique<Zone>(e.time_zone);
    }
    offsets_start[i] = zone->AgreedOffset(e.starts_at);
    offsets_end[i] = zone->AgreedOffset(e.ends_at);
    if (offsets_start[i] && offsets_end[i]) {
      auto [it, inserted] = first.emplace(e.time_zone, e.starts_at);
      if (!inserted && e.starts_at < it->second) {
        it->second = e.starts_at;
      }
    }
  }
  std::map<std::string, std::string> vtimezones;
  for (const auto& [zone, instant] : first) {
    if (auto text = VTimezone(zone, instant)) {
      vtimezones.emplace(zone, std::move(*text));
    }
  }

  std::string out;
  out += "BEGIN:VCALENDAR\r\n";
  out += "VERSION:2.0\r\n";
  out += "PRODID:-//civic-platform//events-api//RU\r\n";
  out += "CALSCALE:GREGORIAN\r\n";
  if (!calendar.method.empty()) {
    Add(out, "METHOD", calendar.method);
  }
  if (!calendar.name.empty()) {
    Add(out, "NAME", EscapeText(calendar.name));
    Add(out, "X-WR-CALNAME", EscapeText(calendar.name));
  }
  if (calendar.refresh_minutes > 0) {
    const std::string duration = "PT" + std::to_string(calendar.refresh_minutes) + "M";
    Add(out, "REFRESH-INTERVAL;VALUE=DURATION", duration);
    Add(out, "X-PUBLISHED-TTL", duration);
  }
  for (const auto& [zone, text] : vtimezones) {
    out += text;
  }
  for (size_t i = 0; i < calendar.entries.size(); ++i) {
    const Entry& e = calendar.entries[i];
    out += "BEGIN:VEVENT\r\n";
    Add(out, "UID", EscapeText(e.uid));
    Add(out, "DTSTAMP", UtcDateTime(e.stamp));
    const bool local = offsets_start[i] && offsets_end[i] && vtimezones.count(e.time_zone) != 0;
    if (local) {
      const std::string tzid = ";TZID=" + e.time_zone;
      Add(out, "DTSTART" + tzid, Fields(e.starts_at + *offsets_start[i]));
      Add(out, "DTEND" + tzid, Fields(e.ends_at + *offsets_end[i]));
    } else {
      Add(out, "DTSTART", UtcDateTime(e.starts_at));
      Add(out, "DTEND", UtcDateTime(e.ends_at));
    }
    Add(out, "LAST-MODIFIED", UtcDateTime(e.last_modified));
    Add(out, "SEQUENCE",
        std::to_string(std::max<int64_t>(
            0,
            std::chrono::floor<std::chrono::seconds>(e.last_modified).time_since_epoch().count())));
    Add(out, "SUMMARY", EscapeText(e.summary));
    if (!e.description.empty()) {
      Add(out, "DESCRIPTION", EscapeText(e.description));
    }
    if (!e.location.empty()) {
      Add(out, "LOCATION", EscapeText(e.location));
    }
    if (!e.related_to.empty()) {
      Add(out, "RELATED-TO;RELTYPE=PARENT", EscapeText(e.related_to));
    }
    Add(out, "STATUS", e.cancelled ? "CANCELLED" : "CONFIRMED");
    out += "TRANSP:OPAQUE\r\n";
    out += "END:VEVENT\r\n";
  }
  out += "END:VCALENDAR\r\n";
  return out;
}

}  // namespace civic::events::calendar
