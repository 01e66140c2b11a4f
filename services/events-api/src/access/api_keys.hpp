#pragma once

// API keys: bearer tokens, stored only as their SHA-256, with a role and a scope
// (docs/security.md). The events API is where keys are made and revoked; the ballot learns the
// voting clients' and admins' keys through the sync protocol (proto-docs/awards-sync.md).

#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "access/caller.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "storage/store.hpp"

namespace civic::events::access {

// A new token: "civ_" and 32 base64url characters (24 random bytes: 192 bits).
std::string NewToken();
// The visible part of a token, for lists and logs: its first 12 characters ("civ_" and 8 of
// the random ones, leaving 144 bits unseen).
std::string TokenPrefix(std::string_view token);
// SHA-256 of the token, as 64 lowercase hex digits: what is stored.
std::string TokenHash(std::string_view token);

struct ApiKey {
  int64_t id = 0;
  std::string name;
  std::string prefix;
  std::string token_hash;
  Role role = Role::kOrganizer;
  std::vector<int64_t> program_ids;  // organizer, frontend
  std::vector<int64_t> award_ids;    // voting_client
  std::optional<int64_t> person_id;  // expert
  int64_t created_by_key_id = 0;
  Instant created_at{};
  Instant updated_at{};
  std::optional<Instant> last_used_at;
  std::optional<Instant> expires_at;
  std::optional<Instant> revoked_at;

  // Neither revoked nor expired at `now`.
  bool ActiveAt(Instant now) const;
};

// The keys a request may carry, kept in memory (Load after every change). Thread-safe.
class KeyRing {
 public:
  explicit KeyRing(const Clock& clock) : clock_(clock) {}

  // A key given at start (a file or the environment), never stored: `token` is `caller`.
  void AddBootstrap(const std::string& token, Caller caller);
  // Replaces the stored keys with those of `db`.
  void Load(sqlite::Database& db);

  struct Authenticated {
    enum class Outcome { kNoKey, kValid, kRefused } outcome = Outcome::kNoKey;
    std::string problem;  // kRefused: why, for the 401 (never the token)
    Caller caller;        // kValid: who
    // kValid: a stored key whose last_used_at is over a minute old; the caller records the use
    // (RecordUse), once per minute per key at most.
    int64_t record_use_of = 0;
  };
  // Who the Authorization header `authorization` names. `claim_use` false: only who (the rate
  // limiter asks before the route does), never record_use_of, so the route's own call claims it.
  Authenticated Authenticate(const std::optional<std::string>& authorization,
                             bool claim_use = true) const;

 private:
  struct Entry {
    Caller caller;
    std::optional<Instant> expires_at;
    std::optional<Instant> revoked_at;
    std::string hash;
    mutable std::atomic<int64_t> last_used_ms{0};
  };
  const Clock& clock_;
  mutable std::shared_mutex mu_;  // guards stored_ and bootstrap_ (the entries are immutable
                                  // but for last_used_ms)
  std::unordered_map<std::string, std::shared_ptr<const Entry>> stored_;     // by hash
  std::unordered_map<std::string, std::shared_ptr<const Entry>> bootstrap_;  // by hash
};

// Records that key `key_id` was used at `now` (coarse: KeyRing asks at most once a minute).
void RecordUse(sqlite::Database& db, int64_t key_id, Instant now);

// The stored keys, for the ballot's sync (proto-docs/awards-sync.md).
std::vector<ApiKey> AllKeys(sqlite::Database& db);

// /v1/api-keys (admins): create (the answer holds the token, the only time it is shown), list,
// get, revoke. `ring` is reloaded after each change, so a revoked key is refused at once.
void AddApiKeyRoutes(http::Router& router, Store& store, const Clock& clock, KeyRing& ring);

}  // namespace civic::events::access
