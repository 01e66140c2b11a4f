#include "config.hpp"

#include <stdexcept>

#include "civic/runtime/secret.hpp"
#include "crypto.hpp"

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

using runtime::SecretSpec;
const SecretSpec kVoter{"--voter-key-file", "CIVIC_BALLOT_VOTER_KEY_FILE", "CIVIC_BALLOT_VOTER_KEY",
                        kMinVoterKeyBytes, false};
const SecretSpec kClient{"--client-key-file", "CIVIC_BALLOT_CLIENT_KEY_FILE",
                         "CIVIC_BALLOT_CLIENT_KEY", kMinApiKeyBytes, true};
const SecretSpec kAdmin{"--admin-key-file", "CIVIC_BALLOT_ADMIN_KEY_FILE", "CIVIC_BALLOT_ADMIN_KEY",
                        kMinApiKeyBytes, true};

}  // namespace

void AddBallotFlags(CLI::App& app, Config& config) {
  app.add_option("--events-url", config.events_url, "Base URL of the events API")
      ->envname("CIVIC_BALLOT_EVENTS_URL")
      ->check(CLI::Validator(ValidateUrl, "URL", "http URL"))
      ->capture_default_str();
  app.add_option("--sync-interval-ms", config.sync_interval_ms,
                 "How often to sync awards with the events API (doubled per failure, up to 60 s)")
      ->envname("CIVIC_BALLOT_SYNC_INTERVAL_MS")
      ->check(CLI::Range(50, 3'600'000))
      ->capture_default_str();
  app.add_option("--voter-key-file", config.voter_key_file,
                 "File holding the HMAC key for voter ids (>= 32 bytes); or set "
                 "CIVIC_BALLOT_VOTER_KEY to the key itself")
      ->envname(kVoter.file_env);
  app.add_option("--client-key-file", config.client_key_file,
                 "File holding the voting client's API key (>= 16 bytes); or set "
                 "CIVIC_BALLOT_CLIENT_KEY")
      ->envname(kClient.file_env);
  app.add_option("--admin-key-file", config.admin_key_file,
                 "File holding the administrators' API key (>= 16 bytes); or set "
                 "CIVIC_BALLOT_ADMIN_KEY")
      ->envname(kAdmin.file_env);
  app.add_option("--commit-max-batch", config.commit_max_batch,
                 "Votes per group-commit transaction at most")
      ->envname("CIVIC_BALLOT_COMMIT_MAX_BATCH")
      ->check(CLI::Range(1, 100'000))
      ->capture_default_str();
  app.add_option("--commit-max-delay-ms", config.commit_max_delay_ms,
                 "How long the committer may wait to gather votes before a commit; 0 commits "
                 "as soon as the previous commit is done")
      ->envname("CIVIC_BALLOT_COMMIT_MAX_DELAY_MS")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  app.add_option("--max-streams", config.max_streams,
                 "Live-results (Server-Sent Events) streams open at once at most; each holds a "
                 "connection (two descriptors); more are answered 503")
      ->envname("CIVIC_BALLOT_MAX_STREAMS")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  app.add_option("--audit-retention-days", config.audit_retention_days,
                 "Days an audit record is kept (older ones are removed at start and with each "
                 "new record)")
      ->envname("CIVIC_BALLOT_AUDIT_RETENTION_DAYS")
      ->check(CLI::Range(1, 36'500))
      ->capture_default_str();
}

void LoadSecrets(Config& config, const runtime::EnvLookup& env) {
  config.voter_key = runtime::ReadSecret(kVoter, config.voter_key_file, env);
  config.client_key = runtime::ReadSecret(kClient, config.client_key_file, env);
  config.admin_key = runtime::ReadSecret(kAdmin, config.admin_key_file, env);
  if (config.client_key == config.admin_key) {
    throw std::runtime_error(runtime::Where(kClient) + " and " + runtime::Where(kAdmin) +
                             " must differ");
  }
}

std::string Describe(const Config& config) {
  return runtime::Describe(config.server) + " events_url=" + config.events_url +
         " sync_interval_ms=" + std::to_string(config.sync_interval_ms) +
         " commit_max_batch=" + std::to_string(config.commit_max_batch) +
         " commit_max_delay_ms=" + std::to_string(config.commit_max_delay_ms) +
         " max_streams=" + std::to_string(config.max_streams) +
         " audit_retention_days=" + std::to_string(config.audit_retention_days);
}

}  // namespace civic::ballot
