#include "award_catalog.hpp"

namespace civic::ballot {

AwardView::AwardView(Award a) : award(std::move(a)) {
  nominees.reserve(award.nominees.size());
  for (const Nominee& nominee : award.nominees) {
    nominees.emplace(nominee.id, &nominee);
  }
  for (const Nomination& nomination : award.nominations) {
    nominations.emplace(nomination.id, &nomination);
  }
  for (const Nomination& nomination : award.removed_nominations) {
    removed_nominations.emplace(nomination.id, &nomination);
  }
  for (const Nominee& nominee : award.removed_nominees) {
    removed_nominees.emplace(NomineeKey(nominee.nomination_id, nominee.id), &nominee);
  }
}

const Nominee* AwardView::FindNominee(int64_t nomination_id, int64_t nominee_id) const {
  const auto it = nominees.find(nominee_id);
  if (it == nominees.end() || it->second->nomination_id != nomination_id) {
    return nullptr;
  }
  return it->second;
}

const Nominee* AwardView::FindRemovedNominee(int64_t nomination_id, int64_t nominee_id) const {
  if (removed_nominees.empty()) {
    return nullptr;
  }
  const auto it = removed_nominees.find(NomineeKey(nomination_id, nominee_id));
  return it == removed_nominees.end() ? nullptr : it->second;
}

AwardCatalog::AwardCatalog(metrics::Family<metrics::Counter>* votes_accepted)
    : map_(std::make_shared<const Map>()), votes_accepted_(votes_accepted) {}

std::shared_ptr<const AwardView> AwardCatalog::Find(int64_t award_id) const {
  const std::shared_ptr<const Map> map = map_.load(std::memory_order_acquire);
  const auto it = map->find(award_id);
  return it == map->end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const AwardView>> AwardCatalog::All() const {
  const std::shared_ptr<const Map> map = map_.load(std::memory_order_acquire);
  std::vector<std::shared_ptr<const AwardView>> out;
  out.reserve(map->size());
  for (const auto& [id, view] : *map) {
    out.push_back(view);
  }
  return out;
}

size_t AwardCatalog::size() const { return map_.load(std::memory_order_acquire)->size(); }

void AwardCatalog::Put(Award award) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto next = std::make_shared<Map>(*map_.load(std::memory_order_acquire));
  const int64_t id = award.id;
  auto view = std::make_shared<AwardView>(std::move(award));
  if (votes_accepted_ != nullptr) {
    view->votes_accepted = &votes_accepted_->WithLabels({std::to_string(id)});
  }
  (*next)[id] = std::move(view);
  map_.store(std::move(next), std::memory_order_release);
}

}  // namespace civic::ballot
