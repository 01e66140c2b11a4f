// Pure helpers of civic/http/message.hpp: which Content-Type values are JSON bodies the services
// read.
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "civic/http/message.hpp"

using civic::http::IsJsonMediaType;

TEST_CASE("HTTP: JSON media types are application/json and +json, with no charset but utf-8",
          "[http][json]") {
  for (const char* json : {"application/json", "Application/JSON", "application/json ",
                           "application/json; charset=utf-8", "application/json;charset=UTF-8",
                           "application/json; charset=\"utf-8\"", "application/merge-patch+json",
                           "application/json; profile=x; charset=Utf-8"}) {
    INFO(json);
    CHECK(IsJsonMediaType(std::string(json)));
  }
  for (const char* other :
       {"application/json; charset=latin1", "application/json; charset=iso-8859-1",
        "application/json; charset=utf-16", "application/json; charset=\"koi8-r\"",
        "application/json; charset=utf-8; charset=latin1", "text/plain", "application/jsonx", ""}) {
    INFO(other);
    CHECK_FALSE(IsJsonMediaType(std::string(other)));
  }
  CHECK_FALSE(IsJsonMediaType(std::nullopt));
}
