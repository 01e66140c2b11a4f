#include "events_api_helpers.hpp"

#include <algorithm>
#include <ctime>
#include <stdexcept>

namespace civic::test {

JsonReply Call(httplib::Client& client, const std::string& method, const std::string& path,
               const nlohmann::json& body, httplib::Headers headers) {
  headers.emplace("Connection", "keep-alive");
  const std::string text = body.is_null() ? "" : body.dump();
  const char* type = method == "PATCH" ? "application/merge-patch+json" : "application/json";
  httplib::Result result{nullptr, httplib::Error::Unknown};
  if (method == "GET") {
    result = client.Get(path.c_str(), headers);
  } else if (method == "POST") {
    result = client.Post(path.c_str(), headers, text, type);
  } else if (method == "PATCH") {
    result = client.Patch(path.c_str(), headers, text, type);
  } else if (method == "PUT") {
    result = client.Put(path.c_str(), headers, text, type);
  } else if (method == "DELETE") {
    result = client.Delete(path.c_str(), headers);
  } else {
    throw std::invalid_argument("method " + method);
  }
  if (!result) {
    throw std::runtime_error(method + " " + path + ": " + httplib::to_string(result.error()));
  }
  JsonReply reply;
  reply.status = result->status;
  reply.headers = result->headers;
  if (!result->body.empty()) {
    reply.body = nlohmann::json::parse(result->body, nullptr, false);
    if (reply.body.is_discarded()) {
      reply.body = result->body;  // not JSON (a CSV export): the text, as a JSON string
    }
  }
  return reply;
}

nlohmann::json Create(httplib::Client& client, const std::string& path,
                      const nlohmann::json& body) {
  JsonReply reply = Call(client, "POST", path, body);
  if (reply.status != 201) {
    throw std::runtime_error("POST " + path + " answered " + std::to_string(reply.status) + ": " +
                             reply.body.dump());
  }
  return reply.body;
}

std::vector<std::string> ErrorFields(const JsonReply& reply) {
  std::vector<std::string> fields;
  if (reply.body.contains("errors")) {
    for (const auto& error : reply.body["errors"]) {
      fields.push_back(error["field"].get<std::string>());
    }
  }
  return fields;
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string FromNow(std::chrono::seconds offset) {
  const std::time_t t =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + offset);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace civic::test
