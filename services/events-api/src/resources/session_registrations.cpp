#include "resources/session_registrations.hpp"

#include <functional>

#include "civic/http/problem.hpp"
#include "resources/events.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"
#include "resources/registration_flow.hpp"
#include "resources/registrations.hpp"
#include "resources/sessions.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, session_id, registration_id, person_id, status, cancelled_at, created_at, updated_at";

nlohmann::json UtcOrNull(const std::optional<Instant>& instant) {
  return instant ? nlohmann::json(FormatUtc(*instant)) : nlohmann::json(nullptr);
}

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

// "session 12 «Мастер-класс» (10:00–11:00)": a session as a 409's detail names it.
std::string Describe(sqlite::Database& db, int64_t session_id) {
  auto statement = db.Prepare(
      "SELECT s.title, s.starts_at, s.ends_at, c.time_zone FROM sessions s "
      "JOIN events e ON e.id = s.event_id JOIN cities c ON c.id = e.city_id WHERE s.id = ?");
  statement.Bind(1, session_id);
  if (!statement.Step()) {
    return "session " + std::to_string(session_id);
  }
  const std::string zone = statement.ColumnText(3);
  return "session " + std::to_string(session_id) + " «" + statement.ColumnText(0) + "» (" +
         LocalTime(FromMillis(statement.ColumnInt64(1)), zone) + " to " +
         LocalTime(FromMillis(statement.ColumnInt64(2)), zone) + ", /v1/sessions/" +
         std::to_string(session_id) + ")";
}

// The person's active session registration (confirmed or waiting) in another session that
// overlaps [starts_at, ends_at): that session's id, or nothing.
std::optional<int64_t> OverlappingSession(sqlite::Database& db, int64_t person_id,
                                          int64_t session_id, Instant starts_at, Instant ends_at) {
  auto statement = db.Prepare(
      "SELECT s.id FROM session_registrations r JOIN sessions s ON s.id = r.session_id "
      "WHERE r.person_id = ? AND r.status <> 'cancelled' AND s.id <> ? AND s.starts_at < ? AND "
      "s.ends_at > ? ORDER BY s.starts_at, s.id LIMIT 1");
  statement.Bind(1, person_id)
      .Bind(2, session_id)
      .Bind(3, Millis(ends_at))
      .Bind(4, Millis(starts_at));
  if (!statement.Step()) {
    return std::nullopt;
  }
  return statement.ColumnInt64(0);
}

http::Response SignUp(sqlite::Database& db, const http::Request& request, int64_t session_id,
                      int64_t person_id, Instant now) {
  const auto session = Sessions::Get(db, session_id);
  if (!session || !rest::MayRead<Sessions>(db, session_id)) {
    return rest::NotFound("session", request.Param("id"));
  }
  const auto event = Events::Get(db, session->event_id);
  if (!event) {
    return rest::NotFound("session", request.Param("id"));
  }
  if (!access::MayWriteIn(access::Current(), event->program_id)) {
    return access::Forbidden("This key may not sign people up for session " +
                             std::to_string(session_id) +
                             ": its event belongs to no program of the key's.");
  }
  Violations violations;
  RequireExists(db, "people", "person", "person_id", person_id, violations);
  if (!violations.empty()) {
    return http::ErrorResponse(violations.ToError());
  }
  if (auto reason = SessionSignUpClosedReason(*event, *session, now)) {
    return http::ErrorResponse(Error::Conflict(*reason).WithKind("registration-closed"));
  }
  auto held = db.Prepare(
      "SELECT id FROM registrations WHERE event_id = ? AND person_id = ? AND "
      "status = 'confirmed'");
  held.Bind(1, event->id).Bind(2, person_id);
  if (!held.Step()) {
    return http::ErrorResponse(
        Error::Conflict("Person " + std::to_string(person_id) +
                        " has no confirmed registration for event " + std::to_string(event->id) +
                        "; sessions take the event's confirmed participants.")
            .WithKind("not-registered-for-event"));
  }
  const auto registration = Registrations::Get(db, held.ColumnInt64(0));
  held.Reset();
  auto existing = db.Prepare(
      "SELECT id, status FROM session_registrations WHERE session_id = ? AND person_id = ? AND "
      "status <> 'cancelled'");
  existing.Bind(1, session_id).Bind(2, person_id);
  if (existing.Step()) {
    return http::ErrorResponse(Error::Conflict("Person " + std::to_string(person_id) +
                                               " is already signed up for this session (" +
                                               existing.ColumnText(1) +
                                               "): /v1/session-registrations/" +
                                               std::to_string(existing.ColumnInt64(0)) + ".")
                                   .WithKind("already-registered"));
  }
  if (auto other =
          OverlappingSession(db, person_id, session_id, session->starts_at, session->ends_at)) {
    return http::ErrorResponse(Error::Conflict("Person " + std::to_string(person_id) +
                                               " holds a place (or waits for one) in " +
                                               Describe(db, *other) +
                                               ", which overlaps this session in time.")
                                   .WithKind("session-overlap"));
  }
  const SessionRegistration admitted = AdmitToSession(db, *session, *registration, now);
  audit::Record(db, SessionRegistrations::kName, admitted.id, nullptr,
                SessionRegistrations::ToJson(admitted), 201);
  return rest::Created("/v1/session-registrations/" + std::to_string(admitted.id),
                       SessionRegistrations::ToJson(admitted));
}

}  // namespace

nlohmann::json SessionRegistrations::ToJson(const SessionRegistration& r) {
  return {{"id", r.id},
          {"session_id", r.session_id},
          {"registration_id", r.registration_id},
          {"person_id", r.person_id},
          {"status", r.status},
          {"cancelled_at", UtcOrNull(r.cancelled_at)},
          {"created_at", FormatUtc(r.created_at)},
          {"updated_at", FormatUtc(r.updated_at)}};
}

SessionRegistration SessionRegistrations::FromRow(sqlite::Statement& row) {
  SessionRegistration r;
  r.id = row.ColumnInt64(0);
  r.session_id = row.ColumnInt64(1);
  r.registration_id = row.ColumnInt64(2);
  r.person_id = row.ColumnInt64(3);
  r.status = row.ColumnText(4);
  r.cancelled_at = OptionalInstant(row.ColumnOptionalInt64(5));
  r.created_at = FromMillis(row.ColumnInt64(6));
  r.updated_at = FromMillis(row.ColumnInt64(7));
  return r;
}

std::optional<SessionRegistration> SessionRegistrations::Get(sqlite::Database& db, int64_t id) {
  auto statement =
      db.Prepare(std::string("SELECT ") + kColumns + " FROM session_registrations WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

void SessionRegistrations::Expand(sqlite::Database& db, const SessionRegistration& registration,
                                  const rest::ListQuery& query, nlohmann::json& item) {
  if (query.Expands("person")) {
    EmbedPerson(db, registration.person_id, item);
  }
}

std::optional<int64_t> SessionRegistrations::ProgramOf(sqlite::Database& db,
                                                       const SessionRegistration& r) {
  return ProgramOfRow(db,
                      "SELECT e.program_id FROM sessions s JOIN events e ON e.id = s.event_id "
                      "WHERE s.id = ?",
                      r.session_id);
}

const rest::ListSpec& SessionRegistrations::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "session_registrations",
      .columns = kColumns,
      .filters =
          {
              Filter{"session_id", "session_id = ?", Filter::Kind::kId, {}},
              Filter{"person_id", "person_id = ?", Filter::Kind::kId, {}},
              Filter{"registration_id", "registration_id = ?", Filter::Kind::kId, {}},
              Filter{"status", "status = ?", Filter::Kind::kEnum, RegistrationStatuses()},
              Filter{"expand", "", Filter::Kind::kExpand, {"person"}},
          },
      .sorts = {{"id", "id", false}, {"created_at", "created_at", false}},
      .access = {.program_sql = "(SELECT e.program_id FROM sessions s JOIN events e ON e.id = "
                                "s.event_id WHERE s.id = session_registrations.session_id)",
                 .public_sql = "0",
                 .expert_sql = "",
                 .frontend_reads = true,
                 .frontend_own_sql = ""},
  };
  return kSpec;
}

std::optional<std::string> OverlapForHolders(sqlite::Database& db, int64_t session_id,
                                             Instant starts_at, Instant ends_at) {
  auto statement = db.Prepare(
      "SELECT mine.person_id, s.id FROM session_registrations mine "
      "JOIN session_registrations theirs ON theirs.person_id = mine.person_id "
      "AND theirs.status <> 'cancelled' AND theirs.session_id <> mine.session_id "
      "JOIN sessions s ON s.id = theirs.session_id "
      "WHERE mine.session_id = ? AND mine.status <> 'cancelled' AND s.starts_at < ? AND "
      "s.ends_at > ? LIMIT 1");
  statement.Bind(1, session_id).Bind(2, Millis(ends_at)).Bind(3, Millis(starts_at));
  if (!statement.Step()) {
    return std::nullopt;
  }
  const int64_t person = statement.ColumnInt64(0);
  const int64_t other = statement.ColumnInt64(1);
  statement.Reset();
  return "would overlap " + Describe(db, other) + ", where person " + std::to_string(person) +
         ", signed up for this session, holds a place too";
}

void AddSessionRegistrationRoutes(http::Router& router, Store& store, const Clock& clock) {
  const http::RouteOptions json_route{.json_body = true, .offload = true};
  const http::RouteOptions plain_route{.offload = true};
  using R = SessionRegistrations;

  router.Post(
      "/v1/sessions/{id}/registrations",
      [&store, &clock](const http::Request& request) {
        const auto session_id = rest::PathId(request);
        if (!session_id) {
          return rest::NotFound("session", request.Param("id"));
        }
        auto person_id = PersonIdOf(request.json);
        if (!person_id.ok()) {
          return http::ErrorResponse(person_id.error());
        }
        return rest::Guarded([&] {
          return rest::Idempotent(store, clock, request, [&](sqlite::Database& db) {
            return SignUp(db, request, *session_id, person_id.value(), clock.Now());
          });
        });
      },
      json_route);

  rest::AddNestedList<R, Sessions>(router, store, "/v1/sessions/{id}/registrations", "session_id");

  rest::AddListRoute<R>(router, store, "/v1/session-registrations");
  rest::AddItemRoute<R>(router, store, "/v1/session-registrations/{id}");

  router.Delete(
      "/v1/session-registrations/{id}",
      [&store, &clock](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(R::kName, request.Param("id"));
        }
        return rest::Guarded([&] {
          return store.Write([&](sqlite::Database& db) {
            auto r = R::Get(db, *id);
            if (!r || !rest::MayRead<R>(db, *id)) {
              return rest::NotFound(R::kName, request.Param("id"));
            }
            if (!rest::MayWrite<R>(db, *r)) {
              return access::WriteDenied(access::Current(), true, R::kName, request.Param("id"));
            }
            if (auto failed = rest::CheckIfMatch(request, rest::CurrentETag<R>(db, *r))) {
              return http::ErrorResponse(*failed);
            }
            if (auto error = CancelError(*r)) {
              return http::ErrorResponse(Error::Conflict(*error).WithKind("not-cancellable"));
            }
            const nlohmann::json before = R::ToJson(*r);
            CancelSessionRegistration(db, *r, clock.Now());
            audit::Record(db, R::kName, *id, before, R::ToJson(*r), 200);
            return rest::Ok(R::ToJson(*r));
          });
        });
      },
      plain_route);
}

}  // namespace civic::events::resources
