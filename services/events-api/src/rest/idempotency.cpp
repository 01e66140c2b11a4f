#include "rest/idempotency.hpp"

#include <nlohmann/json.hpp>

#include "access/caller.hpp"
#include "civic/http/problem.hpp"
#include "rest/conventions.hpp"

namespace civic::events::rest {

namespace {

bool ValidKey(const std::string& key) {
  if (key.empty() || key.size() > 255) {
    return false;
  }
  for (const char c : key) {
    if (c < 0x21 || c > 0x7E) {
      return false;
    }
  }
  return true;
}

std::string Fingerprint(const http::Request& request) {
  const std::string canonical = request.json.is_null() ? request.body : request.json.dump();
  return ETagOf(std::string(http::ToString(request.method)) + " " + request.path + "\n" +
                canonical);
}

}  // namespace

http::Response Idempotent(Store& store, const Clock& clock, const http::Request& request,
                          const std::function<http::Response(sqlite::Database&)>& create) {
  const auto key = request.Header("idempotency-key");
  if (!key) {
    return store.Write([&](sqlite::Database& db) { return create(db); });
  }
  if (!ValidKey(*key)) {
    return http::ErrorResponse(
        Error::Invalid("Idempotency-Key", "must be 1 to 255 visible ASCII characters"));
  }
  // Keys are the caller's own: another API key's request with the same key is another request.
  const std::string scope = "key " + std::to_string(access::Current().key_id) + " " +
                            access::Current().key_prefix + " " +
                            std::string(http::ToString(request.method)) + " " + request.path;
  const std::string fingerprint = Fingerprint(request);
  return store.Write([&](sqlite::Database& db) {
    auto find = db.Prepare(
        "SELECT request_hash, status, headers, body FROM idempotency_keys "
        "WHERE scope = ? AND key = ?");
    find.Bind(1, scope).Bind(2, *key);
    if (find.Step()) {
      if (find.ColumnText(0) != fingerprint) {
        return http::ErrorResponse(
            Error::Invalid("Idempotency-Key", "was already used with a different request body")
                .WithKind("idempotency-key-reused"));
      }
      http::Response replay;
      replay.status = find.ColumnInt(1);
      const auto headers = nlohmann::json::parse(find.ColumnText(2));
      for (const auto& [name, value] : headers.items()) {
        if (name == "Content-Type") {
          replay.content_type = value.get<std::string>();
        } else {
          replay.WithHeader(name, value.get<std::string>());
        }
      }
      replay.body = find.ColumnText(3);
      replay.WithHeader("Idempotency-Replayed", "true");
      return replay;
    }
    http::Response response = create(db);
    // Only a success is remembered: a refusal changed nothing, and what refused it (voting still
    // open, an event still a draft, a full session) can change, so a retry must run again.
    if (response.status >= 200 && response.status < 300) {
      nlohmann::json headers = nlohmann::json::object();
      for (const auto& [name, value] : response.headers) {
        headers[name] = value;
      }
      if (!response.content_type.empty()) {
        headers["Content-Type"] = response.content_type;
      }
      const int64_t now = clock.Now().time_since_epoch().count();
      const int64_t expired =
          now -
          std::chrono::duration_cast<std::chrono::milliseconds>(kIdempotencyKeyLifetime).count();
      db.Prepare("DELETE FROM idempotency_keys WHERE created_at < ?").Bind(1, expired).Run();
      db.Prepare(
            "INSERT INTO idempotency_keys(scope, key, request_hash, status, headers, body, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
          .Bind(1, scope)
          .Bind(2, *key)
          .Bind(3, fingerprint)
          .Bind(4, response.status)
          .Bind(5, headers.dump())
          .Bind(6, response.body)
          .Bind(7, now)
          .Run();
    }
    return response;
  });
}

}  // namespace civic::events::rest
