#include "civic/runtime/config.hpp"

#include "civic/runtime/build_info.hpp"
#include "civic/runtime/logging.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace civic::runtime {

namespace {

std::string ValidateHost(std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
      inet_pton(AF_INET6, host.c_str(), buffer) == 1) {
    return "";
  }
  return "must be an IPv4 or IPv6 address, e.g. 127.0.0.1";
}

std::string ValidateLogLevel(std::string& level) {
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  for (const char* known : kLevels) {
    if (level == known) {
      return "";
    }
  }
  return "must be one of trace, debug, info, warn, error, critical, off";
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : ",") + item;
  }
  return out;
}

std::string ValidateLogFormat(std::string& format) {
  return ParseLogFormat(format) ? "" : "must be text or json";
}

std::string AsciiLowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
  }
  return out;
}

// One --cors-origins entry made the origin a browser sends (RFC 6454 6.1): scheme and host in
// lower case, the scheme's default port left out ("HTTPS://Portal.Example:443" is
// "https://portal.example"); "*" and "" as they are. An entry with a path (even "/"), a query,
// user information or no host is an error: it would never match an Origin header.
std::string NormaliseOrigin(std::string& origin) {
  if (origin.empty() || origin == "*") {
    return "";
  }
  const std::string refused = "'" + origin + "' is not an origin (scheme://host[:port], ";
  const size_t separator = origin.find("://");
  if (separator == std::string::npos || separator == 0) {
    return refused + "e.g. https://portal.example)";
  }
  const std::string scheme = AsciiLowered(std::string_view(origin).substr(0, separator));
  for (const char c : scheme) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) {
      return refused + "e.g. https://portal.example)";
    }
  }
  const std::string_view authority = std::string_view(origin).substr(separator + 3);
  if (authority.find_first_of("/?#") != std::string_view::npos) {
    return refused + "without a path: e.g. https://portal.example)";
  }
  if (authority.empty() || authority.find_first_of("@ \t") != std::string_view::npos) {
    return refused + "e.g. https://portal.example)";
  }
  // The port: after the last ':' outside an IPv6 literal's brackets.
  std::string_view host = authority;
  std::string_view port;
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    const bool digits = !port.empty() && port.size() <= 5 &&
                        port.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits || std::stoi(std::string(port)) == 0 || std::stoi(std::string(port)) > 65535) {
      return refused + "the port a number from 1 to 65535)";
    }
  }
  if (host.empty()) {
    return refused + "e.g. https://portal.example)";
  }
  const bool default_port =
      (scheme == "https" && port == "443") || (scheme == "http" && port == "80");
  origin = scheme + "://" + AsciiLowered(host) +
           (port.empty() || default_port ? "" : ":" + std::string(port));
  return "";
}

}  // namespace

void AddServerFlags(CLI::App& app, ServerConfig& config, const std::string& env_prefix) {
  app.add_option("--host", config.host, "Address to listen on")
      ->envname(env_prefix + "_HOST")
      ->check(CLI::Validator(ValidateHost, "IP", "IP address"))
      ->capture_default_str();
  app.add_option("--port", config.port, "TCP port; 0 picks a free one (printed at start)")
      ->envname(env_prefix + "_PORT")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--data-dir", config.data_dir, "Directory of the SQLite database (created)")
      ->envname(env_prefix + "_DATA_DIR")
      ->capture_default_str();
  app.add_option("--log-level", config.log_level, "trace|debug|info|warn|error|critical|off")
      ->envname(env_prefix + "_LOG_LEVEL")
      ->check(CLI::Validator(ValidateLogLevel, "LEVEL", "log level"))
      ->capture_default_str();
  app.add_option("--log-format", config.log_format,
                 "text|json: lines of the log (stderr) and the access log (stdout)")
      ->envname(env_prefix + "_LOG_FORMAT")
      ->check(CLI::Validator(ValidateLogFormat, "FORMAT", "log format"))
      ->capture_default_str();
  app.add_option("--access-log", config.access_log,
                 "on|off: a line per answered request on stdout (route pattern, status, "
                 "duration, bytes, request id, key id)")
      ->envname(env_prefix + "_ACCESS_LOG")
      ->check(CLI::IsMember({"on", "off"}))
      ->default_str("on");
  app.add_option("--threads", config.threads, "Network threads")
      ->envname(env_prefix + "_THREADS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--workers", config.workers, "Worker threads for storage work")
      ->envname(env_prefix + "_WORKERS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--max-body-bytes", config.max_body_bytes, "Default request body limit")
      ->envname(env_prefix + "_MAX_BODY_BYTES")
      ->check(CLI::Range(size_t{1024}, size_t{16} * 1024 * 1024))
      ->capture_default_str();
  app.add_option("--cors-origins", config.cors_origins,
                 "Origins allowed to call from browsers ('*' for any); comma-separated, each "
                 "scheme://host[:port] without a path (compared in lower case)")
      ->envname(env_prefix + "_CORS_ORIGINS")
      ->delimiter(',')
      ->transform(CLI::Validator(NormaliseOrigin, "ORIGIN", "origin"))
      ->capture_default_str();
  app.add_option("--rate-limits", config.rate_limits,
                 "Rate limits over the defaults, comma-separated: CLASS[@ROLE]=RATE:BURST "
                 "(requests per second, bucket size) or CLASS[@ROLE]=off; CLASS is public_read, "
                 "writes, votes, exports, streams or *; ROLE is public (no key: per client "
                 "address), a key role, or *; 'off' alone disables rate limiting")
      ->envname(env_prefix + "_RATE_LIMITS")
      ->delimiter(',');
  app.add_option("--trusted-proxies", config.trusted_proxies,
                 "Networks of reverse proxies whose X-Forwarded-For names the client "
                 "(comma-separated, e.g. 10.0.0.0/8,::1); none by default")
      ->envname(env_prefix + "_TRUSTED_PROXIES")
      ->delimiter(',');
  app.add_option("--rate-limit-entries", config.rate_limit_entries,
                 "Rate-limit buckets kept at most (24 bytes each); the least recently used of a "
                 "full set is forgotten")
      ->envname(env_prefix + "_RATE_LIMIT_ENTRIES")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 28))
      ->capture_default_str();
  app.add_option("--drain-timeout-ms", config.drain_timeout_ms,
                 "On SIGTERM/SIGINT, how long in-flight requests may take to finish")
      ->envname(env_prefix + "_DRAIN_TIMEOUT_MS")
      ->check(CLI::Range(0, 600'000))
      ->capture_default_str();
}

void AddVersionFlag(CLI::App& app, const std::string& program) {
  app.set_version_flag("--version",
                       program + " " + kVersion + " (commit " + std::string(kCommit) + ")",
                       "Print the version and the commit it was built from, then exit");
}

int Parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return -1;
}

void PrepareDataDir(const std::string& dir, const std::string& existing_file) {
  namespace fs = std::filesystem;
  if (dir.empty()) {
    throw std::runtime_error("--data-dir: must not be empty");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error("--data-dir: cannot create " + dir + ": " + ec.message());
  }
  if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error("--data-dir: " + dir + " is not a directory");
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    const int error = errno;
    if (!existing_file.empty() && access(dir.c_str(), X_OK) == 0 &&
        fs::is_regular_file(fs::path(dir) / existing_file, ec)) {
      return;  // the service reads what is there and says it is not ready
    }
    throw std::runtime_error("--data-dir: " + dir + " is not writable: " + std::strerror(error));
  }
}

http::ServerOptions ToServerOptions(const ServerConfig& config, const std::string& service) {
  http::ServerOptions options;
  if (config.access_log) {
    options.access_log = MakeAccessLog(service, *ParseLogFormat(config.log_format), STDOUT_FILENO);
  }
  options.host = config.host;
  options.port = static_cast<uint16_t>(config.port);
  options.threads = config.threads;
  options.workers = config.workers;
  options.max_body_bytes = config.max_body_bytes;
  options.cors_origins = config.cors_origins;
  return options;
}

void ApplyRateLimits(const ServerConfig& config, const std::vector<std::string>& roles,
                     std::function<http::RateIdentity(const http::Request&)> identify,
                     http::ServerOptions& options) {
  http::RateLimitOptions& rl = options.rate_limits;
  rl.enabled = true;
  rl.roles = {"public"};
  rl.roles.insert(rl.roles.end(), roles.begin(), roles.end());
  rl.limits = http::DefaultRateLimits(rl.roles);
  if (const std::string error = http::ApplyRateLimitSpecs(config.rate_limits, rl); !error.empty()) {
    throw std::runtime_error("--rate-limits: " + error);
  }
  rl.trusted_proxies.clear();
  for (const auto& text : config.trusted_proxies) {
    if (text.empty()) {
      continue;
    }
    const auto network = http::ParseNetwork(text);
    if (!network) {
      throw std::runtime_error("--trusted-proxies: '" + text +
                               "' is not an IP address or network (e.g. 10.0.0.0/8)");
    }
    rl.trusted_proxies.push_back(*network);
  }
  rl.max_entries = config.rate_limit_entries;
  rl.identify = std::move(identify);
}

std::string Describe(const ServerConfig& config) {
  std::string origins;
  for (const auto& origin : config.cors_origins) {
    origins += (origins.empty() ? "" : ",") + origin;
  }
  return "host=" + config.host + " port=" + std::to_string(config.port) +
         " data_dir=" + config.data_dir + " log_level=" + config.log_level +
         " log_format=" + config.log_format + " access_log=" + (config.access_log ? "on" : "off") +
         " threads=" + std::to_string(config.threads) +
         " workers=" + std::to_string(config.workers) +
         " max_body_bytes=" + std::to_string(config.max_body_bytes) + " cors_origins=" + origins +
         " drain_timeout_ms=" + std::to_string(config.drain_timeout_ms) +
         " rate_limits=" + Joined(config.rate_limits) +
         " trusted_proxies=" + Joined(config.trusted_proxies) +
         " rate_limit_entries=" + std::to_string(config.rate_limit_entries);
}

}  // namespace civic::runtime
