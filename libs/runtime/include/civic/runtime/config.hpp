#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "civic/http/server.hpp"

namespace civic::runtime {

// The settings every server binary shares. Each has a flag and an environment variable
// (ENV_PREFIX + "_HOST", ...); a flag wins over the environment, which wins over the default.
struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string data_dir;
  std::string log_level = "info";
  std::string log_format = "text";  // text|json, for the log (stderr) and the access log (stdout)
  bool access_log = true;           // a line per answered request on stdout
  int threads = 1;
  int workers = 2;
  size_t max_body_bytes = 64 * 1024;
  std::vector<std::string> cors_origins = {"*"};
  int drain_timeout_ms = 10'000;
  // Rate limits (README "Rate limits"): entries over the defaults, "off" to disable.
  std::vector<std::string> rate_limits;
  std::vector<std::string> trusted_proxies;  // networks whose X-Forwarded-For is believed
  size_t rate_limit_entries = size_t{1} << 20;
};

// Registers --host, --port, --data-dir, --log-level, --log-format, --access-log, --threads,
// --workers, --max-body-bytes, --cors-origins and --drain-timeout-ms on `app`, bound to `config`
// (whose current values are the defaults), each with the environment variable `env_prefix` + "_" +
// NAME.
void AddServerFlags(CLI::App& app, ServerConfig& config, const std::string& env_prefix);

// Registers --version: prints "PROGRAM VERSION (commit COMMIT)" and exits 0.
void AddVersionFlag(CLI::App& app, const std::string& program);

// Parses the command line. Returns -1 to go on, or the exit code to return from main (0 for
// --help, non-zero after printing a message that names the offending flag).
int Parse(CLI::App& app, int argc, char** argv);

// Creates `dir` (and parents) if missing and checks it is a writable directory.
// Throws std::runtime_error naming the path and the reason otherwise. With `existing_file` (a
// file name in `dir`): a directory that holds that file may be read-only, for a service that
// starts without writing and waits for storage to work (the ballot on a sick disk).
void PrepareDataDir(const std::string& dir, const std::string& existing_file = "");

// The server's options; with `access_log` on, an access log on standard output named `service`
// in the configured format (logging.hpp: MakeAccessLog).
http::ServerOptions ToServerOptions(const ServerConfig& config, const std::string& service);

// Turns on the rate limits of `options` for a service whose key roles are `roles` (besides
// "public", which comes first), identifying callers with `identify`, with the defaults and then
// config.rate_limits, config.trusted_proxies and config.rate_limit_entries. Throws
// std::runtime_error naming the flag and the entry when one is wrong.
void ApplyRateLimits(const ServerConfig& config, const std::vector<std::string>& roles,
                     std::function<http::RateIdentity(const http::Request&)> identify,
                     http::ServerOptions& options);

// "host=127.0.0.1 port=8080 ..." for a start-up log line. ServerConfig holds no secrets.
std::string Describe(const ServerConfig& config);

}  // namespace civic::runtime
