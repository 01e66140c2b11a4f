#pragma once

// What the ballot's handlers share: reading ids and bodies, and the refusals every route gives
// alike (401, 403, 404, 400 for another protocol version).

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "civic/domain/error.hpp"
#include "civic/http/message.hpp"
#include "key_ring.hpp"
#include "vote_json.hpp"
#include "vote_outcome.hpp"

namespace civic::ballot {

// A positive id of at most kMaxId, written in decimal digits only.
std::optional<int64_t> ParseId(const std::string& text);
// 422 naming each query parameter of `request` that is not one of `known` (a typo such as
// ?finall=true must not pass for the default); nothing when every one is known.
std::optional<http::Response> UnknownQuery(const http::Request& request,
                                           std::initializer_list<std::string_view> known = {});
// 401; `refused`: a key was given and refused (not missing).
http::Response Unauthorized(const std::string& detail, bool refused);
// The answer to a vote from a caller that is not a voting client; nothing for one that is.
std::optional<http::Response> RefusedVoter(const Caller& caller);
// 403: a voting client's key used in an award outside its scope.
Error OutsideAwards(const Caller& caller, int64_t award_id);
// 404 for an award id that is not one (or not known).
http::Response NoAward(const std::string& text);
// 400 when the caller speaks a protocol version we do not (proto-docs/awards-sync.md).
std::optional<http::Response> CheckProtocol(const http::Request& request);
// The same answers the HTTP layer gives for JSON routes: 415, 400 empty, 400 malformed (with
// the byte offset); then 422 for a body of the wrong shape. Nothing when the votes can be read.
std::optional<http::Response> BodyProblem(const http::Request& request, const ParsedVotes& parsed);
// Nothing for an admin; otherwise the answer: 401 without a key or with one that is refused,
// 403 for a voting client's key. `what` names what is asked for ("The export").
std::optional<http::Response> RequireAdmin(const Caller& caller, const std::string& what);
// The status of a vote's outcome: 201 counted now, 200 counted before, else its error's.
int StatusOf(const VoteOutcome& outcome);
// The 201/200 answer of a counted vote.
http::Response ReceiptResponse(const VoteOutcome& outcome, const VoteInput& vote);

}  // namespace civic::ballot
