// The iCalendar writer (services/events-api/src/calendar/): TEXT escaping, line folding at 75
// octets between UTF-8 characters, local times with their zone's VTIMEZONE, UTC where the zone
// is unknown, and the same bytes for the same calendar.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "calendar/entries.hpp"
#include "calendar/ical.hpp"

using civic::events::calendar::EscapeText;
using civic::events::calendar::FoldLine;

namespace {

// The physical lines of `text` (each must end in CRLF).
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find("\r\n", start);
    REQUIRE(end != std::string::npos);
    lines.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

// Whether `text` is well-formed UTF-8.
bool ValidUtf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t length = c < 0x80         ? 1
                          : (c >> 5) == 6  ? 2
                          : (c >> 4) == 14 ? 3
                          : (c >> 3) == 30 ? 4
                                           : 0;
    if (length == 0 || i + length > text.size()) {
      return false;
    }
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

civic::Event Yakutsk() {
  civic::Event event;
  event.id = 12;
  event.title = "Школа ТОС";
  event.description = "Кейс-сессия; соседские центры, ТОС\nВторой день";
  event.venue = "Дом дружбы народов";
  event.city_id = 1;
  event.starts_at = *civic::ParseInstant("2026-09-08T10:00:00+09:00");
  event.ends_at = *civic::ParseInstant("2026-09-08T18:00:00+09:00");
  event.time_zone = "Asia/Yakutsk";
  event.status = "published";
  event.updated_at = *civic::ParseInstant("2026-08-01T12:00:00.250Z");
  return event;
}

}  // namespace

TEST_CASE("iCalendar text: backslash, semicolon, comma and line breaks are escaped",
          "[events][calendar]") {
  CHECK(EscapeText("a\\b;c,d") == "a\\\\b\\;c\\,d");
  CHECK(EscapeText("строка 1\nстрока 2") == "строка 1\\nстрока 2");
  CHECK(EscapeText("CRLF\r\nи CR\rконец") == "CRLF\\nи CR\\nконец");
  CHECK(EscapeText("колон: и \"кавычки\" как есть") == "колон: и \"кавычки\" как есть");
  CHECK(EscapeText(std::string("нет") + '\x01' + "управляющих" + '\x7F') == "нетуправляющих");
  CHECK(EscapeText("таб\tостаётся") == "таб\tостаётся");
}

TEST_CASE("iCalendar folding: lines of at most 75 octets, never inside a UTF-8 character",
          "[events][calendar]") {
  CHECK(FoldLine("SUMMARY:short") == "SUMMARY:short\r\n");
  const std::string exact = "X:" + std::string(73, 'a');  // 75 octets: not folded
  CHECK(FoldLine(exact) == exact + "\r\n");
  CHECK(FoldLine(exact + "b") == exact + "\r\n b\r\n");
  // Two-, three- and four-byte characters at every offset against the cut.
  for (const std::string glyph : {"ж", "€", "😀"}) {
    for (size_t prefix = 0; prefix < 6; ++prefix) {
      std::string value = "SUMMARY:" + std::string(prefix, 'x');
      std::string text;
      for (int i = 0; i < 80; ++i) {
        text += glyph;
      }
      value += text;
      INFO(glyph << " after " << prefix);
      const std::vector<std::string> lines = Lines(FoldLine(value));
      REQUIRE(lines.size() > 1);
      std::string unfolded;
      for (size_t i = 0; i < lines.size(); ++i) {
        CHECK(lines[i].size() <= 75);
        CHECK(ValidUtf8(lines[i]));
        if (i > 0) {
          REQUIRE(lines[i].front() == ' ');
          unfolded += lines[i].substr(1);
        } else {
          unfolded += lines[i];
        }
      }
      CHECK(unfolded == value);
      // As full as the rule allows: a line is cut short only to keep a character whole.
      for (size_t i = 0; i + 1 < lines.size(); ++i) {
        CHECK(lines[i].size() > 75 - glyph.size());
      }
    }
  }
}

TEST_CASE("iCalendar: an event in Yakutsk at 10:00 local time, with its VTIMEZONE",
          "[events][calendar]") {
  civic::events::calendar::Calendar calendar;
  calendar.name = "Якутск 4.0.0 Старт";
  calendar.refresh_minutes = 60;
  calendar.entries.push_back(civic::events::calendar::EventEntry(Yakutsk(), "Якутск"));
  civic::Session session;
  session.id = 3;
  session.event_id = 12;
  session.title = "Кейс-сессия";
  session.room = "Зал 2";
  session.starts_at = *civic::ParseInstant("2026-09-08T14:00:00+09:00");
  session.ends_at = *civic::ParseInstant("2026-09-08T16:00:00+09:00");
  session.updated_at = *civic::ParseInstant("2026-08-02T09:00:00Z");
  calendar.entries.push_back(civic::events::calendar::SessionEntry(session, Yakutsk(), "Якутск"));
  const std::string ics = civic::events::calendar::Write(calendar);
  const std::vector<std::string> lines = Lines(ics);
  REQUIRE(lines.front() == "BEGIN:VCALENDAR");
  REQUIRE(lines.back() == "END:VCALENDAR");
  std::vector<std::string> unfolded;  // content lines
  for (const auto& line : lines) {
    if (!line.empty() && line.front() == ' ') {
      unfolded.back() += line.substr(1);
    } else {
      unfolded.push_back(line);
    }
  }
  auto has = [&](const std::string& line) {
    return std::find(unfolded.begin(), unfolded.end(), line) != unfolded.end();
  };
  CHECK(has("VERSION:2.0"));
  CHECK(has("NAME:Якутск 4.0.0 Старт"));
  CHECK(has("REFRESH-INTERVAL;VALUE=DURATION:PT60M"));
  CHECK_FALSE(has("METHOD:PUBLISH"));  // a feed has no METHOD
  CHECK(has("BEGIN:VTIMEZONE"));
  CHECK(has("TZID:Asia/Yakutsk"));
  CHECK(has("TZOFFSETTO:+090000"));
  CHECK(std::count(lines.begin(), lines.end(), "BEGIN:VTIMEZONE") == 1);  // one per zone
  CHECK(has("UID:event-12@civic-platform"));
  CHECK(has("DTSTART;TZID=Asia/Yakutsk:20260908T100000"));
  CHECK(has("DTEND;TZID=Asia/Yakutsk:20260908T180000"));
  CHECK(has("DTSTAMP:20260801T120000Z"));
  CHECK(has("LAST-MODIFIED:20260801T120000Z"));
  CHECK(has("DESCRIPTION:Кейс-сессия\\; соседские центры\\, ТОС\\nВторой день"));
  CHECK(has("LOCATION:Дом дружбы народов\\, Якутск"));
  CHECK(has("STATUS:CONFIRMED"));
  CHECK(has("UID:session-3@civic-platform"));
  CHECK(has("DTSTART;TZID=Asia/Yakutsk:20260908T140000"));
  CHECK(has("RELATED-TO;RELTYPE=PARENT:event-12@civic-platform"));
  CHECK(has("LOCATION:Зал 2\\, Дом дружбы народов\\, Якутск"));
  CHECK(has("LAST-MODIFIED:20260802T090000Z"));  // the later of the session's and the event's
  // The VTIMEZONE comes before the events, and its first observance begins before them.
  const size_t vtimezone = ics.find("BEGIN:VTIMEZONE");
  const size_t vevent = ics.find("BEGIN:VEVENT");
  CHECK(vtimezone < vevent);
  const size_t onset = ics.find("DTSTART:", vtimezone);
  REQUIRE(onset < vevent);
  CHECK(ics.substr(onset + 8, 15) <= "20260908T100000");
  for (const auto& line : lines) {
    CHECK(line.size() <= 75);
  }
  // The same calendar, the same bytes (an ETag holds).
  CHECK(civic::events::calendar::Write(calendar) == ics);
}

TEST_CASE("iCalendar: a cancelled event, and zones ICU does not know are written in UTC",
          "[events][calendar]") {
  civic::Event event = Yakutsk();
  event.status = "cancelled";
  event.time_zone = "Mars/Olympus_Mons";
  civic::events::calendar::Calendar calendar;
  calendar.entries.push_back(civic::events::calendar::EventEntry(event, "Якутск"));
  const std::string ics = civic::events::calendar::Write(calendar);
  CHECK(ics.find("DTSTART:20260908T010000Z\r\n") != std::string::npos);
  CHECK(ics.find("DTEND:20260908T090000Z\r\n") != std::string::npos);
  CHECK(ics.find("STATUS:CANCELLED\r\n") != std::string::npos);
  CHECK(ics.find("VTIMEZONE") == std::string::npos);
}

TEST_CASE("iCalendar: Moscow in 2010 had summer time, and its VTIMEZONE says so",
          "[events][calendar]") {
  civic::Event event = Yakutsk();
  event.time_zone = "Europe/Moscow";
  event.starts_at = *civic::ParseInstant("2010-07-01T10:00:00+04:00");
  event.ends_at = *civic::ParseInstant("2010-07-01T18:00:00+04:00");
  civic::Event winter = event;
  winter.id = 13;
  winter.starts_at = *civic::ParseInstant("2010-12-01T10:00:00+03:00");
  winter.ends_at = *civic::ParseInstant("2010-12-01T18:00:00+03:00");
  civic::events::calendar::Calendar calendar;
  calendar.entries.push_back(civic::events::calendar::EventEntry(event, "Саров"));
  calendar.entries.push_back(civic::events::calendar::EventEntry(winter, "Саров"));
  const std::string ics = civic::events::calendar::Write(calendar);
  CHECK(ics.find("DTSTART;TZID=Europe/Moscow:20100701T100000\r\n") != std::string::npos);
  CHECK(ics.find("DTSTART;TZID=Europe/Moscow:20101201T100000\r\n") != std::string::npos);
  // The summer observance from 28 March 2010 (+04), then back to +03 on 31 October.
  CHECK(ics.find("BEGIN:DAYLIGHT\r\nTZOFFSETTO:+040000\r\nTZOFFSETFROM:+030000\r\n") !=
        std::string::npos);
  CHECK(ics.find("DTSTART:20100328T020000\r\n") != std::string::npos);
  CHECK(ics.find("DTSTART:20101031T030000\r\n") != std::string::npos);
  CHECK(civic::events::calendar::ZoneDataAgree("Europe/Moscow", event.starts_at));
  CHECK_FALSE(civic::events::calendar::ZoneDataAgree("Mars/Olympus_Mons", event.starts_at));
}
