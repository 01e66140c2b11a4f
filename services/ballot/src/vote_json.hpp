#pragma once

// The wire form of votes (openapi.yaml: Vote, BatchVotes, VoteReceipt, BatchVoteResults), read
// by simdjson (nlohmann's SAX parser for what simdjson refuses, so that errors read as
// elsewhere) straight into VoteInput, and written by hand: a batch holds up to 1,000 votes and
// this is the hot path.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/ballot.hpp"
#include "civic/domain/error.hpp"
#include "vote_outcome.hpp"

namespace civic::ballot {

// One vote read from a body: the vote, or why it is invalid (field errors, prefixed).
struct ParsedVote {
  VoteInput vote;
  std::vector<FieldError> errors;
};

struct ParsedVotes {
  std::vector<ParsedVote> votes;
  // The body as a whole is unusable: malformed JSON (400; `syntax_offset` is the byte where
  // parsing failed) or the wrong shape (422 with `shape_error`).
  std::optional<size_t> syntax_offset;
  std::optional<Error> shape_error;
};

// {"voter","nomination","nominee","client_ref"?,"device"?,"address"?}: one vote; its award comes
// from the path.
ParsedVotes ParseVoteBody(std::string_view body);
// {"votes":[{"award","voter","nomination","nominee","client_ref"?,"device"?,"address"?}, ...]}:
// 1 to kMaxBatchVotes.
ParsedVotes ParseBatchBody(std::string_view body);
// Both are FastParseVotes where it answers, else ReferenceParseVotes (batch: a ParseBatchBody,
// else a ParseVoteBody); the two are exposed so that the tests can hold one to the other.
// The body read by simdjson's DOM parser (any valid JSON it can hold); nothing when it is left
// to the reference parse.
std::optional<ParsedVotes> FastParseVotes(std::string_view body, bool batch);
// The body read by nlohmann's SAX parser.
ParsedVotes ReferenceParseVotes(std::string_view body, bool batch);

// The 201/200 body of one vote.
std::string VoteReceiptJson(const VoteOutcome& outcome, const VoteInput& vote);
// The 200 body of a batch: {"counted","already_counted","rejected","results":[...]}; each
// result is {"status","receipt","client_ref"?} or {"status","error":{problem}}.
std::string BatchResultsJson(const std::vector<VoteOutcome>& outcomes,
                             const std::vector<ParsedVote>& votes);

// Appends `text` to `out` as a JSON string literal (quotes included).
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace civic::ballot
