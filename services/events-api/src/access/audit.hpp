#pragma once

// The audit trail: one append-only record per write that a key made (docs/security.md).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "access/caller.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "storage/store.hpp"

namespace civic::events::audit {

// The write request being handled on this thread, set by access::Secure around the handler.
class RequestScope {
 public:
  struct State;  // what the request's records need (audit.cpp)

  RequestScope(const access::Caller& caller, const http::Request& request, Instant now);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

  // Appends the request's record when the handler appended none (a refused write, or a route
  // that records nothing itself), in a transaction of its own: the route's object and
  // `response`'s status, no changes. Never throws (a failure is logged).
  void Finish(Store& store, const http::Response& response);

 private:
  State* previous_;
  std::unique_ptr<State> state_;
};

// Appends the record of a change that the current request made, in the transaction `db` that
// makes the change: the object, the status the request answers, and the members of the
// object's representation that changed (`before` null for a creation, `after` null for a
// deletion), contacts redacted. Does nothing outside a RequestScope. Inside one or not, the events
// the change means (outbox::TypesOf) are recorded in the outbox, in the same transaction.
void Record(sqlite::Database& db, std::string_view object_type, int64_t object_id,
            const nlohmann::json& before, const nlohmann::json& after, int status);

// {"member": {"before": b, "after": a}} for each top-level member that differs (updated_at
// left out), with e-mail and phone values replaced by "[redacted]".
nlohmann::json Changes(const nlohmann::json& before, const nlohmann::json& after);

// The object a route's path names: ("registration", 7) for /v1/registrations/7/check-in,
// ("registration", none) for /v1/events/3/registrations.
std::pair<std::string, std::optional<int64_t>> ObjectOf(const http::Request& request);

// Removes the records older than `days` days (the retention; at least 1).
void Purge(sqlite::Database& db, Instant now, int days);

// GET /v1/audit-events (admins): the records, filtered by object, key and time, cursor paging.
void AddAuditRoutes(http::Router& router, Store& store);

}  // namespace civic::events::audit
