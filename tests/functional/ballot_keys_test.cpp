// The ballot learns the events API's keys through the sync protocol (proto-docs/awards-sync.md,
// message 5): a voting client's key votes in its awards only, an admin key reaches the admin
// routes, a revoked key is refused within one sync interval, and the last copy holds while the
// events API is down. Against a fake of the events API in this test process.

#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "ballot_fixture.hpp"

using civic::test::BallotOptions;
using civic::test::Eventually;
using civic::test::FakeEventsApi;
using civic::test::SampleAward;
using civic::test::Service;
using civic::test::Sha256Hex;
using civic::test::Str;
using civic::test::TempDir;
using civic::test::VoteBody;
using civic::test::WaitForAward;
using nlohmann::json;

namespace {

const std::string kMobileKey = "civ_mobileBackendKey0123456789abcdef";
const std::string kPortalKey = "civ_cityPortalKey0123456789abcdefghij";
const std::string kAuditorKey = "civ_auditorAdminKey0123456789abcdefg";

json Key(int64_t id, const std::string& token, const std::string& role, json awards,
         json revoked_at = nullptr) {
  return {{"id", id},
          {"prefix", token.substr(0, 12)},
          {"token_sha256", Sha256Hex(token)},
          {"role", role},
          {"award_ids", std::move(awards)},
          {"expires_at", nullptr},
          {"revoked_at", std::move(revoked_at)}};
}

int VoteWith(httplib::Client& client, const std::string& token, int64_t award,
             const std::string& voter, int64_t nomination, int64_t nominee) {
  auto r = client.Post(Str("/v1/awards/", award, "/votes"),
                       {{"Authorization", "Bearer " + token}, {"Connection", "keep-alive"}},
                       VoteBody(voter, nomination, nominee).dump(), "application/json");
  return r ? r->status : 0;
}

}  // namespace

TEST_CASE("Ballot keys: a voting client votes in its awards only, revoked, it is refused",
          "[ballot][access]") {
  FakeEventsApi events;
  json award8 = SampleAward(8);
  events.Put(SampleAward(7));
  events.Put(award8);
  events.SetKeys(json::array({Key(11, kMobileKey, "voting_client", {7}),
                              Key(12, kPortalKey, "voting_client", {7, 8}),
                              Key(13, kAuditorKey, "admin", json::array())}));
  TempDir dir;
  auto ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                          BallotOptions(events.url(), dir.path() + "/data"));
  auto client = ballot->Client();
  REQUIRE(WaitForAward(*client, 7));
  REQUIRE(WaitForAward(*client, 8));
  REQUIRE(Eventually([&] { return VoteWith(*client, kMobileKey, 7, "m-1", 31, 501) == 201; }));

  // The ballot syncs with its own admin key.
  for (const auto& authorization : events.authorizations()) {
    CHECK(authorization == std::string("Bearer ") + civic::test::kAdminKey);
  }

  CHECK(VoteWith(*client, kMobileKey, 8, "m-1", 31, 501) == 403);
  CHECK(VoteWith(*client, kPortalKey, 8, "p-1", 31, 501) == 201);
  CHECK(VoteWith(*client, kAuditorKey, 7, "a-1", 31, 501) == 403);  // admins do not vote
  CHECK(VoteWith(*client, "civ_notAKeyAtAll0123456789abcdefghi", 7, "x", 31, 501) == 401);
  // The bootstrap client key still votes everywhere.
  CHECK(VoteWith(*client, civic::test::kClientKey, 8, "b-1", 31, 502) == 201);

  // In a batch, a vote outside the key's awards is refused alone.
  json batch = {
      {"votes",
       json::array({{{"award", 7}, {"voter", "m-2"}, {"nomination", 31}, {"nominee", 502}},
                    {{"award", 8}, {"voter", "m-2"}, {"nomination", 31}, {"nominee", 502}}})}};
  auto r = client->Post("/v1/votes/batch",
                        {{"Authorization", "Bearer " + kMobileKey}, {"Connection", "keep-alive"}},
                        batch.dump(), "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const json outcomes = json::parse(r->body);
  INFO(r->body);
  CHECK(outcomes["results"][0]["status"] == 201);
  CHECK(outcomes["results"][1]["status"] == 403);

  // A synced admin key reads hidden things and asks for a sync.
  auto results =
      client->Get("/v1/awards/7/results?final=false", {{"Authorization", "Bearer " + kAuditorKey}});
  REQUIRE(results);
  CHECK(results->status == 200);
  auto sync = client->Post("/v1/awards/7/sync", {{"Authorization", "Bearer " + kAuditorKey}}, "",
                           "application/json");
  REQUIRE(sync);
  CHECK(sync->status == 200);
  auto not_admin = client->Post("/v1/awards/7/sync", {{"Authorization", "Bearer " + kMobileKey}},
                                "", "application/json");
  REQUIRE(not_admin);
  CHECK(not_admin->status == 403);

  // Both sync requests made with a key are in the ballot's audit trail, its admins' to read.
  auto audit = client->Get("/v1/ballot/audit-events", civic::test::AdminAuth());
  REQUIRE(audit);
  REQUIRE(audit->status == 200);
  const json trail = json::parse(audit->body);
  REQUIRE(trail["items"].size() == 2);
  CHECK(trail["items"][0]["key_prefix"] == kAuditorKey.substr(0, 12));
  CHECK(trail["items"][0]["role"] == "admin");
  CHECK(trail["items"][0]["path"] == "/v1/awards/7/sync");
  CHECK(trail["items"][0]["status"] == 200);
  CHECK(trail["items"][1]["key_prefix"] == kMobileKey.substr(0, 12));
  CHECK(trail["items"][1]["status"] == 403);
  CHECK(trail["next_after"].is_null());
  auto page =
      client->Get("/v1/ballot/audit-events?after=" + trail["items"][0]["id"].dump() + "&limit=1",
                  civic::test::AdminAuth());
  REQUIRE(page);
  CHECK(json::parse(page->body)["items"].size() == 1);
  CHECK(json::parse(page->body)["next_after"] == trail["items"][1]["id"]);
  auto bad_page = client->Get("/v1/ballot/audit-events?limit=0", civic::test::AdminAuth());
  REQUIRE(bad_page);
  CHECK(bad_page->status == 422);
  auto not_theirs =
      client->Get("/v1/ballot/audit-events", {{"Authorization", "Bearer " + kMobileKey}});
  REQUIRE(not_theirs);
  CHECK(not_theirs->status == 403);
  auto nobody = client->Get("/v1/ballot/audit-events");
  REQUIRE(nobody);
  CHECK(nobody->status == 401);
  CHECK(nobody->get_header_value("WWW-Authenticate") == "Bearer realm=\"civic\"");

  // Revoked at the events API: refused within one sync interval (200 ms here).
  events.SetKeys(json::array({Key(11, kMobileKey, "voting_client", {7}, "2026-12-07T00:00:00Z"),
                              Key(12, kPortalKey, "voting_client", {7, 8}),
                              Key(13, kAuditorKey, "admin", json::array())}));
  const auto revoked_at = std::chrono::steady_clock::now();
  REQUIRE(Eventually([&] { return VoteWith(*client, kMobileKey, 7, "m-3", 31, 501) == 401; }));
  CHECK(std::chrono::steady_clock::now() - revoked_at < std::chrono::seconds(2));

  // With the events API down, a restarted ballot keeps the last keys it took.
  events.SetDown(true);
  client.reset();
  REQUIRE(ballot->Signal(SIGTERM) == 0);
  ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                     BallotOptions(events.url(), dir.path() + "/data"));
  client = ballot->Client();
  CHECK(VoteWith(*client, kPortalKey, 7, "p-2", 31, 502) == 201);
  CHECK(VoteWith(*client, kMobileKey, 7, "m-4", 31, 502) == 401);
}

TEST_CASE("Ballot audit trail: kept for --audit-retention-days, and a day at least",
          "[ballot][access]") {
  FakeEventsApi events;
  events.Put(SampleAward(7));
  TempDir dir;
  const std::string data = dir.path() + "/data";
  {
    Service ballot(civic::test::BallotBinary(), BallotOptions(events.url(), data));
    auto client = ballot.Client();
    REQUIRE(WaitForAward(*client, 7));
    auto sync = client->Post("/v1/awards/7/sync", civic::test::AdminAuth(), "", "application/json");
    REQUIRE(sync);
    REQUIRE(sync->status == 200);
    REQUIRE(ballot.Signal(SIGTERM) == 0);
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((data + "/ballot.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) ==
          SQLITE_OK);
  // Nobody removes or changes a fresh record, not even with the database file in hand.
  CHECK(sqlite3_exec(db, "DELETE FROM audit_events", nullptr, nullptr, nullptr) ==
        SQLITE_CONSTRAINT);
  CHECK(sqlite3_exec(db, "UPDATE audit_events SET status = 500", nullptr, nullptr, nullptr) ==
        SQLITE_CONSTRAINT);
  // A record from 40 days ago, as an older ballot would have left it.
  REQUIRE(sqlite3_exec(db,
                       "INSERT INTO audit_events(at, key_prefix, role, method, route, path, "
                       "status) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-40 days'), "
                       "'civ_old', 'admin', 'POST', '/v1/awards/{award}/sync', "
                       "'/v1/awards/7/sync', 200)",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);

  const auto trail_after_start = [&](const std::string& days) {
    Service ballot(civic::test::BallotBinary(),
                   BallotOptions(events.url(), data, {"--audit-retention-days", days}));
    auto client = ballot.Client();
    auto audit = client->Get("/v1/ballot/audit-events", civic::test::AdminAuth());
    REQUIRE(audit);
    REQUIRE(audit->status == 200);
    return json::parse(audit->body)["items"];
  };
  CHECK(trail_after_start("365").size() == 2);  // 40 days are within a year
  const json kept = trail_after_start("30");
  REQUIRE(kept.size() == 1);
  CHECK(kept[0]["key_prefix"] == "bootstrap:admin");
}
