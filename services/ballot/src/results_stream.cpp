#include "results_stream.hpp"

#include <algorithm>
#include <utility>

#include "civic/runtime/thread_name.hpp"

namespace civic::ballot {

StreamStep NextStreamStep(bool changed, size_t buffered, std::chrono::milliseconds since_write,
                          std::chrono::milliseconds behind_for, const StreamOptions& options) {
  if (buffered > 0) {
    // The socket is full: more would only pile up in memory. Wait (the update is not lost: the
    // latest document goes once the client has caught up), up to the stall timeout.
    return behind_for >= options.stall_timeout ? StreamStep::kDrop : StreamStep::kWait;
  }
  if (changed) {
    return StreamStep::kSend;
  }
  return since_write >= options.keepalive ? StreamStep::kKeepAlive : StreamStep::kNothing;
}

ResultsStreams::ResultsStreams(ResultsService& results, BallotMetrics& metrics,
                               StreamOptions options)
    : results_(results), metrics_(metrics), options_(options) {}

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

ResultsStreams::Reservation ResultsStreams::Reserve() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) {
    return Reservation::kStopping;
  }
  if (subscribers_.size() + reserved_ >= options_.max_subscribers) {
    metrics_.results_streams_refused.Inc();
    return Reservation::kFull;
  }
  ++reserved_;
  return Reservation::kHeld;
}

void ResultsStreams::Subscribe(int64_t award_id, bool admin, const ResultsService::Document& first,
                               std::unique_ptr<http::ResponseStream> stream) {
  // Browsers reconnect after `retry` ms when the stream ends.
  const bool sent = stream->Write("retry: 2000\n\n" + Event(first));
  std::lock_guard<std::mutex> lock(mu_);
  --reserved_;
  if (!sent) {
    return;
  }
  if (stopping_) {
    stream->End();
    return;
  }
  Subscriber subscriber;
  subscriber.award_id = award_id;
  subscriber.admin = admin;
  subscriber.stream = std::move(stream);
  subscriber.last_sent = first.json.get();
  subscriber.keep = first.json;
  subscriber.last_write = SteadyClock::now();
  subscribers_.push_back(std::move(subscriber));
  PublishCount();
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
  PublishCount();
}

void ResultsStreams::PublishCount() {
  metrics_.results_subscribers.Set(static_cast<double>(subscribers_.size()));
}

void ResultsStreams::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.period, [this] { return stopping_; });
    if (stopping_) {
      break;
    }
    lock.unlock();
    Tick();
    lock.lock();
  }
}

void ResultsStreams::Tick() {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto now = SteadyClock::now();
  // Each document's event is built once per tick, however many subscribers it goes to. The
  // list holds the documents too: a document freed during the tick could leave its address to a
  // newer one, which would then be sent the old event.
  std::vector<std::pair<std::shared_ptr<const std::string>, std::string>> events;
  auto event_of = [&events](const ResultsService::Document& doc) -> const std::string& {
    for (const auto& [json, event] : events) {
      if (json == doc.json) {
        return event;
      }
    }
    return events.emplace_back(doc.json, Event(doc)).second;
  };

  std::lock_guard<std::mutex> lock(mu_);
  for (auto& subscriber : subscribers_) {
    auto doc = results_.Get(subscriber.award_id, subscriber.admin, false);
    const bool changed = doc.ok() && doc->json.get() != subscriber.last_sent;
    const size_t buffered = subscriber.stream->buffered();
    if (buffered == 0) {
      subscriber.behind_since = {};
    } else if (subscriber.behind_since == SteadyClock::time_point{}) {
      subscriber.behind_since = now;
    }
    const auto behind_for = buffered == 0
                                ? milliseconds(0)
                                : duration_cast<milliseconds>(now - subscriber.behind_since);
    switch (NextStreamStep(changed, buffered,
                           duration_cast<milliseconds>(now - subscriber.last_write), behind_for,
                           options_)) {
      case StreamStep::kSend:
        if (subscriber.stream->Write(event_of(*doc))) {
          subscriber.last_sent = doc->json.get();
          subscriber.keep = doc->json;
          subscriber.last_write = now;
        }
        break;
      case StreamStep::kKeepAlive:
        if (subscriber.stream->Write(": keep-alive\n\n")) {
          subscriber.last_write = now;
        }
        break;
      case StreamStep::kDrop:
        metrics_.results_streams_stalled.Inc();
        subscriber.stream->Abort();
        break;
      case StreamStep::kWait:
      case StreamStep::kNothing:
        break;
    }
  }
  std::erase_if(subscribers_, [](const Subscriber& s) { return !s.stream->open(); });
  PublishCount();
}

}  // namespace civic::ballot
