#pragma once

// The ballot's admin surface besides exports: POST /v1/awards/{award}/sync (a sync now, its one
// write, recorded in the audit trail) and GET /v1/ballot/audit-events.

#include "award_catalog.hpp"
#include "award_store.hpp"
#include "award_sync.hpp"
#include "civic/http/message.hpp"
#include "key_ring.hpp"

namespace civic::ballot {

class SyncAward {
 public:
  SyncAward(const KeyRing& callers, AwardSync& sync, const AwardCatalog& catalog,
            AwardStore& award_store, int audit_retention_days)
      : callers_(callers),
        sync_(sync),
        catalog_(catalog),
        award_store_(award_store),
        audit_retention_days_(audit_retention_days) {}
  http::Response operator()(const http::Request& request);

 private:
  http::Response Answer(const http::Request& request, const Caller& caller);

  const KeyRing& callers_;
  AwardSync& sync_;
  const AwardCatalog& catalog_;
  AwardStore& award_store_;
  const int audit_retention_days_;
};

class ListAudit {
 public:
  ListAudit(const KeyRing& callers, AwardStore& award_store)
      : callers_(callers), award_store_(award_store) {}
  http::Response operator()(const http::Request& request);

 private:
  http::Response Answer(const http::Request& request, const Caller& caller);

  const KeyRing& callers_;
  AwardStore& award_store_;
};

}  // namespace civic::ballot
