#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "civic/domain/registration.hpp"
#include "civic/http/router.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "storage/store.hpp"

namespace civic::events::resources {

// Session sign-up (a master class, a consultation), for people with a confirmed registration at
// the session's event:
//   POST   /v1/sessions/{id}/registrations {person_id}  (Idempotency-Key) 201: confirmed while
//          the session has places (always without a capacity), else waitlisted; 409 when the
//          session takes no sign-ups now, the person has no confirmed registration for the event,
//          already holds one here, or holds one (confirmed or waiting) in a session that
//          overlaps this one in time (the detail names it); 422 for an unknown person.
//   GET    /v1/sessions/{id}/registrations, GET /v1/session-registrations  (filters, pages)
//   GET    /v1/session-registrations/{id}  (ETag)
//   DELETE /v1/session-registrations/{id}  (If-Match) 200: cancelled; the first in line takes
//          the place. 409 once cancelled.
// Cancelling the event registration cancels its session registrations (registration_flow.hpp).
struct SessionRegistrations {
  using Model = SessionRegistration;
  static constexpr const char* kName = "session registration";

  static nlohmann::json ToJson(const SessionRegistration& registration);
  static std::optional<SessionRegistration> Get(sqlite::Database& db, int64_t id);
  // The program of the session's event.
  static std::optional<int64_t> ProgramOf(sqlite::Database& db,
                                          const SessionRegistration& registration);
  static const rest::ListSpec& List();
  static SessionRegistration FromRow(sqlite::Statement& row);
  // ?expand=person: the person, as Registrations::Expand.
  static void Expand(sqlite::Database& db, const SessionRegistration& registration,
                     const rest::ListQuery& query, nlohmann::json& item);
};

// Why the session's people (those holding or awaiting a place in it) cannot have it at
// [starts_at, ends_at): the first one who holds a place in another session then, or nothing.
std::optional<std::string> OverlapForHolders(sqlite::Database& db, int64_t session_id,
                                             Instant starts_at, Instant ends_at);

void AddSessionRegistrationRoutes(http::Router& router, Store& store, const Clock& clock);

}  // namespace civic::events::resources
