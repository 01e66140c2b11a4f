#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "ballot_client.hpp"
#include "civic/domain/award.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/message.hpp"
#include "civic/http/router.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "storage/store.hpp"

namespace civic::events::resources {

// POST /v1/awards/{id}/close (Idempotency-Key): after voting_closes_at, takes the final results
// from the ballot (outside any database transaction), then in one write transaction records the
// laureates and sets the award's status to `closed`. 409 before the window ends or when the
// award is a draft or already closed; 502 when the ballot answers with an error or with results
// that do not match the award; 503 when it cannot be reached (nothing changes: retry).
void AddAwardCloseRoute(http::Router& router, Store& store, const Clock& clock,
                        const BallotClient& ballot);

// The final results of award `id` from the ballot (outside any database transaction), or an
// error with `problem` set to the answer: 503 when the ballot is not configured, unreachable or
// still counts voting as open (retry), 502 when it answers with an error or unusable results.
Result<std::vector<NominationTally>> FetchFinalResults(const BallotClient& ballot, int64_t id,
                                                       const http::Correlation& correlation,
                                                       http::Response& problem);

// Records the laureates of award `award_id` from its final `results` and closes it (status,
// updated_at, version), as of `now`. Returns the laureates, or an error when the results name a
// nomination or nominee that is not the award's. REQUIRES: inside a write transaction, the
// award exists and CloseError() is empty.
Result<std::vector<Laureate>> RecordLaureates(sqlite::Database& db, int64_t award_id,
                                              const std::vector<NominationTally>& results,
                                              Instant now);

}  // namespace civic::events::resources
