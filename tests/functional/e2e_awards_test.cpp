// The two real services together (proto-docs/awards-sync.md end to end): the ballot learns an
// award from the events API, takes votes, and the events API closes the award with the ballot's
// final results. No fakes: only a relay in this process, so both binaries can start on port 0.
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "both_services.hpp"

using civic::test::AdminAuth;
using civic::test::BallotOptions;
using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::FromNow;
using civic::test::Has;
using civic::test::Results;
using civic::test::Service;
using civic::test::Str;
using civic::test::Vote;
using nlohmann::json;

using civic::test::BothServices;
using civic::test::Path;

TEST_CASE("End to end: the ballot learns an award, takes votes, the close records its laureates",
          "[e2e][awards][ballot][close]") {
  BothServices both;
  auto api = both.events.Client();
  auto votes = both.ballot.Client();

  // Seed 001: "Новые Созидатели", the people's award of the atom cities; invented nominees.
  std::map<std::string, int64_t> city;
  for (const auto& [name, zone] :
       std::vector<std::pair<std::string, std::string>>{{"Саров", "Europe/Moscow"},
                                                        {"Снежинск", "Asia/Yekaterinburg"},
                                                        {"Озёрск", "Asia/Yekaterinburg"},
                                                        {"Железногорск", "Asia/Krasnoyarsk"}}) {
    city[name] = Create(*api, "/v1/cities", {{"name", name}, {"time_zone", zone}})["id"];
  }
  const int64_t award = Create(*api, "/v1/awards",
                               {{"title", "Новые Созидатели"},
                                {"edition_year", 2026},
                                {"voting_opens_at", FromNow(-std::chrono::hours(1))},
                                {"voting_closes_at", FromNow(std::chrono::hours(1))},
                                {"max_choices_per_nomination", 1},
                                {"results_visibility", "live"},
                                {"status", "published"}})["id"];
  const auto nomination = [&](const std::string& title) -> int64_t {
    return Create(*api, "/v1/nominations", {{"award_id", award}, {"title", title}})["id"];
  };
  const auto nominee = [&](int64_t in, const std::string& name, const std::string& from) {
    const int64_t person =
        Create(*api, "/v1/people", {{"name", name}, {"city_id", city.at(from)}})["id"];
    return Create(*api, "/v1/nominees",
                  {{"nomination_id", in},
                   {"kind", "person"},
                   {"person_id", person},
                   {"name", name},
                   {"city_id", city.at(from)}})["id"]
        .get<int64_t>();
  };
  const int64_t leaders = nomination("Лидер изменений");
  const int64_t keepers = nomination("Хранитель традиций");
  const int64_t irina = nominee(leaders, "Ирина Лебедева", "Саров");
  const int64_t pavel = nominee(leaders, "Павел Кречетов", "Снежинск");
  const int64_t olesya = nominee(keepers, "Олеся Гарипова", "Озёрск");
  const int64_t timur = nominee(keepers, "Тимур Ахмеров", "Железногорск");

  // The ballot learns the award and its four nominees over HTTP (told by the events API, or at
  // its next poll).
  REQUIRE(civic::test::Eventually(
      [&] {
        const json results = Results(*votes, award);
        return !results.is_null() && results["nominations"].size() == 2 &&
               results["nominations"][1]["nominees"].size() == 2;
      },
      std::chrono::seconds(30)));

  int voter = 0;
  const auto cast = [&](int64_t in, int64_t who, int times) {
    for (int i = 0; i < times; ++i) {
      auto r = Vote(*votes, award, Str("resident-", ++voter), in, who);
      REQUIRE(r);
      REQUIRE(r->status == 201);
    }
  };
  cast(leaders, irina, 3);
  cast(leaders, pavel, 1);
  cast(keepers, olesya, 2);
  cast(keepers, timur, 2);

  // Closing is refused while voting is open; the organiser ends voting now (a moment ahead).
  CHECK(Call(*api, "POST", Path("/v1/awards", award, "/close")).status == 409);
  const std::string ends = FromNow(std::chrono::seconds(2));
  auto ended = Call(*api, "PATCH", Path("/v1/awards", award), {{"voting_closes_at", ends}});
  REQUIRE(ended.status == 200);
  // The ballot has the new end once it gives final results.
  REQUIRE(civic::test::Eventually(
      [&] {
        auto r = votes->Get(Str("/v1/awards/", award, "/results?final=true"), AdminAuth());
        return r && r->status == 200;
      },
      std::chrono::seconds(30)));
  CHECK(Vote(*votes, award, "late-resident", leaders, pavel)->status == 403);

  auto closed = Call(*api, "POST", Path("/v1/awards", award, "/close"));
  REQUIRE(closed.status == 200);
  CHECK(closed.body["award"]["status"] == "closed");
  const json& laureates = closed.body["laureates"];
  REQUIRE(laureates.size() == 3);
  std::set<int64_t> winners;
  for (const auto& laureate : laureates) {
    winners.insert(laureate["nominee_id"].get<int64_t>());
    CHECK(laureate["rank"] == 1);
  }
  CHECK(winners == std::set<int64_t>{irina, olesya, timur});
  for (const auto& laureate : laureates) {
    if (laureate["nominee_id"] == irina) {
      CHECK(laureate["votes"] == 3);
      CHECK(laureate["nomination_id"] == leaders);
    } else {
      CHECK(laureate["votes"] == 2);
      CHECK(laureate["nomination_id"] == keepers);
    }
  }
  CHECK(Call(*api, "GET", Path("/v1/awards", award, "/laureates")).body["items"].size() == 3);
  // The ballot learns that the award is closed.
  CHECK(civic::test::Eventually([&] { return Results(*votes, award)["status"] == "closed"; },
                                std::chrono::seconds(30)));
  CHECK(Has(ErrorFields(Call(*api, "PATCH", Path("/v1/awards", award),
                             {{"max_choices_per_nomination", 2}})),
            "max_choices_per_nomination"));
}

TEST_CASE("End to end: votes taken through the ballot's stale copy stay counted, the close works",
          "[e2e][awards][ballot][close][sync]") {
  BothServices both;
  auto api = both.events.Client();
  auto votes = both.ballot.Client();

  const int64_t sarov =
      Create(*api, "/v1/cities", {{"name", "Саров"}, {"time_zone", "Europe/Moscow"}})["id"];
  const int64_t ozyorsk =
      Create(*api, "/v1/cities", {{"name", "Озёрск"}, {"time_zone", "Asia/Yekaterinburg"}})["id"];
  const auto opens = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  const int64_t award = Create(*api, "/v1/awards",
                               {{"title", "Новые Созидатели"},
                                {"edition_year", 2026},
                                {"voting_opens_at", FromNow(std::chrono::seconds(4))},
                                {"voting_closes_at", FromNow(std::chrono::hours(1))},
                                {"results_visibility", "live"},
                                {"status", "published"}})["id"];
  const auto nomination = [&](const std::string& title) -> int64_t {
    return Create(*api, "/v1/nominations", {{"award_id", award}, {"title", title}})["id"];
  };
  const auto nominee = [&](int64_t in, const std::string& name, int64_t city) {
    return Create(*api, "/v1/nominees",
                  {{"nomination_id", in},
                   {"kind", "project"},
                   {"project_title", name},
                   {"name", name},
                   {"city_id", city}})["id"]
        .get<int64_t>();
  };
  const int64_t leaders = nomination("Лидер изменений");
  const int64_t keepers = nomination("Хранитель традиций");
  const int64_t park = nominee(leaders, "Парк у реки", sarov);
  const int64_t yard = nominee(leaders, "Двор без заборов", ozyorsk);
  const int64_t museum = nominee(keepers, "Музей в библиотеке", ozyorsk);
  REQUIRE(civic::test::Eventually([&] {
    const json results = Results(*votes, award);
    return !results.is_null() && results["nominations"].size() == 2 &&
           results["nominations"][0]["nominees"].size() == 2 &&
           results["nominations"][1]["nominees"].size() == 1;
  }));

  // The ballot and the events API lose each other; before voting opens the organiser deletes one
  // nominee and moves another. The ballot does not hear of it and, once the window opens, takes
  // votes for both where its copy has them.
  both.relay.Pause(true);
  both.to_ballot.Pause(true);
  REQUIRE(Call(*api, "DELETE", Path("/v1/nominees", yard)).status == 204);
  REQUIRE(Call(*api, "PATCH", Path("/v1/nominees", museum), {{"nomination_id", leaders}}).status ==
          200);
  REQUIRE(std::chrono::steady_clock::now() < opens);
  std::this_thread::sleep_until(opens + std::chrono::milliseconds(200));
  REQUIRE(Vote(*votes, award, "resident-1", leaders, yard)->status == 201);
  REQUIRE(Vote(*votes, award, "resident-2", leaders, yard)->status == 201);
  REQUIRE(Vote(*votes, award, "resident-3", keepers, museum)->status == 201);
  REQUIRE(Vote(*votes, award, "resident-4", leaders, park)->status == 201);

  // The events API is back: the ballot takes the new snapshot, keeps the votes as removed.
  both.relay.Pause(false);
  both.to_ballot.Pause(false);
  REQUIRE(civic::test::Eventually(
      [&] {
        auto r = votes->Post(Str("/v1/awards/", award, "/sync"), AdminAuth(), "", "");
        return r && r->status == 200;
      },
      std::chrono::seconds(30)));
  json results = Results(*votes, award);
  CHECK(results["total_votes"] == 4);
  std::map<std::pair<int64_t, int64_t>, std::string> status;  // (nomination, nominee)
  for (const auto& n : results["nominations"]) {
    for (const auto& who : n["nominees"]) {
      status[{n["id"], who["id"]}] = who["status"];
    }
  }
  CHECK(status[{leaders, yard}] == "removed");
  CHECK(status[{keepers, museum}] == "removed");
  CHECK(status[{leaders, museum}] == "active");
  CHECK(status[{leaders, park}] == "active");
  CHECK(Vote(*votes, award, "resident-5", leaders, museum)->status == 201);
  CHECK(Vote(*votes, award, "resident-6", leaders, yard)->status == 404);

  // The close records laureates among the award's own nominees only.
  REQUIRE(Call(*api, "PATCH", Path("/v1/awards", award),
               {{"voting_closes_at", FromNow(std::chrono::seconds(2))}})
              .status == 200);
  REQUIRE(civic::test::Eventually(
      [&] {
        auto r = votes->Get(Str("/v1/awards/", award, "/results?final=true"), AdminAuth());
        return r && r->status == 200;
      },
      std::chrono::seconds(30)));
  auto closed = Call(*api, "POST", Path("/v1/awards", award, "/close"));
  REQUIRE(closed.status == 200);
  std::set<int64_t> winners;
  for (const auto& laureate : closed.body["laureates"]) {
    CHECK(laureate["nomination_id"] == leaders);
    CHECK(laureate["rank"] == 2);  // the deleted nominee had more votes
    CHECK(laureate["votes"] == 1);
    winners.insert(laureate["nominee_id"].get<int64_t>());
  }
  CHECK(winners == std::set<int64_t>{park, museum});
}

TEST_CASE(
    "End to end: a voting client's key made at the events API votes at the ballot in its "
    "award only, and revoked is refused within one sync interval",
    "[e2e][access][ballot]") {
  BothServices both;
  auto api = both.events.Client();
  auto votes = both.ballot.Client();
  const int64_t sarov =
      Create(*api, "/v1/cities", {{"name", "Саров"}, {"time_zone", "Europe/Moscow"}})["id"];
  // Two awards of seed 001's kind, each with one nomination and one nominee.
  const auto award = [&](const std::string& title) {
    const int64_t id = Create(*api, "/v1/awards",
                              {{"title", title},
                               {"edition_year", 2026},
                               {"voting_opens_at", FromNow(-std::chrono::hours(1))},
                               {"voting_closes_at", FromNow(std::chrono::hours(1))},
                               {"results_visibility", "live"},
                               {"status", "published"}})["id"];
    const int64_t nomination =
        Create(*api, "/v1/nominations", {{"award_id", id}, {"title", "Лидер изменений"}})["id"];
    const int64_t nominee = Create(*api, "/v1/nominees",
                                   {{"nomination_id", nomination},
                                    {"kind", "project"},
                                    {"project_title", "Зелёный двор"},
                                    {"name", "Зелёный двор"},
                                    {"city_id", sarov}})["id"];
    return std::array<int64_t, 3>{id, nomination, nominee};
  };
  const auto creators = award("Новые Созидатели");
  const auto other = award("Хранители традиций");
  const json key = Create(
      *api, "/v1/api-keys",
      {{"name", "мобильное приложение"}, {"role", "voting_client"}, {"award_ids", {creators[0]}}});
  const std::string token = key["token"];
  const auto vote = [&](const std::array<int64_t, 3>& in, const std::string& voter) {
    auto r = votes->Post(Str("/v1/awards/", in[0], "/votes"),
                         {{"Authorization", "Bearer " + token}, {"Connection", "keep-alive"}},
                         civic::test::VoteBody(voter, in[1], in[2]).dump(), "application/json");
    return r ? r->status : 0;
  };
  // Known at the ballot after a sync (200 ms here).
  REQUIRE(civic::test::Eventually([&] { return vote(creators, "voter-1") == 201; }));
  CHECK(vote(other, "voter-1") == 403);

  REQUIRE(Call(*api, "POST", Path("/v1/api-keys", key["id"].get<int64_t>(), "/revoke")).status ==
          200);
  const auto revoked = std::chrono::steady_clock::now();
  REQUIRE(civic::test::Eventually([&] { return vote(creators, "voter-2") == 401; }));
  CHECK(std::chrono::steady_clock::now() - revoked < std::chrono::seconds(2));
}
