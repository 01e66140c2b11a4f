#include "resources/award_sync.hpp"

#include "resources/nominees.hpp"

#include "access/api_keys.hpp"
#include "ballot_client.hpp"
#include "civic/http/problem.hpp"
#include "resources/awards.hpp"
#include "resources/json_util.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

constexpr int kProtocol = 1;

// A 400 when the caller speaks another protocol version; nothing when it speaks ours.
std::optional<http::Response> UnknownProtocol(const http::Request& request) {
  const auto version = request.Header("x-civic-protocol");
  if (!version || *version == kCivicProtocol) {
    return std::nullopt;
  }
  return http::ErrorResponse(Error::Malformed("X-Civic-Protocol " + version->substr(0, 20) +
                                              " is not supported; this service speaks version " +
                                              kCivicProtocol + "."));
}

// The snapshot's ETag: its version in quotes.
std::string VersionETag(int64_t version) {
  std::string etag(1, '"');
  etag.append(std::to_string(version)).push_back('"');
  return etag;
}

http::Response Stamped(http::Response response) {
  response.WithHeader("X-Civic-Protocol", kCivicProtocol);
  return response;
}

// The handler of a message that answers a whole document `read` makes (ETag, 304): no query
// parameters, our protocol version only.
http::SyncHandler WholeList(Store& store, nlohmann::json (*read)(sqlite::Database&)) {
  return [&store, read](const http::Request& request) {
    if (auto rejected = UnknownProtocol(request)) {
      return Stamped(*rejected);
    }
    if (auto rejected = rest::RejectQuery(request)) {  // no paging, no filters
      return Stamped(std::move(*rejected));
    }
    return Stamped(rest::Guarded([&] {
      auto document = store.Read([read](sqlite::Database& db) { return read(db); });
      return rest::Conditional(request, http::Response::Json(200, document));
    }));
  };
}

}  // namespace

nlohmann::json SyncAwardList(sqlite::Database& db) {
  auto statement = db.Prepare(
      "SELECT id, version, status, updated_at FROM awards WHERE status <> 'draft' ORDER BY id");
  nlohmann::json awards = nlohmann::json::array();
  while (statement.Step()) {
    awards.push_back({{"id", statement.ColumnInt64(0)},
                      {"version", statement.ColumnInt64(1)},
                      {"status", statement.ColumnText(2)},
                      {"updated_at", FormatUtc(FromMillis(statement.ColumnInt64(3)))}});
  }
  return {{"protocol", kProtocol}, {"awards", std::move(awards)}};
}

std::optional<AwardSnapshot> LoadAwardSnapshot(sqlite::Database& db, int64_t id) {
  auto award = Awards::Get(db, id);
  if (!award || award->status == "draft") {
    return std::nullopt;
  }
  auto version = db.Prepare("SELECT version FROM awards WHERE id = ?");
  version.Bind(1, id);
  version.Step();
  AwardSnapshot snapshot;
  snapshot.version = version.ColumnInt64(0);

  nlohmann::json nominations = nlohmann::json::array();
  auto nomination_rows =
      db.Prepare("SELECT id, title FROM nominations WHERE award_id = ? ORDER BY id");
  nomination_rows.Bind(1, id);
  while (nomination_rows.Step()) {
    nominations.push_back(
        {{"id", nomination_rows.ColumnInt64(0)}, {"title", nomination_rows.ColumnText(1)}});
  }
  nlohmann::json nominees = nlohmann::json::array();
  auto nominee_rows = db.Prepare(
      "SELECT n.id, n.nomination_id, n.name, n.city_id, c.name, n.status, c.region, n.summary, "
      "n.photo_alt, EXISTS (SELECT 1 FROM nominee_photos AS p WHERE p.nominee_id = n.id) "
      "FROM nominees AS n JOIN nominations AS m ON m.id = n.nomination_id "
      "JOIN cities AS c ON c.id = n.city_id WHERE m.award_id = ? ORDER BY n.id");
  nominee_rows.Bind(1, id);
  while (nominee_rows.Step()) {
    nominees.push_back(
        {{"id", nominee_rows.ColumnInt64(0)},
         {"nomination_id", nominee_rows.ColumnInt64(1)},
         {"name", nominee_rows.ColumnText(2)},
         {"city",
          {{"id", nominee_rows.ColumnInt64(3)},
           {"name", nominee_rows.ColumnText(4)},
           {"region", nominee_rows.ColumnText(6)}}},
         {"status", nominee_rows.ColumnText(5)},
         {"summary", nominee_rows.ColumnText(7)},
         {"photo", nominee_rows.ColumnInt64(9) != 0
                       ? nlohmann::json{{"url", Nominees::PhotoPath(nominee_rows.ColumnInt64(0))},
                                        {"alt", nominee_rows.ColumnText(8)}}
                       : nlohmann::json(nullptr)}});
  }
  snapshot.body = {{"protocol", kProtocol},
                   {"id", award->id},
                   {"version", snapshot.version},
                   {"title", award->title},
                   {"edition_year", award->edition_year},
                   {"status", award->status},
                   {"voting_opens_at", FormatUtc(award->voting_opens_at)},
                   {"voting_closes_at", FormatUtc(award->voting_closes_at)},
                   {"max_choices_per_nomination", award->max_choices_per_nomination},
                   {"results_visibility", award->results_visibility},
                   {"nominations", std::move(nominations)},
                   {"nominees", std::move(nominees)}};
  return snapshot;
}

void AddAwardSyncRoutes(http::Router& router, Store& store) {
  router.Get("/v1/sync/awards", WholeList(store, SyncAwardList), {.offload = true});

  router.Get("/v1/sync/awards/{id}",
             [&store](const http::Request& request) {
               if (auto rejected = UnknownProtocol(request)) {
                 return Stamped(*rejected);
               }
               if (auto rejected = rest::RejectQuery(request)) {  // no paging, no filters
                 return Stamped(std::move(*rejected));
               }
               const auto id = rest::PathId(request);
               if (!id) {
                 return Stamped(rest::NotFound("award", request.Param("id")));
               }
               return Stamped(rest::Guarded([&] {
                 auto snapshot =
                     store.Read([&](sqlite::Database& db) { return LoadAwardSnapshot(db, *id); });
                 if (!snapshot) {
                   return rest::NotFound("published award", request.Param("id"));
                 }
                 const std::string etag = VersionETag(snapshot->version);
                 if (auto header = request.Header("if-none-match");
                     header && rest::ETagListMatches(*header, etag)) {
                   return http::Response::Empty(304).WithHeader("ETag", etag);
                 }
                 return http::Response::Json(200, snapshot->body).WithHeader("ETag", etag);
               }));
             },
             {.offload = true});

  router.Get("/v1/sync/keys", WholeList(store, SyncKeyList), {.offload = true});
}

nlohmann::json SyncKeyList(sqlite::Database& db) {
  nlohmann::json keys = nlohmann::json::array();
  for (const access::ApiKey& key : access::AllKeys(db)) {
    if (key.role != access::Role::kAdmin && key.role != access::Role::kVotingClient) {
      continue;
    }
    keys.push_back({{"id", key.id},
                    {"prefix", key.prefix},
                    {"token_sha256", key.token_hash},
                    {"role", access::ToString(key.role)},
                    {"award_ids", key.award_ids},
                    {"expires_at", key.expires_at ? nlohmann::json(FormatUtc(*key.expires_at))
                                                  : nlohmann::json(nullptr)},
                    {"revoked_at", key.revoked_at ? nlohmann::json(FormatUtc(*key.revoked_at))
                                                  : nlohmann::json(nullptr)}});
  }
  return {{"protocol", kProtocol}, {"keys", std::move(keys)}};
}

}  // namespace civic::events::resources
