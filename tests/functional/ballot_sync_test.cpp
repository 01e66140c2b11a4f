// The ballot's side of the awards sync (proto-docs/awards-sync.md) against a fake of the events
// API in this test process: changes within one interval, ETags, the events API down, on-demand
// sync, awards no longer listed.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "ballot_fixture.hpp"

using civic::test::AdminAuth;
using civic::test::BallotOptions;
using civic::test::FakeEventsApi;
using civic::test::Results;
using civic::test::SampleAward;
using civic::test::Service;
using civic::test::Vote;
using civic::test::WaitForAward;
using nlohmann::json;

namespace {

json Nominee(int64_t id, int64_t nomination, const char* status = "active") {
  return {{"id", id},
          {"nomination_id", nomination},
          {"name", "Новый номинант"},
          {"city", {{"id", 9}, {"name", "Заречный"}}},
          {"status", status}};
}

std::string Metrics(httplib::Client& client) {
  auto r = client.Get("/metrics");
  return r ? r->body : "";
}

}  // namespace

TEST_CASE("Ballot: a nominee added or withdrawn and a moved window are live within an interval",
          "[ballot][sync]") {
  FakeEventsApi events;
  events.Put(SampleAward());
  Service ballot(civic::test::BallotBinary(), BallotOptions(events.url()));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  CHECK(Vote(*client, 7, "early", 31, 505)->status == 404);

  events.Edit(7, [](json& a) { a["nominees"].push_back(Nominee(505, 31)); });
  REQUIRE(WaitForAward(*client, 7, 2));
  CHECK(Vote(*client, 7, "a", 31, 505)->status == 201);

  events.Edit(7, [](json& a) { a["nominees"][4]["status"] = "withdrawn"; });
  REQUIRE(WaitForAward(*client, 7, 3));
  CHECK(Vote(*client, 7, "b", 31, 505)->status == 403);
  // Votes already counted for a withdrawn nominee stay counted and reported.
  CHECK(civic::test::VotesByNominee(Results(*client, 7))[505] == 1);

  events.Edit(7, [](json& a) {
    a["voting_opens_at"] = civic::test::UtcIn(std::chrono::hours(-2));
    a["voting_closes_at"] = civic::test::UtcIn(std::chrono::hours(-1));
  });
  REQUIRE(WaitForAward(*client, 7, 4));
  CHECK(Vote(*client, 7, "c", 31, 501)->status == 403);

  // Nothing changed for a while: the list is answered 304 to our If-None-Match.
  CHECK(civic::test::Eventually([&] { return events.list_not_modified() >= 2; }));
  for (const auto& header : events.protocol_headers()) {
    CHECK(header == "1");
  }
  CHECK(Metrics(*client).find("ballot_sync_last_success_timestamp_seconds 0\n") ==
        std::string::npos);
}

TEST_CASE("Ballot: with the events API down, a restarted ballot takes votes for known awards",
          "[ballot][sync]") {
  civic::test::TempDir dir;
  FakeEventsApi events;
  events.Put(SampleAward());
  {
    Service ballot(civic::test::BallotBinary(), BallotOptions(events.url(), dir.path()));
    auto client = ballot.Client();
    REQUIRE(WaitForAward(*client, 7));
    REQUIRE(Vote(*client, 7, "before", 31, 501)->status == 201);
    REQUIRE(ballot.Signal(SIGTERM) == 0);
  }
  events.SetDown(true);
  Service ballot(civic::test::BallotBinary(), BallotOptions(events.url(), dir.path()));
  auto client = ballot.Client();
  CHECK(Vote(*client, 7, "during", 31, 502)->status == 201);
  CHECK(Vote(*client, 7, "before", 31, 501)->status == 200);
  CHECK(civic::test::Eventually([&] {
    return Metrics(*client).find("ballot_sync_failures_total 0\n") == std::string::npos;
  }));
  CHECK(Metrics(*client).find("ballot_awards_loaded 1\n") != std::string::npos);
  // The events API comes back with a change: picked up again.
  events.Edit(7, [](json& a) { a["nominees"].push_back(Nominee(505, 31)); });
  events.SetDown(false);
  // Backoff after failures doubles the interval (0.2, 0.4, 0.8, 1.6, 3.2 s ...): allow for it.
  REQUIRE(civic::test::Eventually(
      [&] {
        const auto results = Results(*client, 7);
        return !results.is_null() && results["award_version"] == 2;
      },
      std::chrono::seconds(40)));
  CHECK(Vote(*client, 7, "after", 31, 505)->status == 201);
}

TEST_CASE("Ballot: an award the events API stops listing takes no votes but keeps its results",
          "[ballot][sync]") {
  FakeEventsApi events;
  events.Put(SampleAward());
  Service ballot(civic::test::BallotBinary(), BallotOptions(events.url()));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  REQUIRE(Vote(*client, 7, "v", 31, 501)->status == 201);
  events.Remove(7);
  REQUIRE(civic::test::Eventually([&] { return Results(*client, 7)["active"] == false; }));
  CHECK(Vote(*client, 7, "w", 31, 501)->status == 403);
  CHECK(Vote(*client, 7, "v", 31, 501)->status == 200);
  CHECK(civic::test::VotesByNominee(Results(*client, 7))[501] == 1);
  events.Put(SampleAward());
  REQUIRE(civic::test::Eventually([&] { return Results(*client, 7)["active"] == true; }));
  CHECK(Vote(*client, 7, "w", 31, 501)->status == 201);
}

TEST_CASE("Ballot: POST /v1/awards/{id}/sync fetches the award now (admin only)",
          "[ballot][sync]") {
  FakeEventsApi events;
  events.Put(SampleAward());
  // A long interval: only the start-up sync and the on-demand one happen in this test.
  Service ballot(civic::test::BallotBinary(), BallotOptions(events.url(), "", {}, 600000));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  events.Edit(7, [](json& a) { a["nominees"].push_back(Nominee(505, 31)); });
  auto r = client->Post("/v1/awards/7/sync", "", "application/json");
  REQUIRE(r);
  CHECK(r->status == 401);
  r = client->Post("/v1/awards/7/sync", AdminAuth(), "", "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(json::parse(r->body)["version"] == 2);
  CHECK(Vote(*client, 7, "v", 31, 505)->status == 201);

  // A new award appears on demand too; an award neither side knows is 404.
  events.Put(SampleAward(8));
  r = client->Post("/v1/awards/8/sync", AdminAuth(), "", "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(Vote(*client, 8, "v", 31, 501)->status == 201);
  r = client->Post("/v1/awards/99/sync", AdminAuth(), "", "application/json");
  REQUIRE(r);
  CHECK(r->status == 404);
  events.SetDown(true);
  r = client->Post("/v1/awards/7/sync", AdminAuth(), "", "application/json");
  REQUIRE(r);
  CHECK(r->status == 502);
  CHECK(r->get_header_value("Content-Type") == "application/problem+json");
}

TEST_CASE("Ballot: a snapshot of an unknown protocol version is rejected and the copy kept",
          "[ballot][sync]") {
  FakeEventsApi events;
  events.Put(SampleAward());
  Service ballot(civic::test::BallotBinary(), BallotOptions(events.url()));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  events.SetSnapshotProtocol(2);
  events.Edit(7, [](json& a) { a["nominees"].push_back(Nominee(505, 31)); });
  REQUIRE(civic::test::Eventually([&] {
    return Metrics(*client).find("ballot_sync_failures_total 0\n") == std::string::npos;
  }));
  CHECK(Results(*client, 7)["award_version"] == 1);
  CHECK(Vote(*client, 7, "v", 31, 505)->status == 404);
  CHECK(Vote(*client, 7, "v", 31, 501)->status == 201);
  events.SetSnapshotProtocol(1);
  REQUIRE(WaitForAward(*client, 7, 2));
  CHECK(Vote(*client, 7, "w", 31, 505)->status == 201);
}

TEST_CASE("Ballot: a refused snapshot of one award does not slow the sync of the others",
          "[ballot][sync]") {
  FakeEventsApi events;
  events.Put(SampleAward());
  json unusable = SampleAward(8);
  unusable["max_choices_per_nomination"] = 0;
  events.Put(unusable);
  unusable["id"] = 10;
  events.Put(unusable);
  Service ballot(civic::test::BallotBinary(), BallotOptions(events.url()));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  CHECK(client->Get("/v1/awards/8/results")->status == 404);
  // Refused at every 200 ms interval for 3 s: no back-off (which would allow ~5 tries).
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const std::string metrics = Metrics(*client);
  const auto failures = civic::test::MetricValue(metrics, "ballot_sync_failures_total");
  REQUIRE(failures.has_value());
  CHECK(*failures >= 16);
  // Each award's refusal is logged once, not at every interval (two awards, two reasons).
  const auto logged = [&](const std::string& what) {
    const std::string log = ballot.Stderr();
    size_t n = 0;
    for (size_t pos = log.find(what); pos != std::string::npos; pos = log.find(what, pos + 1)) {
      ++n;
    }
    return n;
  };
  CHECK(logged("award 8 rejected") == 1);
  CHECK(logged("award 10 rejected") == 1);
  // Award 7 still follows the events API at once.
  events.Edit(7, [](json& a) { a["nominees"].push_back(Nominee(505, 31)); });
  CHECK(civic::test::Eventually([&] { return Results(*client, 7)["award_version"] == 2; },
                                std::chrono::seconds(2)));
  // Fixed at the events API: taken.
  events.Edit(8, [](json& a) { a["max_choices_per_nomination"] = 2; });
  REQUIRE(WaitForAward(*client, 8, 2));
  CHECK(Results(*client, 8)["max_choices_per_nomination"] == 2);
}

TEST_CASE("Ballot: an award learned on demand and deleted before the next poll becomes inactive",
          "[ballot][sync]") {
  // The events API's list ETag follows its content: once the new award is gone, the list has
  // its earlier ETag again.
  FakeEventsApi events;
  events.Put(SampleAward());
  Service ballot(civic::test::BallotBinary(),
                 BallotOptions(events.url(), "", {}, /*sync_interval_ms=*/1000));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  events.Put(SampleAward(9));
  auto told = client->Post("/v1/awards/9/sync", AdminAuth(), "", "");
  REQUIRE(told);
  REQUIRE(told->status == 200);
  CHECK(Vote(*client, 9, "early", 31, 501)->status == 201);
  events.Remove(9);
  CHECK(civic::test::Eventually([&] { return Results(*client, 9)["active"] == false; },
                                std::chrono::seconds(5)));
  CHECK(Vote(*client, 9, "late", 31, 501)->status == 403);
}

TEST_CASE("Ballot: an award learned on demand while a poll is in flight is not marked inactive",
          "[ballot][sync]") {
  FakeEventsApi events;
  events.Put(SampleAward());
  Service ballot(civic::test::BallotBinary(),
                 BallotOptions(events.url(), "", {}, /*sync_interval_ms=*/1000));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  // The next poll lists 7 and 20..39, all new to the ballot; it fetches them one by one, and the
  // first is held in flight ...
  for (int64_t id = 20; id < 40; ++id) {
    events.Put(SampleAward(id));
  }
  events.HoldNext("/v1/sync/awards/20");
  REQUIRE(events.WaitHeld());
  // ... while award 9 is created and the ballot told at once (its fetch waits for the poll's
  // request in flight, then goes in between the poll's next ones).
  events.Put(SampleAward(9));
  std::thread told([&] {
    auto own = ballot.Client();
    auto r = own->Post("/v1/awards/9/sync", AdminAuth(), "", "");
    CHECK((r && r->status == 200));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  events.Release();
  told.join();
  // The poll acts on a list older than award 9's copy: it must not take 9 for deleted.
  REQUIRE(WaitForAward(*client, 39));
  bool stayed_active = true;
  for (int i = 0; i < 10; ++i) {
    stayed_active = stayed_active && Results(*client, 9)["active"] == true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(stayed_active);
  CHECK(Vote(*client, 9, "early", 31, 501)->status == 201);
  // Deleted for real: inactive within an interval or two.
  events.Remove(9);
  CHECK(civic::test::Eventually([&] { return Results(*client, 9)["active"] == false; },
                                std::chrono::seconds(5)));
}
