#include "app.hpp"

#include <filesystem>

#include "civic/http/operational_routes.hpp"
#include "migrations.hpp"

namespace civic::events {

App::App(const Config& config, metrics::Registry& registry) : config_(config) {
  const std::string path = (std::filesystem::path(config.server.data_dir) / "events.db").string();
  db_.emplace(sqlite::Database::Open(path));
  sqlite::Migrate(*db_, Migrations());
  registry.AddCallbackGauge("events_schema_version", "Schema version of the events database.",
                            [this] {
                              std::lock_guard<std::mutex> lock(db_mu_);
                              return db_ ? static_cast<double>(sqlite::SchemaVersion(*db_)) : 0.0;
                            });
}

http::Router App::Routes() {
  http::Router router;
  return router;
}

std::optional<std::string> App::NotReadyReason() {
  std::lock_guard<std::mutex> lock(db_mu_);
  if (!db_) {
    return "storage is closed";
  }
  try {
    const int version = sqlite::SchemaVersion(*db_);
    const int expected = Migrations().back().version;
    if (version != expected) {
      return "database schema is at version " + std::to_string(version) + ", expected " +
             std::to_string(expected);
    }
  } catch (const std::exception& e) {
    return std::string("storage error: ") + e.what();
  }
  return std::nullopt;
}

void App::Close() {
  std::lock_guard<std::mutex> lock(db_mu_);
  db_.reset();
}

}  // namespace civic::events
