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

TEST_CASE("Time: any number of fraction digits parses, cut to milliseconds", "[time]") {
  const auto one = civic::ParseInstant("2026-11-22T10:00:00.5Z");
  REQUIRE(one);
  CHECK(civic::FormatUtc(*one) == "2026-11-22T10:00:00.500Z");
  const auto four = civic::ParseInstant("2026-11-22T10:00:00.9999Z");
  REQUIRE(four);
  CHECK(civic::FormatUtc(*four) == "2026-11-22T10:00:00.999Z");
  const auto nanos = civic::ParseInstant("2026-11-22T10:00:00.123456789+05:00");
  REQUIRE(nanos);
  CHECK(civic::FormatUtc(*nanos) == "2026-11-22T05:00:00.123Z");
  // The last representable millisecond stays representable.
  const auto last = civic::ParseInstant("9999-12-30T23:59:59.9999999Z");
  REQUIRE(last);
  CHECK(*last == civic::kMaxInstant);
  CHECK_FALSE(civic::ParseInstant("2026-11-22T10:00:00.Z"));
  CHECK_FALSE(civic::ParseInstant("2026-11-22T10:00:00.12a4Z"));
  CHECK_FALSE(civic::ParseInstant("2026-11-22T10:00:00.1234.5Z"));
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
  CHECK(civic::IsValidTimeZone("UTC"));
  CHECK(civic::IsValidTimeZone("Etc/GMT-3"));
  // Files in the zone directory that are not zones of the database: the host's own zone (which
  // differs between machines), the rules template, and the copies with other leap-second rules.
  CHECK_FALSE(civic::IsValidTimeZone("localtime"));
  CHECK_FALSE(civic::IsValidTimeZone("posixrules"));
  CHECK_FALSE(civic::IsValidTimeZone("Factory"));
  CHECK_FALSE(civic::IsValidTimeZone("posix/Europe/Moscow"));
  CHECK_FALSE(civic::IsValidTimeZone("right/Europe/Moscow"));
  CHECK_FALSE(civic::IsValidTimeZone("zone.tab"));
  CHECK_FALSE(civic::IsValidTimeZone("../zoneinfo/Europe/Moscow"));
  CHECK_FALSE(civic::IsValidTimeZone("/etc/localtime"));
}

TEST_CASE("Time: an offset past ±23:59 is rejected, not read as another instant", "[time]") {
  CHECK_FALSE(civic::ParseInstant("2026-01-01T10:00:00+25:00"));
  CHECK_FALSE(civic::ParseInstant("2026-01-01T10:00:00-99:99"));
  CHECK_FALSE(civic::ParseInstant("2026-01-01T10:00:00+03:60"));
  CHECK_FALSE(civic::ParseInstant("2026-01-01T10:00:00+0300"));
  CHECK_FALSE(civic::ParseInstant("2026-01-01T10:00:00 03:00"));
  const auto east = civic::ParseInstant("2026-01-01T10:00:00+23:59");
  const auto west = civic::ParseInstant("2026-01-01T10:00:00-23:59");
  REQUIRE(east);
  REQUIRE(west);
  CHECK(civic::FormatUtc(*east) == "2025-12-31T10:01:00.000Z");
  CHECK(civic::FormatUtc(*west) == "2026-01-02T09:59:00.000Z");
}

TEST_CASE("Time: instants are taken from 1900 to the end of 9999 in every zone", "[time]") {
  CHECK_FALSE(civic::ParseInstant("0000-01-01T00:00:00Z"));
  CHECK_FALSE(civic::ParseInstant("1899-12-31T23:59:59.999Z"));
  CHECK_FALSE(civic::ParseInstant("9999-12-31T00:00:00Z"));
  CHECK_FALSE(civic::ParseInstant("9999-12-31T23:59:59Z"));
  const auto first = civic::ParseInstant("1900-01-01T00:00:00Z");
  const auto last = civic::ParseInstant("9999-12-30T23:59:59.999Z");
  REQUIRE(first);
  REQUIRE(last);
  CHECK(*first == civic::kMinInstant);
  CHECK(*last == civic::kMaxInstant);
  // The last instant still has a four-digit year where the clock is furthest ahead.
  CHECK(civic::FormatInZone(*last, "Pacific/Kiritimati") == "9999-12-31T13:59:59.999+14:00");
}

TEST_CASE("Time: a local mean time offset with seconds is shown to the minute, same instant",
          "[time]") {
  // Moscow was UTC+02:30:17 in 1900: RFC 3339 offsets have no seconds.
  const auto t = civic::ParseInstant("1900-01-01T00:00:00Z");
  REQUIRE(t);
  const std::string shown = civic::FormatInZone(*t, "Europe/Moscow");
  CHECK(shown == "1900-01-01T02:30:00.000+02:30");
  // Read back and shown again (as a PATCH of another field does): the instant does not move.
  const auto again = civic::ParseInstant(shown);
  REQUIRE(again);
  CHECK(*again == *t);
  CHECK(civic::FormatInZone(*again, "Europe/Moscow") == shown);
}

TEST_CASE("Time: RFC 3339's lower-case t and z are read as T and Z", "[time]") {
  CHECK(civic::ParseInstant("2026-03-05t01:00:00z") == civic::ParseInstant("2026-03-05T01:00:00Z"));
  CHECK(civic::ParseInstant("2026-03-05t10:00:00+09:00") ==
        civic::ParseInstant("2026-03-05T01:00:00Z"));
}

TEST_CASE("Time: a date exists and lies in the years instants have", "[time]") {
  CHECK(civic::IsIsoDate("2026-09-01"));
  CHECK(civic::IsIsoDate("2028-02-29"));
  CHECK(civic::IsIsoDate("1900-01-01"));
  CHECK(civic::IsIsoDate("9999-12-31"));
  CHECK_FALSE(civic::IsIsoDate("2026-02-29"));
  CHECK_FALSE(civic::IsIsoDate("2026-13-01"));
  CHECK_FALSE(civic::IsIsoDate("0000-01-01"));
  CHECK_FALSE(civic::IsIsoDate("1899-12-31"));
  CHECK_FALSE(civic::IsIsoDate("2026-9-01"));
}
