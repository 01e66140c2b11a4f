#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "civic/domain/registration.hpp"
#include "civic/http/router.hpp"
#include "civic/metrics/metrics.hpp"
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
// Check-in (per day and per session) is in attendances.hpp.
// State changes are in registration_flow.hpp. Raising an event's capacity confirms waitlisted
// registrations, in order (PromoteEventWaitlist);
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
  // ?expand=person: the person's public fields, and contacts for those who may see them.
  static void Expand(sqlite::Database& db, const Registration& registration,
                     const rest::ListQuery& query, nlohmann::json& item);
};

// Sets item["person"] to person `person_id` as the current caller may see it (contacts only for
// those allowed: access::MaySeeContacts).
void EmbedPerson(sqlite::Database& db, int64_t person_id, nlohmann::json& item);

// The children of `events_registrations_total{outcome}`, looked up once (App declares the
// family). Counted after the write committed; a replayed Idempotency-Key is not counted again.
struct RegistrationCounters {
  metrics::Counter& confirmed;   // a new registration that holds a place
  metrics::Counter& waitlisted;  // a new registration past the event's capacity
  metrics::Counter& cancelled;   // DELETE /v1/registrations/{id}
};

// `counters` must outlive the router.
void AddRegistrationRoutes(http::Router& router, Store& store, const Clock& clock,
                           const RegistrationCounters& counters);

}  // namespace civic::events::resources
