// Statistics of an event and of a program: confirmed, waitlisted, cancelled and attended, in
// total and by city, sector and team, kept in step with every registration change. The first
// module of «Добрые города» (seed 000); people are invented.
#include <catch2/catch.hpp>
#include <string>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::FromNow;
using nlohmann::json;

namespace {

std::string Str(int64_t id) { return std::to_string(id); }

// The row of `list` whose `member` is `value`.
json RowOf(const json& list, const std::string& member, const json& value) {
  for (const auto& row : list) {
    if (row[member] == value) {
      return row;
    }
  }
  FAIL("no row with " << member << " = " << value.dump() << " in " << list.dump());
  return nullptr;
}

json Counts(int confirmed, int waitlisted, int cancelled, int attended) {
  return {{"confirmed", confirmed},
          {"waitlisted", waitlisted},
          {"cancelled", cancelled},
          {"attended", attended}};
}

json Only(const json& row) {
  return {{"confirmed", row["confirmed"]},
          {"waitlisted", row["waitlisted"]},
          {"cancelled", row["cancelled"]},
          {"attended", row["attended"]}};
}

}  // namespace

TEST_CASE(
    "Statistics: an event's and a program's counts by city, sector and team follow every "
    "change",
    "[events][statistics]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto admin = service.Client();
  const int64_t sarov =
      Create(*admin, "/v1/cities", {{"name", "Саров"}, {"time_zone", "Europe/Moscow"}})["id"];
  const int64_t ozersk =
      Create(*admin, "/v1/cities", {{"name", "Озёрск"}, {"time_zone", "Asia/Yekaterinburg"}})["id"];
  const int64_t ngo =
      Create(*admin, "/v1/organizations",
             {{"name", "НКО «Добро»"}, {"sector", "ngo"}, {"city_id", sarov}})["id"];
  const int64_t city_hall = Create(*admin, "/v1/organizations",
                                   {{"name", "Администрация"}, {"sector", "government"}})["id"];
  const int64_t program = Create(
      *admin, "/v1/programs",
      {{"title", "Добрые города"}, {"kind", "accelerator"}, {"starts_on", "2026-09-01"}})["id"];
  auto event = [&](int capacity) -> int64_t {
    return Create(*admin, "/v1/events",
                  {{"kind", "module"},
                   {"title", "Модуль"},
                   {"program_id", program},
                   {"city_id", sarov},
                   {"starts_at", FromNow(std::chrono::hours(24 * 30))},
                   {"ends_at", FromNow(std::chrono::hours(24 * 31))},
                   {"capacity", capacity},
                   {"status", "published"}})["id"];
  };
  const int64_t module = event(3);
  const int64_t second = event(10);
  auto person = [&](const std::string& name, int64_t city, const json& organization) -> int64_t {
    return Create(*admin, "/v1/people",
                  {{"name", name}, {"city_id", city}, {"organization_id", organization}})["id"];
  };
  const int64_t a = person("Анна", sarov, ngo);
  const int64_t b = person("Борис", sarov, city_hall);
  const int64_t c = person("Вера", ozersk, ngo);
  const int64_t d = person("Глеб", ozersk, nullptr);
  const int64_t team =
      Create(*admin, "/v1/teams",
             {{"name", "Команда Озёрска"}, {"city_id", ozersk}, {"status", "active"}})["id"];
  for (const int64_t member : {c, d}) {
    Create(*admin, "/v1/team-members",
           {{"team_id", team}, {"person_id", member}, {"sector", "ngo"}, {"role", "member"}});
  }
  std::map<int64_t, int64_t> registration;
  for (const int64_t p : {a, b}) {
    registration[p] =
        Create(*admin, "/v1/events/" + Str(module) + "/registrations", {{"person_id", p}})["id"];
  }
  // The team: Вера takes the last place, Глеб waits.
  auto team_reply = Call(*admin, "POST", "/v1/events/" + Str(module) + "/team-registrations",
                         {{"team_id", team}});
  REQUIRE(team_reply.status == 200);
  registration[c] = team_reply.body["members"][0]["registration"]["id"];
  registration[d] = team_reply.body["members"][1]["registration"]["id"];
  Create(*admin, "/v1/events/" + Str(second) + "/registrations", {{"person_id", a}});

  auto stats = Call(*admin, "GET", "/v1/events/" + Str(module) + "/statistics");
  REQUIRE(stats.status == 200);
  CHECK(stats.body["event_id"] == module);
  CHECK(stats.body["totals"] == Counts(3, 1, 0, 0));
  CHECK(Only(RowOf(stats.body["by_city"], "city_id", sarov)) == Counts(2, 0, 0, 0));
  CHECK(RowOf(stats.body["by_city"], "city_id", ozersk)["name"] == "Озёрск");
  CHECK(Only(RowOf(stats.body["by_city"], "city_id", ozersk)) == Counts(1, 1, 0, 0));
  CHECK(Only(RowOf(stats.body["by_sector"], "sector", "ngo")) == Counts(2, 0, 0, 0));
  CHECK(Only(RowOf(stats.body["by_sector"], "sector", "government")) == Counts(1, 0, 0, 0));
  CHECK(Only(RowOf(stats.body["by_sector"], "sector", nullptr)) == Counts(0, 1, 0, 0));
  CHECK(Only(RowOf(stats.body["by_team"], "team_id", team)) == Counts(1, 1, 0, 0));
  CHECK(Only(RowOf(stats.body["by_team"], "team_id", nullptr)) == Counts(2, 0, 0, 0));

  // Борис cancels: Глеб moves up. Анна checks in.
  REQUIRE(Call(*admin, "DELETE", "/v1/registrations/" + Str(registration[b])).status == 200);
  // The module runs two days: the check-in names its first (the local date of its start).
  const json first_day = {{"day", Call(*admin, "GET", "/v1/events/" + Str(module))
                                      .body["starts_at"]
                                      .get<std::string>()
                                      .substr(0, 10)}};
  REQUIRE(Call(*admin, "POST", "/v1/registrations/" + Str(registration[a]) + "/check-in", first_day)
              .status == 200);
  REQUIRE(Call(*admin, "POST", "/v1/registrations/" + Str(registration[a]) + "/check-in",
               first_day)
              .status == 200);  // again: counted once
  stats = Call(*admin, "GET", "/v1/events/" + Str(module) + "/statistics");
  CHECK(stats.body["totals"] == Counts(3, 0, 1, 1));
  CHECK(Only(RowOf(stats.body["by_city"], "city_id", sarov)) == Counts(1, 0, 1, 1));
  CHECK(Only(RowOf(stats.body["by_team"], "team_id", team)) == Counts(2, 0, 0, 0));
  CHECK(Only(RowOf(stats.body["by_sector"], "sector", "government")) == Counts(0, 0, 1, 0));

  // A person who moves keeps the registration's city as it was made.
  REQUIRE(Call(*admin, "PATCH", "/v1/people/" + Str(a), {{"city_id", ozersk}}).status == 200);
  CHECK(Call(*admin, "GET", "/v1/events/" + Str(module) + "/statistics").body == stats.body);

  // The program: both events together.
  auto program_stats = Call(*admin, "GET", "/v1/programs/" + Str(program) + "/statistics");
  REQUIRE(program_stats.status == 200);
  CHECK(program_stats.body["program_id"] == program);
  CHECK(program_stats.body["totals"] == Counts(4, 0, 1, 1));
  CHECK(Only(RowOf(program_stats.body["by_city"], "city_id", sarov)) == Counts(2, 0, 1, 1));

  // Organisers of the program only; another's is 403, an unknown event 404.
  auto key = [&](int64_t program_id) {
    return Create(*admin, "/v1/api-keys",
                  {{"name", "организатор"},
                   {"role", "organizer"},
                   {"program_ids", {program_id}}})["token"]
        .get<std::string>();
  };
  const int64_t other =
      Create(*admin, "/v1/programs",
             {{"title", "Другая"}, {"kind", "forum"}, {"starts_on", "2026-09-01"}})["id"];
  CHECK(
      Call(*service.ClientWithKey(key(program)), "GET", "/v1/events/" + Str(module) + "/statistics")
          .status == 200);
  CHECK(Call(*service.ClientWithKey(key(other)), "GET", "/v1/events/" + Str(module) + "/statistics")
            .status == 403);
  CHECK(
      Call(*service.ClientWithKey(""), "GET", "/v1/events/" + Str(module) + "/statistics").status ==
      401);
  CHECK(Call(*admin, "GET", "/v1/events/999999/statistics").status == 404);
  CHECK(Call(*admin, "GET", "/v1/events/" + Str(module) + "/statistics?by=city").status == 422);
}
