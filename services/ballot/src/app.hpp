#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "civic/http/router.hpp"
#include "civic/metrics/metrics.hpp"
#include "civic/runtime/config.hpp"
#include "civic/sqlite/sqlite.hpp"

namespace civic::ballot {

struct Config {
  runtime::ServerConfig server;
  std::string events_url = "http://127.0.0.1:8080";  // base URL of the events API
};

// Registers the ballot-specific flags (--events-url) on `app`.
void AddBallotFlags(CLI::App& app, Config& config);

// The ballot service: its storage and its route table.
class App {
 public:
  // Opens (creating and migrating) DATA_DIR/ballot.db. Throws with the file and the reason.
  App(const Config& config, metrics::Registry& registry);

  http::Router Routes();
  std::optional<std::string> NotReadyReason();
  void Close();

 private:
  Config config_;
  std::mutex db_mu_;  // guards db_
  std::optional<sqlite::Database> db_;
};

}  // namespace civic::ballot
