#include "vote_service.hpp"

namespace civic::ballot {

VoteService::VoteService(AwardCatalog& catalog, DedupIndex& index, Committer& committer,
                         const Keys& keys, const Clock& clock, BallotMetrics& metrics,
                         uint64_t first_seq)
    : catalog_(catalog),
      index_(index),
      committer_(committer),
      keys_(keys),
      clock_(clock),
      metrics_(metrics),
      next_seq_(first_seq) {}

std::optional<std::string> VoteService::UnavailableReason() const {
  if (!committer_.healthy()) {
    return "Votes cannot be stored right now; retry later.";
  }
  return std::nullopt;
}

bool VoteService::Check(const VoteInput& vote, uint32_t index,
                        const std::shared_ptr<VoteCompletion>& completion, SettingsCache& settings,
                        Checked& checked) {
  const auto fail = [&](metrics::Counter& counter, Error error) {
    counter.Inc();
    completion->Set(index, VoteOutcome::Failed(std::move(error)));
    return false;
  };
  checked.view = catalog_.Find(vote.award_id);
  if (checked.view == nullptr) {
    return fail(metrics_.rejected_not_found,
                Error::NotFound("No award " + std::to_string(vote.award_id) + "."));
  }
  const AwardView& view = *checked.view;
  const Nominee* nominee = nullptr;
  if (view.nominations.count(vote.nomination_id) != 0) {
    nominee = view.FindNominee(vote.nomination_id, vote.nominee_id);
  } else if (view.removed_nominations.count(vote.nomination_id) == 0) {
    return fail(metrics_.rejected_not_found,
                Error::NotFound("No nomination " + std::to_string(vote.nomination_id) +
                                " in award " + std::to_string(view.award.id) + "."));
  }
  if (nominee != nullptr) {
    checked.now = clock_.Now();
    Status accepts = CheckAcceptsNewVote(view.award, *nominee, checked.now);
    checked.accepts = accepts.ok();
    if (!accepts.ok()) {
      checked.refusal = std::move(accepts).error();
    }
  } else if (view.FindRemovedNominee(vote.nomination_id, vote.nominee_id) != nullptr) {
    // Removed from the award after votes may have been taken for it: no new vote (404, as for
    // any nominee the award does not list), but a voter who already supports it is answered as
    // a retry (200, the same receipt), so a retry whose first answer was lost stays safe.
    checked.now = clock_.Now();
    checked.accepts = false;
    checked.removed = true;
    checked.refusal =
        view.nominations.count(vote.nomination_id) == 0
            ? Error::NotFound("Nomination " + std::to_string(vote.nomination_id) +
                              " is no longer in award " + std::to_string(view.award.id) + ".")
            : Error::NotFound("Nominee " + std::to_string(vote.nominee_id) +
                              " is no longer in nomination " + std::to_string(vote.nomination_id) +
                              ".");
  } else {
    return fail(metrics_.rejected_not_found,
                Error::NotFound("No nominee " + std::to_string(vote.nominee_id) +
                                " in nomination " + std::to_string(vote.nomination_id) + "."));
  }
  checked.fields.award_id = view.award.id;
  checked.fields.nomination_id = vote.nomination_id;
  checked.fields.nominee_id = vote.nominee_id;
  checked.fields.voter_hash = keys_.HashVoter(view.award.id, vote.voter);
  checked.key = MakeDedupKey(checked.fields.voter_hash, vote.nomination_id);
  if (rules_ != nullptr && held_->rules_enabled()) {
    if (settings.award_id != view.award.id) {
      settings.award_id = view.award.id;
      settings.settings = held_->SettingsFor(view.award.id);
      settings.has_device = false;
      settings.has_address = false;
    }
    if (!settings.settings.AllOff()) {
      checked.rules = true;
      checked.settings = settings.settings;
      VoteContext& context = checked.context;
      context.award_id = view.award.id;
      context.nominee_id = vote.nominee_id;
      context.voter = checked.fields.voter_hash;
      if (vote.device && !vote.device->empty()) {
        if (!settings.has_device || settings.device != *vote.device) {
          settings.device = *vote.device;
          settings.device_hash = HashContext(keys_, view.award.id, vote.device, {}).device.value();
          settings.has_device = true;
        }
        context.device = settings.device_hash;
      }
      if (vote.address && !vote.address->empty()) {
        if (!settings.has_address || settings.address != *vote.address) {
          settings.address = *vote.address;
          settings.address_hashes = HashContext(keys_, view.award.id, {}, vote.address);
          settings.has_address = true;
        }
        context.address = settings.address_hashes.address;
        context.block = settings.address_hashes.block;
      }
      checked.slots = VoteRules::Locate(checked.settings, context);
    }
  }
  return true;
}

void VoteService::Reserve(Checked& checked, uint32_t index,
                          const std::shared_ptr<VoteCompletion>& completion,
                          Submission& submission) {
  ReceiptFields& fields = checked.fields;
  const int k = checked.view->award.max_choices_per_nomination;
  const bool healthy = committer_.healthy();
  const DedupIndex::Decision d =
      index_.Reserve(checked.key, static_cast<uint32_t>(fields.nominee_id), k,
                     checked.accepts && healthy, next_seq_);
  switch (d.found) {
    case DedupIndex::Found::kSame:
      if (!d.pending) {
        fields.seq = d.seq;
        metrics_.votes_duplicate.Inc();
        completion->Set(index,
                        VoteOutcome::Existing(keys_.Receipt(fields), StandingOf(held_, d.seq)));
        return;
      }
      break;
    case DedupIndex::Found::kFull:
      if (checked.removed) {
        metrics_.rejected_not_found.Inc();
        completion->Set(index, VoteOutcome::Failed(std::move(checked.refusal)));
        return;
      }
      if (!d.pending) {
        metrics_.rejected_conflict.Inc();
        completion->Set(index, VoteOutcome::Failed(ConflictError(k)));
        return;
      }
      break;
    case DedupIndex::Found::kNotAccepted:
      if (!checked.accepts) {
        (checked.removed ? metrics_.rejected_not_found : metrics_.rejected_forbidden).Inc();
        completion->Set(index, VoteOutcome::Failed(std::move(checked.refusal)));
        return;
      }
      metrics_.rejected_unavailable.Inc();
      completion->Set(index,
                      VoteOutcome::Unavailable("Votes cannot be stored right now; retry later."));
      return;
    case DedupIndex::Found::kReserved: {
      fields.seq = d.seq;
      PendingVote pending;
      pending.record.seq = d.seq;
      pending.record.award_id = fields.award_id;
      pending.record.nomination_id = fields.nomination_id;
      pending.record.nominee_id = fields.nominee_id;
      pending.record.voter_hash = fields.voter_hash;
      pending.record.cast_at_ms = checked.now.time_since_epoch().count();
      pending.key = checked.key;
      pending.receipt = keys_.Receipt(fields);
      pending.completion = completion;
      pending.index = index;
      pending.accepted = checked.view->votes_accepted;
      if (checked.rules) {
        const int64_t now_s =
            std::chrono::duration_cast<std::chrono::seconds>(checked.now.time_since_epoch())
                .count();
        pending.hold = rules_->Check(checked.settings, checked.context, checked.slots, now_s);
      }
      submission.votes.push_back(std::move(pending));
      return;
    }
    case DedupIndex::Found::kNone:
      break;
  }
  // The answer rests on a vote not yet durable: decide again after the next commit.
  WaitingVote waiter;
  waiter.key = checked.key;
  waiter.fields = fields;
  waiter.k = k;
  waiter.completion = completion;
  waiter.index = index;
  submission.waiters.push_back(std::move(waiter));
}

void VoteService::Decide(const VoteInput& vote, uint32_t index,
                         const std::shared_ptr<VoteCompletion>& completion,
                         Submission& submission) {
  Checked checked;
  SettingsCache settings;
  if (Check(vote, index, completion, settings, checked)) {
    Reserve(checked, index, completion, submission);
  }
}

void VoteService::DecideMany(const std::vector<std::pair<uint32_t, const VoteInput*>>& votes,
                             const std::shared_ptr<VoteCompletion>& completion,
                             Submission& submission) {
  std::vector<std::pair<uint32_t, Checked>> checked;
  checked.reserve(votes.size());
  SettingsCache settings;
  for (const auto& [index, vote] : votes) {
    Checked c;
    if (Check(*vote, index, completion, settings, c)) {
      index_.Prefetch(c.key);
      checked.emplace_back(index, std::move(c));
    }
  }
  // The rules' slots are many and spread over tables larger than the caches: each vote's sets
  // are prefetched 2 * kAhead votes ahead, and its slots in them kAhead votes ahead (by then
  // the sets' heads, which say which slot, are in the cache).
  constexpr size_t kAhead = 8;
  const auto prefetch = [&](size_t at, bool slots) {
    if (rules_ != nullptr && at < checked.size() && checked[at].second.rules) {
      if (slots) {
        rules_->PrefetchSlots(checked[at].second.slots);
      } else {
        rules_->PrefetchSets(checked[at].second.slots);
      }
    }
  };
  for (size_t i = 0; i < 2 * kAhead; ++i) {
    prefetch(i, false);
  }
  for (size_t i = 0; i < checked.size(); ++i) {
    prefetch(i + 2 * kAhead, false);
    prefetch(i + kAhead, true);
    auto& [index, c] = checked[i];
    Reserve(c, index, completion, submission);
  }
}

void VoteService::Submit(Submission& submission) {
  if (submission.votes.empty() && submission.waiters.empty()) {
    return;
  }
  if (committer_.Submit(submission.votes, submission.waiters)) {
    return;
  }
  const size_t refused = submission.votes.size() + submission.waiters.size();
  metrics_.rejected_unavailable.Inc(static_cast<double>(refused));
  for (PendingVote& vote : submission.votes) {
    index_.Remove(vote.key, static_cast<uint32_t>(vote.record.nominee_id), vote.record.seq);
  }
  const auto outcome = [] {
    return VoteOutcome::Unavailable("The service is busy or shutting down; retry later.");
  };
  for (PendingVote& vote : submission.votes) {
    vote.completion->Set(vote.index, outcome());
  }
  for (WaitingVote& waiter : submission.waiters) {
    waiter.completion->Set(waiter.index, outcome());
  }
  submission.votes.clear();
  submission.waiters.clear();
}

}  // namespace civic::ballot
