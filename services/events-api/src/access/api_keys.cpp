#include "access/api_keys.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "access/audit.hpp"
#include "civic/http/problem.hpp"
#include "civic/runtime/secret.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"
#include "rest/crud.hpp"

namespace civic::events::access {

namespace {

using resources::FromMillis;
using resources::IdsFromJsonText;
using resources::Millis;
using resources::OptionalInstant;
using resources::OptionalMillis;
using resources::OrNull;
using resources::ToJsonText;

constexpr const char* kTokenTag = "civ_";
constexpr size_t kPrefixLength = 12;
constexpr int64_t kUseRecordEveryMs = 60'000;
constexpr size_t kMaxScopeIds = 100;

constexpr const char* kColumns =
    "id, name, prefix, token_hash, role, program_ids, award_ids, person_id, created_by_key_id, "
    "created_at, updated_at, last_used_at, expires_at, revoked_at";

nlohmann::json UtcOrNull(const std::optional<Instant>& instant) {
  return instant ? nlohmann::json(FormatUtc(*instant)) : nlohmann::json(nullptr);
}

// The token of "Bearer <token>" (RFC 6750 2.1: the scheme is case-insensitive); nothing when
// the header is something else.
std::optional<std::string_view> BearerToken(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size() ||
      !http::EqualsIgnoreCase(header.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') {
    token.remove_prefix(1);
  }
  while (!token.empty() && token.back() == ' ') {
    token.remove_suffix(1);
  }
  if (token.empty() || token.size() > 512) {
    return std::nullopt;
  }
  for (const char c : token) {
    if (c < 0x21 || c > 0x7E) {
      return std::nullopt;
    }
  }
  return token;
}

struct ApiKeys {
  using Model = ApiKey;
  static constexpr const char* kName = "API key";

  static nlohmann::json ToJson(const ApiKey& key) {
    return {{"id", key.id},
            {"name", key.name},
            {"prefix", key.prefix},
            {"role", ToString(key.role)},
            {"program_ids", key.program_ids},
            {"award_ids", key.award_ids},
            {"person_id", OrNull(key.person_id)},
            {"created_by_key_id", key.created_by_key_id},
            {"created_at", FormatUtc(key.created_at)},
            {"updated_at", FormatUtc(key.updated_at)},
            {"last_used_at", UtcOrNull(key.last_used_at)},
            {"expires_at", UtcOrNull(key.expires_at)},
            {"revoked_at", UtcOrNull(key.revoked_at)}};
  }

  static ApiKey FromRow(sqlite::Statement& row) {
    ApiKey key;
    key.id = row.ColumnInt64(0);
    key.name = row.ColumnText(1);
    key.prefix = row.ColumnText(2);
    key.token_hash = row.ColumnText(3);
    key.role = ParseKeyRole(row.ColumnText(4)).value_or(Role::kPublic);
    key.program_ids = IdsFromJsonText(row.ColumnText(5));
    key.award_ids = IdsFromJsonText(row.ColumnText(6));
    key.person_id = row.ColumnOptionalInt64(7);
    key.created_by_key_id = row.ColumnInt64(8);
    key.created_at = FromMillis(row.ColumnInt64(9));
    key.updated_at = FromMillis(row.ColumnInt64(10));
    key.last_used_at = OptionalInstant(row.ColumnOptionalInt64(11));
    key.expires_at = OptionalInstant(row.ColumnOptionalInt64(12));
    key.revoked_at = OptionalInstant(row.ColumnOptionalInt64(13));
    return key;
  }

  static std::optional<ApiKey> Get(sqlite::Database& db, int64_t id) {
    auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM api_keys WHERE id = ?");
    statement.Bind(1, id);
    if (!statement.Step()) {
      return std::nullopt;
    }
    return FromRow(statement);
  }

  static const rest::ListSpec& List() {
    using rest::Filter;
    static const rest::ListSpec kSpec = {
        .table = "api_keys",
        .columns = kColumns,
        .filters =
            {
                Filter{"role", "role = ?", Filter::Kind::kEnum, KeyRoleNames()},
                Filter{"prefix", "prefix = ?", Filter::Kind::kText, {}},
                Filter{"revoked",
                       "(CASE WHEN revoked_at IS NULL THEN 'false' ELSE 'true' END) = ?",
                       Filter::Kind::kEnum,
                       {"true", "false"}},
            },
        .sorts = {{"id", "id", false}, {"created_at", "created_at", false}},
        .access = {},  // admins only
    };
    return kSpec;
  }
};

// The body of POST /v1/api-keys, checked against the role's scope rules and the database.
Result<ApiKey> KeyFromJson(sqlite::Database& db, const nlohmann::json& body, Instant now) {
  Violations violations;
  rest::JsonReader reader(body, violations, rest::JsonReader::Mode::kCreate);
  ApiKey key;
  key.name = reader.String("name", true).value_or("");
  const auto role = reader.Enum("role", KeyRoleNames(), true);
  const auto programs = reader.IdArray("program_ids", false, kMaxScopeIds);
  const auto awards = reader.IdArray("award_ids", false, kMaxScopeIds);
  key.person_id = reader.Id("person_id", false);
  key.expires_at = reader.Time("expires_at", false);
  reader.ReadOnly("token");
  reader.ReadOnly("prefix");
  reader.RejectUnknown();
  violations.Text("name", key.name, 1, 200);
  if (role) {
    key.role = *ParseKeyRole(*role);
    const bool by_program = key.role == Role::kOrganizer || key.role == Role::kFrontend;
    if (by_program && (!programs || programs->empty())) {
      violations.Add("program_ids", "is required for the " + *role + " role (its programs)");
    }
    if (!by_program && programs && !programs->empty()) {
      violations.Add("program_ids", "is only for the organizer and frontend roles");
    }
    if (key.role == Role::kVotingClient && (!awards || awards->empty())) {
      violations.Add("award_ids", "is required for the voting_client role (its awards)");
    }
    if (key.role != Role::kVotingClient && awards && !awards->empty()) {
      violations.Add("award_ids", "is only for the voting_client role");
    }
    if (key.role == Role::kExpert && !key.person_id) {
      violations.Add("person_id", "is required for the expert role (the expert's person)");
    }
    if (key.role != Role::kExpert && key.person_id) {
      violations.Add("person_id", "is only for the expert role");
    }
  }
  key.program_ids = programs.value_or(std::vector<int64_t>{});
  key.award_ids = awards.value_or(std::vector<int64_t>{});
  // A scope names each id once: [1, 1] is a mistake to report, not a scope to keep.
  for (const auto& [name, ids] :
       {std::pair{"program_ids", &key.program_ids}, std::pair{"award_ids", &key.award_ids}}) {
    for (size_t i = 0; i < ids->size(); ++i) {
      if (std::find(ids->begin(), ids->begin() + static_cast<std::ptrdiff_t>(i), (*ids)[i]) !=
          ids->begin() + static_cast<std::ptrdiff_t>(i)) {
        violations.Add(std::string(name) + "[" + std::to_string(i) + "]",
                       "repeats " + std::to_string((*ids)[i]) + "; name each id once");
        break;
      }
    }
  }
  for (size_t i = 0; i < key.program_ids.size(); ++i) {
    resources::RequireExists(db, "programs", "program", "program_ids[" + std::to_string(i) + "]",
                             key.program_ids[i], violations);
  }
  for (size_t i = 0; i < key.award_ids.size(); ++i) {
    resources::RequireExists(db, "awards", "award", "award_ids[" + std::to_string(i) + "]",
                             key.award_ids[i], violations);
  }
  resources::RequireExists(db, "people", "person", "person_id", key.person_id, violations);
  if (key.expires_at && *key.expires_at <= now) {
    violations.Add("expires_at", "must be in the future");
  }
  if (!violations.empty()) {
    return violations.ToError();
  }
  return key;
}

void Insert(sqlite::Database& db, ApiKey& key) {
  db.Prepare(
        "INSERT INTO api_keys(name, prefix, token_hash, role, program_ids, award_ids, person_id, "
        "created_by_key_id, created_at, updated_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .Bind(1, key.name)
      .Bind(2, key.prefix)
      .Bind(3, key.token_hash)
      .Bind(4, ToString(key.role))
      .Bind(5, ToJsonText(key.program_ids))
      .Bind(6, ToJsonText(key.award_ids))
      .Bind(7, key.person_id)
      .Bind(8, key.created_by_key_id)
      .Bind(9, Millis(key.created_at))
      .Bind(10, Millis(key.updated_at))
      .Bind(11, OptionalMillis(key.expires_at))
      .Run();
  key.id = db.LastInsertRowid();
}

Caller CallerOf(const ApiKey& key) {
  Caller caller;
  caller.role = key.role;
  caller.key_id = key.id;
  caller.key_prefix = key.prefix;
  caller.programs = key.program_ids;
  caller.awards = key.award_ids;
  caller.person_id = key.person_id;
  return caller;
}

}  // namespace

bool ApiKey::ActiveAt(Instant now) const {
  return !revoked_at && (!expires_at || now < *expires_at);
}

std::string NewToken() {
  unsigned char random[24];
  if (RAND_bytes(random, sizeof random) != 1) {
    throw std::runtime_error("no random bytes for a token");
  }
  return kTokenTag +
         rest::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(random), 24));
}

std::string TokenPrefix(std::string_view token) {
  return std::string(token.substr(0, kPrefixLength));
}

std::string TokenHash(std::string_view token) { return runtime::TokenSha256Hex(token); }

void KeyRing::AddBootstrap(const std::string& token, Caller caller) {
  auto entry = std::make_shared<Entry>();
  entry->hash = TokenHash(token);
  caller.key_prefix = TokenPrefix(token);
  entry->caller = std::move(caller);
  std::unique_lock lock(mu_);
  bootstrap_[entry->hash] = std::move(entry);
}

void KeyRing::Load(sqlite::Database& db) {
  std::unordered_map<std::string, std::shared_ptr<const Entry>> loaded;
  for (const ApiKey& key : AllKeys(db)) {
    auto entry = std::make_shared<Entry>();
    entry->caller = CallerOf(key);
    entry->expires_at = key.expires_at;
    entry->revoked_at = key.revoked_at;
    entry->hash = key.token_hash;
    entry->last_used_ms = key.last_used_at ? Millis(*key.last_used_at) : 0;
    loaded.emplace(key.token_hash, std::move(entry));
  }
  std::unique_lock lock(mu_);
  stored_ = std::move(loaded);
}

KeyRing::Authenticated KeyRing::Authenticate(const std::optional<std::string>& authorization,
                                             bool claim_use) const {
  Authenticated out;
  if (!authorization) {
    return out;
  }
  out.outcome = Authenticated::Outcome::kRefused;
  const auto token = BearerToken(*authorization);
  if (!token) {
    out.problem = "The Authorization header must be \"Bearer <API key>\".";
    return out;
  }
  const std::string hash = TokenHash(*token);
  std::shared_ptr<const Entry> entry;
  bool stored = false;
  {
    std::shared_lock lock(mu_);
    if (auto it = bootstrap_.find(hash); it != bootstrap_.end()) {
      entry = it->second;
    } else if (auto found = stored_.find(hash); found != stored_.end()) {
      entry = found->second;
      stored = true;
    }
  }
  // The map found the entry by its hash; the stored hash is compared again in constant time.
  if (!entry || entry->hash.size() != hash.size() ||
      CRYPTO_memcmp(entry->hash.data(), hash.data(), hash.size()) != 0) {
    out.problem = "The API key is not known.";
    return out;
  }
  const Instant now = clock_.Now();
  if (entry->revoked_at) {
    out.problem = "The API key " + entry->caller.key_prefix + " was revoked.";
    return out;
  }
  if (entry->expires_at && now >= *entry->expires_at) {
    out.problem = "The API key " + entry->caller.key_prefix + " expired at " +
                  FormatUtc(*entry->expires_at) + ".";
    return out;
  }
  out.outcome = Authenticated::Outcome::kValid;
  out.caller = entry->caller;
  if (stored && claim_use) {
    int64_t last = entry->last_used_ms.load(std::memory_order_relaxed);
    const int64_t now_ms = Millis(now);
    if (now_ms - last >= kUseRecordEveryMs &&
        entry->last_used_ms.compare_exchange_strong(last, now_ms, std::memory_order_relaxed)) {
      out.record_use_of = entry->caller.key_id;
    }
  }
  return out;
}

void RecordUse(sqlite::Database& db, int64_t key_id, Instant now) {
  db.Prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?")
      .Bind(1, Millis(now))
      .Bind(2, key_id)
      .Run();
}

std::vector<ApiKey> AllKeys(sqlite::Database& db) {
  std::vector<ApiKey> keys;
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM api_keys ORDER BY id");
  while (statement.Step()) {
    keys.push_back(ApiKeys::FromRow(statement));
  }
  return keys;
}

void AddApiKeyRoutes(http::Router& router, Store& store, const Clock& clock, KeyRing& ring) {
  const http::RouteOptions json_route{.json_body = true, .offload = true};
  const http::RouteOptions plain_route{.offload = true};

  router.Post(
      "/v1/api-keys",
      [&store, &clock, &ring](const http::Request& request) {
        if (!request.json.is_object()) {
          return http::ErrorResponse(Error::Invalid("body", "must be a JSON object"));
        }
        // Not through Idempotent(): a stored answer would keep the token in the database.
        return rest::Guarded([&] {
          std::string token;
          http::Response response = store.Write([&](sqlite::Database& db) {
            const Instant now = clock.Now();
            auto parsed = KeyFromJson(db, request.json, now);
            if (!parsed.ok()) {
              return http::ErrorResponse(parsed.error());
            }
            ApiKey key = std::move(parsed.value());
            token = NewToken();
            key.prefix = TokenPrefix(token);
            key.token_hash = TokenHash(token);
            key.created_by_key_id = Current().key_id;
            key.created_at = key.updated_at = now;
            Insert(db, key);
            const nlohmann::json shown = ApiKeys::ToJson(key);
            audit::Record(db, "api_key", key.id, nullptr, shown, 201);
            nlohmann::json body = shown;
            body["token"] = token;
            http::Response created = http::Response::Json(201, body);
            created.WithHeader("Location", "/v1/api-keys/" + std::to_string(key.id));
            created.WithHeader("Cache-Control", "no-store");
            return created;
          });
          if (response.status == 201) {
            store.Read([&](sqlite::Database& db) {
              ring.Load(db);
              return 0;
            });
          }
          return response;
        });
      },
      json_route);

  rest::AddListRoute<ApiKeys>(router, store, "/v1/api-keys");
  rest::AddItemRoute<ApiKeys>(router, store, "/v1/api-keys/{id}");

  router.Post(
      "/v1/api-keys/{id}/revoke",
      [&store, &clock, &ring](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(ApiKeys::kName, request.Param("id"));
        }
        return rest::Guarded([&] {
          http::Response response = store.Write([&](sqlite::Database& db) {
            auto key = ApiKeys::Get(db, *id);
            if (!key) {
              return rest::NotFound(ApiKeys::kName, request.Param("id"));
            }
            if (key->revoked_at) {  // revoking twice changes nothing
              return rest::Ok(ApiKeys::ToJson(*key));
            }
            const nlohmann::json before = ApiKeys::ToJson(*key);
            key->revoked_at = key->updated_at = clock.Now();
            db.Prepare("UPDATE api_keys SET revoked_at = ?, updated_at = ? WHERE id = ?")
                .Bind(1, Millis(*key->revoked_at))
                .Bind(2, Millis(key->updated_at))
                .Bind(3, key->id)
                .Run();
            const nlohmann::json after = ApiKeys::ToJson(*key);
            audit::Record(db, "api_key", key->id, before, after, 200);
            return rest::Ok(after);
          });
          if (response.status == 200) {
            store.Read([&](sqlite::Database& db) {
              ring.Load(db);
              return 0;
            });
          }
          return response;
        });
      },
      plain_route);
}

}  // namespace civic::events::access
