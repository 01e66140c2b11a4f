// The vote path (VoteService + Committer + DedupIndex + Tallies) with an injected clock and a
// fake vote sink that can hold or fail commits: nothing is acknowledged before it is durable.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>

#include "award_catalog.hpp"
#include "ballot_metrics.hpp"
#include "committer.hpp"
#include "vote_service.hpp"

namespace {

using namespace civic::ballot;
using namespace std::chrono_literals;
using civic::ErrorCode;
using civic::Instant;

class FakeClock final : public civic::Clock {
 public:
  explicit FakeClock(Instant now) : now_(now) {}
  Instant Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void Set(Instant now) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = now;
  }

 private:
  mutable std::mutex mu_;
  Instant now_;
};

constexpr const char* kEngineMessage = "database or disk is full (code 13)";

// A sink whose commits can be held (to see what waits for them) or made to fail.
class FakeSink final : public VoteSink {
 public:
  void Append(const std::vector<VoteRecord>& batch,
              const std::vector<civic::ballot::HoldRecord>& /*holds*/) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return !hold_; });
    if (fail_) {
      throw std::runtime_error(kEngineMessage);
    }
    stored_.insert(stored_.end(), batch.begin(), batch.end());
  }
  void Probe() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_) {
      throw std::runtime_error(kEngineMessage);
    }
  }
  // As VoteLog's: a few words of its own, not the engine's message.
  std::string Problem(const std::exception&) const override { return "storage: disk full"; }
  void Hold(bool hold) {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = hold;
    cv_.notify_all();
  }
  void Fail(bool fail) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ = fail;
  }
  // Waits until `n` commits have started.
  bool WaitEntered(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return entered_ >= n; });
  }
  size_t stored() {
    std::lock_guard<std::mutex> lock(mu_);
    return stored_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  bool fail_ = false;
  int entered_ = 0;
  std::vector<VoteRecord> stored_;
};

Instant At(const char* text) { return *civic::ParseInstant(text); }

Award SampleAward(int k = 1) {
  Award award;
  award.id = 7;
  award.version = 1;
  award.status = AwardStatus::kVoting;
  award.voting_opens_at = At("2026-11-01T00:00:00Z");
  award.voting_closes_at = At("2026-12-01T00:00:00Z");
  award.max_choices_per_nomination = k;
  award.nominations = {{31, "Лидер изменений"}};
  award.nominees = {{501, 31, "Ирина", std::nullopt, NomineeStatus::kActive},
                    {502, 31, "Олег", std::nullopt, NomineeStatus::kActive}};
  return award;
}

struct VotePath {
  civic::metrics::Registry registry;
  BallotMetrics metrics{registry};
  FakeClock clock{At("2026-11-10T12:00:00Z")};
  Keys keys{std::string(32, 'k')};
  AwardCatalog catalog{&metrics.votes_accepted};
  DedupIndex index;
  Tallies tallies;
  FakeSink sink;
  civic::ballot::DirectAnswers answers;
  Committer committer;
  VoteService votes;

  explicit VotePath(int k = 1, std::chrono::milliseconds probe = 20ms)
      : committer(sink, index, tallies, keys, metrics,
                  CommitterOptions{8192, std::chrono::microseconds(0), 200000, probe}, answers),
        votes(catalog, index, committer, keys, clock, metrics, 1) {
    catalog.Put(SampleAward(k));
    committer.Start();
  }
  ~VotePath() {
    sink.Hold(false);
    committer.Stop();
  }

  // Casts one vote; the future is its outcome.
  std::future<VoteOutcome> Cast(const std::string& voter, int64_t nominee, int64_t nomination = 31,
                                int64_t award = 7) {
    auto promise = std::make_shared<std::promise<VoteOutcome>>();
    auto future = promise->get_future();
    auto completion = std::make_shared<VoteCompletion>(
        1, [promise](std::vector<VoteOutcome>& outcomes) { promise->set_value(outcomes[0]); });
    VoteInput vote;
    vote.award_id = award;
    vote.voter = voter;
    vote.nomination_id = nomination;
    vote.nominee_id = nominee;
    VoteService::Submission submission;
    votes.Decide(vote, 0, completion, submission);
    votes.Submit(submission);
    completion->Release();
    return future;
  }
};

bool Ready(std::future<VoteOutcome>& f, std::chrono::milliseconds wait = 0ms) {
  return f.wait_for(wait) == std::future_status::ready;
}

}  // namespace

TEST_CASE("Ballot: a vote is answered only after its commit returned", "[ballot][commit]") {
  VotePath p;
  p.sink.Hold(true);
  auto first = p.Cast("alice", 501);
  REQUIRE(p.sink.WaitEntered(1));
  CHECK_FALSE(Ready(first, 50ms));
  CHECK(p.tallies.Total() == 0);  // tallies follow commits, never lead them
  p.sink.Hold(false);
  REQUIRE(Ready(first, 5s));
  const VoteOutcome outcome = first.get();
  CHECK(outcome.kind == VoteOutcome::Kind::kCreated);
  CHECK(p.tallies.Total() == 1);
  CHECK(p.sink.stored() == 1);
}

TEST_CASE("Ballot: one commit counts a nominee's votes in each nomination they were cast in",
          "[ballot][commit]") {
  VotePath p;
  p.sink.Hold(true);
  auto held = p.Cast("first", 502);
  REQUIRE(p.sink.WaitEntered(1));
  // Queued behind the held commit, so both go in the next one: a vote for 501 in 31, then, the
  // award's copy having moved 501 to nomination 32 meanwhile, one for 501 in 32.
  auto before = p.Cast("alice", 501, 31);
  Award moved = SampleAward();
  moved.version = 2;
  moved.nominations.push_back({32, "Команда года"});
  moved.nominees[0].nomination_id = 32;
  p.catalog.Put(moved);
  auto after = p.Cast("bob", 501, 32);
  p.sink.Hold(false);
  REQUIRE(Ready(held, 5s));
  REQUIRE(Ready(before, 5s));
  REQUIRE(Ready(after, 5s));
  CHECK(before.get().kind == VoteOutcome::Kind::kCreated);
  CHECK(after.get().kind == VoteOutcome::Kind::kCreated);
  std::map<std::pair<int64_t, int64_t>, uint64_t> counted;
  for (const auto& tally : p.tallies.Of(7)) {
    counted[{tally.nomination_id, tally.nominee_id}] += tally.votes;
  }
  CHECK(counted[{31, 501}] == 1);
  CHECK(counted[{32, 501}] == 1);
  CHECK(counted[{31, 502}] == 1);
}

TEST_CASE("Ballot: a retry for a nominee or nomination removed since gets its receipt, others 404",
          "[ballot][dedup][sync]") {
  VotePath p;
  const VoteOutcome first = p.Cast("alice", 501).get();
  REQUIRE(first.kind == VoteOutcome::Kind::kCreated);
  // The events API drops nomination 31 (and with it 501 and 502); the ballot keeps them removed.
  const Award previous = SampleAward();
  Award next = SampleAward();
  next.version = 2;
  next.nominations = {{32, "Команда года"}};
  next.nominees = {{601, 32, "Команда Заречного", std::nullopt, NomineeStatus::kActive}};
  CarryOverRemoved(previous, next);
  p.catalog.Put(next);

  const VoteOutcome retry = p.Cast("alice", 501).get();
  CHECK(retry.kind == VoteOutcome::Kind::kExisting);
  CHECK(retry.receipt == first.receipt);
  const VoteOutcome fresh = p.Cast("bob", 501).get();
  CHECK(fresh.kind == VoteOutcome::Kind::kError);
  CHECK(fresh.error.code == ErrorCode::kNotFound);
  CHECK(fresh.error.message == "Nomination 31 is no longer in award 7.");
  // Alice's one choice in 31 is used: another removed nominee is still 404, not 409.
  const VoteOutcome other = p.Cast("alice", 502).get();
  CHECK(other.error.code == ErrorCode::kNotFound);
  const VoteOutcome unknown = p.Cast("bob", 999).get();
  CHECK(unknown.error.message == "No nominee 999 in nomination 31.");
  CHECK(p.Cast("bob", 501, 33).get().error.message == "No nomination 33 in award 7.");
  CHECK(p.tallies.Total() == 1);
  CHECK(p.sink.stored() == 1);
}

TEST_CASE("Ballot: a retry that arrives while the original is pending waits for it, then 200",
          "[ballot][commit][dedup]") {
  VotePath p;
  p.sink.Hold(true);
  auto first = p.Cast("alice", 501);
  REQUIRE(p.sink.WaitEntered(1));
  auto retry = p.Cast("alice", 501);
  auto other = p.Cast("alice", 502);  // K = 1 reached by a pending vote: waits too
  CHECK_FALSE(Ready(retry, 50ms));
  CHECK_FALSE(Ready(other));
  p.sink.Hold(false);
  REQUIRE(Ready(retry, 5s));
  REQUIRE(Ready(other, 5s));
  const VoteOutcome a = first.get();
  const VoteOutcome b = retry.get();
  CHECK(a.kind == VoteOutcome::Kind::kCreated);
  CHECK(b.kind == VoteOutcome::Kind::kExisting);
  CHECK(b.receipt == a.receipt);
  const VoteOutcome c = other.get();
  CHECK(c.kind == VoteOutcome::Kind::kError);
  CHECK(c.error.code == ErrorCode::kConflict);
  CHECK(p.sink.stored() == 1);
}

TEST_CASE("Ballot: accepted votes are counted by award, through the counter the award carries",
          "[ballot][commit][metrics]") {
  VotePath p;
  Award other = SampleAward(1);
  other.id = 8;
  p.catalog.Put(other);
  civic::metrics::Counter* const seven = p.catalog.Find(7)->votes_accepted;
  REQUIRE(seven != nullptr);
  REQUIRE(p.catalog.Find(8)->votes_accepted != nullptr);
  CHECK(p.catalog.Find(8)->votes_accepted != seven);
  p.catalog.Put(SampleAward(1));  // a new copy of award 7 keeps its counter
  CHECK(p.catalog.Find(7)->votes_accepted == seven);

  p.sink.Hold(true);  // one batch with both awards' votes in it
  std::vector<std::future<VoteOutcome>> cast;
  cast.push_back(p.Cast("a", 501));
  REQUIRE(p.sink.WaitEntered(1));
  cast.push_back(p.Cast("b", 501, 31, 8));
  cast.push_back(p.Cast("c", 502));
  cast.push_back(p.Cast("d", 502, 31, 8));
  cast.push_back(p.Cast("e", 501));
  p.sink.Hold(false);
  for (auto& f : cast) {
    REQUIRE(Ready(f, 5s));
    CHECK(f.get().kind == VoteOutcome::Kind::kCreated);
  }
  CHECK(seven->Value() == 3);
  CHECK(p.metrics.votes_accepted.WithLabels({"8"}).Value() == 2);
  const std::string exposition = p.registry.Serialize();
  CHECK(exposition.find("ballot_votes_accepted_total{award=\"7\"} 3") != std::string::npos);
  CHECK(exposition.find("ballot_votes_accepted_total{award=\"8\"} 2") != std::string::npos);

  p.sink.Fail(true);  // a failed commit counts nothing
  auto failed = p.Cast("f", 501);
  REQUIRE(Ready(failed, 5s));
  CHECK(failed.get().kind == VoteOutcome::Kind::kError);
  CHECK(seven->Value() == 3);
}

TEST_CASE("Ballot: a failed commit answers 503, stores and counts nothing, and frees the voter",
          "[ballot][commit][failure]") {
  VotePath p(1, 10min);  // no probe during the test: recovery comes from a successful commit
  p.sink.Hold(true);
  p.sink.Fail(true);
  auto first = p.Cast("alice", 501);
  REQUIRE(p.sink.WaitEntered(1));
  auto retry = p.Cast("alice", 501);
  p.sink.Hold(false);
  REQUIRE(Ready(first, 5s));
  REQUIRE(Ready(retry, 5s));
  CHECK(first.get().error.code == ErrorCode::kUnavailable);
  CHECK(retry.get().error.code == ErrorCode::kUnavailable);
  CHECK(p.tallies.Total() == 0);
  CHECK(p.index.size() == 0);
  CHECK_FALSE(p.committer.healthy());
  REQUIRE(p.committer.unhealthy_reason());
  CHECK(*p.committer.unhealthy_reason() == "storage: disk full");  // not the engine's message
  // While unhealthy, new votes are refused at once.
  auto refused = p.Cast("bob", 501);
  REQUIRE(Ready(refused, 1s));
  CHECK(refused.get().error.code == ErrorCode::kUnavailable);
  CHECK(p.sink.stored() == 0);
}

TEST_CASE("Ballot: after a failed commit a successful probe brings storage back",
          "[ballot][commit][failure]") {
  VotePath p(1, 20ms);
  p.sink.Fail(true);
  auto lost = p.Cast("alice", 501);
  REQUIRE(Ready(lost, 5s));
  CHECK(lost.get().error.code == ErrorCode::kUnavailable);
  CHECK_FALSE(p.committer.healthy());
  p.sink.Fail(false);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!p.committer.healthy() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(p.committer.healthy());
  auto again = p.Cast("alice", 501);
  REQUIRE(Ready(again, 5s));
  CHECK(again.get().kind == VoteOutcome::Kind::kCreated);
  CHECK(p.tallies.Total() == 1);
}

TEST_CASE("Ballot: the window follows the injected clock and a counted vote stays 200 after close",
          "[ballot][rules]") {
  VotePath p;
  p.clock.Set(At("2026-10-31T23:59:59.999Z"));
  CHECK(p.Cast("early", 501).get().error.code == ErrorCode::kForbidden);
  p.clock.Set(At("2026-11-01T00:00:00Z"));
  const VoteOutcome cast = p.Cast("alice", 501).get();
  REQUIRE(cast.kind == VoteOutcome::Kind::kCreated);
  p.clock.Set(At("2026-12-01T00:00:00Z"));
  CHECK(p.Cast("late", 501).get().error.code == ErrorCode::kForbidden);
  const VoteOutcome retry = p.Cast("alice", 501).get();
  CHECK(retry.kind == VoteOutcome::Kind::kExisting);
  CHECK(retry.receipt == cast.receipt);
}

TEST_CASE("Ballot: stopping the committer commits what is queued and refuses the rest",
          "[ballot][commit][shutdown]") {
  VotePath p;
  p.sink.Hold(true);
  auto first = p.Cast("alice", 501);
  REQUIRE(p.sink.WaitEntered(1));
  auto second = p.Cast("bob", 501);  // queued behind the held commit
  auto stopper = std::async(std::launch::async, [&p] { p.committer.Stop(); });
  std::this_thread::sleep_for(50ms);
  p.sink.Hold(false);
  stopper.get();
  CHECK(first.get().kind == VoteOutcome::Kind::kCreated);
  CHECK(second.get().kind == VoteOutcome::Kind::kCreated);
  CHECK(p.Cast("carol", 501).get().error.code == ErrorCode::kUnavailable);
  CHECK(p.index.pending() == 0);
  CHECK(p.sink.stored() == 2);
}
