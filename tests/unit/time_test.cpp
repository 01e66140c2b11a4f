#include <catch2/catch.hpp>

#include "civic/domain/time.hpp"

TEST_CASE("Time: an RFC 3339 instant with an offset parses to the same UTC instant", "[time]") {
  const auto yakutsk = civic::ParseInstant("2026-03-05T10:00:00+09:00");
  const auto utc = civic::ParseInstant("2026-03-05T01:00:00Z");
  REQUIRE(yakutsk);
  REQUIRE(utc);
  CHECK(*yakutsk == *utc);
  CHECK(civic::FormatUtc(*yakutsk) == "2026-03-05T01:00:00.000Z");
  const auto fraction = civic::ParseInstant("2026-03-05T01:00:00.250Z");
  REQUIRE(fraction);
  CHECK(civic::FormatUtc(*fraction) == "2026-03-05T01:00:00.250Z");
}

TEST_CASE("Time: text without an offset or malformed is rejected", "[time]") {
  CHECK_FALSE(civic::ParseInstant("2026-03-05T10:00:00"));
  CHECK_FALSE(civic::ParseInstant("2026-03-05 10:00"));
  CHECK_FALSE(civic::ParseInstant("tomorrow"));
  CHECK_FALSE(civic::ParseInstant("2026-13-05T10:00:00Z"));
  CHECK_FALSE(civic::ParseInstant("2026-03-05T10:00:00+09:00junk"));
  CHECK_FALSE(civic::ParseInstant(""));
}

TEST_CASE("Time: an instant is shown in a city's own zone with its offset", "[time]") {
  const auto t = civic::ParseInstant("2026-03-05T01:00:00Z");
  REQUIRE(t);
  CHECK(civic::FormatInZone(*t, "Asia/Yakutsk") == "2026-03-05T10:00:00.000+09:00");
  CHECK(civic::FormatInZone(*t, "Asia/Yekaterinburg") == "2026-03-05T06:00:00.000+05:00");
}

TEST_CASE("Time: IANA zone names are checked against the zone database", "[time]") {
  CHECK(civic::IsValidTimeZone("Asia/Yakutsk"));
  CHECK(civic::IsValidTimeZone("Europe/Moscow"));
  CHECK_FALSE(civic::IsValidTimeZone("Mars/Olympus"));
  CHECK_FALSE(civic::IsValidTimeZone(""));
}
