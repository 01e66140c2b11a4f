#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace civic::http {

class ResponseStream;

// The request methods: those Pistache knows (TRACE and CONNECT are served no route, so a 405
// names them), and kOther for a method not read (a request line refused as it was read).
enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kTrace, kConnect, kOther };

// "GET", ..., "TRACE", "CONNECT"; "OTHER" for kOther.
std::string_view ToString(Method method);

using Fields = std::vector<std::pair<std::string, std::string>>;

// One HTTP request, owned (it may move to a worker thread). Header names are lower-case.
struct Request {
  Method method = Method::kGet;
  std::string path;  // without the query string
  Fields query;      // percent-decoded, in arrival order
  Fields headers;    // names lower-cased
  std::string body;
  Fields params;             // path parameters of the matched route, e.g. {"id", "42"}
  std::string route;         // the matched route pattern, e.g. "/v1/cities/{id}"
  nlohmann::json json;       // the parsed body, for routes declared with a JSON body
  std::string peer_address;  // the connected peer's IP address ("127.0.0.1", "::1")
  // The request's X-Request-Id: the caller's when sane, else one made by the server (never
  // empty for a request the server read); and a valid traceparent the caller sent, or "".
  // Calls made for this request carry both on (correlation.hpp: CorrelationOf).
  std::string request_id;
  std::string traceparent;

  // First value of header `name` (case-insensitive), if present.
  std::optional<std::string> Header(std::string_view name) const;
  // First value of query parameter `name`, if present.
  std::optional<std::string> Query(std::string_view name) const;
  // The path parameter `name`; "" if the route has none by that name.
  const std::string& Param(std::string_view name) const;
};

// One HTTP response. `content_type` empty means no body.
struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
  Fields headers;
  // What the access log names the caller by: the id of the key it used, "bootstrap:<role>" for
  // a key given at start; "" for none. Never a token. Not sent.
  std::string log_key;
  // Set: the body is not `body` but written by this function, in chunks, after the head (status,
  // content_type, headers) was sent: for an answer too large to hold in memory (an export). It
  // runs on the thread that returned the response (for offloaded routes a worker), once, and
  // should stop when a Write() returns false; the stream ends when it returns. A function that
  // throws has the connection cut, so the client sees an incomplete body, never a short one
  // that looks whole. Only for offloaded synchronous routes.
  std::function<void(ResponseStream&)> stream;

  static Response Json(int status, const nlohmann::json& body);
  static Response Text(int status, std::string content_type, std::string body);
  static Response Empty(int status);

  Response& WithHeader(std::string name, std::string value);
  // First value of header `name` (case-insensitive), if present.
  std::optional<std::string> Header(std::string_view name) const;
};

// Percent-decodes `in` ('+' becomes a space when `plus_as_space`). Invalid escapes are kept as is.
std::string PercentDecode(std::string_view in, bool plus_as_space);
// Parses "a=1&b=%D0%B3" into decoded pairs.
Fields ParseQueryString(std::string_view query);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// Whether `content_type` names JSON: application/json or any type ending in +json, with no
// charset parameter other than utf-8 (case-insensitive; JSON is UTF-8, RFC 8259 8.1).
bool IsJsonMediaType(const std::optional<std::string>& content_type);

// ASCII lowercase of one character (header names and tokens are ASCII, RFC 9110 5.1), without
// the locale lookup of std::tolower.
inline char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

}  // namespace civic::http
