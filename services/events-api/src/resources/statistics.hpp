#pragma once

// Registration statistics of an event and of a program: confirmed, waitlisted, cancelled and
// attended (checked in), in total and by city, organisation sector and team. They are read from
// the counters migration 17's triggers keep in step with every registration change
// (registration_counts), so a request costs the same at 100 or 100,000 registrations: it reads
// one row per (dimension, value, status) of the event, or of each event of the program.
//   GET /v1/events/{id}/statistics, GET /v1/programs/{id}/statistics  (organisers of the
//   program, admins; ETag)

#include <nlohmann/json.hpp>

#include "civic/http/router.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "storage/store.hpp"

namespace civic::events::resources {

// The statistics of the events whose ids `events_sql` selects (one ? bound to `id`).
// REQUIRES: a transaction is open on `db`.
nlohmann::json RegistrationStatistics(sqlite::Database& db, const char* events_sql, int64_t id);

void AddStatisticsRoutes(http::Router& router, Store& store);

}  // namespace civic::events::resources
