#include "access/policy.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <stdexcept>
#include <variant>

#include "access/audit.hpp"
#include "access/scope.hpp"
#include "civic/http/problem.hpp"
#include "civic/http/server.hpp"

namespace civic::events::access {

namespace {

using http::Method;

constexpr unsigned kOrganizersExperts = kOrganizers | kExperts;
constexpr unsigned kOrganizersFrontends = kOrganizers | kFrontends;

unsigned BitOf(Role role) {
  switch (role) {
    case Role::kPublic:
      return kAnyone;
    case Role::kOrganizer:
      return kOrganizers;
    case Role::kExpert:
      return kExperts;
    case Role::kFrontend:
      return kFrontends;
    case Role::kVotingClient:
      return kVotingClients;
    case Role::kSync:
      return kSyncClients;
    case Role::kAdmin:
      break;
  }
  return 0;
}

bool IsWrite(Method method) {
  return method == Method::kPost || method == Method::kPut || method == Method::kPatch ||
         method == Method::kDelete;
}

// The five routes of a resource written with rest::AddCrudRoutes.
void Crud(std::vector<RoutePolicy>& table, std::string_view collection, std::string_view item,
          unsigned read, unsigned create, unsigned update, unsigned remove) {
  table.push_back({Method::kGet, collection, read});
  table.push_back({Method::kGet, item, read});
  table.push_back({Method::kPost, collection, create});
  table.push_back({Method::kPatch, item, update});
  table.push_back({Method::kDelete, item, remove});
}

std::vector<RoutePolicy> BuildPolicies() {
  std::vector<RoutePolicy> t;
  // Directories shared by every program.
  Crud(t, "/v1/cities", "/v1/cities/{id}", kAnyone, kAdminsOnly, kAdminsOnly, kAdminsOnly);
  Crud(t, "/v1/organizations", "/v1/organizations/{id}", kAnyone, kOrganizers, kAdminsOnly,
       kAdminsOnly);
  // People: names for those who run programs, contacts only within their programs.
  Crud(t, "/v1/people", "/v1/people/{id}", kOrganizers, kOrganizersFrontends, kOrganizers,
       kAdminsOnly);
  Crud(t, "/v1/programs", "/v1/programs/{id}", kAnyone, kAdminsOnly, kOrganizers, kAdminsOnly);
  t.push_back({Method::kGet, "/v1/programs/{id}/project-ranking", kOrganizers});
  // Teams.
  Crud(t, "/v1/teams", "/v1/teams/{id}", kAnyone, kOrganizers, kOrganizers, kOrganizers);
  Crud(t, "/v1/team-members", "/v1/team-members/{id}", kAnyone, kOrganizers, kOrganizers,
       kOrganizers);
  t.push_back({Method::kGet, "/v1/teams/{id}/members", kAnyone});
  t.push_back({Method::kGet, "/v1/teams/{id}/composition", kAnyone});
  // Events, sessions, registrations.
  Crud(t, "/v1/events", "/v1/events/{id}", kAnyone, kOrganizers, kOrganizers, kOrganizers);
  Crud(t, "/v1/sessions", "/v1/sessions/{id}", kAnyone, kOrganizers, kOrganizers, kOrganizers);
  t.push_back({Method::kGet, "/v1/events/{id}/sessions", kAnyone});
  t.push_back({Method::kGet, "/v1/events/{id}/events", kAnyone});
  t.push_back({Method::kGet, "/v1/events/{id}/statistics", kOrganizers});
  t.push_back({Method::kGet, "/v1/programs/{id}/statistics", kOrganizers});
  t.push_back({Method::kPost, "/v1/events/{id}/registrations", kOrganizersFrontends});
  t.push_back({Method::kPost, "/v1/events/{id}/team-registrations", kOrganizersFrontends});
  t.push_back({Method::kGet, "/v1/events/{id}/registrations", kOrganizers});
  t.push_back({Method::kGet, "/v1/registrations", kOrganizers});
  t.push_back({Method::kGet, "/v1/registrations/{id}", kOrganizersFrontends});
  t.push_back({Method::kDelete, "/v1/registrations/{id}", kOrganizersFrontends});
  t.push_back({Method::kPost, "/v1/registrations/{id}/check-in", kOrganizers});
  t.push_back({Method::kGet, "/v1/attendances/{id}", kOrganizers});
  t.push_back({Method::kDelete, "/v1/attendances/{id}", kOrganizers});
  t.push_back({Method::kGet, "/v1/events/{id}/attendance", kOrganizers});
  t.push_back({Method::kGet, "/v1/events/{id}/attendances", kOrganizers});
  t.push_back({Method::kGet, "/v1/sessions/{id}/attendances", kOrganizers});
  t.push_back({Method::kPost, "/v1/sessions/{id}/registrations", kOrganizersFrontends});
  t.push_back({Method::kGet, "/v1/sessions/{id}/registrations", kOrganizers});
  t.push_back({Method::kGet, "/v1/session-registrations", kOrganizers});
  t.push_back({Method::kGet, "/v1/session-registrations/{id}", kOrganizersFrontends});
  t.push_back({Method::kDelete, "/v1/session-registrations/{id}", kOrganizersFrontends});
  // Calendar feeds: public ones as their objects are read; a person's for the organisers of a
  // program the person takes part in (checked by the handler), or the holder of its token.
  t.push_back({Method::kGet, "/v1/events/{id}/calendar.ics", kAnyone});
  t.push_back({Method::kGet, "/v1/programs/{id}/calendar.ics", kAnyone});
  t.push_back({Method::kGet, "/v1/cities/{id}/calendar.ics", kAnyone});
  t.push_back({Method::kGet, "/v1/people/{id}/calendar.ics", kOrganizers});
  t.push_back({Method::kPost, "/v1/people/{id}/calendar-feed", kOrganizers});
  t.push_back({Method::kDelete, "/v1/people/{id}/calendar-feed", kOrganizers});
  t.push_back({Method::kGet, "/v1/calendar-feeds/{token}", kAnyone});
  // Projects, expert assignments and reviews.
  Crud(t, "/v1/projects", "/v1/projects/{id}", kAnyone, kOrganizers, kOrganizers, kOrganizers);
  t.push_back({Method::kGet, "/v1/teams/{id}/projects", kAnyone});
  t.push_back({Method::kGet, "/v1/projects/{id}/assessment", kOrganizers});
  t.push_back({Method::kGet, "/v1/projects/{id}/experts", kOrganizers});
  t.push_back({Method::kPut, "/v1/projects/{id}/experts/{person_id}", kOrganizers});
  t.push_back({Method::kDelete, "/v1/projects/{id}/experts/{person_id}", kOrganizers});
  Crud(t, "/v1/reviews", "/v1/reviews/{id}", kOrganizersExperts, kOrganizersExperts,
       kOrganizersExperts, kOrganizers);
  t.push_back({Method::kGet, "/v1/projects/{id}/reviews", kOrganizersExperts});
  // Awards.
  Crud(t, "/v1/awards", "/v1/awards/{id}", kAnyone, kOrganizers, kOrganizers, kOrganizers);
  Crud(t, "/v1/nominations", "/v1/nominations/{id}", kAnyone, kOrganizers, kOrganizers,
       kOrganizers);
  Crud(t, "/v1/nominees", "/v1/nominees/{id}", kAnyone, kOrganizers, kOrganizers, kOrganizers);
  t.push_back({Method::kGet, "/v1/awards/{id}/nominations", kAnyone});
  t.push_back({Method::kGet, "/v1/awards/{id}/nominees", kAnyone});
  t.push_back({Method::kPut, "/v1/nominees/{id}/photo", kOrganizers});
  // Applications (issue #29): frontends submit, the applicant follows with the status token,
  // organisers moderate.
  t.push_back({Method::kPost, "/v1/awards/{id}/applications", kFrontends});
  t.push_back({Method::kGet, "/v1/application-status", kAnyone});
  t.push_back({Method::kPatch, "/v1/application-status", kAnyone});
  t.push_back({Method::kGet, "/v1/applications", kOrganizers});
  t.push_back({Method::kGet, "/v1/applications/{id}", kOrganizers});
  t.push_back({Method::kPost, "/v1/applications/{id}/approve", kOrganizers});
  t.push_back({Method::kPost, "/v1/applications/{id}/reject", kOrganizers});
  t.push_back({Method::kPost, "/v1/applications/{id}/request-changes", kOrganizers});
  t.push_back({Method::kGet, "/v1/awards/{id}/application-stats", kOrganizers});
  t.push_back({Method::kGet, "/v1/nominees/{id}/photo", kAnyone});
  t.push_back({Method::kDelete, "/v1/nominees/{id}/photo", kOrganizers});
  t.push_back({Method::kGet, "/v1/nominations/{id}/nominees", kAnyone});
  t.push_back({Method::kGet, "/v1/awards/{id}/laureates", kAnyone});
  t.push_back({Method::kPost, "/v1/awards/{id}/close", kOrganizers});
  // CSV exports (exports/routes.hpp): participants' data for organizers of the program; an
  // award's nominees and laureates for whoever reads them as JSON (contacts only for those who
  // may see them).
  t.push_back({Method::kGet, "/v1/events/{id}/registrations.csv", kOrganizers});
  t.push_back({Method::kGet, "/v1/events/{id}/attendance.csv", kOrganizers});
  t.push_back({Method::kGet, "/v1/programs/{id}/teams.csv", kOrganizers});
  t.push_back({Method::kGet, "/v1/awards/{id}/nominees.csv", kAnyone});
  t.push_back({Method::kGet, "/v1/awards/{id}/laureates.csv", kAnyone});
  t.push_back({Method::kGet, "/v1/awards/{id}/results.csv", kOrganizers});
  // The ballot's sync protocol.
  t.push_back({Method::kGet, "/v1/sync/awards", kSyncClients});
  t.push_back({Method::kGet, "/v1/sync/awards/{id}", kSyncClients});
  t.push_back({Method::kGet, "/v1/sync/keys", kSyncClients});
  // Keys and the audit trail.
  t.push_back({Method::kPost, "/v1/api-keys", kAdminsOnly});
  t.push_back({Method::kGet, "/v1/api-keys", kAdminsOnly});
  t.push_back({Method::kGet, "/v1/api-keys/{id}", kAdminsOnly});
  t.push_back({Method::kPost, "/v1/api-keys/{id}/revoke", kAdminsOnly});
  t.push_back({Method::kGet, "/v1/audit-events", kAdminsOnly});
  // Webhook subscriptions: admins anywhere, organizers and frontends in their programs.
  Crud(t, "/v1/webhooks", "/v1/webhooks/{id}", kOrganizersFrontends, kOrganizersFrontends,
       kOrganizersFrontends, kOrganizersFrontends);
  t.push_back({Method::kPost, "/v1/webhooks/{id}/rotate-secret", kOrganizersFrontends});
  t.push_back({Method::kGet, "/v1/webhooks/{id}/deliveries", kOrganizersFrontends});
  t.push_back({Method::kGet, "/v1/webhook-deliveries/{id}", kOrganizersFrontends});
  t.push_back({Method::kPost, "/v1/webhook-deliveries/{id}/redeliver", kOrganizersFrontends});
  return t;
}

http::Response RoleDenied(const Caller& caller, unsigned roles) {
  std::string allowed;
  for (const auto& name : RoleNames(roles)) {
    allowed += (allowed.empty() ? "" : ", ") + name;
  }
  return Forbidden("This key (" + caller.key_prefix + ", role " +
                   std::string(ToString(caller.role)) +
                   ") may not call this route; it needs one of the roles: " + allowed + ".");
}

// The 401 for a request whose key is refused, or that has none where the route (`roles`) needs
// one; nothing otherwise.
std::optional<http::Response> KeyRefused(const KeyRing::Authenticated& auth, unsigned roles) {
  using Outcome = KeyRing::Authenticated::Outcome;
  if (auth.outcome == Outcome::kRefused) {
    return Unauthorized(auth.problem, true);
  }
  if (auth.outcome == Outcome::kNoKey && (roles & kAnyone) == 0) {
    return Unauthorized("This route needs an API key: Authorization: Bearer <key>.", false);
  }
  return std::nullopt;
}

// A streamed body (an export) is written after the handler returned, on the same thread: it
// runs with the same caller as access::Current(), so what it writes follows the caller's scope.
void KeepCallerForStream(http::Response& response, const Caller& caller) {
  if (!response.stream) {
    return;
  }
  response.stream = [inner = std::move(response.stream), caller](http::ResponseStream& stream) {
    CallerScope scope(caller);
    inner(stream);
  };
}

std::string KeyOf(Method method, std::string_view pattern) {
  return std::string(http::ToString(method)) + " " + std::string(pattern);
}

}  // namespace

std::string LogKey(const Caller& caller) {
  if (caller.key_id > 0) {
    return std::to_string(caller.key_id);
  }
  return caller.has_key() ? "bootstrap:" + std::string(ToString(caller.role)) : std::string();
}

const std::vector<RoutePolicy>& RoutePolicies() {
  static const std::vector<RoutePolicy> kPolicies = BuildPolicies();
  return kPolicies;
}

std::vector<std::string> RoleNames(unsigned roles) {
  std::vector<std::string> names;
  for (const Role role : {Role::kPublic, Role::kOrganizer, Role::kExpert, Role::kFrontend,
                          Role::kVotingClient, Role::kSync}) {
    if ((roles & BitOf(role)) != 0) {
      names.emplace_back(ToString(role));
    }
  }
  names.emplace_back("admin");
  return names;
}

void Secure(http::Router& router, KeyRing& keys, Store& store, const Clock& clock,
            int audit_retention_days) {
  std::map<std::string, unsigned> policies;
  for (const RoutePolicy& policy : RoutePolicies()) {
    if (!policies.emplace(KeyOf(policy.method, policy.pattern), policy.roles).second) {
      throw std::logic_error("two access policies for " + KeyOf(policy.method, policy.pattern));
    }
  }
  // The retention purge runs with a write, at most once an hour.
  auto last_purge_ms = std::make_shared<std::atomic<int64_t>>(0);
  for (http::Route& route : router.routes()) {
    const std::string key = KeyOf(route.method, route.pattern);
    const auto found = policies.find(key);
    if (found == policies.end()) {
      throw std::logic_error("no access policy for " + key + " (access/policy.cpp)");
    }
    const unsigned roles = found->second;
    policies.erase(found);
    auto* handler = std::get_if<http::SyncHandler>(&route.handler);
    if (handler == nullptr || !route.options.offload) {
      // Authentication may write (a key's last use) and audit records are written: both need
      // a worker thread.
      throw std::logic_error(key + " must be a synchronous, offloaded route to be secured");
    }
    const bool write = IsWrite(route.method);
    // A missing or refused key is answered before the body is read (on the network thread;
    // the key ring is in memory), and again by the handler below should the key change between.
    route.options.gate = [roles, &keys](const http::Request& request) {
      return KeyRefused(keys.Authenticate(request.Header("authorization"), false), roles);
    };
    *handler = [inner = std::move(*handler), roles, write, key, &keys, &store, &clock,
                audit_retention_days, last_purge_ms](const http::Request& request) {
      const auto auth = keys.Authenticate(request.Header("authorization"));
      if (auto refused = KeyRefused(auth, roles)) {
        return std::move(*refused);
      }
      const Caller& caller = auth.caller;
      const Instant now = clock.Now();
      if (auth.record_use_of != 0) {
        try {
          store.Write([&](sqlite::Database& db) {
            RecordUse(db, auth.record_use_of, now);
            return 0;
          });
        } catch (const std::exception& e) {
          spdlog::debug("api key {}: last use not recorded: {}", caller.key_prefix, e.what());
        }
      }
      const bool admitted =
          caller.is_admin() || (roles & kAnyone) != 0 || (roles & BitOf(caller.role)) != 0;
      CallerScope scope(caller);
      if (!write || !caller.has_key()) {
        http::Response response = admitted ? inner(request) : RoleDenied(caller, roles);
        response.log_key = LogKey(caller);
        KeepCallerForStream(response, caller);
        return response;
      }
      audit::RequestScope audit_scope(caller, request, now);
      http::Response response = admitted ? inner(request) : RoleDenied(caller, roles);
      response.log_key = LogKey(caller);
      if (response.stream) {
        // A write's answer is whole: the audit record holds what was answered.
        throw std::logic_error(key + ": a write may not stream its answer");
      }
      audit_scope.Finish(store, response);
      const int64_t now_ms = now.time_since_epoch().count();
      int64_t last = last_purge_ms->load(std::memory_order_relaxed);
      if (now_ms - last >= 3'600'000 &&
          last_purge_ms->compare_exchange_strong(last, now_ms, std::memory_order_relaxed)) {
        try {
          store.Write([&](sqlite::Database& db) {
            audit::Purge(db, now, audit_retention_days);
            return 0;
          });
        } catch (const std::exception& e) {
          spdlog::error("audit: retention purge failed: {}", e.what());
        }
      }
      return response;
    };
  }
  if (!policies.empty()) {
    throw std::logic_error("an access policy names no route: " + policies.begin()->first);
  }
}

}  // namespace civic::events::access
