// Results by city, end to end: two cities of one name (the two Заречный) stay apart in the
// ballot's results and in its recount, by their region.
#include <catch2/catch.hpp>
#include <set>

#include "both_services.hpp"

using civic::test::BothServices;
using civic::test::Call;
using civic::test::Create;
using civic::test::FromNow;
using civic::test::Path;
using civic::test::Results;
using civic::test::Str;
using civic::test::Vote;
using nlohmann::json;

TEST_CASE("End to end: the two Заречный are told apart by region in results and the recount",
          "[e2e][awards][ballot][cities]") {
  BothServices both;
  auto api = both.events.Client();
  auto votes = both.ballot.Client();
  const int64_t penza = Create(*api, "/v1/cities",
                               {{"name", "Заречный"},
                                {"region", "Пензенская область"},
                                {"time_zone", "Europe/Moscow"}})["id"];
  const int64_t sverdlovsk = Create(*api, "/v1/cities",
                                    {{"name", "Заречный"},
                                     {"region", "Свердловская область"},
                                     {"time_zone", "Asia/Yekaterinburg"}})["id"];
  const int64_t award = Create(*api, "/v1/awards",
                               {{"title", "Новые Созидатели"},
                                {"edition_year", 2026},
                                {"voting_opens_at", FromNow(-std::chrono::hours(1))},
                                {"voting_closes_at", FromNow(std::chrono::hours(1))},
                                {"results_visibility", "live"},
                                {"status", "published"}})["id"];
  const int64_t leaders =
      Create(*api, "/v1/nominations", {{"award_id", award}, {"title", "Лидер изменений"}})["id"];
  const auto nominee = [&](const std::string& name, int64_t city) {
    return Create(*api, "/v1/nominees",
                  {{"nomination_id", leaders},
                   {"kind", "project"},
                   {"project_title", name},
                   {"name", name},
                   {"city_id", city}})["id"]
        .get<int64_t>();
  };
  const int64_t pond = nominee("Пруд у школы", penza);
  const int64_t square = nominee("Сквер атомщиков", sverdlovsk);
  REQUIRE(civic::test::Eventually([&] {
    const json results = Results(*votes, award);
    return !results.is_null() && results["nominations"].size() == 1 &&
           results["nominations"][0]["nominees"].size() == 2;
  }));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(Vote(*votes, award, Str("penza-", i), leaders, pond)->status == 201);
  }
  REQUIRE(Vote(*votes, award, "sverdlovsk-1", leaders, square)->status == 201);

  // Public results (cached for up to a second): two rows named Заречный, with their ids and
  // regions, votes where they were.
  json results;
  REQUIRE(civic::test::Eventually([&] {
    auto shown = votes->Get(Str("/v1/awards/", award, "/results"));
    if (!shown || shown->status != 200) {
      return false;
    }
    results = json::parse(shown->body);
    return results["total_votes"] == 4;
  }));
  for (const json& by_city : {results["by_city"], results["nominations"][0]["by_city"]}) {
    REQUIRE(by_city.size() == 2);
    CHECK(by_city[0]["city"] ==
          json{{"id", penza}, {"name", "Заречный"}, {"region", "Пензенская область"}});
    CHECK(by_city[0]["votes"] == 3);
    CHECK(by_city[1]["city"] ==
          json{{"id", sverdlovsk}, {"name", "Заречный"}, {"region", "Свердловская область"}});
    CHECK(by_city[1]["votes"] == 1);
  }
  std::set<std::string> regions;
  for (const json& who : results["nominations"][0]["nominees"]) {
    regions.insert(who["city"]["region"].get<std::string>());
  }
  CHECK(regions == std::set<std::string>{"Пензенская область", "Свердловская область"});

  // A region corrected at the events API reaches the ballot's copy (the city is in the snapshot).
  REQUIRE(Call(*api, "PATCH", Path("/v1/cities", sverdlovsk), {{"region", "Свердловская обл."}})
              .status == 200);
  REQUIRE(civic::test::Eventually([&] {
    const json now = Results(*votes, award);
    for (const json& row : now["by_city"]) {
      if (row["city"]["id"] == sverdlovsk) {
        return row["city"]["region"] == "Свердловская обл.";
      }
    }
    return false;
  }));

  // The recount (the audit export) names each nominee's city with its region too.
  const civic::test::CommandResult recount = civic::test::RunToEnd(
      civic::test::BallotBinary() + " recount --data-dir " + both.ballot.data_dir());
  REQUIRE(recount.exit_code == 0);
  const json counted = json::parse(recount.output);
  std::map<int64_t, json> city_of;
  for (const json& a : counted["awards"]) {
    for (const json& n : a["nominations"]) {
      for (const json& who : n["nominees"]) {
        city_of[who["id"].get<int64_t>()] = who["city"];
      }
    }
  }
  CHECK(city_of[pond]["region"] == "Пензенская область");
  CHECK(city_of[square]["region"] == "Свердловская обл.");
  CHECK(city_of[pond]["name"] == city_of[square]["name"]);
}
