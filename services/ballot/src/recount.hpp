#pragma once

// `civic-ballot recount`: every tally recomputed from the database file alone, by SQL over the
// vote log (a code path independent of the live tallies), with an audit of the log: a voter hash
// counted twice for one nominee, or for more than K nominees of a nomination.

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

namespace civic::ballot {

// The recount document of the database at `db_path` (opened read-only). Throws sqlite::Error.
//   {"total_votes": N,
//    "awards": [{"award_id", "title", "total_votes",
//                "nominations": [{"id", "title", "total_votes",
//                                 "nominees": [{"id", "name", "votes"}]}]}],
//    "audit": {"duplicate_votes": 0, "voters_over_limit": 0}}
// Nominees are ordered by votes (descending) then id; names and titles come from the stored
// award snapshots (empty when the award is unknown).
nlohmann::json Recount(const std::string& db_path);

// Prints Recount(DATA_DIR/ballot.db) as JSON on `out`. Returns the process exit code: 0, or 1
// after a message on `err` (no database, unreadable). 2 when the audit found a violation.
int RunRecount(const std::string& data_dir, std::ostream& out, std::ostream& err);

}  // namespace civic::ballot
