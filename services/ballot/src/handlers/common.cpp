#include "handlers/common.hpp"

#include <algorithm>

#include "award_json.hpp"
#include "civic/domain/validation.hpp"
#include "civic/http/problem.hpp"

namespace civic::ballot {

using http::Request;
using http::Response;

std::optional<int64_t> ParseId(const std::string& text) {
  if (text.empty() || text.size() > 10) {
    return std::nullopt;
  }
  int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  if (value <= 0 || value > kMaxId) {
    return std::nullopt;
  }
  return value;
}

std::optional<Response> UnknownQuery(const Request& request,
                                     std::initializer_list<std::string_view> known) {
  if (request.query.empty()) {
    return std::nullopt;
  }
  std::string names;
  for (const std::string_view name : known) {
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  const std::string reason = names.empty() ? "is not a parameter of this route (it takes none)"
                                           : "is not a parameter of this route (" + names + ")";
  Violations violations;
  for (const auto& [name, value] : request.query) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      violations.Add(name, reason);
    }
  }
  if (violations.empty()) {
    return std::nullopt;
  }
  return http::ErrorResponse(violations.ToError());
}

Response Unauthorized(const std::string& detail, bool refused) {
  return http::ErrorResponse(Error::Unauthenticated(detail, refused));
}

std::optional<Response> RefusedVoter(const Caller& caller) {
  switch (caller.kind) {
    case Caller::Kind::kVotingClient:
      return std::nullopt;
    case Caller::Kind::kNone:
      return Unauthorized("A vote needs a voting client's key: Authorization: Bearer.", false);
    case Caller::Kind::kRefused:
      return Unauthorized(caller.problem, true);
    case Caller::Kind::kAdmin:
      break;
  }
  return http::ErrorResponse(
      Error::Forbidden("An admin key does not vote: votes come with a voting client's key."));
}

Error OutsideAwards(const Caller& caller, int64_t award_id) {
  return Error::Forbidden("The key " + caller.prefix + " may not vote in award " +
                          std::to_string(award_id) + ".");
}

Response NoAward(const std::string& text) {
  return http::ErrorResponse(Error::NotFound("No award " + text + "."));
}

std::optional<Response> CheckProtocol(const Request& request) {
  const auto version = request.Header("x-civic-protocol");
  if (version && *version != std::to_string(kProtocolVersion)) {
    return http::ErrorResponse(Error::Malformed("Unknown X-Civic-Protocol " + *version +
                                                "; this ballot speaks version " +
                                                std::to_string(kProtocolVersion) + "."));
  }
  return std::nullopt;
}

std::optional<Response> BodyProblem(const Request& request, const ParsedVotes& parsed) {
  if (!http::IsJsonMediaType(request.Header("content-type"))) {
    return http::ErrorResponse(Error::UnsupportedMediaType(
        "The body must be UTF-8 JSON (Content-Type: application/json)."));
  }
  if (request.body.empty()) {
    return http::ErrorResponse(Error::Malformed("A JSON body is required."));
  }
  if (parsed.syntax_offset) {
    Error malformed =
        Error::Malformed("Malformed JSON at byte " + std::to_string(*parsed.syntax_offset) + ".");
    malformed.numbers.emplace_back("offset", static_cast<int64_t>(*parsed.syntax_offset));
    return http::ErrorResponse(malformed);
  }
  if (parsed.shape_error) {
    return http::ErrorResponse(*parsed.shape_error);
  }
  return std::nullopt;
}

int StatusOf(const VoteOutcome& outcome) {
  switch (outcome.kind) {
    case VoteOutcome::Kind::kCreated:
      return outcome.standing == Standing::kHeld ? 202 : 201;
    case VoteOutcome::Kind::kExisting:
      return outcome.standing == Standing::kHeld ? 202 : 200;
    case VoteOutcome::Kind::kError:
      break;
  }
  return http::StatusFor(outcome.error.code);
}

Response ReceiptResponse(const VoteOutcome& outcome, const VoteInput& vote) {
  Response response =
      Response::Text(StatusOf(outcome), "application/json", VoteReceiptJson(outcome, vote));
  response.WithHeader("Location", "/v1/receipts/" + outcome.receipt);
  return response;
}

std::optional<Response> RequireAdmin(const Caller& caller, const std::string& what) {
  switch (caller.kind) {
    case Caller::Kind::kAdmin:
      return std::nullopt;
    case Caller::Kind::kNone:
      return Unauthorized(what + " needs an admin key: Authorization: Bearer.", false);
    case Caller::Kind::kRefused:
      return Unauthorized(caller.problem, true);
    case Caller::Kind::kVotingClient:
      break;
  }
  return http::ErrorResponse(
      Error::Forbidden(what + " needs an admin key; this is a voting client's."));
}

}  // namespace civic::ballot
