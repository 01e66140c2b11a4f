#pragma once

// Live results over Server-Sent Events: a ticker thread sends each subscriber the award's results
// document when it changed, at most once per period, and a comment line as a keep-alive when
// nothing was sent for a while. Subscribers whose client left, or stopped reading, are dropped;
// their number is capped.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ballot_metrics.hpp"
#include "civic/http/server.hpp"
#include "results_service.hpp"

namespace civic::ballot {

struct StreamOptions {
  std::chrono::milliseconds period{1000};      // at most one update per subscriber per period
  std::chrono::milliseconds keepalive{15000};  // a comment line after this long without a write
  // A subscriber whose client has not taken what was sent (the socket is full) gets no new
  // update until it has: the next one it gets is the latest. Behind for this long, it is dropped.
  std::chrono::milliseconds stall_timeout{60000};
  size_t max_subscribers = 5000;  // open streams at most; each holds a connection
};

// What the ticker does for one subscriber this period.
enum class StreamStep { kNothing, kSend, kKeepAlive, kWait, kDrop };
// `changed`: the results document differs from the last one sent; `buffered`: bytes the socket
// has not taken yet; `since_write`: time since the last write; `behind_for`: how long `buffered`
// has been non-zero (zero when it is zero).
StreamStep NextStreamStep(bool changed, size_t buffered, std::chrono::milliseconds since_write,
                          std::chrono::milliseconds behind_for, const StreamOptions& options);

class ResultsStreams {
 public:
  ResultsStreams(ResultsService& results, BallotMetrics& metrics, StreamOptions options = {});
  ~ResultsStreams();
  ResultsStreams(const ResultsStreams&) = delete;
  ResultsStreams& operator=(const ResultsStreams&) = delete;

  void Start();
  enum class Reservation { kHeld, kFull, kStopping };
  // Holds a place for one more subscriber (kHeld), or answers kFull when max_subscribers are
  // open (or held), kStopping once Stop() began. Each kHeld must be followed by one Subscribe(),
  // which takes the place.
  Reservation Reserve();
  // Sends `first` (the current document) at once and keeps `stream` as a subscriber of the
  // award's results. Any thread. REQUIRES: a place held by Reserve().
  void Subscribe(int64_t award_id, bool admin, const ResultsService::Document& first,
                 std::unique_ptr<http::ResponseStream> stream);
  // Ends every stream and stops the ticker. Idempotent.
  void Stop();

  // The SSE "results" event carrying `doc`.
  static std::string Event(const ResultsService::Document& doc);

 private:
  using SteadyClock = std::chrono::steady_clock;
  struct Subscriber {
    int64_t award_id = 0;
    bool admin = false;
    std::unique_ptr<http::ResponseStream> stream;
    const std::string* last_sent = nullptr;   // identity of the last document sent
    std::shared_ptr<const std::string> keep;  // keeps last_sent alive
    SteadyClock::time_point last_write{};
    SteadyClock::time_point behind_since{};  // when the socket was first seen full; {} if not
  };

  void Run();
  void Tick();
  void PublishCount();  // REQUIRES: mu_ held

  ResultsService& results_;
  BallotMetrics& metrics_;
  const StreamOptions options_;

  std::mutex mu_;  // guards subscribers_, reserved_ and stopping_
  std::condition_variable cv_;
  std::vector<Subscriber> subscribers_;
  size_t reserved_ = 0;  // places held by Reserve() not yet taken by Subscribe()
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace civic::ballot
