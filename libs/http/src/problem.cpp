#include "civic/http/problem.hpp"

#include <algorithm>

namespace civic::http {

int StatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 422;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPreconditionFailed:
      return 412;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
    case ErrorCode::kMalformed:
      return 400;
    case ErrorCode::kUnsupportedMediaType:
      return 415;
    case ErrorCode::kUpstreamFailed:
      return 502;
  }
  return 500;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

std::string_view ProblemCodeForStatus(int status) {
  switch (status) {
    case 400:
      return "malformed-request";
    case 401:
      return "unauthenticated";
    case 403:
      return "forbidden";
    case 404:
      return "not-found";
    case 405:
      return "method-not-allowed";
    case 406:
      return "not-acceptable";
    case 408:
      return "request-timeout";
    case 409:
      return "conflict";
    case 410:
      return "gone";
    case 412:
      return "precondition-failed";
    case 413:
      return "body-too-large";
    case 414:
      return "target-too-long";
    case 415:
      return "unsupported-media-type";
    case 422:
      return "validation-failed";
    case 428:
      return "precondition-required";
    case 429:
      return "rate-limited";
    case 431:
      return "headers-too-large";
    case 501:
      return "not-implemented";
    case 502:
      return "upstream-failed";
    case 503:
      return "unavailable";
    case 504:
      return "upstream-timeout";
    case 505:
      return "http-version-not-supported";
    default:
      return status < 500 ? "client-error" : "internal-error";
  }
}

std::string ProblemCode(const Error& error) {
  return error.kind.empty() ? std::string(ProblemCodeForStatus(StatusFor(error.code))) : error.kind;
}

Response ProblemResponse(const Problem& problem) {
  nlohmann::json body = problem.extra.is_object() ? problem.extra : nlohmann::json::object();
  const std::string code =
      problem.code.empty() ? std::string(ProblemCodeForStatus(problem.status)) : problem.code;
  body["type"] = std::string(kProblemTypePrefix) + code;
  body["code"] = code;
  body["title"] = problem.title.empty() ? std::string(ReasonPhrase(problem.status)) : problem.title;
  body["status"] = problem.status;
  if (!problem.detail.empty()) {
    body["detail"] = problem.detail;
  }
  if (!problem.errors.empty()) {
    nlohmann::json errors = nlohmann::json::array();
    const size_t shown = std::min(problem.errors.size(), kMaxProblemErrors);
    for (size_t i = 0; i < shown; ++i) {
      errors.push_back({{"field", problem.errors[i].field}, {"reason", problem.errors[i].reason}});
    }
    body["errors"] = std::move(errors);
    if (shown < problem.errors.size()) {
      body["errors_total"] = problem.errors.size();
    }
  }
  Response response = Response::Json(problem.status, body);
  response.content_type = kProblemContentType;
  return response;
}

Response ProblemResponse(int status, std::string detail) {
  Problem problem;
  problem.status = status;
  problem.detail = std::move(detail);
  return ProblemResponse(problem);
}

Response ErrorResponse(const Error& error) {
  Problem problem;
  problem.status = StatusFor(error.code);
  problem.code = ProblemCode(error);
  problem.detail = error.message;
  problem.errors = error.fields;
  for (const auto& [name, value] : error.numbers) {
    problem.extra[name] = value;
  }
  Response response = ProblemResponse(problem);
  if (error.retry_after_seconds > 0) {
    response.WithHeader("Retry-After", std::to_string(error.retry_after_seconds));
  }
  if (error.code == ErrorCode::kUnauthenticated) {
    // RFC 6750 3: a 401 names its scheme; error="invalid_token" when a token was refused.
    response.WithHeader("WWW-Authenticate", error.credential_given
                                                ? "Bearer realm=\"civic\", error=\"invalid_token\""
                                                : "Bearer realm=\"civic\"");
  }
  return response;
}

}  // namespace civic::http
