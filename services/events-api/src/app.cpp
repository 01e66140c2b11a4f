#include "app.hpp"

#include <filesystem>

#include "migrations.hpp"
#include "resources/cities.hpp"
#include "resources/events.hpp"
#include "resources/organizations.hpp"
#include "resources/people.hpp"
#include "resources/programs.hpp"
#include "resources/sessions.hpp"
#include "resources/team_members.hpp"
#include "resources/teams.hpp"
#include "rest/crud.hpp"

namespace civic::events {

void AddEventsFlags(CLI::App& app, Config& config) {
  app.add_option("--synchronous", config.synchronous,
                 "SQLite durability: full (every commit survives power loss) or normal (WAL: "
                 "survives a crash, may lose the last commits on power loss; faster writes)")
      ->envname("CIVIC_EVENTS_SYNCHRONOUS")
      ->check(CLI::IsMember({"full", "normal"}))
      ->capture_default_str();
}

App::App(const Config& config, metrics::Registry& registry) : config_(config) {
  const std::string path = (std::filesystem::path(config.server.data_dir) / "events.db").string();
  store_ = std::make_unique<Store>(
      path, config.server.workers + 1,
      config.synchronous == "normal" ? sqlite::Synchronous::kNormal : sqlite::Synchronous::kFull);
  registry.AddCallbackGauge("events_schema_version", "Schema version of the events database.",
                            [] { return static_cast<double>(Migrations().back().version); });
}

http::Router App::Routes() {
  http::Router router;
  Store& store = *store_;
  // Resources with the standard five endpoints (rest/crud.hpp).
  rest::AddCrudRoutes<resources::Cities>(router, store, clock_);
  rest::AddCrudRoutes<resources::Organizations>(router, store, clock_);
  rest::AddCrudRoutes<resources::People>(router, store, clock_);
  rest::AddCrudRoutes<resources::Programs>(router, store, clock_);
  rest::AddCrudRoutes<resources::Teams>(router, store, clock_);
  rest::AddCrudRoutes<resources::TeamMembers>(router, store, clock_);
  rest::AddNestedList<resources::TeamMembers>(router, store, "/v1/teams/{id}/members", "teams",
                                              "team", "team_id");
  resources::AddTeamCompositionRoute(router, store);
  rest::AddCrudRoutes<resources::Events>(router, store, clock_);
  rest::AddCrudRoutes<resources::Sessions>(router, store, clock_);
  rest::AddNestedList<resources::Sessions>(router, store, "/v1/events/{id}/sessions", "events",
                                           "event", "event_id");
  return router;
}

std::optional<std::string> App::NotReadyReason() { return store_->NotReadyReason(); }

void App::Close() { store_->Close(); }

}  // namespace civic::events
