#pragma once

// The admin routes of held votes (README "Held votes"): GET /v1/awards/{award}/held-votes (the
// holds with their rule and evidence, never a voter), POST /v1/awards/{award}/held-votes/decisions
// (release or reject some, or every held vote of one rule), GET and PUT
// /v1/awards/{award}/vote-rules (the award's thresholds). Decisions and rule changes are in the
// audit trail.

#include "award_catalog.hpp"
#include "award_store.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/message.hpp"
#include "held_votes.hpp"
#include "key_ring.hpp"

namespace civic::ballot {

class ListHeldVotes {
 public:
  ListHeldVotes(const KeyRing& callers, const AwardCatalog& catalog, HeldVotes& held)
      : callers_(callers), catalog_(catalog), held_(held) {}
  http::Response operator()(const http::Request& request);

 private:
  const KeyRing& callers_;
  const AwardCatalog& catalog_;
  HeldVotes& held_;
};

class DecideHeldVotes {
 public:
  DecideHeldVotes(const KeyRing& callers, const AwardCatalog& catalog, HeldVotes& held,
                  AwardStore& award_store, const Clock& clock)
      : callers_(callers),
        catalog_(catalog),
        held_(held),
        award_store_(award_store),
        clock_(clock) {}
  http::Response operator()(const http::Request& request);

 private:
  http::Response Answer(const http::Request& request, const Caller& caller);
  const KeyRing& callers_;
  const AwardCatalog& catalog_;
  HeldVotes& held_;
  AwardStore& award_store_;
  const Clock& clock_;
};

class VoteRulesRoute {
 public:
  VoteRulesRoute(const KeyRing& callers, const AwardCatalog& catalog, HeldVotes& held,
                 AwardStore& award_store)
      : callers_(callers), catalog_(catalog), held_(held), award_store_(award_store) {}
  http::Response operator()(const http::Request& request);

 private:
  http::Response Answer(const http::Request& request, const Caller& caller);
  const KeyRing& callers_;
  const AwardCatalog& catalog_;
  HeldVotes& held_;
  AwardStore& award_store_;
};

// Records an admin's write in the audit trail (a failure to write is logged, not answered).
void AuditAdminWrite(AwardStore& store, const Caller& caller, const http::Request& request,
                     int status);

}  // namespace civic::ballot
