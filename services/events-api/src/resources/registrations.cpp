#include "resources/registrations.hpp"

#include <functional>

#include "civic/http/problem.hpp"
#include "resources/events.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, event_id, person_id, status, checked_in_at, cancelled_at, created_at, updated_at";

nlohmann::json UtcOrNull(const std::optional<Instant>& instant) {
  return instant ? nlohmann::json(FormatUtc(*instant)) : nlohmann::json(nullptr);
}

// Stores the mutable members of `r` (status, check-in, cancellation, updated_at).
void Save(sqlite::Database& db, const Registration& r) {
  auto statement = db.Prepare(
      "UPDATE registrations SET status = ?, checked_in_at = ?, cancelled_at = ?, updated_at = ? "
      "WHERE id = ?");
  statement.Bind(1, r.status)
      .Bind(2, OptionalMillis(r.checked_in_at))
      .Bind(3, OptionalMillis(r.cancelled_at))
      .Bind(4, Millis(r.updated_at))
      .Bind(5, r.id)
      .Run();
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

http::Response Register(sqlite::Database& db, const http::Request& request, int64_t event_id,
                        int64_t person_id, Instant now) {
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
  Registration registration;
  registration.event_id = event_id;
  registration.person_id = person_id;
  registration.status =
      std::string(AdmissionStatus(event->capacity, Registrations::Confirmed(db, event_id)));
  registration.created_at = registration.updated_at = now;
  db.Prepare(
        "INSERT INTO registrations(event_id, person_id, status, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?)")
      .Bind(1, event_id)
      .Bind(2, person_id)
      .Bind(3, registration.status)
      .Bind(4, Millis(now))
      .Bind(5, Millis(now))
      .Run();
  registration.id = db.LastInsertRowid();
  audit::Record(db, Registrations::kName, registration.id, nullptr,
                Registrations::ToJson(registration), 201);
  return rest::Created("/v1/registrations/" + std::to_string(registration.id),
                       Registrations::ToJson(registration));
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

int64_t Registrations::Confirmed(sqlite::Database& db, int64_t event_id) {
  auto statement =
      db.Prepare("SELECT count(*) FROM registrations WHERE event_id = ? AND status = 'confirmed'");
  statement.Bind(1, event_id);
  statement.Step();
  return statement.ColumnInt64(0);
}

void Registrations::PromoteWaitlisted(sqlite::Database& db, const Event& event, Instant now) {
  if (event.status != "published") {
    return;
  }
  auto waiting =
      db.Prepare("SELECT count(*) FROM registrations WHERE event_id = ? AND status = 'waitlisted'");
  waiting.Bind(1, event.id);
  waiting.Step();
  const int64_t places =
      PlacesToFill(event.capacity, Confirmed(db, event.id), waiting.ColumnInt64(0));
  if (places == 0) {
    return;
  }
  db.Prepare(
        "UPDATE registrations SET status = 'confirmed', updated_at = ? WHERE id IN (SELECT id "
        "FROM registrations WHERE event_id = ? AND status = 'waitlisted' ORDER BY id LIMIT ?)")
      .Bind(1, Millis(now))
      .Bind(2, event.id)
      .Bind(3, places)
      .Run();
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
              Filter{"status", "status = ?", Filter::Kind::kEnum, RegistrationStatuses()},
          },
      .sorts = {{"id", "id", false}, {"created_at", "created_at", false}},
      .access = {.program_sql =
                     "(SELECT program_id FROM events WHERE events.id = registrations.event_id)",
                 .public_sql = "0",
                 .expert_sql = "",
                 .frontend_reads = true},
  };
  return kSpec;
}

void AddRegistrationRoutes(http::Router& router, Store& store, const Clock& clock) {
  const http::RouteOptions json_route{.json_body = true, .offload = true};
  const http::RouteOptions plain_route{.offload = true};

  router.Post(
      "/v1/events/{id}/registrations",
      [&store, &clock](const http::Request& request) {
        const auto event_id = rest::PathId(request);
        if (!event_id) {
          return rest::NotFound("event", request.Param("id"));
        }
        auto person_id = PersonIdOf(request.json);
        if (!person_id.ok()) {
          return http::ErrorResponse(person_id.error());
        }
        return rest::Guarded([&] {
          return rest::Idempotent(store, clock, request, [&](sqlite::Database& db) {
            return Register(db, request, *event_id, person_id.value(), clock.Now());
          });
        });
      },
      json_route);

  rest::AddNestedList<Registrations, Events>(router, store, "/v1/events/{id}/registrations",
                                             "event_id");

  router.Get(
      "/v1/registrations",
      [&store](const http::Request& request) {
        auto query = rest::ParseListQuery(request, Registrations::List());
        if (!query.ok()) {
          return http::ErrorResponse(query.error());
        }
        return rest::Guarded([&] {
          return rest::ListOf<Registrations>(store, request, Registrations::List(), query.value());
        });
      },
      plain_route);

  router.Get(
      "/v1/registrations/{id}",
      [&store](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(Registrations::kName, request.Param("id"));
        }
        if (auto rejected = rest::RejectQuery(request)) {
          return std::move(*rejected);
        }
        return rest::Guarded([&] {
          auto registration = store.Read([&](sqlite::Database& db) -> std::optional<Registration> {
            if (!rest::MayRead<Registrations>(db, *id)) {
              return std::nullopt;
            }
            return Registrations::Get(db, *id);
          });
          if (!registration) {
            return rest::NotFound(Registrations::kName, request.Param("id"));
          }
          return rest::Conditional(request,
                                   http::Response::Json(200, Registrations::ToJson(*registration)));
        });
      },
      plain_route);

  router.Delete(
      "/v1/registrations/{id}",
      [&store, &clock](const http::Request& request) {
        return ChangeRegistration(store, request, [&](sqlite::Database& db, Registration& r) {
          if (auto failed = rest::CheckIfMatch(request, rest::CurrentETag<Registrations>(db, r))) {
            return http::ErrorResponse(*failed);
          }
          if (auto error = CancelError(r)) {
            return http::ErrorResponse(Error::Conflict(*error).WithKind("not-cancellable"));
          }
          const Instant now = clock.Now();
          const bool held_place = r.status == "confirmed";
          r.status = "cancelled";
          r.cancelled_at = now;
          r.updated_at = now;
          Save(db, r);
          if (held_place) {
            if (const auto event = Events::Get(db, r.event_id)) {
              Registrations::PromoteWaitlisted(db, *event, now);
            }
          }
          return rest::Ok(Registrations::ToJson(r));
        });
      },
      plain_route);

  router.Post(
      "/v1/registrations/{id}/check-in",
      [&store, &clock](const http::Request& request) {
        return ChangeRegistration(store, request, [&](sqlite::Database& db, Registration& r) {
          const auto event = Events::Get(db, r.event_id);
          if (!event) {
            return rest::NotFound("event", std::to_string(r.event_id));
          }
          if (auto error = CheckInError(r, *event)) {
            return http::ErrorResponse(Error::Conflict(*error).WithKind("check-in-refused"));
          }
          if (!r.checked_in_at) {
            const Instant now = clock.Now();
            r.checked_in_at = now;
            r.updated_at = now;
            Save(db, r);
          }
          return rest::Ok(Registrations::ToJson(r));
        });
      },
      plain_route);
}

}  // namespace civic::events::resources
