#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/award.hpp"
#include "civic/domain/error.hpp"

namespace civic::events {

// The protocol version this service speaks with the ballot (proto-docs/awards-sync.md).
inline constexpr const char* kCivicProtocol = "1";

// Where the ballot is and how to authenticate to its admin endpoints.
struct BallotPeer {
  std::string url;        // base URL, e.g. "http://127.0.0.1:8081" (no path, no trailing '/')
  std::string admin_key;  // secret: never logged; empty when not configured
};

// One answer from the ballot, or why none came.
struct BallotAnswer {
  int status = 0;     // the HTTP status; 0 when no answer came
  std::string error;  // the transport failure when status is 0 (refused, timeout), for logs
  std::string body;
};

// Calls to the ballot's admin endpoints over HTTP/1.1 (cpp-httplib). Thread-safe: each call uses
// its own client (calls are rare organiser actions, so no connection is kept between them).
class BallotClient {
 public:
  explicit BallotClient(BallotPeer peer);

  bool configured() const { return !peer_.admin_key.empty(); }
  const std::string& url() const { return peer_.url; }

  // GET {url}/v1/awards/{award_id}/results?final=true with the admin key. Blocks for up to the
  // connect (2 s) and read (10 s) timeouts: call it on a worker thread and never inside a
  // database transaction.
  BallotAnswer FinalResults(int64_t award_id) const;

 private:
  BallotPeer peer_;
};

// Reads the ballot's final results document for `award_id` (openapi.yaml, AwardResults):
// {"award_id", "final": true, "nominations": [{"nomination_id", "total_votes",
// "nominees": [{"nominee_id", "votes", ...}]}]}. Members it does not need are ignored. An
// error names what is wrong.
Result<std::vector<NominationTally>> ParseFinalResults(std::string_view body, int64_t award_id);

}  // namespace civic::events
