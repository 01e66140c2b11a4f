// The one error mapping: every error reaches HTTP through http::ErrorResponse, which alone
// chooses the status (StatusFor) and the headers an error calls for.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "civic/http/problem.hpp"

using civic::Error;
using civic::ErrorCode;
using nlohmann::json;

namespace {

std::string HeaderOf(const civic::http::Response& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) {
      return value;
    }
  }
  return "(none)";
}

}  // namespace

TEST_CASE("Errors: each code has its status, and each answer is a problem naming it",
          "[http][errors]") {
  const std::vector<std::pair<Error, int>> cases = {
      {Error::Invalid("name", "must not be empty"), 422},
      {Error::NotFound("No city with id 7."), 404},
      {Error::Conflict("The event is full."), 409},
      {Error(ErrorCode::kPreconditionFailed, "The ETag does not match."), 412},
      {Error::Unauthenticated("No key.", false), 401},
      {Error::Forbidden("Not this program."), 403},
      {Error::Unavailable("Storage is down.", 1), 503},
      {Error::Internal("A bug."), 500},
      {Error::Malformed("Malformed JSON at byte 3."), 400},
      {Error::UnsupportedMediaType("The body must be JSON."), 415},
      {Error::UpstreamFailed("The ballot answered 500."), 502},
  };
  for (const auto& [error, status] : cases) {
    INFO(error.message);
    const civic::http::Response response = civic::http::ErrorResponse(error);
    CHECK(response.status == status);
    CHECK(civic::http::StatusFor(error.code) == status);
    CHECK(response.content_type == civic::http::kProblemContentType);
    const json body = json::parse(response.body);
    CHECK(body["status"] == status);
    CHECK(body["detail"] == error.message);
    CHECK(body["title"] == std::string(civic::http::ReasonPhrase(status)));
  }
}

TEST_CASE("Errors: Retry-After, WWW-Authenticate and extra members come from the error",
          "[http][errors]") {
  const auto unavailable = civic::http::ErrorResponse(Error::Unavailable("Busy.", 5));
  CHECK(HeaderOf(unavailable, "Retry-After") == "5");
  CHECK(HeaderOf(civic::http::ErrorResponse(Error::Unavailable("Busy.")), "Retry-After") ==
        "(none)");

  CHECK(HeaderOf(civic::http::ErrorResponse(Error::Unauthenticated("No key.", false)),
                 "WWW-Authenticate") == "Bearer realm=\"civic\"");
  CHECK(HeaderOf(civic::http::ErrorResponse(Error::Unauthenticated("Revoked.", true)),
                 "WWW-Authenticate") == "Bearer realm=\"civic\", error=\"invalid_token\"");
  CHECK(HeaderOf(civic::http::ErrorResponse(Error::Forbidden("No.")), "WWW-Authenticate") ==
        "(none)");

  Error malformed = Error::Malformed("Malformed JSON at byte 17.");
  malformed.numbers.emplace_back("offset", 17);
  const json body = json::parse(civic::http::ErrorResponse(malformed).body);
  CHECK(body["offset"] == 17);
  CHECK(body["status"] == 400);

  const json invalid = json::parse(
      civic::http::ErrorResponse(Error::Invalid("votes[2].nominee", "is required")).body);
  CHECK(invalid["errors"] ==
        json::array({{{"field", "votes[2].nominee"}, {"reason", "is required"}}}));
}

TEST_CASE("Errors: each answer has a stable code, and its type is /problems/ and the code",
          "[http][errors]") {
  const std::vector<std::pair<Error, std::string>> cases = {
      {Error::Invalid("name", "must not be empty"), "validation-failed"},
      {Error::NotFound("No city with id 7."), "not-found"},
      {Error::Conflict("The state forbids it."), "conflict"},
      {Error::Conflict("Already registered.").WithKind("already-registered"), "already-registered"},
      {Error(ErrorCode::kPreconditionFailed, "The ETag does not match."), "precondition-failed"},
      {Error::Unauthenticated("No key.", false), "unauthenticated"},
      {Error::Forbidden("Voting is closed.").WithKind("voting-closed"), "voting-closed"},
      {Error::Unavailable("Storage is down.", 1), "unavailable"},
      {Error::Internal("A bug."), "internal-error"},
      {Error::Malformed("Malformed JSON at byte 3."), "malformed-request"},
      {Error::UnsupportedMediaType("The body must be JSON."), "unsupported-media-type"},
      {Error::UpstreamFailed("The ballot answered 500."), "upstream-failed"},
  };
  for (const auto& [error, code] : cases) {
    INFO(error.message);
    const json body = json::parse(civic::http::ErrorResponse(error).body);
    CHECK(body["code"] == code);
    CHECK(body["type"] == "/problems/" + code);
    CHECK(civic::http::ProblemCode(error) == code);
  }
  // Answers made from a status alone (the HTTP layer's own refusals) get the status's code.
  for (const auto& [status, code] :
       std::vector<std::pair<int, std::string>>{{413, "body-too-large"},
                                                {429, "rate-limited"},
                                                {431, "headers-too-large"},
                                                {405, "method-not-allowed"},
                                                {505, "http-version-not-supported"},
                                                {418, "client-error"},
                                                {599, "internal-error"}}) {
    const json body = json::parse(civic::http::ProblemResponse(status, "x").body);
    CHECK(body["code"] == code);
    CHECK(body["type"] == "/problems/" + code);
  }
}

TEST_CASE("Errors: a problem lists at most 50 field errors and counts them all",
          "[http][errors][validation]") {
  std::vector<civic::FieldError> fields;
  for (int i = 0; i < 6000; ++i) {
    fields.push_back({"x" + std::to_string(i), "is not a known field"});
  }
  Error error = Error::Invalid(fields, "The request has invalid fields.");
  const json capped = json::parse(civic::http::ErrorResponse(error).body);
  REQUIRE(capped["errors"].size() == civic::http::kMaxProblemErrors);
  CHECK(capped["errors"][0]["field"] == "x0");
  CHECK(capped["errors"][49]["field"] == "x49");
  CHECK(capped["errors_total"] == 6000);

  // Up to the cap, every error and no count.
  fields.resize(50);
  const json whole =
      json::parse(civic::http::ErrorResponse(Error::Invalid(fields, "Invalid.")).body);
  CHECK(whole["errors"].size() == 50);
  CHECK_FALSE(whole.contains("errors_total"));
}
