#pragma once

#include <string>
#include <vector>

#include "civic/domain/error.hpp"
#include "civic/http/message.hpp"

namespace civic::http {

inline constexpr const char* kProblemContentType = "application/problem+json";

// An RFC 9457 problem detail: the one error body of every endpoint of both services.
// Serialised as {"type","title","status","detail", "errors":[{"field","reason"}]?} plus `extra`
// members (e.g. "offset" for malformed JSON).
struct Problem {
  int status = 500;
  std::string title;
  std::string detail;
  std::string type;  // defaults to "about:blank"-style URN derived from the status when empty
  std::vector<FieldError> errors;
  nlohmann::json extra = nlohmann::json::object();
};

// The HTTP status for each domain error code: the only place the mapping lives.
int StatusFor(ErrorCode code);
// The standard reason phrase, e.g. 404 -> "Not Found".
std::string_view ReasonPhrase(int status);

Response ProblemResponse(const Problem& problem);
Response ProblemResponse(int status, std::string detail);
// The one way an error reaches HTTP: a domain error as a problem response (status from
// StatusFor, fields as `errors`, `numbers` as members; Retry-After and WWW-Authenticate
// headers where the error calls for them). Services build no problem answers of their own.
Response ErrorResponse(const Error& error);

}  // namespace civic::http
