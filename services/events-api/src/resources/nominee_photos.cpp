#include <algorithm>

#include "access/audit.hpp"
#include "civic/http/problem.hpp"
#include "civic/runtime/secret.hpp"
#include "resources/awards.hpp"
#include "resources/json_util.hpp"
#include "resources/nominees.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

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
            auto old = db.Prepare(
                "SELECT content_type, length(bytes), sha256 FROM nominee_photos WHERE "
                "nominee_id = ?");
            old.Bind(1, *id);
            if (old.Step()) {
              before = PhotoAudit(old.ColumnText(0), static_cast<size_t>(old.ColumnInt64(1)),
                                  old.ColumnText(2));
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
            const std::string etag = "\"" + photo.ColumnText(2) + "\"";
            if (auto header = request.Header("if-none-match");
                header && rest::ETagListMatches(*header, etag)) {
              return http::Response::Empty(304).WithHeader("ETag", etag);
            }
            http::Response response =
                http::Response::Text(200, photo.ColumnText(0), photo.ColumnBlob(1));
            response.WithHeader("ETag", etag);
            response.WithHeader("Cache-Control", "public, max-age=300");
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
