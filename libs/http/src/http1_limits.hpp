// The limits of a request's head, whatever its route's body may hold.
#pragma once

#include <cstddef>

namespace civic::http {

// A request's head has limits of its own, whatever its route's body may hold: the request line
// (414 over it), the header section (431) and its number of fields (431). The request buffer
// holds a head and the largest body any route takes.
constexpr size_t kMaxRequestLineBytes = 8 * 1024;
constexpr size_t kMaxHeaderBytes = 32 * 1024;
constexpr size_t kMaxHeaderFields = 100;
constexpr size_t kHeaderAllowance = kMaxRequestLineBytes + kMaxHeaderBytes;

}  // namespace civic::http
