#pragma once

// The access log: one record per answered request, handed by the server to an AccessLog (the
// runtime library's writes lines in text or JSON; see civic/runtime/logging.hpp).

#include <chrono>
#include <cstddef>
#include <string_view>

#include "civic/http/message.hpp"

namespace civic::http {

// One answered request. Holds no path, query string, header value or body: only the route
// pattern ("/v1/events/{id}", or "unmatched" for a request that matched no route), so that no
// id, token, voter id or contact a client put in a URL reaches the log. The views are valid
// during AccessLog::Write only.
struct AccessRecord {
  std::chrono::system_clock::time_point time;  // when the answer (or a stream's end) was sent
  Method method = Method::kGet;
  std::string_view route;
  int status = 0;
  std::chrono::nanoseconds duration{0};  // from the request's arrival
  size_t bytes = 0;                      // body bytes sent (a stream's: all its chunks' data)
  std::string_view request_id;
  std::string_view key;       // the caller's key as Response::log_key names it; empty: none
  std::string_view trace_id;  // of a valid traceparent; empty: none
};

class AccessLog {
 public:
  virtual ~AccessLog() = default;
  // Records one answered request. Called from any thread, on the path of every answer: must
  // not block on output.
  virtual void Write(const AccessRecord& record) = 0;
};

}  // namespace civic::http
