#include "app.hpp"

#include <filesystem>

#include "migrations.hpp"

namespace civic::ballot {

namespace {

std::string ValidateUrl(std::string& url) {
  if (url.rfind("http://", 0) != 0 || url.size() <= 7) {
    return "must be an http:// URL, e.g. http://127.0.0.1:8080";
  }
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return "";
}

}  // namespace

void AddBallotFlags(CLI::App& app, Config& config) {
  app.add_option("--events-url", config.events_url, "Base URL of the events API")
      ->envname("CIVIC_BALLOT_EVENTS_URL")
      ->check(CLI::Validator(ValidateUrl, "URL", "http URL"))
      ->capture_default_str();
}

App::App(const Config& config, metrics::Registry& registry) : config_(config) {
  const std::string path = (std::filesystem::path(config.server.data_dir) / "ballot.db").string();
  db_.emplace(sqlite::Database::Open(path));
  sqlite::Migrate(*db_, Migrations());
  registry.AddCallbackGauge("ballot_schema_version", "Schema version of the ballot database.",
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

}  // namespace civic::ballot
