#pragma once

// Results of an award as a JSON document (schema AwardResults in openapi.yaml), built from the
// tallies in O(nominees) and cached: a document is reused while neither the tallies nor the
// award changed, and for up to `max_staleness` while they change (under heavy voting), unless the
// caller asks for an exact one.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "award_catalog.hpp"
#include "civic/domain/error.hpp"
#include "civic/domain/time.hpp"
#include "tallies.hpp"

namespace civic::ballot {

class ResultsService {
 public:
  ResultsService(const AwardCatalog& catalog, const Tallies& tallies, const Clock& clock,
                 std::chrono::milliseconds max_staleness = std::chrono::milliseconds(100));

  struct Document {
    std::shared_ptr<const std::string> json;
    uint64_t tally_version = 0;
    int64_t award_version = 0;
    bool final = false;  // voting is over: these are the final results
  };

  // kNotFound for an unknown award; kForbidden when hidden from a non-admin; kConflict when
  // `final` is asked while voting is not over. Admin and final documents are always exact, and
  // an admin's also gives the held and rejected votes (never shown to the public).
  Result<Document> Get(int64_t award_id, bool admin, bool final);

 private:
  struct Entry {
    std::mutex mu;  // guards the members below; held while (re)building
    std::shared_ptr<const AwardView> award;
    bool voting_over = false;
    uint64_t tally_version = 0;
    std::chrono::steady_clock::time_point built_at{};
    std::shared_ptr<const std::string> json;
  };

  const AwardCatalog& catalog_;
  const Tallies& tallies_;
  const Clock& clock_;
  const std::chrono::milliseconds max_staleness_;
  std::mutex mu_;  // guards entries_ (the maps only)
  std::unordered_map<int64_t, std::shared_ptr<Entry>> entries_[2];  // [admin]
};

// The results document of `view` with `results`. `voting_over` marks final results. `holds`
// (admins' documents only): the votes stored but not counted, as held_votes and rejected_votes
// of each nominee, each nomination and the award.
std::string SerializeResults(const AwardView& view, const AwardResults& results, bool voting_over,
                             uint64_t tally_version,
                             const std::vector<NomineeHolds>* holds = nullptr);

}  // namespace civic::ballot
