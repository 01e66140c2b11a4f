#include "results_stream.hpp"

#include <algorithm>
#include "civic/runtime/thread_name.hpp"

namespace civic::ballot {

ResultsStreams::ResultsStreams(ResultsService& results, BallotMetrics& metrics,
                               std::chrono::milliseconds period,
                               std::chrono::milliseconds keepalive)
    : results_(results), metrics_(metrics), period_(period), keepalive_(keepalive) {}

ResultsStreams::~ResultsStreams() { Stop(); }

void ResultsStreams::Start() {
  thread_ = std::thread([this] {
    runtime::NameThisThread("ballot-stream");
    Run();
  });
}

std::string ResultsStreams::Event(const ResultsService::Document& doc) {
  std::string event = "event: results\nid: " + std::to_string(doc.tally_version) + "\ndata: ";
  event += *doc.json;  // one line: the JSON is serialised without newlines
  event += "\n\n";
  return event;
}

void ResultsStreams::Subscribe(int64_t award_id, bool admin, const ResultsService::Document& first,
                               std::unique_ptr<http::ResponseStream> stream) {
  // Browsers reconnect after `retry` ms when the stream ends.
  if (!stream->Write("retry: 2000\n\n" + Event(first))) {
    return;
  }
  Subscriber subscriber;
  subscriber.award_id = award_id;
  subscriber.admin = admin;
  subscriber.stream = std::move(stream);
  subscriber.last_sent = first.json.get();
  subscriber.keep = first.json;
  subscriber.last_write = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    subscriber.stream->End();
    return;
  }
  subscribers_.push_back(std::move(subscriber));
  metrics_.results_subscribers.Set(static_cast<double>(subscribers_.size()));
}

void ResultsStreams::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) {
      return;
    }
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& subscriber : subscribers_) {
    subscriber.stream->End();
  }
  subscribers_.clear();
  metrics_.results_subscribers.Set(0);
}

void ResultsStreams::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, period_, [this] { return stopping_; });
    if (stopping_) {
      break;
    }
    lock.unlock();
    Tick();
    lock.lock();
  }
}

void ResultsStreams::Tick() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& subscriber : subscribers_) {
    auto doc = results_.Get(subscriber.award_id, subscriber.admin, false);
    if (doc.ok() && doc->json.get() != subscriber.last_sent) {
      if (subscriber.stream->Write(Event(*doc))) {
        subscriber.last_sent = doc->json.get();
        subscriber.keep = doc->json;
        subscriber.last_write = now;
      }
    } else if (now - subscriber.last_write >= keepalive_) {
      if (subscriber.stream->Write(": keep-alive\n\n")) {
        subscriber.last_write = now;
      }
    }
  }
  std::erase_if(subscribers_, [](const Subscriber& s) { return !s.stream->open(); });
  metrics_.results_subscribers.Set(static_cast<double>(subscribers_.size()));
}

}  // namespace civic::ballot
