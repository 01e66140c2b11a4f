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

// Registrations and check-in:
//   POST   /v1/events/{id}/registrations {person_id}  (Idempotency-Key) 201: confirmed while the
//          event has places, else waitlisted; 409 when the event takes no registrations now or
//          the person already holds one; 422 for an unknown person.
//   GET    /v1/events/{id}/registrations, GET /v1/registrations  (filters, cursor pages; by
//          default in the order of registration, which is the waitlist's order)
//   GET    /v1/registrations/{id}  (ETag)
//   DELETE /v1/registrations/{id}  (If-Match) 200: cancelled (kept for history); the first
//          waitlisted registration takes the freed place. 409 once cancelled or checked in.
//   POST   /v1/registrations/{id}/check-in  200: attendance (again: unchanged); 409 unless
//          confirmed at a published or completed event.
// Raising an event's capacity confirms waitlisted registrations, in order (PromoteWaitlisted);
// lowering it below the confirmed count is a 422 on the event's capacity.
struct Registrations {
  using Model = Registration;
  static constexpr const char* kName = "registration";

  static nlohmann::json ToJson(const Registration& registration);
  static std::optional<Registration> Get(sqlite::Database& db, int64_t id);
  // The program of the registration's event.
  static std::optional<int64_t> ProgramOf(sqlite::Database& db, const Registration& registration);
  static const rest::ListSpec& List();
  static Registration FromRow(sqlite::Statement& row);
  // Registrations of the event holding a place.
  static int64_t Confirmed(sqlite::Database& db, int64_t event_id);
  // Confirms the oldest waitlisted registrations of a published event while it has places, as
  // of `now`. Nothing moves at an event that is not published (cancelled, completed). Each
  // promotion is recorded in the outbox (registration.promoted, registration.confirmed).
  static void PromoteWaitlisted(sqlite::Database& db, const Event& event, Instant now);
};

void AddRegistrationRoutes(http::Router& router, Store& store, const Clock& clock);

}  // namespace civic::events::resources
