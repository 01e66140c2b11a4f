#pragma once

// POST /v1/awards/{award}/votes and POST /v1/votes/batch: decided on the network thread,
// answered by the committer after the commit (votes' JSON is read by vote_json, not by the HTTP
// layer).

#include "ballot_metrics.hpp"
#include "civic/http/message.hpp"
#include "civic/http/server.hpp"
#include "key_ring.hpp"
#include "vote_service.hpp"

namespace civic::ballot {

class CastVote {
 public:
  CastVote(const KeyRing& callers, VoteService& votes, BallotMetrics& metrics)
      : callers_(callers), votes_(votes), metrics_(metrics) {}
  void operator()(http::Request&& request, http::Responder responder);

 private:
  const KeyRing& callers_;
  VoteService& votes_;
  BallotMetrics& metrics_;
};

class CastBatch {
 public:
  CastBatch(const KeyRing& callers, VoteService& votes, BallotMetrics& metrics)
      : callers_(callers), votes_(votes), metrics_(metrics) {}
  void operator()(http::Request&& request, http::Responder responder);

 private:
  const KeyRing& callers_;
  VoteService& votes_;
  BallotMetrics& metrics_;
};

}  // namespace civic::ballot
