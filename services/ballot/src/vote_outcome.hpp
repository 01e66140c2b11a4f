#pragma once

// How a vote ended, and the rendezvous of a request with the votes it waits for.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "civic/domain/error.hpp"

namespace civic::ballot {

// Where a stored vote stands: counted, or held by a rule (not counted until an admin releases
// it), or rejected by an admin (never counted).
enum class Standing : uint8_t { kCounted, kHeld, kRejected };

struct VoteOutcome {
  enum class Kind {
    kCreated,   // a new vote, now durable (201)
    kExisting,  // the voter already supports this nominee; the original receipt (200)
    kError,     // not counted: `error` says why
  };
  Kind kind = Kind::kError;
  std::string receipt;
  Error error;
  Standing standing = Standing::kCounted;  // kCreated, kExisting: where the vote stands

  static VoteOutcome Created(std::string receipt, Standing standing = Standing::kCounted) {
    return VoteOutcome{Kind::kCreated, std::move(receipt), {}, standing};
  }
  static VoteOutcome Existing(std::string receipt, Standing standing = Standing::kCounted) {
    return VoteOutcome{Kind::kExisting, std::move(receipt), {}, standing};
  }
  static VoteOutcome Failed(Error error) {
    return VoteOutcome{Kind::kError, {}, std::move(error), Standing::kCounted};
  }
  static VoteOutcome Unavailable(std::string message) {
    return Failed(Error::Unavailable(std::move(message), /*retry_after_seconds=*/1));
  }
};

// The 409 of a voter who already supports `k` nominees in the nomination.
Error ConflictError(int k);

// Collects the outcomes of the `n` votes of one request and calls `done` once, on the thread
// that sets the last one. Outcomes are set from the request's thread (those decided at once)
// and the committer (those that waited for a commit); each index exactly once.
class VoteCompletion {
 public:
  using Callback = std::function<void(std::vector<VoteOutcome>&)>;

  // The creator holds one extra reference, dropped by Release(), so that `done` cannot run while
  // it is still handing votes out.
  VoteCompletion(size_t n, Callback done)
      : outcomes_(n), remaining_(static_cast<int64_t>(n) + 1), done_(std::move(done)) {}

  void Set(size_t index, VoteOutcome outcome) {
    outcomes_[index] = std::move(outcome);
    Drop();
  }
  void Release() { Drop(); }

 private:
  void Drop() {
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      done_(outcomes_);
    }
  }

  std::vector<VoteOutcome> outcomes_;
  std::atomic<int64_t> remaining_;
  Callback done_;
};

}  // namespace civic::ballot
