#pragma once

#include <memory>
#include <optional>
#include <string>

#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "civic/metrics/metrics.hpp"
#include "civic/runtime/config.hpp"
#include "storage/store.hpp"

namespace civic::events {

struct Config {
  runtime::ServerConfig server;
  std::string synchronous = "full";  // "full" or "normal": see Store
};

// Registers the events-API-specific flags (--synchronous) on `app`.
void AddEventsFlags(CLI::App& app, Config& config);

// The events API: its storage and its route table.
class App {
 public:
  // Opens (creating and migrating) DATA_DIR/events.db. Throws on failure with a message that
  // names the file and the reason.
  App(const Config& config, metrics::Registry& registry);

  // Every route of the service, in one table. The App must outlive the router.
  http::Router Routes();
  // Nothing when ready; otherwise why not (storage closed, schema not at the expected version).
  std::optional<std::string> NotReadyReason();
  // Closes storage (after in-flight requests). Later requests that need it get 503.
  void Close();

 private:
  Config config_;
  SystemClock clock_;
  std::unique_ptr<Store> store_;
};

}  // namespace civic::events
