#pragma once

// Correlating one request across both services and their logs: its X-Request-Id (the caller's,
// when it is sane, or one made here) and a W3C Trace Context `traceparent` a caller sent.

#include <optional>
#include <string>
#include <string_view>

#include "civic/http/message.hpp"

namespace civic::http {

// The longest X-Request-Id taken from a caller.
inline constexpr size_t kMaxRequestIdBytes = 128;

// Whether `id` may be taken as a request id as it is: 1 to kMaxRequestIdBytes characters, each
// an ASCII letter, digit or one of "-_.:+/=@" (so that it is safe in a header, a log line and a
// JSON string without escaping). Anything else is replaced by a made one, not repaired.
bool IsSaneRequestId(std::string_view id);

// A new request id: 16 random bytes as 32 lowercase hex digits. Fast (a per-thread generator
// seeded from the kernel); unique, not secret. Any thread.
std::string MakeRequestId();

// The trace id (32 lowercase hex digits) of a valid W3C traceparent header value
// ("00-<trace-id>-<parent-id>-<flags>", https://www.w3.org/TR/trace-context/#traceparent-header);
// nothing when it is not one: wrong length or separators, upper-case or non-hex digits, an
// all-zero trace or parent id, version ff, or extra fields on version 00.
std::optional<std::string> TraceIdOf(std::string_view traceparent);

// What a request carries on to the calls it makes to the other service.
struct Correlation {
  std::string request_id;   // never empty once made
  std::string traceparent;  // a valid traceparent the caller sent; empty: none
};

// What calls made for `request` carry on.
Correlation CorrelationOf(const Request& request);

// The correlation of a call made on behalf of no request (a background sync): a new id.
Correlation NewCorrelation();

// The headers that carry `correlation` on an outgoing call: X-Request-Id, and traceparent when
// there is one.
Fields CorrelationHeaders(const Correlation& correlation);

}  // namespace civic::http
