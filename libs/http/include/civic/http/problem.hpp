#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "civic/domain/error.hpp"
#include "civic/http/message.hpp"

namespace civic::http {

inline constexpr const char* kProblemContentType = "application/problem+json";

// Problem types are `kProblemTypePrefix` + code, e.g. "/problems/already-registered": a URI
// reference (RFC 9457 3.1.1) that a client compares as a string, or branches on `code`.
inline constexpr std::string_view kProblemTypePrefix = "/problems/";

// The most entries of `errors` an answer holds: a body of thousands of bad members gets the
// first ones and their count, not an answer larger than itself.
inline constexpr size_t kMaxProblemErrors = 50;

// An RFC 9457 problem detail: the one error body of every endpoint of both services.
// Serialised as {"type","code","title","status","detail", "errors":[{"field","reason"}]?} plus
// `extra` members (e.g. "offset" for malformed JSON). Of more than kMaxProblemErrors errors,
// the first kMaxProblemErrors are written, and "errors_total" says how many there were.
struct Problem {
  int status = 500;
  std::string title;
  std::string detail;
  // The stable name of the problem (openapi.yaml's ProblemCode); empty: the general one of
  // `status` (ProblemCodeForStatus). `type` is derived from it.
  std::string code;
  std::vector<FieldError> errors;
  nlohmann::json extra = nlohmann::json::object();
};

// The HTTP status for each domain error code: the only place the mapping lives.
int StatusFor(ErrorCode code);
// The standard reason phrase, e.g. 404 -> "Not Found".
std::string_view ReasonPhrase(int status);
// The general problem code of a status, e.g. 422 -> "validation-failed", 409 -> "conflict".
std::string_view ProblemCodeForStatus(int status);
// The problem code of an error: its `kind`, else the general code of its status.
std::string ProblemCode(const Error& error);

Response ProblemResponse(const Problem& problem);
Response ProblemResponse(int status, std::string detail);
// The one way an error reaches HTTP: a domain error as a problem response (status from
// StatusFor, fields as `errors`, `numbers` as members; Retry-After and WWW-Authenticate
// headers where the error calls for them). Services build no problem answers of their own.
Response ErrorResponse(const Error& error);

}  // namespace civic::http
