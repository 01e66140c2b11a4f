// civic-ballot: the people's-choice vote service. Only this file knows every layer.
#include <spdlog/spdlog.h>

#include <iostream>

#include "app.hpp"
#include "civic/http/operational_routes.hpp"
#include "civic/http/server.hpp"
#include "civic/metrics/process.hpp"
#include "civic/runtime/backup.hpp"
#include "civic/runtime/build_info.hpp"
#include "civic/runtime/config.hpp"
#include "civic/runtime/logging.hpp"
#include "civic/runtime/serve.hpp"
#include "config.hpp"
#include "recount.hpp"

int main(int argc, char** argv) {
  civic::runtime::BlockTerminationSignals();

  civic::ballot::Config config;
  config.server.port = 8081;
  config.server.data_dir = "./var/ballot";
  CLI::App cli{"civic-ballot: people's-choice votes, deduplicated, tallied and kept durable"};
  civic::runtime::AddVersionFlag(cli, "civic-ballot");
  civic::runtime::AddServerFlags(cli, config.server, "CIVIC_BALLOT");
  civic::ballot::AddBallotFlags(cli, config);
  std::string recount_dir;
  CLI::App* recount = cli.add_subcommand(
      "recount", "Recompute every tally from the database file alone, print it as JSON, exit");
  CLI::Option* recount_dir_flag =
      recount->add_option("--data-dir", recount_dir,
                          "Directory of the ballot's SQLite database (default: the service's "
                          "--data-dir, CIVIC_BALLOT_DATA_DIR or ./var/ballot)");
  const civic::runtime::BackupCommand backup(cli, "civic-ballot", "ballot.db", "CIVIC_BALLOT");
  if (const int code = civic::runtime::Parse(cli, argc, argv); code >= 0) {
    return code;
  }
  if (backup.requested()) {
    return backup.Run(config.server.data_dir, std::cout, std::cerr);
  }
  if (*recount) {
    // Where the service keeps its database unless told otherwise here: the top-level flag,
    // the environment, the default.
    return civic::ballot::RunRecount(
        recount_dir_flag->count() > 0 ? recount_dir : config.server.data_dir, std::cout, std::cerr);
  }
  civic::runtime::InitLogging("civic-ballot", config.server.log_level,
                              *civic::runtime::ParseLogFormat(config.server.log_format));

  civic::metrics::Registry registry;
  civic::metrics::RegisterProcessMetrics(registry, "ballot", civic::runtime::kVersion,
                                         civic::runtime::kCommit);
  civic::SystemClock clock;
  std::unique_ptr<civic::ballot::App> app;
  try {
    civic::ballot::LoadSecrets(config, civic::runtime::ProcessEnv);
    spdlog::debug("settings: {}", civic::ballot::Describe(config));
    civic::runtime::PrepareDataDir(config.server.data_dir, "ballot.db");
    app = std::make_unique<civic::ballot::App>(config, registry, clock);
  } catch (const std::exception& e) {
    std::cerr << "civic-ballot: " << e.what() << std::endl;
    return 1;
  }
  civic::http::Router router = app->Routes();
  civic::http::AddOperationalRoutes(router, registry, [&app] { return app->NotReadyReason(); });
  civic::http::ServerOptions options =
      civic::runtime::ToServerOptions(config.server, "civic-ballot");
  try {
    civic::runtime::ApplyRateLimits(
        config.server, civic::ballot::App::RateRoles(),
        [&app](const civic::http::Request& request) { return app->RateIdentityOf(request); },
        options);
  } catch (const std::exception& e) {
    std::cerr << "civic-ballot: " << e.what() << std::endl;
    return 1;
  }
  civic::http::Server server(std::move(options), std::move(router), registry);
  return civic::runtime::ServeUntilSignal(
      server, "civic-ballot", config.server.host, config.server.drain_timeout_ms,
      *civic::runtime::ParseLogFormat(config.server.log_format), [&app] { app->Close(); });
}
