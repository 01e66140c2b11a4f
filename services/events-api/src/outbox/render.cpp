#include "outbox/render.hpp"

#include "access/policy.hpp"
#include "access/scope.hpp"
#include "resources/applications.hpp"
#include "resources/attendances.hpp"
#include "resources/awards.hpp"
#include "resources/events.hpp"
#include "resources/json_util.hpp"
#include "resources/laureates.hpp"
#include "resources/people.hpp"
#include "resources/projects.hpp"
#include "resources/registrations.hpp"
#include "resources/reviews.hpp"
#include "resources/sessions.hpp"
#include "rest/crud.hpp"

namespace civic::events::outbox {

namespace {

using resources::Attendances;
using resources::Awards;
using resources::Events;
using resources::Laureates;
using resources::People;
using resources::Projects;
using resources::Registrations;
using resources::Reviews;
using resources::Sessions;

// Whether `role` may call GET `pattern` (access/policy.cpp's table).
bool RoleMayGet(access::Role role, std::string_view pattern) {
  if (role == access::Role::kAdmin) {
    return true;
  }
  unsigned bit = 0;
  switch (role) {
    case access::Role::kOrganizer:
      bit = access::kOrganizers;
      break;
    case access::Role::kExpert:
      bit = access::kExperts;
      break;
    case access::Role::kFrontend:
      bit = access::kFrontends;
      break;
    case access::Role::kVotingClient:
      bit = access::kVotingClients;
      break;
    case access::Role::kSync:
      bit = access::kSyncClients;
      break;
    case access::Role::kPublic:
    case access::Role::kAdmin:
      break;
  }
  for (const auto& policy : access::RoutePolicies()) {
    if (policy.method == http::Method::kGet && policy.pattern == pattern) {
      return (policy.roles & (access::kAnyone | bit)) != 0;
    }
  }
  return false;
}

// GET R::kPath/{id} as the current caller would get it. REQUIRES: a CallerScope.
template <class R>
std::optional<nlohmann::json> Shown(sqlite::Database& db, int64_t id, std::string_view route) {
  const access::Caller& caller = access::Current();
  if (!RoleMayGet(caller.role, route)) {
    return std::nullopt;
  }
  auto model = R::Get(db, id);
  if (!model || !rest::MayRead<R>(db, id)) {
    return std::nullopt;
  }
  return rest::Presented<R>(db, *model);
}

std::optional<int64_t> ProgramBySpec(sqlite::Database& db, const rest::ListSpec& spec, int64_t id) {
  if (spec.access.program_sql.empty()) {
    return std::nullopt;
  }
  auto statement =
      db.Prepare("SELECT " + spec.access.program_sql + " FROM " + spec.table + " WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return statement.ColumnOptionalInt64(0);
}

}  // namespace

std::optional<int64_t> ProgramOf(sqlite::Database& db, std::string_view object_type,
                                 int64_t object_id) {
  if (object_type == Registrations::kName) {
    return ProgramBySpec(db, Registrations::List(), object_id);
  }
  if (object_type == Attendances::kName) {
    return ProgramBySpec(db, Attendances::List(), object_id);
  }
  if (object_type == Events::kName) {
    return ProgramBySpec(db, Events::List(), object_id);
  }
  if (object_type == Sessions::kName) {
    return ProgramBySpec(db, Sessions::List(), object_id);
  }
  if (object_type == Projects::kName) {
    return ProgramBySpec(db, Projects::List(), object_id);
  }
  if (object_type == Reviews::kName) {
    return ProgramBySpec(db, Reviews::List(), object_id);
  }
  if (object_type == Awards::kName) {
    return ProgramBySpec(db, Awards::List(), object_id);
  }
  if (object_type == "application") {
    return resources::ProgramOfApplication(db, object_id);
  }
  return std::nullopt;
}

std::optional<nlohmann::json> Render(sqlite::Database& db, std::string_view object_type,
                                     int64_t object_id, const access::Caller& caller) {
  access::CallerScope scope(caller);
  if (object_type == Registrations::kName) {
    auto shown = Shown<Registrations>(db, object_id, "/v1/registrations/{id}");
    if (shown) {
      // The person, as GET /v1/people/{id} shows them to this key: contacts only where it may
      // see them; null when it may not read people at all (a frontend).
      const int64_t person_id = (*shown)["person_id"].get<int64_t>();
      (*shown)["person"] =
          Shown<People>(db, person_id, "/v1/people/{id}").value_or(nlohmann::json(nullptr));
    }
    return shown;
  }
  if (object_type == Attendances::kName) {
    // The registration, as for a registration's events, with this check-in (its day or
    // session) as `attendance`.
    const auto attendance = Attendances::Get(db, object_id);
    if (!attendance) {
      return std::nullopt;
    }
    auto shown = Render(db, Registrations::kName, attendance->registration_id, caller);
    if (shown) {
      (*shown)["attendance"] = Attendances::ToJson(*attendance);
    }
    return shown;
  }
  if (object_type == Events::kName) {
    return Shown<Events>(db, object_id, "/v1/events/{id}");
  }
  if (object_type == Sessions::kName) {
    return Shown<Sessions>(db, object_id, "/v1/sessions/{id}");
  }
  if (object_type == Projects::kName) {
    return Shown<Projects>(db, object_id, "/v1/projects/{id}");
  }
  if (object_type == Reviews::kName) {
    return Shown<Reviews>(db, object_id, "/v1/reviews/{id}");
  }
  if (object_type == "application") {
    // As the moderators see it (the applicant's contact included): organizers of the award's
    // program and admins; a frontend may not read applications, so its subscription gets none.
    if (!RoleMayGet(caller.role, "/v1/applications/{id}")) {
      return std::nullopt;
    }
    return resources::ApplicationAsShown(db, object_id);
  }
  if (object_type == Awards::kName) {
    auto shown = Shown<Awards>(db, object_id, "/v1/awards/{id}");
    if (shown && RoleMayGet(caller.role, "/v1/awards/{id}/laureates")) {
      nlohmann::json laureates = nlohmann::json::array();
      auto rows = db.Prepare("SELECT " + Laureates::List().columns +
                             " FROM laureates WHERE award_id = ? ORDER BY nomination_id, rank, id");
      rows.Bind(1, object_id);
      while (rows.Step()) {
        laureates.push_back(Laureates::ToJson(Laureates::FromRow(rows)));
      }
      (*shown)["laureates"] = std::move(laureates);
    }
    return shown;
  }
  return std::nullopt;
}

std::optional<access::Caller> KeyCaller(sqlite::Database& db, int64_t key_id, int64_t now_ms) {
  access::Caller caller;
  if (key_id == 0) {
    caller.role = access::Role::kAdmin;
    caller.key_prefix = "bootstrap:admin";
    return caller;
  }
  auto row = db.Prepare(
      "SELECT role, program_ids, award_ids, person_id, prefix FROM api_keys WHERE id = ? AND "
      "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)");
  row.Bind(1, key_id).Bind(2, now_ms);
  if (!row.Step()) {
    return std::nullopt;
  }
  const auto role = access::ParseKeyRole(row.ColumnText(0));
  if (!role) {
    return std::nullopt;
  }
  caller.role = *role;
  caller.key_id = key_id;
  caller.programs = resources::IdsFromJsonText(row.ColumnText(1));
  caller.awards = resources::IdsFromJsonText(row.ColumnText(2));
  caller.person_id = row.ColumnOptionalInt64(3);
  caller.key_prefix = row.ColumnText(4);
  return caller;
}

}  // namespace civic::events::outbox
