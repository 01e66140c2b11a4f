// Teams, team members and team composition of the events API, on seed 000: the «Добрые города»
// program of Rosatom and Добро.рф, 14 city teams mixing government, NGO, business and volunteers.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::Has;
using nlohmann::json;

namespace {

std::string Str(int64_t id) { return std::to_string(id); }

// The 14 cities whose teams came to the first module in Ханты-Мансийск.
const std::vector<std::pair<std::string, std::string>>& SeedCities() {
  static const std::vector<std::pair<std::string, std::string>> kCities = {
      {"Саров", "Europe/Moscow"},
      {"Снежинск", "Asia/Yekaterinburg"},
      {"Зеленогорск", "Asia/Krasnoyarsk"},
      {"Полярные Зори", "Europe/Moscow"},
      {"Новоуральск", "Asia/Yekaterinburg"},
      {"Северск", "Asia/Tomsk"},
      {"Озёрск", "Asia/Yekaterinburg"},
      {"Железногорск", "Asia/Krasnoyarsk"},
      {"Заречный", "Europe/Moscow"},
      {"Лесной", "Asia/Yekaterinburg"},
      {"Трёхгорный", "Asia/Yekaterinburg"},
      {"Десногорск", "Europe/Moscow"},
      {"Удомля", "Europe/Moscow"},
      {"Ханты-Мансийск", "Asia/Yekaterinburg"},
  };
  return kCities;
}

// A running events API with «Добрые города» (team rules: the four sectors, 4..5 members) and
// one city per seed city; teams are made by the tests.
struct DobryeGoroda {
  civic::test::Service service{civic::test::EventsApiBinary()};
  std::unique_ptr<httplib::Client> client = service.Client();
  int64_t program = 0;
  std::map<std::string, int64_t> cities;
  int next_person = 0;

  DobryeGoroda() {
    const int64_t rosatom =
        Create(*client, "/v1/organizations",
               {{"name", "Госкорпорация «Росатом»"}, {"sector", "government"}})["id"];
    program = Create(*client, "/v1/programs",
                     {{"title", "Добрые города"},
                      {"kind", "education"},
                      {"starts_on", "2026-09-01"},
                      {"ends_on", "2026-12-20"},
                      {"organizer_ids", {rosatom}},
                      {"team_rules",
                       {{"required_sectors", {"government", "ngo", "business", "volunteer"}},
                        {"min_size", 4},
                        {"max_size", 5}}}})["id"];
    for (const auto& [name, zone] : SeedCities()) {
      cities[name] = Create(*client, "/v1/cities", {{"name", name}, {"time_zone", zone}})["id"];
    }
  }

  int64_t Team(const std::string& city, std::optional<int64_t> in_program) {
    json body = {{"city_id", cities.at(city)}, {"name", "Команда: " + city}};
    if (in_program) {
      body["program_id"] = *in_program;
    }
    return Create(*client, "/v1/teams", body)["id"];
  }

  int64_t Person(const std::string& city) {
    return Create(*client, "/v1/people",
                  {{"name", "Участник " + std::to_string(++next_person)},
                   {"city_id", cities.at(city)}})["id"];
  }

  // Adds a new person of `city` to the team; returns the membership.
  json Join(int64_t team, const std::string& city, const std::string& sector,
            const std::string& role = "member") {
    return Create(
        *client, "/v1/team-members",
        {{"team_id", team}, {"person_id", Person(city)}, {"sector", sector}, {"role", role}});
  }
};

}  // namespace

TEST_CASE("Teams: the 14 city teams of «Добрые города» are listed, filtered and sorted",
          "[events][teams]") {
  DobryeGoroda d;
  std::map<std::string, int64_t> teams;
  for (const auto& [city, zone] : SeedCities()) {
    teams[city] = d.Team(city, d.program);
  }
  auto sarov = Call(*d.client, "GET", "/v1/teams/" + Str(teams["Саров"]));
  REQUIRE(sarov.status == 200);
  CHECK(sarov.body["status"] == "forming");
  CHECK(sarov.body["program_id"] == d.program);
  CHECK(sarov.body["city_id"] == d.cities["Саров"]);
  CHECK(sarov.body["description"] == "");

  // Keyset pages of 5 over the program's teams: 14, each once.
  std::set<int64_t> seen;
  std::string path = "/v1/teams?limit=5&program_id=" + Str(d.program);
  int pages = 0;
  while (true) {
    auto page = Call(*d.client, "GET", path);
    REQUIRE(page.status == 200);
    ++pages;
    for (const auto& team : page.body["items"]) {
      CHECK(seen.insert(team["id"].get<int64_t>()).second);
    }
    if (page.body["next"].is_null()) {
      break;
    }
    path = "/v1/teams?limit=5&program_id=" + Str(d.program) +
           "&cursor=" + page.body["next"].get<std::string>();
  }
  CHECK(seen.size() == 14);
  CHECK(pages == 3);

  auto by_city = Call(*d.client, "GET", "/v1/teams?city_id=" + Str(d.cities["Снежинск"]));
  REQUIRE(by_city.body["items"].size() == 1);
  CHECK(by_city.body["items"][0]["name"] == "Команда: Снежинск");

  auto activated =
      Call(*d.client, "PATCH", "/v1/teams/" + Str(teams["Саров"]), {{"status", "active"}});
  CHECK(activated.status == 200);
  CHECK(activated.body["status"] == "active");
  auto active = Call(*d.client, "GET", "/v1/teams?status=active");
  REQUIRE(active.body["items"].size() == 1);
  CHECK(active.body["items"][0]["id"] == teams["Саров"]);
  CHECK(Call(*d.client, "GET", "/v1/teams?status=dissolved").status == 422);

  auto by_name = Call(*d.client, "GET", "/v1/teams?sort=name&limit=100");
  std::vector<std::string> names;
  for (const auto& team : by_name.body["items"]) {
    names.push_back(team["name"]);
  }
  CHECK(names.size() == 14);
  CHECK(std::is_sorted(names.begin(), names.end()));
  auto newest = Call(*d.client, "GET", "/v1/teams?sort=-created_at&limit=1");
  CHECK(newest.body["items"][0]["id"] == teams["Ханты-Мансийск"]);
}

TEST_CASE("Teams: city is required and must exist, program must exist, nothing is stored",
          "[events][teams][validation]") {
  DobryeGoroda d;
  auto bad = Call(*d.client, "POST", "/v1/teams",
                  {{"name", ""}, {"status", "dissolved"}, {"program_id", 0}});
  CHECK(bad.status == 422);
  for (const char* field : {"city_id", "name", "status", "program_id"}) {
    INFO(field);
    CHECK(Has(ErrorFields(bad), field));
  }
  auto missing = Call(*d.client, "POST", "/v1/teams",
                      {{"name", "Команда"}, {"city_id", 999}, {"program_id", 998}});
  CHECK(missing.status == 422);
  CHECK(Has(ErrorFields(missing), "city_id"));
  CHECK(Has(ErrorFields(missing), "program_id"));
  auto too_long = Call(*d.client, "POST", "/v1/teams",
                       {{"name", std::string(201, 'x')}, {"city_id", d.cities["Саров"]}});
  CHECK(too_long.status == 422);
  CHECK(Has(ErrorFields(too_long), "name"));
  CHECK(Call(*d.client, "GET", "/v1/teams").body["items"].empty());

  // A team without a program is allowed; a patch can clear the program again.
  const int64_t team = d.Team("Удомля", d.program);
  auto cleared = Call(*d.client, "PATCH", "/v1/teams/" + Str(team), {{"program_id", nullptr}});
  CHECK(cleared.status == 200);
  CHECK(cleared.body["program_id"].is_null());
  CHECK(Call(*d.client, "PATCH", "/v1/teams/" + Str(team), {{"city_id", nullptr}}).status == 422);
}

TEST_CASE("Team members: person must exist, once per team, one lead, sector from the list",
          "[events][teams][members]") {
  DobryeGoroda d;
  const int64_t team = d.Team("Саров", d.program);
  const int64_t anna = d.Person("Саров");
  auto lead =
      Call(*d.client, "POST", "/v1/team-members",
           {{"team_id", team}, {"person_id", anna}, {"sector", "government"}, {"role", "lead"}});
  REQUIRE(lead.status == 201);
  CHECK(lead.Header("Location") == "/v1/team-members/" + Str(lead.body["id"].get<int64_t>()));
  CHECK(lead.body["role"] == "lead");

  auto defaults = d.Join(team, "Саров", "ngo", "member");
  CHECK(defaults["role"] == "member");

  auto repeat = Call(*d.client, "POST", "/v1/team-members",
                     {{"team_id", team}, {"person_id", anna}, {"sector", "ngo"}});
  CHECK(repeat.status == 422);
  CHECK(ErrorFields(repeat) == std::vector<std::string>{"person_id"});

  auto second_lead = Call(*d.client, "POST", "/v1/team-members",
                          {{"team_id", team},
                           {"person_id", d.Person("Саров")},
                           {"sector", "business"},
                           {"role", "lead"}});
  CHECK(second_lead.status == 422);
  CHECK(ErrorFields(second_lead) == std::vector<std::string>{"role"});

  auto unknown = Call(*d.client, "POST", "/v1/team-members",
                      {{"team_id", 999}, {"person_id", 998}, {"sector", "church"}});
  CHECK(unknown.status == 422);
  CHECK(Has(ErrorFields(unknown), "sector"));
  auto unknown_refs = Call(*d.client, "POST", "/v1/team-members",
                           {{"team_id", 999}, {"person_id", 998}, {"sector", "ngo"}});
  CHECK(unknown_refs.status == 422);
  CHECK(Has(ErrorFields(unknown_refs), "team_id"));
  CHECK(Has(ErrorFields(unknown_refs), "person_id"));
  auto missing = Call(*d.client, "POST", "/v1/team-members", {{"role", "captain"}});
  CHECK(missing.status == 422);
  for (const char* field : {"team_id", "person_id", "sector", "role"}) {
    INFO(field);
    CHECK(Has(ErrorFields(missing), field));
  }
  CHECK(Call(*d.client, "GET", "/v1/team-members").body["items"].size() == 2);

  // A retried POST with the same Idempotency-Key is the first answer, not a duplicate.
  const json body = {{"team_id", team}, {"person_id", d.Person("Саров")}, {"sector", "business"}};
  httplib::Headers key = {{"Idempotency-Key", "sarov-business-1"}};
  auto first = Call(*d.client, "POST", "/v1/team-members", body, key);
  auto retry = Call(*d.client, "POST", "/v1/team-members", body, key);
  CHECK(first.status == 201);
  CHECK(retry.status == 201);
  CHECK(retry.Header("Idempotency-Replayed") == "true");
  CHECK(retry.body == first.body);

  // Handing over the lead: the old lead steps down first.
  const std::string ngo = "/v1/team-members/" + Str(defaults["id"].get<int64_t>());
  CHECK(Call(*d.client, "PATCH", ngo, {{"role", "lead"}}).status == 422);
  const std::string old_lead = "/v1/team-members/" + Str(lead.body["id"].get<int64_t>());
  CHECK(Call(*d.client, "PATCH", old_lead, {{"role", "member"}}).status == 200);
  auto new_lead = Call(*d.client, "PATCH", ngo, {{"role", "lead"}, {"sector", "volunteer"}});
  CHECK(new_lead.status == 200);
  CHECK(new_lead.body["role"] == "lead");
  CHECK(new_lead.body["sector"] == "volunteer");
  // A membership does not move to another team.
  const int64_t other = d.Team("Снежинск", d.program);
  auto moved = Call(*d.client, "PATCH", ngo, {{"team_id", other}});
  CHECK(moved.status == 422);
  CHECK(ErrorFields(moved) == std::vector<std::string>{"team_id"});
  CHECK(Call(*d.client, "PATCH", ngo, {{"team_id", team}}).status == 200);
  CHECK(Call(*d.client, "PATCH", ngo, {{"person_id", anna}}).status == 422);
  CHECK(Call(*d.client, "GET", ngo).body["team_id"] == team);
}

TEST_CASE("Team members: past max_size is refused naming team_id, mentors are free",
          "[events][teams][members]") {
  DobryeGoroda d;
  const int64_t team = d.Team("Саров", d.program);
  for (const char* sector : {"government", "ngo", "business", "volunteer", "volunteer"}) {
    d.Join(team, "Саров", sector);
  }
  auto full = Call(*d.client, "POST", "/v1/team-members",
                   {{"team_id", team}, {"person_id", d.Person("Саров")}, {"sector", "media"}});
  CHECK(full.status == 422);
  REQUIRE(ErrorFields(full) == std::vector<std::string>{"team_id"});
  CHECK(full.body["errors"][0]["reason"].get<std::string>().find("at most 5") != std::string::npos);
  const json mentor = d.Join(team, "Саров", "ngo", "mentor");
  auto promote = Call(*d.client, "PATCH", "/v1/team-members/" + Str(mentor["id"].get<int64_t>()),
                      {{"role", "member"}});
  CHECK(promote.status == 422);
  CHECK(Has(ErrorFields(promote), "team_id"));
  CHECK(Call(*d.client, "GET", "/v1/team-members?team_id=" + Str(team)).body["items"].size() == 6);

  // Without a program there is no bound.
  const int64_t free_team = d.Team("Озёрск", std::nullopt);
  for (int i = 0; i < 6; ++i) {
    d.Join(free_team, "Озёрск", "volunteer");
  }
  CHECK(Call(*d.client, "GET", "/v1/teams/" + Str(free_team) + "/members?limit=100")
            .body["items"]
            .size() == 6);
}

TEST_CASE("Team members: listed under their team, with filters, 404 for an unknown team",
          "[events][teams][members]") {
  DobryeGoroda d;
  const int64_t sarov = d.Team("Саров", d.program);
  const int64_t snezhinsk = d.Team("Снежинск", d.program);
  const json lead = d.Join(sarov, "Саров", "government", "lead");
  d.Join(sarov, "Саров", "ngo");
  d.Join(sarov, "Саров", "business", "mentor");
  d.Join(snezhinsk, "Снежинск", "ngo");

  auto members = Call(*d.client, "GET", "/v1/teams/" + Str(sarov) + "/members");
  REQUIRE(members.status == 200);
  REQUIRE(members.body["items"].size() == 3);
  CHECK(members.body["items"][0] == lead);
  CHECK_FALSE(members.Header("ETag").empty());
  CHECK(Call(*d.client, "GET", "/v1/teams/" + Str(sarov) + "/members", nullptr,
             {{"If-None-Match", members.Header("ETag")}})
            .status == 304);
  auto mentors = Call(*d.client, "GET", "/v1/teams/" + Str(sarov) + "/members?role=mentor");
  REQUIRE(mentors.body["items"].size() == 1);
  CHECK(mentors.body["items"][0]["sector"] == "business");
  auto ngos = Call(*d.client, "GET", "/v1/team-members?sector=ngo");
  CHECK(ngos.body["items"].size() == 2);
  auto person =
      Call(*d.client, "GET", "/v1/team-members?person_id=" + Str(lead["person_id"].get<int64_t>()));
  REQUIRE(person.body["items"].size() == 1);
  CHECK(person.body["items"][0]["team_id"] == sarov);

  CHECK(Call(*d.client, "GET", "/v1/teams/999/members").status == 404);
  CHECK(Call(*d.client, "GET", "/v1/teams/abc/members").status == 404);
  auto doubled =
      Call(*d.client, "GET", "/v1/teams/" + Str(sarov) + "/members?team_id=" + Str(snezhinsk));
  CHECK(doubled.status == 422);
  CHECK(Has(ErrorFields(doubled), "team_id"));
  CHECK(Call(*d.client, "GET", "/v1/team-members?role=captain").status == 422);
}

TEST_CASE("Teams: deleting a team deletes its memberships, its city, program and people stay",
          "[events][teams][delete]") {
  DobryeGoroda d;
  const int64_t team = d.Team("Полярные Зори", d.program);
  const json member = d.Join(team, "Полярные Зори", "volunteer");
  const int64_t person = member["person_id"];

  auto person_in_use = Call(*d.client, "DELETE", "/v1/people/" + Str(person));
  CHECK(person_in_use.status == 409);
  CHECK(person_in_use.body["detail"] ==
        "The person is referenced by 1 team membership(s) (person_id); remove those first.");
  CHECK(Call(*d.client, "DELETE", "/v1/programs/" + Str(d.program)).status == 409);
  CHECK(Call(*d.client, "DELETE", "/v1/cities/" + Str(d.cities["Полярные Зори"])).status == 409);

  CHECK(Call(*d.client, "DELETE", "/v1/teams/" + Str(team)).status == 204);
  CHECK(Call(*d.client, "GET", "/v1/teams/" + Str(team)).status == 404);
  CHECK(Call(*d.client, "GET", "/v1/team-members/" + Str(member["id"].get<int64_t>())).status ==
        404);
  CHECK(Call(*d.client, "GET", "/v1/team-members").body["items"].empty());
  CHECK(Call(*d.client, "DELETE", "/v1/people/" + Str(person)).status == 204);
  CHECK(Call(*d.client, "DELETE", "/v1/programs/" + Str(d.program)).status == 204);

  // Removing one membership leaves the team.
  const int64_t other = d.Team("Удомля", std::nullopt);
  const json left = d.Join(other, "Удомля", "ngo");
  CHECK(Call(*d.client, "DELETE", "/v1/team-members/" + Str(left["id"].get<int64_t>())).status ==
        204);
  CHECK(Call(*d.client, "GET", "/v1/teams/" + Str(other)).status == 200);
}

TEST_CASE("Composition: the Саров team is complete, Ханты-Мансийск lacks business and size",
          "[events][teams][composition]") {
  DobryeGoroda d;
  const int64_t sarov = d.Team("Саров", d.program);
  d.Join(sarov, "Саров", "government", "lead");
  d.Join(sarov, "Саров", "ngo");
  d.Join(sarov, "Саров", "business");
  d.Join(sarov, "Саров", "volunteer");
  auto complete = Call(*d.client, "GET", "/v1/teams/" + Str(sarov) + "/composition");
  auto queried = Call(*d.client, "GET", "/v1/teams/" + Str(sarov) + "/composition?bogus=1");
  CHECK(queried.status == 422);  // no query parameters: one given is refused, naming it
  CHECK(ErrorFields(queried) == std::vector<std::string>{"bogus"});
  REQUIRE(complete.status == 200);
  CHECK(complete.body["team_id"] == sarov);
  CHECK(complete.body["program_id"] == d.program);
  CHECK(complete.body["rules"]["min_size"] == 4);
  CHECK(complete.body["rules"]["required_sectors"].size() == 4);
  CHECK(complete.body["size"] == 4);
  CHECK(complete.body["complete"] == true);
  CHECK(complete.body["gaps"] == json::array());
  CHECK(complete.body["members_by_sector"] ==
        json({{"government", 1}, {"ngo", 1}, {"business", 1}, {"volunteer", 1}}));

  // Ханты-Мансийск: three members, and a business mentor who counts for neither size nor sector.
  const int64_t khm = d.Team("Ханты-Мансийск", d.program);
  d.Join(khm, "Ханты-Мансийск", "government", "lead");
  d.Join(khm, "Ханты-Мансийск", "ngo");
  d.Join(khm, "Ханты-Мансийск", "volunteer");
  d.Join(khm, "Ханты-Мансийск", "business", "mentor");
  const std::string path = "/v1/teams/" + Str(khm) + "/composition";
  auto lacking = Call(*d.client, "GET", path);
  REQUIRE(lacking.status == 200);
  CHECK(lacking.body["complete"] == false);
  CHECK(lacking.body["size"] == 3);
  CHECK(lacking.body["mentors"] == 1);
  CHECK(lacking.body["gaps"] == json::array({"no business member", "size 3 < 4"}));
  CHECK(lacking.body["members_by_sector"]["business"] == 0);

  // ETag/304 until the team changes.
  const std::string etag = lacking.Header("ETag");
  REQUIRE_FALSE(etag.empty());
  CHECK(Call(*d.client, "GET", path, nullptr, {{"If-None-Match", etag}}).status == 304);
  d.Join(khm, "Ханты-Мансийск", "business");
  auto fixed = Call(*d.client, "GET", path, nullptr, {{"If-None-Match", etag}});
  REQUIRE(fixed.status == 200);
  CHECK(fixed.Header("ETag") != etag);
  CHECK(fixed.body["complete"] == true);
  CHECK(fixed.body["size"] == 4);
}

TEST_CASE("Composition: no program or a program without rules is complete, an unknown team is 404",
          "[events][teams][composition]") {
  DobryeGoroda d;
  const int64_t loose = d.Team("Заречный", std::nullopt);
  d.Join(loose, "Заречный", "media");
  auto no_program = Call(*d.client, "GET", "/v1/teams/" + Str(loose) + "/composition");
  REQUIRE(no_program.status == 200);
  CHECK(no_program.body["program_id"].is_null());
  CHECK(no_program.body["rules"].is_null());
  CHECK(no_program.body["complete"] == true);
  CHECK(no_program.body["gaps"] == json::array());
  CHECK(no_program.body["size"] == 1);
  CHECK(no_program.body["members_by_sector"] == json({{"media", 1}}));

  const int64_t forum = Create(
      *d.client, "/v1/programs",
      {{"title", "Форум «Мы вместе»"}, {"kind", "forum"}, {"starts_on", "2026-12-01"}})["id"];
  const int64_t team = d.Team("Десногорск", forum);
  auto no_rules = Call(*d.client, "GET", "/v1/teams/" + Str(team) + "/composition");
  REQUIRE(no_rules.status == 200);
  CHECK(no_rules.body["program_id"] == forum);
  CHECK(no_rules.body["rules"].is_null());
  CHECK(no_rules.body["complete"] == true);
  CHECK(no_rules.body["size"] == 0);
  CHECK(no_rules.body["members_by_sector"] == json::object());

  CHECK(Call(*d.client, "GET", "/v1/teams/999/composition").status == 404);
  CHECK(Call(*d.client, "GET", "/v1/teams/0/composition").status == 404);
}
