#include "config.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

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

struct SecretSpec {
  const char* flag;      // --voter-key-file
  const char* file_env;  // CIVIC_BALLOT_VOTER_KEY_FILE
  const char* env;       // CIVIC_BALLOT_VOTER_KEY
  size_t min_bytes;
};

std::string Where(const SecretSpec& spec) {
  return std::string(spec.flag) + " (" + spec.file_env + ") or " + spec.env;
}

std::string ReadSecret(const SecretSpec& spec, const std::string& file, const EnvLookup& env) {
  std::string value;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      throw std::runtime_error(std::string(spec.flag) + ": cannot read " + file);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    value = ss.str();
  } else if (auto from_env = env(spec.env)) {
    value = std::move(*from_env);
  }
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ' ||
                            value.back() == '\t')) {
    value.pop_back();
  }
  if (value.empty()) {
    throw std::runtime_error("missing secret: set " + Where(spec));
  }
  if (value.size() < spec.min_bytes) {
    throw std::runtime_error(Where(spec) + ": the secret must be at least " +
                             std::to_string(spec.min_bytes) + " bytes");
  }
  return value;
}

const SecretSpec kVoter{"--voter-key-file", "CIVIC_BALLOT_VOTER_KEY_FILE", "CIVIC_BALLOT_VOTER_KEY",
                        kMinVoterKeyBytes};
const SecretSpec kClient{"--client-key-file", "CIVIC_BALLOT_CLIENT_KEY_FILE",
                         "CIVIC_BALLOT_CLIENT_KEY", kMinApiKeyBytes};
const SecretSpec kAdmin{"--admin-key-file", "CIVIC_BALLOT_ADMIN_KEY_FILE", "CIVIC_BALLOT_ADMIN_KEY",
                        kMinApiKeyBytes};

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
}

void LoadSecrets(Config& config, const EnvLookup& env) {
  config.voter_key = ReadSecret(kVoter, config.voter_key_file, env);
  config.client_key = ReadSecret(kClient, config.client_key_file, env);
  config.admin_key = ReadSecret(kAdmin, config.admin_key_file, env);
  if (config.client_key == config.admin_key) {
    throw std::runtime_error(Where(kClient) + " and " + Where(kAdmin) + " must differ");
  }
}

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

std::string Describe(const Config& config) {
  return runtime::Describe(config.server) + " events_url=" + config.events_url +
         " sync_interval_ms=" + std::to_string(config.sync_interval_ms) +
         " commit_max_batch=" + std::to_string(config.commit_max_batch) +
         " commit_max_delay_ms=" + std::to_string(config.commit_max_delay_ms) +
         " max_streams=" + std::to_string(config.max_streams);
}

}  // namespace civic::ballot
