#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

#include "ballot_client.hpp"
#include "storage/store.hpp"

namespace civic::events {

// Call 3 of proto-docs/awards-sync.md, best effort: after writes to awards, nominations or
// nominees, a background thread compares each non-draft award's sync version with the last one
// it announced and sends POST {ballot}/v1/awards/{id}/sync for those that changed. Failures are
// logged (at most once a minute) and dropped: the ballot's own polling catches up. Does nothing
// when the ballot admin key is not configured.
class AwardChangeNotifier {
 public:
  // Starts the thread (when `ballot` is configured). `store` and `ballot` must outlive it.
  AwardChangeNotifier(Store& store, const BallotClient& ballot);
  ~AwardChangeNotifier();
  AwardChangeNotifier(const AwardChangeNotifier&) = delete;
  AwardChangeNotifier& operator=(const AwardChangeNotifier&) = delete;

  // A write has committed: look for changed versions soon. Cheap; any thread.
  void Poke();
  // Stops and joins the thread (a call in flight ends within the client's timeouts). Idempotent.
  void Stop();

 private:
  void Run();
  // The version of every non-draft award. Throws StoreClosed / sqlite::Error.
  std::map<int64_t, int64_t> Versions();

  Store& store_;
  const BallotClient& ballot_;
  std::mutex mu_;  // guards poked_, stopping_
  std::condition_variable cv_;
  bool poked_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace civic::events
