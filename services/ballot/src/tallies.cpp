#include "tallies.hpp"

namespace civic::ballot {

Tallies::AwardTally* Tallies::Get(int64_t award_id) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  const auto it = awards_.find(award_id);
  return it == awards_.end() ? nullptr : it->second.get();
}

Tallies::AwardTally& Tallies::GetOrCreate(int64_t award_id) {
  if (AwardTally* tally = Get(award_id)) {
    return *tally;
  }
  std::unique_lock<std::shared_mutex> lock(mu_);
  auto& slot = awards_[award_id];
  if (!slot) {
    slot = std::make_unique<AwardTally>();
  }
  return *slot;
}

void Tallies::Add(int64_t award_id, int64_t nomination_id, int64_t nominee_id, uint64_t votes) {
  AwardTally& tally = GetOrCreate(award_id);
  const uint64_t key = NomineeKey(nomination_id, nominee_id);
  {
    std::lock_guard<std::mutex> lock(tally.mu);
    tally.counts[key] += votes;
  }
  tally.version.fetch_add(1, std::memory_order_release);
  total_.fetch_add(votes, std::memory_order_relaxed);
}

std::vector<NomineeTally> Tallies::Of(int64_t award_id) const {
  std::vector<NomineeTally> out;
  const AwardTally* tally = Get(award_id);
  if (tally == nullptr) {
    return out;
  }
  std::lock_guard<std::mutex> lock(tally->mu);
  out.reserve(tally->counts.size());
  for (const auto& [key, votes] : tally->counts) {
    out.push_back(NomineeTally{static_cast<int64_t>(key >> 32),
                               static_cast<int64_t>(key & 0xffffffffu), votes});
  }
  return out;
}

void Tallies::AddHolds(int64_t award_id, int64_t nomination_id, int64_t nominee_id, int64_t held,
                       int64_t rejected) {
  AwardTally& tally = GetOrCreate(award_id);
  {
    std::lock_guard<std::mutex> lock(tally.mu);
    auto& counts = tally.holds[NomineeKey(nomination_id, nominee_id)];
    counts.first += held;
    counts.second += rejected;
  }
  tally.version.fetch_add(1, std::memory_order_release);
}

std::vector<NomineeHolds> Tallies::HoldsOf(int64_t award_id) const {
  std::vector<NomineeHolds> out;
  const AwardTally* tally = Get(award_id);
  if (tally == nullptr) {
    return out;
  }
  std::lock_guard<std::mutex> lock(tally->mu);
  out.reserve(tally->holds.size());
  for (const auto& [key, counts] : tally->holds) {
    out.push_back(NomineeHolds{static_cast<int64_t>(key >> 32),
                               static_cast<int64_t>(key & 0xffffffffu), counts.first,
                               counts.second});
  }
  return out;
}

uint64_t Tallies::Version(int64_t award_id) const {
  const AwardTally* tally = Get(award_id);
  return tally == nullptr ? 0 : tally->version.load(std::memory_order_acquire);
}

uint64_t Tallies::Total() const { return total_.load(std::memory_order_relaxed); }

void TallyBatch::Add(int64_t award_id, int64_t nomination_id, int64_t nominee_id, uint64_t votes) {
  if (last_ == nullptr || award_id != last_award_) {
    last_ = &awards_[award_id];  // unordered_map: the reference stays valid as it grows
    last_award_ = award_id;
  }
  (*last_)[NomineeKey(nomination_id, nominee_id)] += votes;
}

void TallyBatch::AddTo(Tallies& tallies) const {
  for (const auto& [award_id, counts] : awards_) {
    for (const auto& [key, votes] : counts) {
      tallies.Add(award_id, static_cast<int64_t>(key >> 32),
                  static_cast<int64_t>(key & 0xffffffffu), votes);
    }
  }
}

}  // namespace civic::ballot
