#pragma once

// Helpers for functional tests of the events API: JSON calls against a running service.

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

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

// Sends `method` with an optional JSON body and extra headers; parses a JSON reply body.
JsonReply Call(httplib::Client& client, const std::string& method, const std::string& path,
               const nlohmann::json& body = nullptr, httplib::Headers headers = {});

// POSTs and requires 201; returns the created resource.
nlohmann::json Create(httplib::Client& client, const std::string& path, const nlohmann::json& body);

// The field names listed in a 422 problem's errors[].
std::vector<std::string> ErrorFields(const JsonReply& reply);

}  // namespace civic::test
