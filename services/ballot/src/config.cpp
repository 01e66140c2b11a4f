#include "config.hpp"

#include <stdexcept>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include "civic/runtime/secret.hpp"

#include "crypto.hpp"
#include "held_votes.hpp"

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
  app.add_option("--hold-rules", config.hold_rules,
                 "Thresholds of the rules that hold suspicious votes, over the defaults, "
                 "comma-separated NAME=VALUE (voters_per_device, voters_per_address, "
                 "voters_per_block, window_s, votes_per_voter, voter_window_s, burst_min, "
                 "burst_factor, burst_window_s; a count of 0 turns its rule off), or 'off' for "
                 "no rules; admins may set an award's own with PUT /v1/awards/{award}/vote-rules")
      ->envname("CIVIC_BALLOT_HOLD_RULES")
      ->delimiter(',');
  app.add_option("--hold-rule-slots", config.hold_rule_slots,
                 "Slots of each table the hold rules count in (bounded memory; the idlest "
                 "entry of a full set is forgotten)")
      ->envname("CIVIC_BALLOT_HOLD_RULE_SLOTS")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 26))
      ->capture_default_str();
  app.add_option("--audit-retention-days", config.audit_retention_days,
                 "Days an audit record is kept (older ones are removed at start and with each "
                 "new record)")
      ->envname("CIVIC_BALLOT_AUDIT_RETENTION_DAYS")
      ->check(CLI::Range(1, 36'500))
      ->capture_default_str();
}

HoldRulesConfig ParseHoldRules(const Config& config) {
  HoldRulesConfig out;
  nlohmann::json doc = nlohmann::json::object();
  for (const std::string& entry : config.hold_rules) {
    if (entry.empty()) {
      continue;
    }
    if (entry == "off") {
      out.enabled = false;
      continue;
    }
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) {
      throw std::runtime_error("--hold-rules: '" + entry + "': expected NAME=VALUE or off");
    }
    const std::string value = entry.substr(eq + 1);
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size()) {
      throw std::runtime_error("--hold-rules: '" + entry + "': the value must be a number");
    }
    const std::string name = entry.substr(0, eq);
    if (doc.contains(name)) {
      throw std::runtime_error("--hold-rules: '" + name + "' is given more than once");
    }
    if (name == "burst_factor") {
      doc[name] = number;
    } else {
      doc[name] = static_cast<int64_t>(number);
      if (static_cast<double>(static_cast<int64_t>(number)) != number) {
        throw std::runtime_error("--hold-rules: '" + entry + "': must be a whole number");
      }
    }
  }
  if (!out.enabled && !doc.empty()) {
    throw std::runtime_error("--hold-rules: 'off' and settings together; give one or the other");
  }
  auto settings = ParseRuleSettings(doc, RuleSettings{});
  if (!settings.ok()) {
    std::string what;
    for (const auto& field : settings.error().fields) {
      what += (what.empty() ? "" : "; ") + field.field + " " + field.reason;
    }
    throw std::runtime_error("--hold-rules: " + what);
  }
  out.defaults = settings.value();
  return out;
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
         " audit_retention_days=" + std::to_string(config.audit_retention_days) +
         " hold_rule_slots=" + std::to_string(config.hold_rule_slots) + " hold_rules=" + [&] {
           std::string joined;
           for (const auto& entry : config.hold_rules) {
             joined += (joined.empty() ? "" : ",") + entry;
           }
           return joined;
         }();
}

}  // namespace civic::ballot
