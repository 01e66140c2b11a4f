#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "ballot_client.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/correlation.hpp"
#include "storage/store.hpp"

namespace civic::events {

// What the answer to a write says of the ballot (the X-Civic-Ballot-Sync header).
enum class BallotSync {
  kNotNeeded,  // no award whose voting has opened changed: the ballot is told in the background
  kApplied,    // every such change is at the ballot, which took it before this answer
  kPending,    // the ballot could not be reached in time: its periodic sync catches up
};
// "applied" / "pending"; "" for kNotNeeded (no header).
const char* ToHeaderValue(BallotSync sync);

// Call 3 of proto-docs/awards-sync.md. After each committed write to awards, nominations,
// nominees or cities, AfterWrite compares each non-draft award's sync version with the last one
// the ballot took from us:
// - an award whose voting has opened (closed, archived, or published/voting past
//   voting_opens_at) is pushed at once, on the calling thread, with its snapshot in the body,
//   bounded by the client's push timeouts (connect 1 s, read and write 2 s): the change (a close,
//   a withdrawal, a moved window, a visibility change) is live at the ballot before the write is
//   answered, or the answer says it is pending;
// - the others are left to a background thread that pushes them best effort (failures logged at
//   most once a minute and dropped: the ballot's own polling catches up).
// Does nothing but answer kPending for opened awards when the ballot admin key is not configured.
class AwardChangeNotifier {
 public:
  // Starts the thread (when `ballot` is configured). `store`, `ballot` and `clock` must outlive
  // it.
  AwardChangeNotifier(Store& store, const BallotClient& ballot, const Clock& clock);
  ~AwardChangeNotifier();
  AwardChangeNotifier(const AwardChangeNotifier&) = delete;
  AwardChangeNotifier& operator=(const AwardChangeNotifier&) = delete;

  // A write has committed: pushes the changed awards whose voting has opened now and pokes the
  // thread for the rest. Blocks up to the push timeouts per changed award. Any thread, outside
  // a transaction. The pushes carry `correlation` (the write's X-Request-Id and traceparent).
  BallotSync AfterWrite(const http::Correlation& correlation);
  // Stops and joins the thread (a call in flight ends within the client's timeouts). Idempotent.
  void Stop();

 private:
  struct Version {
    int64_t version = 0;
    bool voting_opened = false;
  };
  void Run();
  // The version of every non-draft award, and whether its voting has opened at `now`. Throws
  // StoreClosed / sqlite::Error.
  std::map<int64_t, Version> Versions(Instant now);
  // Pushes award `id` (its snapshot, or a bare sync request when it has none: a draft again, or
  // deleted) with the bounded (`bounded`) or the background timeouts. True when the ballot took
  // it; then `announced_` holds its version. The call carries `correlation`.
  bool Push(int64_t id, bool bounded, const http::Correlation& correlation, std::string& error);
  // Whether `id` at `version` is newer than what the ballot was told. REQUIRES: mu_ not held.
  bool Unannounced(int64_t id, int64_t version);

  Store& store_;
  const BallotClient& ballot_;
  const Clock& clock_;
  std::mutex mu_;  // guards poked_, stopping_, announced_, baseline_
  std::condition_variable cv_;
  bool poked_ = false;
  bool stopping_ = false;
  // What the ballot took from us (or held at our start), by award.
  std::map<int64_t, int64_t> announced_;
  bool baseline_ = false;  // announced_ holds the versions found at start
  std::thread thread_;
};

}  // namespace civic::events
