#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "civic/http/router.hpp"
#include "civic/metrics/metrics.hpp"
#include "civic/runtime/config.hpp"
#include "civic/sqlite/sqlite.hpp"

namespace civic::events {

struct Config {
  runtime::ServerConfig server;
};

// The events API: its storage and its route table.
class App {
 public:
  // Opens (creating and migrating) DATA_DIR/events.db. Throws on failure with a message that
  // names the file and the reason.
  App(const Config& config, metrics::Registry& registry);

  // Every route of the service, in one table.
  http::Router Routes();
  // Nothing when ready; otherwise why not (storage closed, schema not at the expected version).
  std::optional<std::string> NotReadyReason();
  // Closes storage. Later requests that need it fail with 503.
  void Close();

 private:
  Config config_;
  std::mutex db_mu_;  // guards db_
  std::optional<sqlite::Database> db_;
};

}  // namespace civic::events
