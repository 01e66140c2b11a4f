// Request ids (taken when sane, made otherwise) and W3C traceparent parsing.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "civic/http/correlation.hpp"

using civic::http::CorrelationHeaders;
using civic::http::IsSaneRequestId;
using civic::http::MakeRequestId;
using civic::http::TraceIdOf;

TEST_CASE("Request ids: a caller's id of safe characters and bounded length is taken",
          "[http][correlation]") {
  CHECK(IsSaneRequestId("a"));
  CHECK(IsSaneRequestId("4bf92f3577b34da6a3ce929d0e0e4736"));
  CHECK(IsSaneRequestId("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"));
  CHECK(IsSaneRequestId("Root=1-5759e988-bd862e3fe1be46a994272793:x.y_z+/@"));
  CHECK(IsSaneRequestId(std::string(128, 'x')));
}

TEST_CASE("Request ids: empty, too long or unsafe ids are refused", "[http][correlation]") {
  CHECK_FALSE(IsSaneRequestId(""));
  CHECK_FALSE(IsSaneRequestId(std::string(129, 'x')));
  CHECK_FALSE(IsSaneRequestId("two words"));
  CHECK_FALSE(IsSaneRequestId("quote\"d"));
  CHECK_FALSE(IsSaneRequestId("line\nbreak"));
  CHECK_FALSE(IsSaneRequestId("tab\there"));
  CHECK_FALSE(IsSaneRequestId("semi;colon"));
  CHECK_FALSE(IsSaneRequestId("back\\slash"));
  CHECK_FALSE(IsSaneRequestId("query?x=1&y=2"));
  CHECK_FALSE(IsSaneRequestId("кириллица"));
  CHECK_FALSE(IsSaneRequestId(std::string("nul\0x", 5)));
}

TEST_CASE("Request ids: made ids are 32 lowercase hex digits, sane and distinct",
          "[http][correlation]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = MakeRequestId();
    REQUIRE(id.size() == 32);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(IsSaneRequestId(id));
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("Traceparent: a valid version-00 header gives its trace id", "[http][correlation]") {
  CHECK(TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") ==
        "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00") ==
        "4bf92f3577b34da6a3ce929d0e0e4736");
  // A later version may carry more fields after a '-'.
  CHECK(TraceIdOf("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra") ==
        "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST_CASE("Traceparent: malformed headers are ignored", "[http][correlation]") {
  const std::string good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  CHECK_FALSE(TraceIdOf(""));
  CHECK_FALSE(TraceIdOf(good.substr(0, 54)));
  CHECK_FALSE(TraceIdOf(good + "-extra"));  // version 00 has no more fields
  CHECK_FALSE(TraceIdOf("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
  CHECK_FALSE(TraceIdOf("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  CHECK_FALSE(TraceIdOf("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  CHECK_FALSE(TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
  CHECK_FALSE(TraceIdOf("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  CHECK_FALSE(TraceIdOf("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"));
  CHECK_FALSE(TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"));
  CHECK_FALSE(TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z"));
}

TEST_CASE("Correlation: outgoing calls carry the request id, and a traceparent when there is one",
          "[http][correlation]") {
  const auto with =
      CorrelationHeaders({"req-1", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"});
  REQUIRE(with.size() == 2);
  CHECK(with[0] == std::pair<std::string, std::string>{"X-Request-Id", "req-1"});
  CHECK(with[1].first == "traceparent");
  const auto without = CorrelationHeaders({"req-2", ""});
  REQUIRE(without.size() == 1);
  CHECK(without[0].second == "req-2");
  CHECK(civic::http::NewCorrelation().request_id.size() == 32);
}
