// The days of an event and the day a check-in counts for, in the event's own zone.
#include <catch2/catch.hpp>

#include "civic/domain/registration.hpp"

namespace {

civic::Instant At(const char* text) { return *civic::ParseInstant(text); }

// «Якутск 4.0.0 Старт» (seed 004), two days of it: from 09:00 on 8 September to 18:00 on
// 9 September 2022, Yakutsk time (UTC+9). 8 September 09:00 there is 7 September 24:00 UTC.
civic::Event YakutskForum() {
  civic::Event event;
  event.kind = "forum";
  event.status = "published";
  event.time_zone = "Asia/Yakutsk";
  event.starts_at = At("2022-09-08T09:00:00+09:00");
  event.ends_at = At("2022-09-09T18:00:00+09:00");
  return event;
}

}  // namespace

TEST_CASE("Attendance: a local date is the zone's, not UTC's", "[attendance][time]") {
  CHECK(civic::LocalDate(At("2022-09-07T20:00:00Z"), "Asia/Yakutsk") == "2022-09-08");
  CHECK(civic::LocalDate(At("2022-09-07T20:00:00Z"), "Europe/Moscow") == "2022-09-07");
  CHECK(civic::LocalDate(At("2022-09-07T14:59:59.999Z"), "Asia/Yakutsk") == "2022-09-07");
  CHECK(civic::LocalDate(At("2022-09-07T15:00:00Z"), "Asia/Yakutsk") == "2022-09-08");
  CHECK(civic::LocalDate(At("2022-09-07T20:00:00Z"), "") == "2022-09-07");  // no zone: UTC
  CHECK(civic::LocalDate(At("1969-12-31T23:59:59Z"), "UTC") == "1969-12-31");
}

TEST_CASE("Attendance: the next date crosses months, leap days and years", "[attendance][time]") {
  CHECK(civic::NextDate("2022-09-08") == "2022-09-09");
  CHECK(civic::NextDate("2024-02-28") == "2024-02-29");
  CHECK(civic::NextDate("2023-02-28") == "2023-03-01");
  CHECK(civic::NextDate("2026-12-31") == "2027-01-01");
}

TEST_CASE("Attendance: an event's days are its local dates, and its end takes no extra day",
          "[attendance]") {
  const civic::Event forum = YakutskForum();
  const civic::EventDays days = civic::DaysOf(forum);
  CHECK(days.first == "2022-09-08");  // the UTC date of its start is 2022-09-08 too, 00:00
  CHECK(days.last == "2022-09-09");

  civic::Event evening = forum;  // one evening, 18:00 to midnight: one day
  evening.starts_at = At("2022-09-08T18:00:00+09:00");
  evening.ends_at = At("2022-09-09T00:00:00+09:00");
  CHECK(civic::DaysOf(evening).first == "2022-09-08");
  CHECK(civic::DaysOf(evening).last == "2022-09-08");

  civic::Event early = forum;  // 08:00 Yakutsk is 23:00 UTC the day before
  early.starts_at = At("2022-09-08T08:00:00+09:00");
  early.ends_at = At("2022-09-08T12:00:00+09:00");
  CHECK(civic::DaysOf(early).first == "2022-09-08");
  CHECK(civic::DaysOf(early).last == "2022-09-08");
}

TEST_CASE("Attendance: a check-in's day is the one asked, within the event", "[attendance]") {
  const civic::Event forum = YakutskForum();
  const civic::Instant now = At("2022-09-08T10:00:00+09:00");
  CHECK(civic::CheckInDay(forum, std::string("2022-09-09"), now).value() == "2022-09-09");
  for (const char* outside : {"2022-09-07", "2022-09-10"}) {
    auto refused = civic::CheckInDay(forum, std::string(outside), now);
    REQUIRE_FALSE(refused.ok());
    REQUIRE(refused.error().fields.size() == 1);
    CHECK(refused.error().fields[0].field == "day");
  }
  auto malformed = civic::CheckInDay(forum, std::string("9 сентября"), now);
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.error().fields[0].field == "day");
}

TEST_CASE("Attendance: without a day, the only day, or today's local date within the event",
          "[attendance]") {
  civic::Event school = YakutskForum();
  school.ends_at = At("2022-09-08T18:00:00+09:00");
  // A one-day event: its day, whenever the desk checks in (even the evening before).
  CHECK(civic::CheckInDay(school, std::nullopt, At("2022-09-07T19:00:00+09:00")).value() ==
        "2022-09-08");

  const civic::Event forum = YakutskForum();
  // 00:30 on 9 September in Yakutsk is still 8 September in UTC: the local day counts.
  CHECK(civic::CheckInDay(forum, std::nullopt, At("2022-09-08T15:30:00Z")).value() == "2022-09-09");
  CHECK(civic::CheckInDay(forum, std::nullopt, At("2022-09-08T14:30:00Z")).value() == "2022-09-08");
  auto before = civic::CheckInDay(forum, std::nullopt, At("2022-09-07T12:00:00+09:00"));
  REQUIRE_FALSE(before.ok());
  CHECK(before.error().fields[0].field == "day");
}
