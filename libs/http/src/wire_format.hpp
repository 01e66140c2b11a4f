// Wire format: how an answer's status line, headers and body are written as HTTP/1.1 bytes.
#pragma once

#include <string>
#include <string_view>

#include "civic/http/message.hpp"

namespace civic::http {

// The current time as an HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT"), which every answer carries
// in its Date header (RFC 9110 6.6.1).
const std::string& HttpDate();

// Appends the status line, Date, X-Request-Id (unless `request_id` is empty) and headers of
// `response` (its own, then `extra_headers`, its Content-Type and Connection) to `out`, up to the
// header fields that frame its body.
void AppendHead(std::string& out, const Response& response, std::string_view request_id,
                const Fields& extra_headers, bool close);

// The head and body of `response` as they go on the wire, framed as RFC 9110 8.6 asks;
// `head_only`: the answer to a HEAD request (no body); `close`: it says Connection: close.
std::string Serialize(const Response& response, std::string_view request_id,
                      const Fields& extra_headers, bool head_only, bool close);

}  // namespace civic::http
