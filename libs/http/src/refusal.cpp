// The problem answers to requests that cannot be read (see refusal.hpp).
#include "refusal.hpp"

#include "civic/http/problem.hpp"
#include "http1_limits.hpp"

namespace civic::http {

Response RefusalResponse(int status, const std::string& reason) {
  if (status == 505) {
    return ProblemResponse(505, "Only HTTP/1.1 and HTTP/1.0 are served.");
  }
  if (status == 501) {
    return ProblemResponse(501, "Only the chunked transfer coding is supported.");
  }
  if (status == 431) {
    Problem problem;
    problem.status = 431;
    problem.detail = "The request could not be read: " + reason + " (" +
                     std::to_string(kMaxHeaderFields) + " fields, " +
                     std::to_string(kMaxHeaderBytes) + " bytes).";
    problem.extra["limit_bytes"] = kMaxHeaderBytes;
    problem.extra["limit_fields"] = kMaxHeaderFields;
    return ProblemResponse(problem);
  }
  if (status == 414) {
    Problem problem;
    problem.status = 414;
    problem.detail = "The request could not be read: " + reason + " (" +
                     std::to_string(kMaxRequestLineBytes) + " bytes).";
    problem.extra["limit_bytes"] = kMaxRequestLineBytes;
    return ProblemResponse(problem);
  }
  if (status == 415) {
    return ProblemResponse(415,
                           "The request could not be read: its Content-Type header is "
                           "not a media type.");
  }
  if (status == 400) {
    return ProblemResponse(400, "The request could not be read: " + reason + ".");
  }
  return ProblemResponse(status >= 400 && status < 600 ? status : 400,
                         "The request could not be read.");
}

Response TooLargeResponse(size_t limit_bytes, size_t max_request_bytes) {
  Problem problem;
  problem.status = 413;
  if (limit_bytes == 0) {
    problem.detail = "The request is larger than " + std::to_string(max_request_bytes) +
                     " bytes, head and body.";
    problem.extra["limit_bytes"] = max_request_bytes;
  } else {
    problem.detail =
        "The body is larger than the limit here, " + std::to_string(limit_bytes) + " bytes.";
    problem.extra["limit_bytes"] = limit_bytes;
  }
  return ProblemResponse(problem);
}

}  // namespace civic::http
