#include "committer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>
#include "civic/runtime/thread_name.hpp"

namespace civic::ballot {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kParkedRecheck = std::chrono::milliseconds(1);

}  // namespace

Error ConflictError(int k) {
  return Error::Conflict("The voter already supports " + std::to_string(k) +
                         (k == 1 ? " nominee" : " nominees") + " in this nomination.")
      .WithKind(k == 1 ? "already-voted" : "choice-limit-reached");
}

Committer::Committer(VoteSink& sink, DedupIndex& index, Tallies& tallies, const Keys& keys,
                     BallotMetrics& metrics, CommitterOptions options, AnswerSink& answers)
    : sink_(sink),
      index_(index),
      tallies_(tallies),
      keys_(keys),
      metrics_(metrics),
      options_(options),
      answer_sink_(answers) {}

Committer::~Committer() { Stop(); }

void Committer::Start() {
  answer_thread_ = std::thread([this] {
    runtime::NameThisThread("ballot-answer");
    RunAnswers();
  });
  thread_ = std::thread([this] {
    runtime::NameThisThread("ballot-commit");
    Run();
  });
}

void Committer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  {
    std::lock_guard<std::mutex> lock(answers_mu_);
    answers_done_ = true;
  }
  answers_cv_.notify_all();
  if (answer_thread_.joinable()) {
    answer_thread_.join();
  }
}

void Committer::RunAnswers() {
  std::vector<std::vector<PendingVote>> batches;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(answers_mu_);
      answers_cv_.wait(lock, [this] { return answers_done_ || !answers_.empty(); });
      if (answers_.empty()) {
        return;  // done, and everything answered
      }
      batches.swap(answers_);
    }
    // The answers of every batch taken are delivered together (over HTTP: to their sockets in
    // one system call).
    const size_t together = answer_sink_.Deliver([&batches] {
      for (auto& batch : batches) {
        for (PendingVote& vote : batch) {
          vote.completion->Set(
              vote.index,
              VoteOutcome::Created(std::move(vote.receipt),
                                   vote.hold.held() ? Standing::kHeld : Standing::kCounted));
        }
      }
    });
    metrics_.answers_sent_together.Inc(static_cast<double>(together));
    batches.clear();
  }
}

bool Committer::Submit(std::vector<PendingVote>& votes, std::vector<WaitingVote>& waiters) {
  bool notify = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || votes_.size() + votes.size() > options_.max_queue) {
      return false;
    }
    if (votes_.empty() && !votes.empty()) {
      oldest_ = Clock::now();
      notify = true;
    }
    for (auto& vote : votes) {
      votes_.push_back(std::move(vote));
    }
    for (auto& waiter : waiters) {
      waiters_.push_back(std::move(waiter));
      notify = true;
    }
    notify = notify || votes_.size() >= options_.max_batch;
  }
  votes.clear();
  waiters.clear();
  if (notify) {
    cv_.notify_one();
  }
  return true;
}

std::optional<std::string> Committer::unhealthy_reason() const {
  if (healthy()) {
    return std::nullopt;
  }
  std::lock_guard<std::mutex> lock(mu_);
  return unhealthy_reason_;
}

size_t Committer::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return votes_.size();
}

void Committer::StartUnhealthy(const std::string& reason) {
  healthy_.store(false, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mu_);
    unhealthy_reason_ = reason;
  }
  metrics_.storage_healthy.Set(0);
}

void Committer::MarkUnhealthy(const std::string& reason, const std::string& detail) {
  const bool was_healthy = healthy_.exchange(false, std::memory_order_acq_rel);
  {
    std::lock_guard<std::mutex> lock(mu_);
    unhealthy_reason_ = reason;
  }
  metrics_.storage_healthy.Set(0);
  if (was_healthy) {
    spdlog::error("ballot: commit failed ({}), answering 503 until storage recovers: {}", reason,
                  detail);
  }
}

void Committer::Run() {
  auto next_probe = Clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    const auto work = [this] { return stopping_ || !votes_.empty() || !waiters_.empty(); };
    if (!healthy()) {
      cv_.wait_until(lock, next_probe, work);
      if (Clock::now() >= next_probe) {
        lock.unlock();
        try {
          sink_.Probe();
          healthy_.store(true, std::memory_order_release);
          metrics_.storage_healthy.Set(1);
          spdlog::info("ballot: storage works again; taking votes");
        } catch (const std::exception& e) {
          // Still failing; the reason may have changed (a full disk made read-only).
          const std::string reason = sink_.Problem(e);
          spdlog::debug("ballot: storage probe failed ({}): {}", reason, e.what());
          std::lock_guard<std::mutex> reason_lock(mu_);
          unhealthy_reason_ = reason;
        }
        next_probe = Clock::now() + options_.probe_interval;
        lock.lock();
      }
    } else if (parked_.empty()) {
      cv_.wait(lock, work);
    } else {
      cv_.wait_for(lock, kParkedRecheck, work);
    }
    if (stopping_ && votes_.empty() && waiters_.empty()) {
      // Nothing more can arrive: whatever still waits depends on votes that will never come.
      lock.unlock();
      std::vector<WaitingVote> last;
      last.swap(parked_);
      Decide(last);
      for (auto& waiter : parked_) {
        metrics_.rejected_unavailable.Inc();
        waiter.completion->Set(waiter.index,
                               VoteOutcome::Unavailable("The service is shutting down; retry."));
      }
      parked_.clear();
      return;
    }
    // Gather: wait for a full batch or for the oldest vote's deadline, whichever comes first.
    if (!stopping_ && !votes_.empty() && votes_.size() < options_.max_batch &&
        options_.max_delay.count() > 0) {
      cv_.wait_until(lock, oldest_ + options_.max_delay,
                     [this] { return stopping_ || votes_.size() >= options_.max_batch; });
    }
    // At most max_batch votes per transaction; the rest stays queued for the next round.
    std::vector<PendingVote> batch;
    batch.swap(votes_);
    if (batch.size() > options_.max_batch) {
      for (size_t i = options_.max_batch; i < batch.size(); ++i) {
        votes_.push_back(std::move(batch[i]));
      }
      batch.resize(options_.max_batch);
      oldest_ = Clock::now() - options_.max_delay;  // overdue: no gathering wait for the rest
    }
    std::vector<WaitingVote> waiters;
    waiters.swap(waiters_);
    lock.unlock();

    CommitBatch(batch);
    for (auto& waiter : parked_) {
      waiters.push_back(std::move(waiter));
    }
    parked_.clear();
    Decide(waiters);
    lock.lock();
  }
}

void Committer::CommitBatch(std::vector<PendingVote>& batch) {
  if (batch.empty()) {
    return;
  }
  records_.clear();
  records_.reserve(batch.size());
  holds_.clear();
  for (const PendingVote& vote : batch) {
    records_.push_back(vote.record);
    if (vote.hold.held()) {
      HoldRecord hold;
      hold.seq = vote.record.seq;
      hold.award_id = vote.record.award_id;
      hold.rule = vote.hold.rule;
      hold.count = vote.hold.count;
      hold.limit = vote.hold.limit;
      hold.window_s = vote.hold.window_s;
      holds_.push_back(hold);
    }
  }
  const auto started = Clock::now();
  std::string failure;
  std::string reason;
  try {
    if (!holds_.empty() && held_ == nullptr) {
      throw std::logic_error("a held vote without HeldVotes attached");
    }
    sink_.Append(records_, holds_);
  } catch (const std::exception& e) {
    failure = e.what();
    if (failure.empty()) {
      failure = "unknown error";
    }
    reason = sink_.Problem(e);
  }
  metrics_.commit_duration.Observe(std::chrono::duration<double>(Clock::now() - started).count());
  metrics_.commit_batch_size.Observe(static_cast<double>(batch.size()));
  if (failure.empty()) {
    // Counted once per nominee per batch, not once per vote.
    TallyBatch counts;
    for (const PendingVote& vote : batch) {
      index_.Prefetch(vote.key);
    }
    // The accepted-votes counter of each award, once per run of its votes in the batch.
    metrics::Counter* accepted = nullptr;
    double run = 0;
    for (const PendingVote& vote : batch) {
      const VoteRecord& r = vote.record;
      index_.MarkCommitted(vote.key, static_cast<uint32_t>(r.nominee_id), r.seq);
      if (vote.hold.held()) {
        tallies_.AddHolds(r.award_id, r.nomination_id, r.nominee_id, 1, 0);
      } else {
        counts.Add(r.award_id, r.nomination_id, r.nominee_id);
        if (vote.accepted != accepted) {
          if (accepted != nullptr) {
            accepted->Inc(run);
          }
          accepted = vote.accepted;
          run = 0;
        }
        ++run;
      }
    }
    if (accepted != nullptr) {
      accepted->Inc(run);
    }
    counts.AddTo(tallies_);
    if (!holds_.empty()) {
      held_->Committed(holds_);
      for (const HoldRecord& hold : holds_) {
        metrics_.votes_held.WithLabels({std::string(ToString(hold.rule))}).Inc();
      }
    }
    if (!healthy()) {
      healthy_.store(true, std::memory_order_release);
      metrics_.storage_healthy.Set(1);
    }
    // Durable, marked and counted: the answers go out on the answer thread while this one
    // starts the next commit.
    {
      std::lock_guard<std::mutex> lock(answers_mu_);
      answers_.push_back(std::move(batch));
    }
    batch = {};
    answers_cv_.notify_one();
    return;
  }
  metrics_.commit_failures.Inc();
  for (const PendingVote& vote : batch) {
    index_.Remove(vote.key, static_cast<uint32_t>(vote.record.nominee_id), vote.record.seq);
  }
  holds_.clear();
  MarkUnhealthy(reason, failure);
  metrics_.rejected_unavailable.Inc(static_cast<double>(batch.size()));
  for (PendingVote& vote : batch) {
    vote.completion->Set(vote.index,
                         VoteOutcome::Unavailable("The vote could not be stored; retry later."));
  }
}

void Committer::Decide(std::vector<WaitingVote>& waiters) {
  for (WaitingVote& waiter : waiters) {
    const auto nominee = static_cast<uint32_t>(waiter.fields.nominee_id);
    const DedupIndex::Decision d = index_.Check(waiter.key, nominee, waiter.k);
    if (d.pending) {
      parked_.push_back(std::move(waiter));
      continue;
    }
    if (d.found == DedupIndex::Found::kSame) {
      waiter.fields.seq = d.seq;
      metrics_.votes_duplicate.Inc();
      waiter.completion->Set(waiter.index, VoteOutcome::Existing(keys_.Receipt(waiter.fields),
                                                                 StandingOf(held_, d.seq)));
    } else if (d.found == DedupIndex::Found::kFull) {
      metrics_.rejected_conflict.Inc();
      waiter.completion->Set(waiter.index, VoteOutcome::Failed(ConflictError(waiter.k)));
    } else {
      metrics_.rejected_unavailable.Inc();
      waiter.completion->Set(
          waiter.index, VoteOutcome::Unavailable("The vote could not be stored; retry later."));
    }
  }
}

}  // namespace civic::ballot
