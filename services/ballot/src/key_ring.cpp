#include "key_ring.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <mutex>

#include "civic/http/message.hpp"
#include "civic/runtime/secret.hpp"
#include "crypto.hpp"

namespace civic::ballot {

namespace {

using nlohmann::json;

Error Malformed(std::string why) { return Error{ErrorCode::kInvalidArgument, std::move(why), {}}; }

bool IsHex64(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::optional<Instant> OptionalTime(const json& item, const char* member) {
  if (!item.contains(member) || item.at(member).is_null()) {
    return std::nullopt;
  }
  auto instant = ParseInstant(item.at(member).get<std::string>());
  if (!instant) {
    throw std::invalid_argument(std::string(member) + " is not an RFC 3339 instant");
  }
  return instant;
}

// The token of "Bearer <token>"; nothing for another scheme.
std::optional<std::string_view> BearerToken(const std::string& header) {
  if (header.size() < 7 ||
      !http::EqualsIgnoreCase(std::string_view(header).substr(0, 7), "Bearer ")) {
    return std::nullopt;
  }
  std::string_view token(header);
  token.remove_prefix(7);
  while (!token.empty() && token.front() == ' ') {
    token.remove_prefix(1);
  }
  while (!token.empty() && token.back() == ' ') {
    token.remove_suffix(1);
  }
  return token;
}

}  // namespace

Result<std::vector<SyncedKey>> ParseKeyList(const json& doc) {
  std::vector<SyncedKey> keys;
  if (!doc.is_object()) {
    return Malformed("the document is not a JSON object");
  }
  try {
    if (doc.value("protocol", 0) != 1) {
      return Malformed("unknown protocol " + doc.value("protocol", json()).dump());
    }
    for (const json& item : doc.at("keys")) {
      SyncedKey key;
      key.id = item.at("id").get<int64_t>();
      key.prefix = item.at("prefix").get<std::string>();
      key.token_sha256 = item.at("token_sha256").get<std::string>();
      const std::string role = item.at("role").get<std::string>();
      if (!IsHex64(key.token_sha256)) {
        return Malformed("the token_sha256 of key " + std::to_string(key.id) +
                         " is not 64 lowercase hex digits");
      }
      if (role != "admin" && role != "voting_client") {
        continue;  // a role the ballot does not serve
      }
      key.admin = role == "admin";
      key.award_ids = item.value("award_ids", json::array()).get<std::vector<int64_t>>();
      key.expires_at = OptionalTime(item, "expires_at");
      key.revoked_at = OptionalTime(item, "revoked_at");
      keys.push_back(std::move(key));
    }
  } catch (const std::exception& e) {
    return Malformed(std::string("malformed: ") + e.what());
  }
  return keys;
}

bool Caller::MayVoteIn(int64_t award_id) const {
  return kind == Kind::kVotingClient &&
         (any_award || std::find(awards.begin(), awards.end(), award_id) != awards.end());
}

std::string TokenSha256(std::string_view token) { return runtime::TokenSha256Hex(token); }

KeyRing::KeyRing(std::string client_key, std::string admin_key, const Clock& clock)
    : client_key_(std::move(client_key)), admin_key_(std::move(admin_key)), clock_(clock) {}

void KeyRing::Replace(std::vector<SyncedKey> keys) {
  std::unordered_map<std::string, std::shared_ptr<const SyncedKey>> by_hash;
  for (auto& key : keys) {
    auto shared = std::make_shared<const SyncedKey>(std::move(key));
    by_hash[shared->token_sha256] = shared;
  }
  std::unique_lock lock(mu_);
  by_hash_ = std::move(by_hash);
}

size_t KeyRing::synced() const {
  std::shared_lock lock(mu_);
  return by_hash_.size();
}

std::string Caller::LogKey() const {
  if (kind != Kind::kVotingClient && kind != Kind::kAdmin) {
    return std::string();
  }
  return key_id > 0 ? std::to_string(key_id) : prefix;
}

Caller KeyRing::Identify(const std::optional<std::string>& authorization) const {
  Caller caller;
  if (!authorization) {
    return caller;
  }
  caller.kind = Caller::Kind::kRefused;
  const auto token = BearerToken(*authorization);
  if (!token) {
    caller.problem = "The Authorization header must be \"Bearer <key>\".";
    return caller;
  }
  if (ConstantTimeEquals(*token, client_key_)) {
    caller.kind = Caller::Kind::kVotingClient;
    caller.any_award = true;
    caller.prefix = kBootstrapClient;
    return caller;
  }
  if (ConstantTimeEquals(*token, admin_key_)) {
    caller.kind = Caller::Kind::kAdmin;
    caller.prefix = kBootstrapAdmin;
    return caller;
  }
  const std::string hash = TokenSha256(*token);
  std::shared_ptr<const SyncedKey> key;
  {
    std::shared_lock lock(mu_);
    if (auto it = by_hash_.find(hash); it != by_hash_.end()) {
      key = it->second;
    }
  }
  if (!key || CRYPTO_memcmp(key->token_sha256.data(), hash.data(), hash.size()) != 0) {
    caller.problem = "The key is not known.";
    return caller;
  }
  if (key->revoked_at) {
    caller.problem = "The key " + key->prefix + " was revoked.";
    return caller;
  }
  if (key->expires_at && clock_.Now() >= *key->expires_at) {
    caller.problem = "The key " + key->prefix + " expired.";
    return caller;
  }
  caller.kind = key->admin ? Caller::Kind::kAdmin : Caller::Kind::kVotingClient;
  caller.prefix = key->prefix;
  caller.key_id = key->id;
  caller.awards = key->award_ids;
  return caller;
}

}  // namespace civic::ballot
