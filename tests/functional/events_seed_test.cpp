// civic-seed loads the five seed stories through the events API, and a second run adds nothing.
#include <sys/wait.h>
#include <catch2/catch.hpp>
#include <cstdio>
#include <set>
#include <string>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using nlohmann::json;

namespace {

int RunSeed(const std::string& url, std::string& output) {
  const std::string command = std::string("CIVIC_SEED_KEY=") + civic::test::kTestAdminKey + " " +
                              CIVIC_SEED_BIN + " --url " + url + " 2>&1";
  civic::test::CommandResult result = civic::test::RunToEnd(command);
  output += result.output;
  return result.exit_code;
}

// Every item of a list, following `next` cursors.
json All(httplib::Client& client, const std::string& path) {
  json items = json::array();
  std::string next;
  do {
    const std::string sep = path.find('?') == std::string::npos ? "?" : "&";
    auto page =
        Call(client, "GET", path + sep + "limit=100" + (next.empty() ? "" : "&cursor=" + next));
    REQUIRE(page.status == 200);
    for (const auto& item : page.body["items"]) {
      items.push_back(item);
    }
    next = page.body["next"].is_null() ? "" : page.body["next"].get<std::string>();
  } while (!next.empty());
  return items;
}

}  // namespace

TEST_CASE("Seed: the five stories load through the API and a second run creates nothing",
          "[events][seed]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  std::string output;
  REQUIRE(RunSeed(service.base_url(), output) == 0);
  INFO(output);

  // Seed 000: 14 city teams of the education program, each with four sectors: complete.
  const json programs = All(*client, "/v1/programs");
  int64_t good_cities = 0;
  for (const auto& program : programs) {
    if (program["title"] == "Добрые города") {
      good_cities = program["id"];
    }
  }
  REQUIRE(good_cities != 0);
  const json teams = All(*client, "/v1/teams?program_id=" + std::to_string(good_cities));
  CHECK(teams.size() == 14);
  for (const auto& team : teams) {
    auto composition = Call(
        *client, "GET", "/v1/teams/" + std::to_string(team["id"].get<int64_t>()) + "/composition");
    CHECK(composition.body["complete"] == true);
    CHECK(composition.body["size"] == 4);
  }

  // Each team's project, reviewed by two experts, ranked in the program.
  auto ranking = Call(*client, "GET",
                      "/v1/programs/" + std::to_string(good_cities) + "/project-ranking?limit=100");
  REQUIRE(ranking.status == 200);
  CHECK(ranking.body["projects"] == 14);
  REQUIRE(ranking.body["items"].size() == 14);
  CHECK(ranking.body["items"][0]["rank"] == 1);
  for (const auto& item : ranking.body["items"]) {
    CHECK(item["reviews"] == 2);
    CHECK(item["score"].is_number());
  }

  // Seed 001: the award with nominees from its 30 cities.
  const json awards = All(*client, "/v1/awards");
  REQUIRE(awards.size() == 1);
  CHECK(awards[0]["title"] == "Новые Созидатели");
  const json nominees =
      All(*client, "/v1/awards/" + std::to_string(awards[0]["id"].get<int64_t>()) + "/nominees");
  std::set<int64_t> nominee_cities;
  for (const auto& nominee : nominees) {
    nominee_cities.insert(nominee["city_id"].get<int64_t>());
  }
  CHECK(nominee_cities.size() == 30);

  // Seeds 002-004: the rally, the Уфа conference (plenary + four platforms), the Якутск school.
  const json events = All(*client, "/v1/events");
  CHECK(events.size() == 7);
  for (const auto& event : events) {
    const std::string title = event["title"];
    const std::string sessions_path =
        "/v1/events/" + std::to_string(event["id"].get<int64_t>()) + "/sessions";
    if (title.find("Сообщества: перспективы") != std::string::npos) {
      const json sessions = All(*client, sessions_path);
      CHECK(sessions.size() == 5);
      CHECK(event["starts_at"] == "2026-12-18T10:00:00.000+05:00");
    }
    if (event["kind"] == "school") {
      const json sessions = All(*client, sessions_path);
      REQUIRE(sessions.size() == 1);
      CHECK(sessions[0]["kind"] == "case_session");
      CHECK(sessions[0]["starts_at"] == "2026-09-08T10:00:00.000+09:00");
    }
    if (event["kind"] == "rally") {
      CHECK(event["starts_at"] == "2026-09-28T10:00:00.000+07:00");
    }
  }

  // Idempotency keys make a second run replay instead of duplicating.
  const size_t people = All(*client, "/v1/people").size();
  output.clear();
  REQUIRE(RunSeed(service.base_url(), output) == 0);
  CHECK(All(*client, "/v1/people").size() == people);
  CHECK(All(*client, "/v1/reviews").size() == 28);
  CHECK(All(*client, "/v1/events").size() == 7);
}
