#pragma once

// Live results over Server-Sent Events: a ticker thread sends each subscriber the award's results
// document when it changed, at most once per period, and a comment line as a keep-alive when
// nothing was sent for a while. Subscribers whose client left are dropped.

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

class ResultsStreams {
 public:
  ResultsStreams(ResultsService& results, BallotMetrics& metrics,
                 std::chrono::milliseconds period = std::chrono::seconds(1),
                 std::chrono::milliseconds keepalive = std::chrono::seconds(15));
  ~ResultsStreams();
  ResultsStreams(const ResultsStreams&) = delete;
  ResultsStreams& operator=(const ResultsStreams&) = delete;

  void Start();
  // Sends `first` (the current document) at once and keeps `stream` as a subscriber of the
  // award's results. Any thread.
  void Subscribe(int64_t award_id, bool admin, const ResultsService::Document& first,
                 std::unique_ptr<http::ResponseStream> stream);
  // Ends every stream and stops the ticker. Idempotent.
  void Stop();

  // The SSE "results" event carrying `doc`.
  static std::string Event(const ResultsService::Document& doc);

 private:
  struct Subscriber {
    int64_t award_id = 0;
    bool admin = false;
    std::unique_ptr<http::ResponseStream> stream;
    const std::string* last_sent = nullptr;   // identity of the last document sent
    std::shared_ptr<const std::string> keep;  // keeps last_sent alive
    std::chrono::steady_clock::time_point last_write{};
  };

  void Run();
  void Tick();

  ResultsService& results_;
  BallotMetrics& metrics_;
  const std::chrono::milliseconds period_;
  const std::chrono::milliseconds keepalive_;

  std::mutex mu_;  // guards subscribers_ and stopping_
  std::condition_variable cv_;
  std::vector<Subscriber> subscribers_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace civic::ballot
