// Log lines: JSON string escaping, and access log lines in both formats.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "civic/runtime/logging.hpp"

using civic::runtime::AppendJsonString;
using civic::runtime::FormatAccessLine;
using civic::runtime::LogFormat;

namespace {

std::string Json(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

civic::http::AccessRecord SampleRecord() {
  civic::http::AccessRecord record;
  record.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796654327123));
  record.method = civic::http::Method::kPost;
  record.route = "/v1/awards/{award}/votes";
  record.status = 201;
  record.duration = std::chrono::microseconds(1412);
  record.bytes = 96;
  record.request_id = "req-7";
  return record;
}

}  // namespace

TEST_CASE("JSON log strings: quotes, backslashes and control characters are escaped",
          "[runtime][logging]") {
  CHECK(Json("plain") == "\"plain\"");
  CHECK(Json("a \"quoted\" \\ path") == R"("a \"quoted\" \\ path")");
  CHECK(Json("line\nbreak\r\ttab") == R"("line\nbreak\r\ttab")");
  CHECK(Json(std::string("nul\0bell\a", 9)) == R"("nul\u0000bell\u0007")");
  CHECK(Json("\x1b[31m") == R"("\u001b[31m")");
}

TEST_CASE("JSON log strings: UTF-8 is kept, invalid bytes become U+FFFD", "[runtime][logging]") {
  CHECK(Json("Саров") == "\"Саров\"");
  CHECK(Json("emoji \xF0\x9F\x97\xB3") == "\"emoji \xF0\x9F\x97\xB3\"");
  CHECK(Json("bad \xFF byte") == R"("bad \ufffd byte")");
  CHECK(Json("cut \xD0") == R"("cut \ufffd")");
  CHECK(Json("overlong \xC0\xAF") == R"("overlong \ufffd\ufffd")");
  CHECK(Json("surrogate \xED\xA0\x80") == R"("surrogate \ufffd\ufffd\ufffd")");
  // Whatever goes in, the result parses as JSON.
  const std::string mixed = "Город\xFF\"\n\x01";
  CHECK(nlohmann::json::parse(Json(mixed)).get<std::string>() == "Город\xEF\xBF\xBD\"\n\x01");
}

TEST_CASE("Access log: a text line has each field as name=value", "[runtime][logging]") {
  auto record = SampleRecord();
  record.key = "17";
  record.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  CHECK(FormatAccessLine(record, LogFormat::kText, "civic-ballot") ==
        "2026-12-07T14:38:47.123Z access civic-ballot: method=POST "
        "route=/v1/awards/{award}/votes status=201 duration_ms=1.412 bytes=96 request_id=req-7 "
        "key=17 trace_id=4bf92f3577b34da6a3ce929d0e0e4736\n");
  // Without a key or a trace, those fields are left out.
  CHECK(FormatAccessLine(SampleRecord(), LogFormat::kText, "civic-ballot") ==
        "2026-12-07T14:38:47.123Z access civic-ballot: method=POST "
        "route=/v1/awards/{award}/votes status=201 duration_ms=1.412 bytes=96 "
        "request_id=req-7\n");
}

TEST_CASE("Access log: a JSON line is one object with typed members", "[runtime][logging]") {
  auto record = SampleRecord();
  record.key = "bootstrap:client";
  const std::string line = FormatAccessLine(record, LogFormat::kJson, "civic-ballot");
  REQUIRE(line.back() == '\n');
  REQUIRE(line.find('\n') == line.size() - 1);
  const auto doc = nlohmann::json::parse(line);
  CHECK(doc["time"] == "2026-12-07T14:38:47.123Z");
  CHECK(doc["type"] == "access");
  CHECK(doc["service"] == "civic-ballot");
  CHECK(doc["method"] == "POST");
  CHECK(doc["route"] == "/v1/awards/{award}/votes");
  CHECK(doc["status"] == 201);
  CHECK(doc["duration_ms"] == Approx(1.412));
  CHECK(doc["bytes"] == 96);
  CHECK(doc["request_id"] == "req-7");
  CHECK(doc["key"] == "bootstrap:client");
  CHECK_FALSE(doc.contains("trace_id"));
}

TEST_CASE("Access log: lines written are on the descriptor once the log is destroyed",
          "[runtime][logging]") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  {
    auto log = civic::runtime::MakeAccessLog("civic-test", LogFormat::kText, fds[1]);
    for (int i = 0; i < 3; ++i) {
      log->Write(SampleRecord());
    }
  }
  close(fds[1]);
  std::string out;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(fds[0], buffer, sizeof buffer)) > 0) {
    out.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  const std::string line = FormatAccessLine(SampleRecord(), LogFormat::kText, "civic-test");
  CHECK(out == line + line + line);
}
