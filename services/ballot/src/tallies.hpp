#pragma once

// Votes counted per (award, nomination, nominee), kept up to date as batches commit. A read costs
// O(nominees of the award), never O(votes).

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "civic/domain/ballot_results.hpp"

namespace civic::ballot {

class Tallies;

// Votes of one nominee that are stored but not counted: held by a rule, or rejected by an admin.
struct NomineeHolds {
  int64_t nomination_id = 0;
  int64_t nominee_id = 0;
  int64_t held = 0;
  int64_t rejected = 0;
};

// Votes gathered per (award, nomination, nominee) before they go into the Tallies in one Add per
// nominee: a committed batch, the rebuild at start. Not thread-safe.
class TallyBatch {
 public:
  void Add(int64_t award_id, int64_t nomination_id, int64_t nominee_id, uint64_t votes = 1);
  void AddTo(Tallies& tallies) const;

 private:
  using Counts = std::unordered_map<uint64_t, uint64_t>;  // NomineeKey -> votes
  std::unordered_map<int64_t, Counts> awards_;
  int64_t last_award_ = 0;  // rows come mostly award by award: its counts, found once
  Counts* last_ = nullptr;
};

class Tallies {
 public:
  // Adds `votes` to a nominee's count. Any thread (in practice the committer, once per vote of a
  // committed batch, and the rebuild at start).
  void Add(int64_t award_id, int64_t nomination_id, int64_t nominee_id, uint64_t votes = 1);

  // The counts of one award (empty when it has none).
  std::vector<NomineeTally> Of(int64_t award_id) const;

  // Adds `held` and `rejected` (either may be negative: a decision moves a vote from held to
  // released or rejected) to a nominee's votes stored but not counted, for the admins' results.
  // Any thread (the committer, the rebuild at start, a decision on held votes). A decision may
  // come before the committer's own call for the same vote: the counts meet once both are in.
  void AddHolds(int64_t award_id, int64_t nomination_id, int64_t nominee_id, int64_t held,
                int64_t rejected);
  // The held and rejected votes of one award, per nominee that has any (ever had: zeros stay).
  std::vector<NomineeHolds> HoldsOf(int64_t award_id) const;
  // Grows on every change to the award's counts; 0 for an award without votes.
  uint64_t Version(int64_t award_id) const;
  uint64_t Total() const;

 private:
  struct AwardTally {
    mutable std::mutex mu;                                            // guards counts and holds
    std::unordered_map<uint64_t, uint64_t> counts;                    // NomineeKey -> votes
    std::unordered_map<uint64_t, std::pair<int64_t, int64_t>> holds;  // -> held, rejected
    std::atomic<uint64_t> version{0};
  };
  AwardTally* Get(int64_t award_id) const;
  AwardTally& GetOrCreate(int64_t award_id);

  mutable std::shared_mutex mu_;  // guards awards_ (the map, not the tallies in it)
  std::unordered_map<int64_t, std::unique_ptr<AwardTally>> awards_;
  std::atomic<uint64_t> total_{0};
};

}  // namespace civic::ballot
