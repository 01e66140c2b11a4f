// civic-events-api: the system of record. Only this file knows every layer.
#include <spdlog/spdlog.h>

#include <iostream>

#include "access/policy.hpp"
#include "app.hpp"
#include "civic/http/operational_routes.hpp"
#include "civic/http/server.hpp"
#include "civic/metrics/process.hpp"
#include "civic/runtime/backup.hpp"
#include "civic/runtime/build_info.hpp"
#include "civic/runtime/config.hpp"
#include "civic/runtime/logging.hpp"
#include "civic/runtime/serve.hpp"

int main(int argc, char** argv) {
  civic::runtime::BlockTerminationSignals();

  civic::events::Config config;
  config.server.port = 8080;
  config.server.data_dir = "./var/events-api";
  CLI::App cli{
      "civic-events-api: cities, organisations, people, programs, teams, events, "
      "projects and awards over REST/JSON"};
  civic::runtime::AddVersionFlag(cli, "civic-events-api");
  civic::runtime::AddServerFlags(cli, config.server, "CIVIC_EVENTS");
  std::string ballot_admin_key_file;
  std::string admin_key_file;
  std::string smtp_password_file;
  civic::events::AddEventsFlags(cli, config, ballot_admin_key_file, admin_key_file,
                                smtp_password_file);
  bool print_routes = false;
  cli.add_flag("--print-routes", print_routes,
               "Print every route and the roles that may call it (JSON lines), then exit");
  const civic::runtime::BackupCommand backup(cli, "civic-events-api", "events.db", "CIVIC_EVENTS");
  if (const int code = civic::runtime::Parse(cli, argc, argv); code >= 0) {
    return code;
  }
  if (backup.requested()) {
    return backup.Run(config.server.data_dir, std::cout, std::cerr);
  }
  if (print_routes) {
    for (const auto& policy : civic::events::access::RoutePolicies()) {
      std::cout << nlohmann::json{{"method", civic::http::ToString(policy.method)},
                                  {"pattern", policy.pattern},
                                  {"roles", civic::events::access::RoleNames(policy.roles)}}
                       .dump()
                << "\n";
    }
    return 0;
  }
  civic::runtime::InitLogging("civic-events-api", config.server.log_level,
                              *civic::runtime::ParseLogFormat(config.server.log_format));
  try {
    civic::events::LoadSecrets(config, ballot_admin_key_file, admin_key_file, smtp_password_file,
                               civic::runtime::ProcessEnv);
  } catch (const std::exception& e) {
    std::cerr << "civic-events-api: " << e.what() << std::endl;
    return 2;
  }
  spdlog::debug("settings: {} ballot_url={}", civic::runtime::Describe(config.server),
                config.ballot_url);

  civic::metrics::Registry registry;
  civic::metrics::RegisterProcessMetrics(registry, "events-api", civic::runtime::kVersion,
                                         civic::runtime::kCommit);
  std::unique_ptr<civic::events::App> app;
  try {
    civic::runtime::PrepareDataDir(config.server.data_dir);
    app = std::make_unique<civic::events::App>(config, registry);
  } catch (const std::exception& e) {
    std::cerr << "civic-events-api: " << e.what() << std::endl;
    return 1;
  }
  civic::http::Router router = app->Routes();
  civic::http::AddOperationalRoutes(router, registry, [&app] { return app->NotReadyReason(); });
  civic::http::ServerOptions options =
      civic::runtime::ToServerOptions(config.server, "civic-events-api");
  try {
    civic::runtime::ApplyRateLimits(
        config.server, civic::events::App::RateRoles(),
        [&app](const civic::http::Request& request) { return app->RateIdentityOf(request); },
        options);
  } catch (const std::exception& e) {
    std::cerr << "civic-events-api: " << e.what() << std::endl;
    return 1;
  }
  civic::http::Server server(std::move(options), std::move(router), registry);
  return civic::runtime::ServeUntilSignal(
      server, "civic-events-api", config.server.host, config.server.drain_timeout_ms,
      *civic::runtime::ParseLogFormat(config.server.log_format), [&app] { app->Close(); });
}
