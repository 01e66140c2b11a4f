#pragma once

// The ballot's settings: the shared server flags plus its own, and its secrets. Secrets come
// from files (--*-key-file, or the *_FILE environment variables) or from the environment, never
// from flag values, and are never logged.

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "vote_rules.hpp"

#include "civic/runtime/config.hpp"
#include "civic/runtime/secret.hpp"

namespace civic::ballot {

inline constexpr size_t kMinApiKeyBytes = 16;

struct Config {
  runtime::ServerConfig server;
  std::string events_url = "http://127.0.0.1:8080";  // base URL of the events API
  int sync_interval_ms = 5000;                       // award sync period (doubles on failure)
  std::string voter_key_file;                        // HMAC key for voter ids (>= 32 bytes)
  std::string client_key_file;                       // API key of the voting client
  std::string admin_key_file;                        // API key of administrators
  int commit_max_batch = 8192;                       // votes per commit at most
  int commit_max_delay_ms = 0;     // gathering time before a commit; 0: commit when free
  int max_streams = 5000;          // open live-results (SSE) streams at most
  int audit_retention_days = 365;  // days an audit record is kept
  // Hold rules (README "Held votes"): NAME=VALUE entries over the built-in defaults, or "off".
  std::vector<std::string> hold_rules;
  size_t hold_rule_slots = size_t{1} << 18;  // slots per rule table

  // Filled by LoadSecrets().
  std::string voter_key;
  std::string client_key;
  std::string admin_key;
};

// Registers the ballot-specific flags on `app`.
void AddBallotFlags(CLI::App& app, Config& config);

// The default rule settings and whether rules are on, from config.hold_rules. Throws
// std::runtime_error naming --hold-rules and the entry when one is wrong.
struct HoldRulesConfig {
  bool enabled = true;
  RuleSettings defaults;
};
HoldRulesConfig ParseHoldRules(const Config& config);

// Reads each secret from its file when one is named, else from its environment variable
// (CIVIC_BALLOT_VOTER_KEY, CIVIC_BALLOT_CLIENT_KEY, CIVIC_BALLOT_ADMIN_KEY). Trailing whitespace
// is dropped. Throws std::runtime_error naming the flag and variable (never the value) when one is
// missing, unreadable, too short, or when the client and admin keys are equal.
void LoadSecrets(Config& config, const runtime::EnvLookup& env);

// "events_url=... sync_interval_ms=..." for the start-up log line; no secrets.
std::string Describe(const Config& config);

}  // namespace civic::ballot
