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
  double share = 0.0;    // votes / the nomination's total votes; 0 when no votes
  int rank = 0;          // 1 + the number of nominees with more votes (ties share a rank)
  bool removed = false;  // one of the award's removed_nominees
};

struct CityVotes {
  std::optional<City> city;  // empty: nominees without a city
  uint64_t votes = 0;
  double share = 0.0;
};

struct NominationResults {
  const Nomination* nomination = nullptr;
  bool removed = false;  // one of the award's removed_nominations
  uint64_t total_votes = 0;
  std::vector<RankedNominee> nominees;  // by votes descending, then nominee id ascending
  std::vector<CityVotes> by_city;       // by votes descending, then city id ascending
};

struct AwardResults {
  uint64_t total_votes = 0;
  std::vector<NominationResults> nominations;  // in the award's order
  std::vector<CityVotes> by_city;
};

// Combines `award` with `tallies`. A vote counts in the nomination it was cast in. The award's
// nominations come first, in its order, then its removed nominations that hold votes; a removed
// nominee is listed (and ranked) where it has votes. A tally of a (nomination, nominee) pair the
// award lists nowhere is ignored. The result points into `award`, which must outlive it.
AwardResults ComputeResults(const Award& award, const std::vector<NomineeTally>& tallies);

}  // namespace civic::ballot
