#pragma once

// One HTTP POST of a webhook, to an address already checked (webhooks/ssrf.hpp).

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "webhooks/ssrf.hpp"

namespace civic::events::webhooks {

struct SendResult {
  std::string outcome;  // "ok" (2xx), "http_error" (any other status), "timeout", "unreachable"
  int status_code = 0;  // 0: no answer
  std::string error;    // for everything but "ok": what went wrong, without the URL
  int64_t duration_ms = 0;
};

// POSTs `body` (application/json) to `url`, connecting to `address` (never resolving the host
// again) with the URL's host in Host and TLS SNI. Redirects are not followed (a 3xx is a
// failure). The answer's body is read and dropped. Connect, read and write each time out
// after `timeout`. Thread-safe (a client per call).
SendResult Post(const Url& url, const std::string& address,
                const std::vector<std::pair<std::string, std::string>>& headers,
                const std::string& body, std::chrono::milliseconds timeout);

}  // namespace civic::events::webhooks
