#pragma once

#include "ballot_client.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "storage/store.hpp"

namespace civic::events::exports {

// CSV exports for spreadsheets (csv.hpp: UTF-8 with a BOM, RFC 4180, formula cells neutralised),
// each streamed: rows are read from SQLite in pages (keyset on the export's order, one short read
// transaction per page) and sent in chunks while the client takes them, so memory stays flat
// whatever the number of rows.
//   GET /v1/events/{id}/registrations.csv  organizers of the event's program, admins: every
//       registration (cancelled too) with the person, organisation, sector, team and contacts
//   GET /v1/events/{id}/attendance.csv     same callers: the registrations checked in
//   GET /v1/programs/{id}/teams.csv        organizers of the program, admins: each team with
//       each member (a team without members: one row), member and organisation sectors
//   GET /v1/awards/{id}/nominees.csv       whoever may read the award (as its JSON list);
//       email and phone columns only for those who may see contacts
//   GET /v1/awards/{id}/laureates.csv      same as nominees.csv
//   GET /v1/awards/{id}/results.csv        organizers of the award's program, admins: the
//       ballot's final results (taken from it over HTTP), once voting is over
// Contacts follow access::MaySeeContacts row by row. 404 for an object the caller may not read,
// 403 for one outside the caller's programs; no query parameters (422 naming one). At most
// `max_concurrent` exports stream at once (each holds a worker thread while it streams); past
// that, 503 with Retry-After. `store`, `clock` and `ballot` must outlive the router.
void AddExportRoutes(http::Router& router, Store& store, const Clock& clock,
                     const BallotClient& ballot, int max_concurrent);

}  // namespace civic::events::exports
