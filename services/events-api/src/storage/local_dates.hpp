#pragma once

// Local calendar dates in SQL: civic_local_date(ms, zone) is civic::LocalDate of the instant
// `ms` (milliseconds since the epoch) in IANA zone `zone` ("YYYY-MM-DD"; NULL for a NULL
// instant). Migrations use it to place check-ins stored as instants on their event's day.

#include "civic/sqlite/sqlite.hpp"

namespace civic::events {

// Registers civic_local_date(integer, text) on `db`. Throws sqlite::Error.
void RegisterLocalDateFunction(sqlite::Database& db);

}  // namespace civic::events
