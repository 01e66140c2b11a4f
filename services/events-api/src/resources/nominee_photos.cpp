#include <algorithm>

#include "access/audit.hpp"
#include "access/scope.hpp"
#include "civic/http/problem.hpp"
#include "civic/runtime/secret.hpp"
#include "resources/awards.hpp"
#include "resources/json_util.hpp"
#include "resources/nominees.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kPublicPhotoCache = "public, max-age=300";
constexpr const char* kPrivatePhotoCache = "private, no-cache";

// The nominee the caller may write, or the answer that refuses it. REQUIRES: in a transaction.
std::optional<http::Response> WritableNominee(sqlite::Database& db, const http::Request& request,
                                              int64_t id, std::optional<Nominee>& nominee) {
  nominee = Nominees::Get(db, id);
  if (!nominee || !rest::MayRead<Nominees>(db, id)) {
    return rest::NotFound(Nominees::kName, request.Param("id"));
  }
  if (!rest::MayWrite<Nominees>(db, *nominee)) {
    return access::WriteDenied(access::Current(), true, Nominees::kName, request.Param("id"));
  }
  if (auto reason = FinalAwardReason(db, nominee->award_id, "nominees")) {
    return http::ErrorResponse(Error::Conflict("The photo cannot change: " + *reason + "."));
  }
  return std::nullopt;
}

nlohmann::json PhotoAudit(const std::string& content_type, size_t bytes, const std::string& sha) {
  return {{"content_type", content_type}, {"bytes", bytes}, {"sha256", sha}};
}

// A photo's ETag: its SHA-256, quoted.
std::string PhotoETag(const std::string& sha) { return "\"" + sha + "\""; }

// 412 when the request's If-Match does not name the current photo (`sha`; none: no photo, which
// no If-Match matches, not even "*"); nothing without If-Match or when it matches.
std::optional<http::Response> PhotoIfMatchFails(const http::Request& request,
                                                const std::optional<std::string>& sha,
                                                const std::string& id) {
  if (!request.Header("if-match")) {
    return std::nullopt;
  }
  if (!sha) {
    return http::ErrorResponse(Error{ErrorCode::kPreconditionFailed,
                                     "If-Match names a photo, but nominee " + id + " has none.",
                                     {}});
  }
  if (auto failed = rest::CheckIfMatch(request, PhotoETag(*sha))) {
    return http::ErrorResponse(*failed);
  }
  return std::nullopt;
}

// Whether a caller without a key may read nominee `id`'s photo (it may be cached by anyone).
bool PublicPhoto(sqlite::Database& db, int64_t id) {
  return access::MayRead(db, Nominees::List().table, Nominees::List().access, id, access::Caller{});
}

}  // namespace

void AddNomineePhotoRoutes(http::Router& router, Store& store, const Clock& clock) {
  const std::string path = "/v1/nominees/{id}/photo";
  router.Put(
      path,
      [&store, &clock](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(Nominees::kName, request.Param("id"));
        }
        std::string content_type = request.Header("content-type").value_or("");
        content_type = content_type.substr(0, content_type.find(';'));
        while (!content_type.empty() && content_type.back() == ' ') {
          content_type.pop_back();
        }
        for (char& c : content_type) {
          c = http::AsciiLower(c);
        }
        if (std::find(PhotoTypes().begin(), PhotoTypes().end(), content_type) ==
            PhotoTypes().end()) {
          return http::ErrorResponse(Error::UnsupportedMediaType(
              "A photo is image/jpeg, image/png or image/webp (Content-Type)."));
        }
        if (auto reason = PhotoError(content_type, request.body)) {
          return http::ErrorResponse(Error::Invalid("body", *reason));
        }
        const std::string sha = runtime::TokenSha256Hex(request.body);
        return rest::Guarded([&] {
          return store.Write([&](sqlite::Database& db) {
            std::optional<Nominee> nominee;
            if (auto refused = WritableNominee(db, request, *id, nominee)) {
              return std::move(*refused);
            }
            if (nominee->photo_alt.empty()) {
              return http::ErrorResponse(
                  Error::Invalid("photo_alt",
                                 "is required before a photo is uploaded (its text alternative): "
                                 "PATCH the nominee first"));
            }
            nlohmann::json before = nullptr;
            std::optional<std::string> old_sha;
            auto old = db.Prepare(
                "SELECT content_type, length(bytes), sha256 FROM nominee_photos WHERE "
                "nominee_id = ?");
            old.Bind(1, *id);
            if (old.Step()) {
              old_sha = old.ColumnText(2);
              before =
                  PhotoAudit(old.ColumnText(0), static_cast<size_t>(old.ColumnInt64(1)), *old_sha);
            }
            if (auto failed = PhotoIfMatchFails(request, old_sha, request.Param("id"))) {
              return std::move(*failed);
            }
            const Instant now = clock.Now();
            db.Prepare(
                  "INSERT INTO nominee_photos(nominee_id, content_type, bytes, sha256, updated_at) "
                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT(nominee_id) DO UPDATE SET "
                  "content_type = excluded.content_type, bytes = excluded.bytes, "
                  "sha256 = excluded.sha256, updated_at = excluded.updated_at")
                .Bind(1, *id)
                .Bind(2, content_type)
                .BindBlob(3, request.body.data(), request.body.size())
                .Bind(4, sha)
                .Bind(5, Millis(now))
                .Run();
            db.Prepare("UPDATE nominees SET updated_at = ? WHERE id = ?")
                .Bind(1, Millis(now))
                .Bind(2, *id)
                .Run();
            BumpAwardVersion(db, nominee->award_id);
            audit::Record(db, "nominee_photo", *id, before,
                          PhotoAudit(content_type, request.body.size(), sha), 200);
            nominee = Nominees::Get(db, *id);
            return rest::Ok(rest::Presented<Nominees>(db, *nominee));
          });
        });
      },
      {.offload = true, .max_body_bytes = kMaxPhotoBytes});

  router.Get(
      path,
      [&store](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(Nominees::kName, request.Param("id"));
        }
        if (auto rejected = rest::RejectQuery(request)) {
          return std::move(*rejected);
        }
        return rest::Guarded([&] {
          return store.Read([&](sqlite::Database& db) {
            if (!Nominees::Get(db, *id) || !rest::MayRead<Nominees>(db, *id)) {
              return rest::NotFound(Nominees::kName, request.Param("id"));
            }
            auto photo = db.Prepare(
                "SELECT content_type, bytes, sha256 FROM nominee_photos WHERE nominee_id = ?");
            photo.Bind(1, *id);
            if (!photo.Step()) {
              return http::ErrorResponse(
                  Error::NotFound("Nominee " + request.Param("id") + " has no photo."));
            }
            const std::string etag = PhotoETag(photo.ColumnText(2));
            // A photo the public may read is the same for every caller: any cache may keep it.
            // Another (a draft award's) is for the caller's key only: no shared cache may keep
            // it, and the browser's own asks again, naming the key (Vary).
            const bool shared = PublicPhoto(db, *id);
            const auto cached = [&](http::Response response) {
              response.WithHeader("ETag", etag);
              response.WithHeader("Cache-Control", shared ? kPublicPhotoCache : kPrivatePhotoCache);
              if (!shared) {
                response.WithHeader("Vary", "Authorization");
              }
              return response;
            };
            if (auto header = request.Header("if-none-match");
                header && rest::ETagListMatches(*header, etag)) {
              return cached(http::Response::Empty(304));
            }
            http::Response response =
                cached(http::Response::Text(200, photo.ColumnText(0), photo.ColumnBlob(1)));
            response.WithHeader("X-Content-Type-Options", "nosniff");
            return response;
          });
        });
      },
      {.offload = true});

  router.Delete(
      path,
      [&store, &clock](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(Nominees::kName, request.Param("id"));
        }
        return rest::Guarded([&] {
          return store.Write([&](sqlite::Database& db) {
            std::optional<Nominee> nominee;
            if (auto refused = WritableNominee(db, request, *id, nominee)) {
              return std::move(*refused);
            }
            auto old = db.Prepare(
                "SELECT content_type, length(bytes), sha256 FROM nominee_photos WHERE "
                "nominee_id = ?");
            old.Bind(1, *id);
            if (!old.Step()) {
              return http::ErrorResponse(
                  Error::NotFound("Nominee " + request.Param("id") + " has no photo."));
            }
            if (auto failed = PhotoIfMatchFails(request, old.ColumnText(2), request.Param("id"))) {
              return std::move(*failed);
            }
            const nlohmann::json before = PhotoAudit(
                old.ColumnText(0), static_cast<size_t>(old.ColumnInt64(1)), old.ColumnText(2));
            db.Prepare("DELETE FROM nominee_photos WHERE nominee_id = ?").Bind(1, *id).Run();
            db.Prepare("UPDATE nominees SET updated_at = ? WHERE id = ?")
                .Bind(1, Millis(clock.Now()))
                .Bind(2, *id)
                .Run();
            BumpAwardVersion(db, nominee->award_id);
            audit::Record(db, "nominee_photo", *id, before, nullptr, 204);
            return http::Response::Empty(204);
          });
        });
      },
      {.offload = true});
}

}  // namespace civic::events::resources
