#pragma once

// Results of an award from its tallies: nominees ranked per nomination, shares, totals and the
// breakdown by the nominees' cities. Pure; O(nominees), never O(votes).

#include <cstdint>
#include <optional>
#include <vector>

#include "civic/domain/ballot.hpp"

namespace civic::ballot {

// Votes counted for one nominee of one nomination.
struct NomineeTally {
  int64_t nomination_id = 0;
  int64_t nominee_id = 0;
  uint64_t votes = 0;
};

struct RankedNominee {
  const Nominee* nominee = nullptr;  // points into the Award the results were computed from
  uint64_t votes = 0;
  double share = 0.0;  // votes / the nomination's total votes; 0 when no votes
  int rank = 0;        // 1 + the number of nominees with more votes (ties share a rank)
};

struct CityVotes {
  std::optional<City> city;  // empty: nominees without a city
  uint64_t votes = 0;
  double share = 0.0;
};

struct NominationResults {
  const Nomination* nomination = nullptr;
  uint64_t total_votes = 0;
  std::vector<RankedNominee> nominees;  // by votes descending, then nominee id ascending
  std::vector<CityVotes> by_city;       // by votes descending, then city id ascending
};

struct AwardResults {
  uint64_t total_votes = 0;
  std::vector<NominationResults> nominations;  // in the award's order
  std::vector<CityVotes> by_city;
};

// Combines `award` with `tallies`. A vote counts in the nomination it was cast in: a tally whose
// (nomination, nominee) pair the award does not list is ignored (the ballot never takes a snapshot
// that moves or drops a nominee with counted votes: CheckKeepsCountedVotes). The result points
// into `award`, which must outlive it.
AwardResults ComputeResults(const Award& award, const std::vector<NomineeTally>& tallies);

// Whether a new snapshot of an award keeps every counted vote where it was cast: each
// (nomination, nominee) with votes in `tallies` is still listed, the nominee in that nomination.
// Otherwise the live results would lose or move votes and disagree with the log (the recount).
Status CheckKeepsCountedVotes(const Award& snapshot, const std::vector<NomineeTally>& tallies);

}  // namespace civic::ballot
