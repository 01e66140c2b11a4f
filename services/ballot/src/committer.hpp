#pragma once

// Group commit: one thread takes every vote queued by concurrent requests, appends them to the
// log in one transaction, then marks them durable in the dedup index, counts them, and answers
// the waiting requests. Nothing is acknowledged before its commit returned.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "answer_sink.hpp"
#include "ballot_metrics.hpp"
#include "dedup_index.hpp"
#include "held_votes.hpp"
#include "tallies.hpp"
#include "vote_log.hpp"
#include "vote_outcome.hpp"

namespace civic::ballot {

struct CommitterOptions {
  size_t max_batch = 8192;                    // votes per transaction at most
  std::chrono::microseconds max_delay{1000};  // a queued vote waits at most this before a commit
  size_t max_queue = 200'000;                 // votes queued at most; over it: 503
  std::chrono::milliseconds probe_interval{500};  // while storage fails, how often to probe it
};

// A reserved vote on its way to the log.
struct PendingVote {
  VoteRecord record;
  DedupKey key;
  std::string receipt;  // computed by the request thread
  std::shared_ptr<VoteCompletion> completion;
  uint32_t index = 0;                    // in the completion
  metrics::Counter* accepted = nullptr;  // the award's accepted-votes counter (AwardView), or null
  HoldVerdict hold;                      // held(): stored with its hold, not counted
};

// A request whose answer rests on a vote not yet durable (a retry of a pending vote, or K
// reached with a pending vote among them). Re-decided after each commit.
struct WaitingVote {
  DedupKey key;
  ReceiptFields fields;  // seq unknown until decided
  int k = 1;
  std::shared_ptr<VoteCompletion> completion;
  uint32_t index = 0;
};

class Committer {
 public:
  // `answers` (which must outlive the committer) takes the answers of committed votes.
  Committer(VoteSink& sink, DedupIndex& index, Tallies& tallies, const Keys& keys,
            BallotMetrics& metrics, CommitterOptions options, AnswerSink& answers);
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  // Held votes are recorded in `held` when committed (without it, a held vote cannot be
  // committed: nothing would know it is held). REQUIRES: before Start().
  void AttachHeldVotes(HeldVotes& held) { held_ = &held; }
  void Start();
  // Queues votes (reserved in the index) and waiters. Returns false, queuing nothing, when
  // stopped or when the queue is full: the caller then undoes its reservations and answers 503.
  bool Submit(std::vector<PendingVote>& votes, std::vector<WaitingVote>& waiters);
  // Commits and answers everything queued, then stops the thread. Idempotent.
  void Stop();

  // Starts unhealthy: votes are refused (503) until a probe write succeeds. `reason` as
  // unhealthy_reason() gives it. REQUIRES: before Start().
  void StartUnhealthy(const std::string& reason);

  // False from a failed commit until a probe write succeeds.
  bool healthy() const { return healthy_.load(std::memory_order_acquire); }
  // Why storage is not healthy, if it is not: a few words from VoteSink::Problem ("storage:
  // disk full"), never the storage engine's message (that one is logged).
  std::optional<std::string> unhealthy_reason() const;
  size_t queued() const;

 private:
  void Run();
  // Answers committed batches (one thread): the answers of one batch go out while the next
  // batch is being written and synced.
  void RunAnswers();
  void CommitBatch(std::vector<PendingVote>& batch);
  // Decides waiters; those still resting on pending entries go back to `parked_`.
  void Decide(std::vector<WaitingVote>& waiters);
  // `reason` for the public, `detail` for the log.
  void MarkUnhealthy(const std::string& reason, const std::string& detail);

  VoteSink& sink_;
  DedupIndex& index_;
  Tallies& tallies_;
  const Keys& keys_;
  BallotMetrics& metrics_;
  const CommitterOptions options_;
  AnswerSink& answer_sink_;

  mutable std::mutex mu_;  // guards the members down to stopping_
  std::condition_variable cv_;
  std::vector<PendingVote> votes_;
  std::vector<WaitingVote> waiters_;
  std::chrono::steady_clock::time_point oldest_{};  // arrival of votes_.front()
  bool stopping_ = false;
  std::string unhealthy_reason_;

  std::mutex answers_mu_;  // guards answers_ and answers_done_
  std::condition_variable answers_cv_;
  std::vector<std::vector<PendingVote>> answers_;  // committed batches to answer, in order
  bool answers_done_ = false;                      // the committer stopped: answer and end
  std::thread answer_thread_;

  std::atomic<bool> healthy_{true};
  std::vector<WaitingVote> parked_;  // committer thread only
  std::vector<VoteRecord> records_;  // committer thread only (reused buffer)
  std::vector<HoldRecord> holds_;    // committer thread only (reused buffer)
  HeldVotes* held_ = nullptr;
  std::thread thread_;
};

}  // namespace civic::ballot
