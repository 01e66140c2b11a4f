#pragma once

// Helpers for functional tests of the events API: JSON calls against a running service.

#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.hpp"

namespace civic::test {

struct JsonReply {
  int status = 0;
  nlohmann::json body;
  httplib::Headers headers;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// Sends `method` with an optional JSON body and extra headers; parses a JSON reply body (one that
// is not JSON, e.g. a CSV, is kept as a JSON string).
JsonReply Call(httplib::Client& client, const std::string& method, const std::string& path,
               const nlohmann::json& body = nullptr, httplib::Headers headers = {});

// POSTs and requires 201; returns the created resource.
nlohmann::json Create(httplib::Client& client, const std::string& path, const nlohmann::json& body);

// The field names listed in a 422 problem's errors[].
std::vector<std::string> ErrorFields(const JsonReply& reply);

// Whether `v` holds `s`.
bool Has(const std::vector<std::string>& v, const std::string& s);

// An RFC 3339 UTC instant `offset` from now, to the second ("2026-11-22T10:00:00Z").
std::string FromNow(std::chrono::seconds offset);

}  // namespace civic::test
