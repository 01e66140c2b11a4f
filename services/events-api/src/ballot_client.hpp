#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/award.hpp"
#include "civic/domain/error.hpp"
#include "civic/http/correlation.hpp"
#include "civic/metrics/metrics.hpp"

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

// Calls to the ballot's admin endpoints over HTTP/1.1 keep-alive (cpp-httplib), with the admin
// key, the protocol headers and the X-Request-Id (and traceparent) of the request they serve.
// Thread-safe: each calling thread has its own connection. The calls block (connect 2 s, read 10 s
// at most): make them on worker or background threads, never inside a database transaction.
class BallotClient {
 public:
  // `requests` (may be null) counts calls by `call` and `outcome` (ok, error, unreachable).
  BallotClient(BallotPeer peer, metrics::Family<metrics::Counter>* requests);

  bool configured() const { return !peer_.admin_key.empty(); }
  const std::string& url() const { return peer_.url; }

  // Call 4: GET {url}/v1/awards/{award_id}/results?final=true.
  BallotAnswer FinalResults(int64_t award_id, const http::Correlation& correlation) const;
  // Call 3: POST {url}/v1/awards/{award_id}/sync ("this award changed: fetch it now").
  BallotAnswer AwardChanged(int64_t award_id, const http::Correlation& correlation) const;

 private:
  BallotAnswer Send(const char* call, bool post, const std::string& path,
                    const http::Correlation& correlation) const;

  BallotPeer peer_;
  metrics::Family<metrics::Counter>* requests_;
};

// Reads the ballot's final results document for `award_id` (openapi.yaml, AwardResults):
// {"award_id", "final": true, "nominations": [{"nomination_id", "total_votes",
// "nominees": [{"nominee_id", "votes", ...}]}]}. Members it does not need are ignored. An
// error names what is wrong.
Result<std::vector<NominationTally>> ParseFinalResults(std::string_view body, int64_t award_id);

}  // namespace civic::events
