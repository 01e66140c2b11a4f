// The problem answers (RFC 9457) to requests that cannot be read: refused by the parser, or
// larger than the server takes.
#pragma once

#include <cstddef>
#include <string>

#include "civic/http/message.hpp"

namespace civic::http {

// The answer to a request refused with `status` (400, 414, 415, 431, 501, 505) for `reason`
// (ParseError's: "a header line is folded (obsolete line folding)"); the limits a 414 or a 431
// passed are named.
Response RefusalResponse(int status, const std::string& reason);

// A 413 naming the limit passed: `limit_bytes`, a route's body limit; 0 for the server's
// (`max_request_bytes`, head and body).
Response TooLargeResponse(size_t limit_bytes, size_t max_request_bytes);

}  // namespace civic::http
