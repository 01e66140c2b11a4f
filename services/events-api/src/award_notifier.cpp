#include "award_notifier.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "civic/runtime/thread_name.hpp"
#include "resources/award_sync.hpp"
#include "resources/json_util.hpp"

namespace civic::events {

const char* ToHeaderValue(BallotSync sync) {
  switch (sync) {
    case BallotSync::kApplied:
      return "applied";
    case BallotSync::kPending:
      return "pending";
    case BallotSync::kNotNeeded:
      break;
  }
  return "";
}

AwardChangeNotifier::AwardChangeNotifier(Store& store, const BallotClient& ballot,
                                         const Clock& clock)
    : store_(store), ballot_(ballot), clock_(clock) {
  if (ballot_.configured()) {
    thread_ = std::thread([this] {
      runtime::NameThisThread("events-notify");
      Run();
    });
  }
}

AwardChangeNotifier::~AwardChangeNotifier() { Stop(); }

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

std::map<int64_t, AwardChangeNotifier::Version> AwardChangeNotifier::Versions(Instant now) {
  const int64_t now_ms = resources::Millis(now);
  return store_.Read([now_ms](sqlite::Database& db) {
    std::map<int64_t, Version> versions;
    auto statement = db.Prepare(
        "SELECT id, version, status IN ('closed', 'archived') OR voting_opens_at <= ? "
        "FROM awards WHERE status <> 'draft'");
    statement.Bind(1, now_ms);
    while (statement.Step()) {
      versions[statement.ColumnInt64(0)] = {statement.ColumnInt64(1),
                                            statement.ColumnInt64(2) != 0};
    }
    return versions;
  });
}

bool AwardChangeNotifier::Unannounced(int64_t id, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = announced_.find(id);
  return it == announced_.end() || it->second < version;
}

bool AwardChangeNotifier::Push(int64_t id, bool bounded, const http::Correlation& correlation,
                               std::string& error) {
  auto snapshot =
      store_.Read([id](sqlite::Database& db) { return resources::LoadAwardSnapshot(db, id); });
  const BallotAnswer answer =
      snapshot
          ? ballot_.PushSnapshot(
                id, snapshot->body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                bounded, correlation)
          : ballot_.AwardChanged(id, correlation);
  if (answer.status >= 200 && answer.status < 300) {
    if (snapshot) {
      std::lock_guard<std::mutex> lock(mu_);
      int64_t& told = announced_[id];
      told = std::max(told, snapshot->version);
    }
    return true;
  }
  error = answer.status == 0 ? answer.error : "status " + std::to_string(answer.status);
  return false;
}

BallotSync AwardChangeNotifier::AfterWrite(const http::Correlation& correlation) {
  std::map<int64_t, Version> versions;
  try {
    versions = Versions(clock_.Now());
  } catch (const std::exception& e) {
    spdlog::warn("award change notifier: cannot read award versions: {}", e.what());
    return BallotSync::kPending;
  }
  BallotSync outcome = BallotSync::kNotNeeded;
  bool background = false;
  for (const auto& [id, version] : versions) {
    if (!Unannounced(id, version.version)) {
      continue;
    }
    if (!version.voting_opened) {
      background = true;
      continue;
    }
    if (!ballot_.configured()) {
      outcome = BallotSync::kPending;
      continue;
    }
    std::string error;
    if (Push(id, /*bounded=*/true, correlation, error)) {
      if (outcome == BallotSync::kNotNeeded) {
        outcome = BallotSync::kApplied;
      }
    } else {
      outcome = BallotSync::kPending;
      spdlog::warn(
          "award {} changed while voting is open, and the ballot at {} did not take it (request "
          "id {}: {}); its periodic sync will",
          id, ballot_.url(), correlation.request_id, error);
    }
  }
  if (background) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      poked_ = true;
    }
    cv_.notify_one();
  }
  return outcome;
}

void AwardChangeNotifier::Run() {
  using SteadyClock = std::chrono::steady_clock;
  SteadyClock::time_point last_failure_log{};
  auto log_failure = [&](const std::string& what) {
    if (SteadyClock::now() - last_failure_log > std::chrono::minutes(1)) {
      last_failure_log = SteadyClock::now();
      spdlog::warn("award change notifier: {}", what);
    }
  };
  while (true) {
    bool baseline = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      baseline = baseline_;
      if (baseline) {
        cv_.wait(lock, [this] { return poked_ || stopping_; });
        if (stopping_) {
          return;
        }
        poked_ = false;
      }
    }
    try {
      const auto versions = Versions(clock_.Now());
      if (!baseline) {
        // The ballot fetches everything at its own start.
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& [id, version] : versions) {
          int64_t& told = announced_[id];
          told = std::max(told, version.version);
        }
        baseline_ = true;
        continue;
      }
      for (const auto& [id, version] : versions) {
        if (!Unannounced(id, version.version)) {
          continue;
        }
        // Announcements are gathered from many writes: each call has an id of its own.
        const http::Correlation correlation = http::NewCorrelation();
        std::string error;
        if (!Push(id, /*bounded=*/false, correlation, error)) {
          // Not announced: the next write tries again; the ballot's polling catches up anyway.
          log_failure("telling the ballot at " + ballot_.url() + " that award " +
                      std::to_string(id) + " changed failed (request id " + correlation.request_id +
                      "): " + error);
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
