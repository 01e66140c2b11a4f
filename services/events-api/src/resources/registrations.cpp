#include "resources/registrations.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "civic/http/problem.hpp"
#include "outbox/outbox.hpp"
#include "resources/events.hpp"
#include "resources/json_util.hpp"
#include "resources/people.hpp"
#include "resources/references.hpp"
#include "resources/registration_flow.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, event_id, person_id, status, checked_in_at, cancelled_at, created_at, updated_at, "
    "team_id";

nlohmann::json UtcOrNull(const std::optional<Instant>& instant) {
  return instant ? nlohmann::json(FormatUtc(*instant)) : nlohmann::json(nullptr);
}

// The body of POST /v1/events/{id}/registrations: {"person_id": N}.
Result<int64_t> PersonIdOf(const nlohmann::json& body) {
  Violations violations;
  rest::JsonReader reader(body, violations, rest::JsonReader::Mode::kCreate);
  const auto person_id = reader.Id("person_id", true);
  reader.RejectUnknown();
  if (!violations.empty()) {
    return violations.ToError();
  }
  return *person_id;
}

// Sets `*admitted` to the new registration's status when one was inserted.
http::Response Register(sqlite::Database& db, const http::Request& request, int64_t event_id,
                        int64_t person_id, Instant now, std::string* admitted) {
  const auto event = Events::Get(db, event_id);
  if (!event || !rest::MayRead<Events>(db, event_id)) {
    return rest::NotFound("event", request.Param("id"));
  }
  if (!access::MayWriteIn(access::Current(), event->program_id)) {
    return access::Forbidden("This key may not register people for event " +
                             std::to_string(event_id) + ": it belongs to no program of the key's.");
  }
  Violations violations;
  RequireExists(db, "people", "person", "person_id", person_id, violations);
  if (!violations.empty()) {
    return http::ErrorResponse(violations.ToError());
  }
  if (auto reason = RegistrationClosedReason(*event, now)) {
    return http::ErrorResponse(Error::Conflict(*reason).WithKind("registration-closed"));
  }
  auto existing = db.Prepare(
      "SELECT id, status FROM registrations WHERE event_id = ? AND person_id = ? AND "
      "status <> 'cancelled'");
  existing.Bind(1, event_id).Bind(2, person_id);
  if (existing.Step()) {
    return http::ErrorResponse(Error::Conflict("Person " + std::to_string(person_id) +
                                               " is already registered for this event (" +
                                               existing.ColumnText(1) + "): /v1/registrations/" +
                                               std::to_string(existing.ColumnInt64(0)) + ".")
                                   .WithKind("already-registered"));
  }
  const Registration registration = AdmitToEvent(db, *event, person_id, std::nullopt, now);
  audit::Record(db, Registrations::kName, registration.id, nullptr,
                Registrations::ToJson(registration), 201);
  *admitted = registration.status;
  return rest::Created("/v1/registrations/" + std::to_string(registration.id),
                       Registrations::ToJson(registration));
}

// The body of POST /v1/events/{id}/team-registrations: {"team_id": N}.
Result<int64_t> TeamIdOf(const nlohmann::json& body) {
  Violations violations;
  rest::JsonReader reader(body, violations, rest::JsonReader::Mode::kCreate);
  const auto team_id = reader.Id("team_id", true);
  reader.RejectUnknown();
  if (!violations.empty()) {
    return violations.ToError();
  }
  return *team_id;
}

// Registers every current member of team `team_id` for the event, in the order they joined;
// one outcome per member. Appends the status of each registration inserted to `*admitted`.
http::Response RegisterTeam(sqlite::Database& db, const http::Request& request, int64_t event_id,
                            int64_t team_id, Instant now, std::vector<std::string>* admitted_list) {
  const auto event = Events::Get(db, event_id);
  if (!event || !rest::MayRead<Events>(db, event_id)) {
    return rest::NotFound("event", request.Param("id"));
  }
  if (!access::MayWriteIn(access::Current(), event->program_id)) {
    return access::Forbidden("This key may not register people for event " +
                             std::to_string(event_id) + ": it belongs to no program of the key's.");
  }
  Violations violations;
  RequireExists(db, "teams", "team", "team_id", team_id, violations);
  std::vector<int64_t> members;
  if (violations.empty()) {
    auto statement = db.Prepare("SELECT person_id FROM team_members WHERE team_id = ? ORDER BY id");
    statement.Bind(1, team_id);
    while (statement.Step()) {
      members.push_back(statement.ColumnInt64(0));
    }
    if (members.empty()) {
      violations.Add("team_id", "team " + std::to_string(team_id) + " has no members");
    }
  }
  if (!violations.empty()) {
    return http::ErrorResponse(violations.ToError());
  }
  if (auto reason = RegistrationClosedReason(*event, now)) {
    return http::ErrorResponse(Error::Conflict(*reason).WithKind("registration-closed"));
  }
  nlohmann::json outcomes = nlohmann::json::array();
  auto existing = db.Prepare(
      "SELECT " + std::string(kColumns) +
      " FROM registrations WHERE event_id = ? AND person_id = ? AND status <> 'cancelled'");
  for (const int64_t person : members) {
    existing.Bind(1, event_id).Bind(2, person);
    std::optional<Registration> held;
    if (existing.Step()) {
      held = Registrations::FromRow(existing);
    }
    existing.Reset();
    if (held) {
      outcomes.push_back({{"person_id", person},
                          {"outcome", "already_registered"},
                          {"registration", Registrations::ToJson(*held)}});
      continue;
    }
    const Registration admitted = AdmitToEvent(db, *event, person, team_id, now);
    admitted_list->push_back(admitted.status);
    audit::Record(db, Registrations::kName, admitted.id, nullptr, Registrations::ToJson(admitted),
                  201);
    outcomes.push_back({{"person_id", person},
                        {"outcome", admitted.status},
                        {"registration", Registrations::ToJson(admitted)}});
  }
  return rest::Ok({{"event_id", event_id}, {"team_id", team_id}, {"members", outcomes}});
}

// Answers a change to the registration named by the path: 404 when there is none, else `change`
// on it, in one write transaction.
http::Response ChangeRegistration(
    Store& store, const http::Request& request,
    const std::function<http::Response(sqlite::Database&, Registration&)>& change) {
  const auto id = rest::PathId(request);
  if (!id) {
    return rest::NotFound(Registrations::kName, request.Param("id"));
  }
  return rest::Guarded([&] {
    return store.Write([&](sqlite::Database& db) {
      auto registration = Registrations::Get(db, *id);
      if (!registration || !rest::MayRead<Registrations>(db, *id)) {
        return rest::NotFound(Registrations::kName, request.Param("id"));
      }
      if (!rest::MayWrite<Registrations>(db, *registration)) {
        return access::WriteDenied(access::Current(), true, Registrations::kName,
                                   request.Param("id"));
      }
      const nlohmann::json before = Registrations::ToJson(*registration);
      http::Response response = change(db, *registration);
      if (response.status == 200) {
        audit::Record(db, Registrations::kName, *id, before, Registrations::ToJson(*registration),
                      200);
      }
      return response;
    });
  });
}

}  // namespace

nlohmann::json Registrations::ToJson(const Registration& r) {
  return {{"id", r.id},
          {"event_id", r.event_id},
          {"person_id", r.person_id},
          {"team_id", OrNull(r.team_id)},
          {"status", r.status},
          {"checked_in_at", UtcOrNull(r.checked_in_at)},
          {"cancelled_at", UtcOrNull(r.cancelled_at)},
          {"created_at", FormatUtc(r.created_at)},
          {"updated_at", FormatUtc(r.updated_at)}};
}

Registration Registrations::FromRow(sqlite::Statement& row) {
  Registration r;
  r.id = row.ColumnInt64(0);
  r.event_id = row.ColumnInt64(1);
  r.person_id = row.ColumnInt64(2);
  r.status = row.ColumnText(3);
  r.checked_in_at = OptionalInstant(row.ColumnOptionalInt64(4));
  r.cancelled_at = OptionalInstant(row.ColumnOptionalInt64(5));
  r.created_at = FromMillis(row.ColumnInt64(6));
  r.updated_at = FromMillis(row.ColumnInt64(7));
  r.team_id = row.ColumnOptionalInt64(8);
  return r;
}

std::optional<Registration> Registrations::Get(sqlite::Database& db, int64_t id) {
  auto statement =
      db.Prepare(std::string("SELECT ") + kColumns + " FROM registrations WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

void EmbedPerson(sqlite::Database& db, int64_t person_id, nlohmann::json& item) {
  const auto person = People::Get(db, person_id);
  item["person"] = person ? People::PresentFor(db, *person) : nlohmann::json(nullptr);
}

void Registrations::Expand(sqlite::Database& db, const Registration& registration,
                           const rest::ListQuery& query, nlohmann::json& item) {
  if (query.Expands("person")) {
    EmbedPerson(db, registration.person_id, item);
  }
}

std::optional<int64_t> Registrations::ProgramOf(sqlite::Database& db, const Registration& r) {
  return ProgramOfRow(db, "SELECT program_id FROM events WHERE id = ?", r.event_id);
}

const rest::ListSpec& Registrations::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "registrations",
      .columns = kColumns,
      .filters =
          {
              Filter{"event_id", "event_id = ?", Filter::Kind::kId, {}},
              Filter{"person_id", "person_id = ?", Filter::Kind::kId, {}},
              Filter{"team_id", "team_id = ?", Filter::Kind::kId, {}},
              Filter{"status", "status = ?", Filter::Kind::kEnum, RegistrationStatuses()},
              Filter{"expand", "", Filter::Kind::kExpand, {"person"}},
          },
      .sorts = {{"id", "id", false}, {"created_at", "created_at", false}},
      .access = {.program_sql =
                     "(SELECT program_id FROM events WHERE events.id = registrations.event_id)",
                 .public_sql = "0",
                 .expert_sql = "",
                 .frontend_reads = true,
                 .frontend_own_sql = ""},
  };
  return kSpec;
}

void AddRegistrationRoutes(http::Router& router, Store& store, const Clock& clock,
                           const RegistrationCounters& counters) {
  const http::RouteOptions json_route{.json_body = true, .offload = true};
  const http::RouteOptions plain_route{.offload = true};

  router.Post(
      "/v1/events/{id}/registrations",
      [&store, &clock, &counters](const http::Request& request) {
        const auto event_id = rest::PathId(request);
        if (!event_id) {
          return rest::NotFound("event", request.Param("id"));
        }
        auto person_id = PersonIdOf(request.json);
        if (!person_id.ok()) {
          return http::ErrorResponse(person_id.error());
        }
        std::string admitted;  // set only when this request inserted one (not on a replay)
        http::Response response = rest::Guarded([&] {
          return rest::Idempotent(store, clock, request, [&](sqlite::Database& db) {
            return Register(db, request, *event_id, person_id.value(), clock.Now(), &admitted);
          });
        });
        if (response.status == 201 && !admitted.empty()) {  // committed
          (admitted == "confirmed" ? counters.confirmed : counters.waitlisted).Inc();
        }
        return response;
      },
      json_route);

  router.Post(
      "/v1/events/{id}/team-registrations",
      [&store, &clock, &counters](const http::Request& request) {
        const auto event_id = rest::PathId(request);
        if (!event_id) {
          return rest::NotFound("event", request.Param("id"));
        }
        auto team_id = TeamIdOf(request.json);
        if (!team_id.ok()) {
          return http::ErrorResponse(team_id.error());
        }
        std::vector<std::string> admitted;  // inserted by this request (none on a replay)
        http::Response response = rest::Guarded([&] {
          return rest::Idempotent(store, clock, request, [&](sqlite::Database& db) {
            admitted.clear();  // a retried transaction starts over
            return RegisterTeam(db, request, *event_id, team_id.value(), clock.Now(), &admitted);
          });
        });
        if (response.status == 200) {  // committed
          for (const std::string& status : admitted) {
            (status == "confirmed" ? counters.confirmed : counters.waitlisted).Inc();
          }
        }
        return response;
      },
      json_route);

  rest::AddNestedList<Registrations, Events>(router, store, "/v1/events/{id}/registrations",
                                             "event_id");

  rest::AddListRoute<Registrations>(router, store, "/v1/registrations");
  rest::AddItemRoute<Registrations>(router, store, "/v1/registrations/{id}");

  router.Delete(
      "/v1/registrations/{id}",
      [&store, &clock, &counters](const http::Request& request) {
        http::Response response =
            ChangeRegistration(store, request, [&](sqlite::Database& db, Registration& r) {
              if (auto failed =
                      rest::CheckIfMatch(request, rest::CurrentETag<Registrations>(db, r))) {
                return http::ErrorResponse(*failed);
              }
              if (auto error = CancelError(r)) {
                return http::ErrorResponse(Error::Conflict(*error).WithKind("not-cancellable"));
              }
              CancelEventRegistration(db, r, clock.Now());
              return rest::Ok(Registrations::ToJson(r));
            });
        if (response.status == 200) {  // committed
          counters.cancelled.Inc();
        }
        return response;
      },
      plain_route);
}

}  // namespace civic::events::resources
