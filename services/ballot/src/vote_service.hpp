#pragma once

// Casting votes (the use case): find the award, nomination and nominee, hash the voter, decide
// against the dedup index atomically, and hand new votes to the committer. Answers come through
// a VoteCompletion: at once for votes decided here, after the commit for the others.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "award_catalog.hpp"
#include "ballot_metrics.hpp"
#include "civic/domain/ballot.hpp"
#include "civic/domain/time.hpp"
#include "committer.hpp"
#include "crypto.hpp"
#include "dedup_index.hpp"
#include "held_votes.hpp"
#include "vote_rules.hpp"

namespace civic::ballot {

class VoteService {
 public:
  // `first_seq`: one past the highest seq in the log.
  VoteService(AwardCatalog& catalog, DedupIndex& index, Committer& committer, const Keys& keys,
              const Clock& clock, BallotMetrics& metrics, uint64_t first_seq);

  // What one request hands the committer, collected over its votes.
  struct Submission {
    std::vector<PendingVote> votes;
    std::vector<WaitingVote> waiters;
  };

  // Decides `vote` (already validated with ValidateVote): sets outcome `index` of `completion`
  // now, or adds it to `submission` to be answered after a commit. Any thread.
  void Decide(const VoteInput& vote, uint32_t index,
              const std::shared_ptr<VoteCompletion>& completion, Submission& submission);
  // Decides many votes (index in `completion`, vote): first checks and hashes them all and
  // prefetches their dedup slots, then reserves them, so that memory latency overlaps.
  void DecideMany(const std::vector<std::pair<uint32_t, const VoteInput*>>& votes,
                  const std::shared_ptr<VoteCompletion>& completion, Submission& submission);
  // Hands `submission` to the committer; if it refuses (stopped, queue full), undoes the
  // reservations and answers 503.
  void Submit(Submission& submission);

  // Checks every new vote against `rules` with the settings `held` keeps per award; a vote that
  // trips one is stored held (answered 202). Without this, no vote is held. REQUIRES: before
  // the first vote.
  void EnableRules(VoteRules& rules, HeldVotes& held) {
    rules_ = &rules;
    held_ = &held;
  }

  // Whether new votes can be taken now; the reason otherwise (for 503 before any work).
  std::optional<std::string> UnavailableReason() const;

 private:
  // A vote found in the catalog and hashed: what the dedup decision needs.
  struct Checked {
    std::shared_ptr<const AwardView> view;
    bool accepts = false;
    bool removed = false;  // the nominee is one the award lists as removed
    Error refusal;         // why not, when !accepts
    ReceiptFields fields;
    DedupKey key;
    Instant now;
    bool rules = false;     // the award's rules are on: check the vote if it is new
    RuleSettings settings;  // the award's, when `rules`
    VoteContext context;    // what the rules count, when `rules`
    RuleSlots slots;        // where, when `rules`
  };
  // What the votes of one request share, looked up or hashed once: the last award's rule
  // settings, and the last device's and address's hashes (a batch from one client often
  // repeats them).
  struct SettingsCache {
    int64_t award_id = 0;
    RuleSettings settings;
    std::string device;  // hashed as `device_hash` for `award_id`, when `has_device`
    uint64_t device_hash = 0;
    bool has_device = false;
    std::string address;  // hashed as `address_hashes` for `award_id`, when `has_address`
    ContextHashes address_hashes;
    bool has_address = false;
  };
  // Looks the vote up and hashes the voter (and its context when the award's rules are on);
  // false (outcome set) when it is decided already.
  bool Check(const VoteInput& vote, uint32_t index,
             const std::shared_ptr<VoteCompletion>& completion, SettingsCache& settings,
             Checked& checked);
  void Reserve(Checked& checked, uint32_t index, const std::shared_ptr<VoteCompletion>& completion,
               Submission& submission);

  AwardCatalog& catalog_;
  DedupIndex& index_;
  Committer& committer_;
  const Keys& keys_;
  const Clock& clock_;
  BallotMetrics& metrics_;
  std::atomic<uint64_t> next_seq_;
  VoteRules* rules_ = nullptr;
  HeldVotes* held_ = nullptr;
};

}  // namespace civic::ballot
