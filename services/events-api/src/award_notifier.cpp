#include "award_notifier.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include "civic/runtime/thread_name.hpp"

namespace civic::events {

AwardChangeNotifier::AwardChangeNotifier(Store& store, const BallotClient& ballot)
    : store_(store), ballot_(ballot) {
  if (ballot_.configured()) {
    thread_ = std::thread([this] {
      runtime::NameThisThread("events-notify");
      Run();
    });
  }
}

AwardChangeNotifier::~AwardChangeNotifier() { Stop(); }

void AwardChangeNotifier::Poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poked_ = true;
  }
  cv_.notify_one();
}

void AwardChangeNotifier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::map<int64_t, int64_t> AwardChangeNotifier::Versions() {
  return store_.Read([](sqlite::Database& db) {
    std::map<int64_t, int64_t> versions;
    auto statement = db.Prepare("SELECT id, version FROM awards WHERE status <> 'draft'");
    while (statement.Step()) {
      versions[statement.ColumnInt64(0)] = statement.ColumnInt64(1);
    }
    return versions;
  });
}

void AwardChangeNotifier::Run() {
  using Clock = std::chrono::steady_clock;
  std::map<int64_t, int64_t> announced;  // what the ballot was told (or had at our start)
  bool baseline = false;                 // `announced` holds the versions found at start
  Clock::time_point last_failure_log{};
  auto log_failure = [&](const std::string& what) {
    if (Clock::now() - last_failure_log > std::chrono::minutes(1)) {
      last_failure_log = Clock::now();
      spdlog::warn("award change notifier: {}", what);
    }
  };
  while (true) {
    if (baseline) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return poked_ || stopping_; });
      if (stopping_) {
        return;
      }
      poked_ = false;
    }
    try {
      if (!baseline) {
        announced = Versions();  // the ballot fetches everything at its own start
        baseline = true;
        continue;
      }
      for (const auto& [id, version] : Versions()) {
        auto it = announced.find(id);
        if (it != announced.end() && it->second == version) {
          continue;
        }
        // Announcements are gathered from many writes: each call has an id of its own.
        const http::Correlation correlation = http::NewCorrelation();
        const BallotAnswer answer = ballot_.AwardChanged(id, correlation);
        if (answer.status >= 200 && answer.status < 300) {
          announced[id] = version;
        } else {
          // Not announced: the next write tries again; the ballot's polling catches up anyway.
          log_failure(
              "telling the ballot at " + ballot_.url() + " that award " + std::to_string(id) +
              " changed failed (request id " + correlation.request_id + "): " +
              (answer.status == 0 ? answer.error : "status " + std::to_string(answer.status)));
        }
      }
    } catch (const StoreClosed&) {
      return;  // the service is stopping
    } catch (const std::exception& e) {
      log_failure(std::string("cannot read award versions: ") + e.what());
      if (!baseline) {
        std::unique_lock<std::mutex> lock(mu_);
        if (cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
          return;
        }
      }
    }
  }
}

}  // namespace civic::events
