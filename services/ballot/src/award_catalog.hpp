#pragma once

// The awards the ballot knows, read on every vote and changed a few times a day: immutable
// snapshots published by an atomic shared_ptr swap (copy on write), so readers never lock.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "civic/domain/ballot.hpp"
#include "civic/metrics/metrics.hpp"

namespace civic::ballot {

// One award with lookup indexes. Immutable once published.
struct AwardView {
  explicit AwardView(Award a);
  AwardView(const AwardView&) = delete;
  AwardView& operator=(const AwardView&) = delete;

  Award award;
  std::unordered_map<int64_t, const Nominee*> nominees;        // by id, into award.nominees
  std::unordered_map<int64_t, const Nomination*> nominations;  // by id, into award.nominations
  // The removed entries (Award::removed_*): nominations by id, nominees by NomineeKey.
  std::unordered_map<int64_t, const Nomination*> removed_nominations;
  std::unordered_map<uint64_t, const Nominee*> removed_nominees;
  // This award's child of the accepted-votes counter (looked up once, when published), or null
  // when the catalog has no counter family.
  metrics::Counter* votes_accepted = nullptr;

  // The nominee `nominee_id` of nomination `nomination_id`, or null.
  const Nominee* FindNominee(int64_t nomination_id, int64_t nominee_id) const;
  // The removed nominee `nominee_id` of nomination `nomination_id` (votes may have been taken
  // for it; it takes no new one), or null.
  const Nominee* FindRemovedNominee(int64_t nomination_id, int64_t nominee_id) const;
};

class AwardCatalog {
 public:
  // `votes_accepted` (label: the award's id), if given, must outlive the catalog: each
  // published award carries its child.
  explicit AwardCatalog(metrics::Family<metrics::Counter>* votes_accepted = nullptr);

  // The award, or null. Any thread; lock-free for readers of the catalog.
  std::shared_ptr<const AwardView> Find(int64_t award_id) const;
  std::vector<std::shared_ptr<const AwardView>> All() const;
  size_t size() const;

  // Publishes `award` in place of the one with its id. Writers are serialised.
  void Put(Award award);

 private:
  using Map = std::unordered_map<int64_t, std::shared_ptr<const AwardView>>;
  std::atomic<std::shared_ptr<const Map>> map_;
  std::mutex write_mu_;  // serialises Put (read-copy-update of map_)
  metrics::Family<metrics::Counter>* const votes_accepted_;
};

}  // namespace civic::ballot
