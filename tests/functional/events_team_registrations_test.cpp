// Teams register as a whole: a city team of «Добрые города» (seed 000) registers for the
// program's first module in one request. People are invented.
#include <catch2/catch.hpp>
#include <string>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::FromNow;
using nlohmann::json;

namespace {

std::string Str(int64_t id) { return std::to_string(id); }

struct Module {
  civic::test::Service service{civic::test::EventsApiBinary()};
  std::unique_ptr<httplib::Client> client = service.Client();
  int64_t city =
      Create(*client, "/v1/cities", {{"name", "Саров"}, {"time_zone", "Europe/Moscow"}})["id"];
  int64_t team =
      Create(*client, "/v1/teams",
             {{"name", "Команда Сарова"}, {"city_id", city}, {"status", "active"}})["id"];
  std::vector<int64_t> members;

  Module() {
    const std::vector<std::pair<std::string, std::string>> people = {
        {"Анна Муниципальная", "government"},
        {"Борис Некоммерческий", "ngo"},
        {"Вера Деловая", "business"},
        {"Глеб Волонтёр", "volunteer"}};
    for (const auto& [name, sector] : people) {
      const int64_t person =
          Create(*client, "/v1/people", {{"name", name}, {"city_id", city}})["id"];
      Create(*client, "/v1/team-members",
             {{"team_id", team},
              {"person_id", person},
              {"sector", sector},
              {"role", members.empty() ? "lead" : "member"}});
      members.push_back(person);
    }
  }

  int64_t Event(const json& capacity, const std::string& status = "published") {
    return Create(*client, "/v1/events",
                  {{"kind", "module"},
                   {"title", "Первый модуль «Добрые города»"},
                   {"city_id", city},
                   {"starts_at", FromNow(std::chrono::hours(24 * 30))},
                   {"ends_at", FromNow(std::chrono::hours(24 * 33))},
                   {"capacity", capacity},
                   {"status", status}})["id"];
  }
};

}  // namespace

TEST_CASE("Team registration: every member in one request, one by one against the capacity",
          "[events][registrations][teams]") {
  Module m;
  const int64_t module = m.Event(3);
  // One member registered on their own before the team did.
  REQUIRE(Call(*m.client, "POST", "/v1/events/" + Str(module) + "/registrations",
               {{"person_id", m.members[1]}})
              .status == 201);
  auto reply = Call(*m.client, "POST", "/v1/events/" + Str(module) + "/team-registrations",
                    {{"team_id", m.team}});
  REQUIRE(reply.status == 200);
  CHECK(reply.body["event_id"] == module);
  CHECK(reply.body["team_id"] == m.team);
  const json& outcomes = reply.body["members"];
  REQUIRE(outcomes.size() == 4);
  std::vector<std::string> seen;
  for (size_t i = 0; i < 4; ++i) {
    CHECK(outcomes[i]["person_id"] == m.members[i]);
    CHECK(outcomes[i]["registration"]["person_id"] == m.members[i]);
    seen.push_back(outcomes[i]["outcome"]);
  }
  // The team's lead took the second place, the member who came alone kept the first; the fourth
  // place does not exist.
  CHECK(seen ==
        std::vector<std::string>{"confirmed", "already_registered", "confirmed", "waitlisted"});
  CHECK(outcomes[0]["registration"]["team_id"] == m.team);
  CHECK(outcomes[1]["registration"]["team_id"].is_null());

  auto of_team =
      Call(*m.client, "GET", "/v1/events/" + Str(module) + "/registrations?team_id=" + Str(m.team));
  REQUIRE(of_team.status == 200);
  CHECK(of_team.body["items"].size() == 3);

  // Again: everyone is already registered; nothing new is stored.
  auto again = Call(*m.client, "POST", "/v1/events/" + Str(module) + "/team-registrations",
                    {{"team_id", m.team}});
  REQUIRE(again.status == 200);
  for (const auto& outcome : again.body["members"]) {
    CHECK(outcome["outcome"] == "already_registered");
  }
  CHECK(
      Call(*m.client, "GET", "/v1/events/" + Str(module) + "/registrations").body["items"].size() ==
      4);
}

TEST_CASE("Team registration: a full or closed event, an unknown or empty team store nothing",
          "[events][registrations][teams]") {
  Module m;
  // A full event: every member waits, in the order they joined the team.
  const int64_t full = m.Event(0);
  auto waiting = Call(*m.client, "POST", "/v1/events/" + Str(full) + "/team-registrations",
                      {{"team_id", m.team}});
  REQUIRE(waiting.status == 200);
  for (const auto& outcome : waiting.body["members"]) {
    CHECK(outcome["outcome"] == "waitlisted");
  }
  const int64_t draft = m.Event(100, "draft");
  auto closed = Call(*m.client, "POST", "/v1/events/" + Str(draft) + "/team-registrations",
                     {{"team_id", m.team}});
  CHECK(closed.status == 409);
  CHECK(closed.body["code"] == "registration-closed");
  CHECK(
      Call(*m.client, "GET", "/v1/events/" + Str(draft) + "/registrations").body["items"].empty());
  const int64_t open = m.Event(100);
  auto unknown = Call(*m.client, "POST", "/v1/events/" + Str(open) + "/team-registrations",
                      {{"team_id", 999999}});
  CHECK(unknown.status == 422);
  CHECK(ErrorFields(unknown) == std::vector<std::string>{"team_id"});
  const int64_t empty =
      Create(*m.client, "/v1/teams",
             {{"name", "Пустая команда"}, {"city_id", m.city}, {"status", "forming"}})["id"];
  auto none = Call(*m.client, "POST", "/v1/events/" + Str(open) + "/team-registrations",
                   {{"team_id", empty}});
  CHECK(none.status == 422);
  CHECK(
      Call(*m.client, "POST", "/v1/events/" + Str(open) + "/team-registrations", {{"team", m.team}})
          .status == 422);
  CHECK(Call(*m.client, "GET", "/v1/events/" + Str(open) + "/registrations").body["items"].empty());
  CHECK(Call(*m.client, "POST", "/v1/events/999999/team-registrations", {{"team_id", m.team}})
            .status == 404);
}
