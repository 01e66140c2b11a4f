// CORS: the headers that let browsers on other origins read an answer (ServerOptions::
// cors_origins); the preflight answer itself is Dispatch's (OPTIONS).
#include <algorithm>

#include "server_impl.hpp"

namespace civic::http {

// The CORS headers for the request's origin, if it is allowed. With a list of origins (not
// "*") every answer says `Vary: Origin`, also to a request from an origin not listed or from
// none: a cache must not hand one origin's answer (with or without the Allow-Origin header)
// to another.
Fields Server::Impl::CorsHeaders(const Responder::Exchange& exchange) const {
  Fields out;
  if (options.cors_origins.empty()) {
    return out;
  }
  const bool any = std::find(options.cors_origins.begin(), options.cors_origins.end(), "*") !=
                   options.cors_origins.end();
  if (!any) {
    out.emplace_back("Vary", "Origin");
  }
  if (!exchange.origin) {
    return out;
  }
  const bool listed = std::find(options.cors_origins.begin(), options.cors_origins.end(),
                                *exchange.origin) != options.cors_origins.end();
  if (!any && !listed) {
    return out;
  }
  out.emplace_back("Access-Control-Allow-Origin", any ? "*" : *exchange.origin);
  out.emplace_back("Access-Control-Expose-Headers",
                   "ETag, Location, Retry-After, Allow, Idempotency-Replayed, X-Request-Id, "
                   "X-Civic-Ballot-Sync, RateLimit, RateLimit-Policy");
  return out;
}

}  // namespace civic::http
