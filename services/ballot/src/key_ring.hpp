#pragma once

// Who a request to the ballot comes from: the bootstrap keys read at start (the voting client's
// and the admin's), and the keys the events API manages, learned through the sync protocol
// (proto-docs/awards-sync.md, message 5) and kept in the ballot's own database so that they
// hold while the events API is down (docs/security.md).

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "civic/domain/error.hpp"
#include "civic/domain/time.hpp"

namespace civic::ballot {

// A key of the events API, as message 5 lists it.
struct SyncedKey {
  int64_t id = 0;
  std::string prefix;
  std::string token_sha256;  // 64 lowercase hex digits
  bool admin = false;        // else a voting client
  std::vector<int64_t> award_ids;
  std::optional<Instant> expires_at;
  std::optional<Instant> revoked_at;
};

// The keys of a message-5 document; an error naming what is wrong when it is malformed (the
// previous keys are then kept).
Result<std::vector<SyncedKey>> ParseKeyList(const nlohmann::json& doc);

// What the audit trail names a bootstrap key by: part of a key from a file could be a large
// part of a short secret, so none of it is shown.
inline constexpr char kBootstrapAdmin[] = "bootstrap:admin";
inline constexpr char kBootstrapClient[] = "bootstrap:client";

struct Caller {
  enum class Kind { kNone, kRefused, kVotingClient, kAdmin };
  Kind kind = Kind::kNone;
  std::string problem;          // kRefused: why (never the token)
  std::string prefix;           // a synced key's prefix; kBootstrap* for a bootstrap key
  int64_t key_id = 0;           // a synced key's id (the events API's); 0 for a bootstrap key
  bool any_award = false;       // the bootstrap voting client votes in every award
  std::vector<int64_t> awards;  // a synced voting client's awards

  bool MayVoteIn(int64_t award_id) const;
  // What the access log names the key by: a synced key's id (as the events API logs it), the
  // kBootstrap* name of a bootstrap key; "" without an accepted key.
  std::string LogKey() const;
};

// Thread-safe.
class KeyRing {
 public:
  // `client_key` and `admin_key`: the bootstrap keys (--client-key-file, --admin-key-file).
  KeyRing(std::string client_key, std::string admin_key, const Clock& clock);

  // Replaces the synced keys.
  void Replace(std::vector<SyncedKey> keys);
  size_t synced() const;

  // Who `authorization` (the Authorization header, if any) names.
  Caller Identify(const std::optional<std::string>& authorization) const;

 private:
  const std::string client_key_;
  const std::string admin_key_;
  const Clock& clock_;
  mutable std::shared_mutex mu_;  // guards by_hash_
  std::unordered_map<std::string, std::shared_ptr<const SyncedKey>> by_hash_;
};

// SHA-256 of `token` as 64 lowercase hex digits (what the events API stores and sends).
std::string TokenSha256(std::string_view token);

}  // namespace civic::ballot
