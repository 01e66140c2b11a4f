#pragma once

#include <memory>
#include <optional>
#include <string>

#include "award_notifier.hpp"
#include "ballot_client.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "civic/metrics/metrics.hpp"
#include "civic/runtime/config.hpp"
#include "storage/store.hpp"

namespace civic::events {

struct Config {
  runtime::ServerConfig server;
  std::string synchronous = "full";                  // "full" or "normal": see Store
  std::string ballot_url = "http://127.0.0.1:8081";  // base URL of the ballot service
  std::string ballot_admin_key;  // secret, from a file or the environment only; never logged
};

// Registers the events-API flags (--synchronous, --ballot-url, --ballot-admin-key-file) on
// `app`; the key file
// path lands in `admin_key_file`.
void AddEventsFlags(CLI::App& app, Config& config, std::string& admin_key_file);

// Sets config.ballot_admin_key from `admin_key_file` when given (surrounding white space
// trimmed), else from the environment variable CIVIC_EVENTS_BALLOT_ADMIN_KEY; leaves it empty when
// neither is set. Throws std::runtime_error naming the flag or variable when the key is
// unreadable, empty or not printable ASCII.
void LoadBallotAdminKey(Config& config, const std::string& admin_key_file);

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
  std::unique_ptr<BallotClient> ballot_;
  std::unique_ptr<AwardChangeNotifier> notifier_;  // after store_ and ballot_: stops first
};

}  // namespace civic::events
