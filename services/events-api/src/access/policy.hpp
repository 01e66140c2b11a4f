#pragma once

// Who may call each route of the events API: one table, and the wrapper that enforces it
// (docs/security.md has the same table for readers).

#include <string>
#include <string_view>
#include <vector>

#include "access/api_keys.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "storage/store.hpp"

namespace civic::events::access {

// The roles, besides admins (who may call every route), that may call a route.
enum RoleSet : unsigned {
  kAdminsOnly = 0,
  kAnyone = 1U << 0,  // public: no key needed (a key given must still be valid)
  kOrganizers = 1U << 1,
  kExperts = 1U << 2,
  kFrontends = 1U << 3,
  kVotingClients = 1U << 4,
  kSyncClients = 1U << 5,
};

struct RoutePolicy {
  http::Method method;
  std::string_view pattern;
  unsigned roles;  // RoleSet bits
};

// Every route of the events API and who may call it. What each role may do with the objects a
// route reaches (its programs, its person) is checked by the handler (access/scope.hpp).
const std::vector<RoutePolicy>& RoutePolicies();

// What the access log names the caller's key by: its id, or "bootstrap:<role>" for a key given
// at start (whose prefix is part of a secret that is never logged); "" without a key.
std::string LogKey(const Caller& caller);

// "public", "organizer", ... for the bits of `roles`, admin always last.
std::vector<std::string> RoleNames(unsigned roles);

// Wraps every route of `router`: a request with an unknown, revoked or expired key, or with no
// key where the route needs one, is answered 401; a key whose role the route does not admit,
// 403; otherwise the handler runs with the caller as access::Current(), and a write made with a
// key is recorded in the audit trail. A read whose answer streams its body (Response::stream,
// an export) passes the same gate before its head is sent, and its body is written with the
// same caller as access::Current(). Throws std::logic_error naming a route without a policy
// or a policy without a route, so that no route can be left out.
void Secure(http::Router& router, KeyRing& keys, Store& store, const Clock& clock,
            int audit_retention_days);

}  // namespace civic::events::access
