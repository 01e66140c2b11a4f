#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "civic/http/router.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "storage/store.hpp"

namespace civic::events::resources {

// The events API's side of proto-docs/awards-sync.md, read by the ballot:
//   GET /v1/sync/awards       every award but drafts, each with its version (ETag, 304)
//   GET /v1/sync/awards/{id}  one award's snapshot: rules, nominations, all nominees
//                             (ETag "<version>", 304; 404 for drafts and unknown ids)
//   GET /v1/sync/keys         the admin and voting-client API keys (hashes, scopes,
//                             revocations) the ballot authenticates with (ETag, 304)
// All answer 400 to an X-Civic-Protocol other than 1 (absent means 1) and carry
// `X-Civic-Protocol: 1`.
void AddAwardSyncRoutes(http::Router& router, Store& store);

// {"protocol": 1, "awards": [{"id", "version", "status", "updated_at"}]}, by id.
nlohmann::json SyncAwardList(sqlite::Database& db);

// {"protocol": 1, "keys": [{"id", "prefix", "token_sha256", "role", "award_ids", "expires_at",
// "revoked_at"}]}: the admin and voting_client keys, revoked ones too, by id.
nlohmann::json SyncKeyList(sqlite::Database& db);

struct AwardSnapshot {
  int64_t version = 0;
  nlohmann::json body;
};
// The snapshot of award `id`; nothing when it does not exist or is a draft.
std::optional<AwardSnapshot> LoadAwardSnapshot(sqlite::Database& db, int64_t id);

}  // namespace civic::events::resources
