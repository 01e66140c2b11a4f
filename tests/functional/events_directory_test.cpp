// Organizations, people and programs of the events API.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::Has;
using nlohmann::json;

namespace {

struct Directory {
  civic::test::Service service{civic::test::EventsApiBinary()};
  std::unique_ptr<httplib::Client> client = service.Client();
  int64_t city = 0;
  int64_t rosatom = 0;
  int64_t dobro = 0;

  Directory() {
    city = Create(*client, "/v1/cities",
                  {{"name", "Ханты-Мансийск"}, {"time_zone", "Asia/Yekaterinburg"}})["id"];
    rosatom = Create(*client, "/v1/organizations",
                     {{"name", "Госкорпорация «Росатом»"}, {"sector", "government"}})["id"];
    dobro = Create(*client, "/v1/organizations",
                   {{"name", "Добро.рф"}, {"sector", "ngo"}, {"city_id", city}})["id"];
  }
};

}  // namespace

TEST_CASE("Organizations: sector is an enum, city must exist, filters by sector and city",
          "[events][organizations]") {
  Directory d;
  auto bad = Call(*d.client, "POST", "/v1/organizations",
                  {{"name", "Х"}, {"sector", "church"}, {"website", "ftp://x"}});
  CHECK(bad.status == 422);
  CHECK(Has(ErrorFields(bad), "sector"));
  CHECK(Has(ErrorFields(bad), "website"));
  auto missing_city = Call(*d.client, "POST", "/v1/organizations",
                           {{"name", "Волонтёры"}, {"sector", "volunteer"}, {"city_id", 999}});
  CHECK(missing_city.status == 422);
  CHECK(Has(ErrorFields(missing_city), "city_id"));

  auto ngos = Call(*d.client, "GET", "/v1/organizations?sector=ngo");
  REQUIRE(ngos.body["items"].size() == 1);
  CHECK(ngos.body["items"][0]["name"] == "Добро.рф");
  auto in_city = Call(*d.client, "GET", "/v1/organizations?city_id=" + std::to_string(d.city));
  CHECK(in_city.body["items"].size() == 1);
  CHECK(Call(*d.client, "GET", "/v1/organizations?sector=church").status == 422);
  // Any id a body takes is a filter too, up to the largest 64-bit id; past it is a 422.
  auto largest = Call(*d.client, "GET", "/v1/organizations?city_id=9223372036854775807");
  CHECK(largest.status == 200);
  CHECK(largest.body["items"].empty());
  auto past = Call(*d.client, "GET", "/v1/organizations?city_id=9223372036854775808");
  CHECK(past.status == 422);
  CHECK(Has(ErrorFields(past), "city_id"));
  CHECK(Call(*d.client, "GET", "/v1/organizations?city_id=0").status == 422);
}

TEST_CASE("People: contacts are stored and validated, shown to admins, never to others",
          "[events][people][privacy]") {
  Directory d;
  auto created = Call(*d.client, "POST", "/v1/people",
                      {{"name", "Анна Тестова"},
                       {"city_id", d.city},
                       {"organization_id", d.dobro},
                       {"position", "Координатор"},
                       {"email", "anna.testova@example.org"},
                       {"phone", "+79161234567"}});
  REQUIRE(created.status == 201);
  CHECK(created.body["email"] == "anna.testova@example.org");  // the admin's answer
  CHECK(created.body["phone"] == "+79161234567");
  CHECK(created.body["has_email"] == true);
  // An organiser of a program she takes no part in sees the person without contacts.
  const int64_t program = Create(
      *d.client, "/v1/programs",
      {{"title", "Добрые города"}, {"kind", "accelerator"}, {"starts_on", "2026-09-01"}})["id"];
  auto outsider = d.service.ClientWithKey(
      Create(*d.client, "/v1/api-keys",
             {{"name", "организаторы"}, {"role", "organizer"}, {"program_ids", {program}}})["token"]
          .get<std::string>());
  const std::string path = created.Header("Location");
  auto read = Call(*outsider, "GET", path);
  REQUIRE(read.status == 200);
  CHECK_FALSE(read.body.contains("email"));
  CHECK_FALSE(read.body.contains("phone"));
  CHECK(read.body["has_email"] == true);
  CHECK(read.body.dump().find("anna.testova") == std::string::npos);
  auto list = Call(*outsider, "GET", "/v1/people?organization_id=" + std::to_string(d.dobro));
  REQUIRE(list.body["items"].size() == 1);
  CHECK(list.body.dump().find("+7916") == std::string::npos);

  // A patch of another field keeps the contacts; null clears one.
  CHECK(Call(*d.client, "PATCH", path, {{"bio", "Организует школы НКО"}}).body["has_email"] ==
        true);
  auto cleared = Call(*d.client, "PATCH", path, {{"phone", nullptr}});
  CHECK(cleared.body["has_phone"] == false);
  CHECK(cleared.body["has_email"] == true);

  // Who may change a person sees the contacts (admins, organisers of the person's programs), so
  // a PATCH that names a contact unchanged confirms nothing new: like any other, it writes nothing.
  const auto updated_at = [&] { return Call(*d.client, "GET", path).body["updated_at"]; };
  auto before = updated_at();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto same = Call(*d.client, "PATCH", path, {{"email", "anna.testova@example.org"}});
  CHECK(same.status == 200);
  CHECK(same.body["updated_at"] == before);
  auto changed = Call(*d.client, "PATCH", path, {{"email", "anna@example.org"}});
  CHECK(changed.status == 200);
  CHECK(changed.body["updated_at"] != before);
  CHECK(changed.body["email"] == "anna@example.org");
  // Other fields that change nothing keep updated_at.
  before = updated_at();
  CHECK(Call(*d.client, "PATCH", path, {{"position", "Координатор"}}).body["updated_at"] == before);

  // has_email and has_phone are shown, not written: a GET's document patches back unchanged; a
  // POST naming them is refused.
  auto shown = Call(*d.client, "GET", path).body;
  auto round_trip = Call(*d.client, "PATCH", path, shown);
  CHECK(round_trip.status == 200);
  CHECK(round_trip.body == shown);
  auto read_only = Call(*d.client, "POST", "/v1/people", {{"name", "В"}, {"has_email", true}});
  CHECK(read_only.status == 422);
  CHECK(Has(ErrorFields(read_only), "has_email"));

  auto bad = Call(*d.client, "POST", "/v1/people",
                  {{"name", "Б"}, {"email", "not-an-address"}, {"phone", "8-916-123"}});
  CHECK(bad.status == 422);
  CHECK(Has(ErrorFields(bad), "email"));
  CHECK(Has(ErrorFields(bad), "phone"));
}

TEST_CASE("Programs: organisers, team rules and criteria are validated and stored",
          "[events][programs]") {
  Directory d;
  json program = {{"title", "Добрые города"},
                  {"kind", "education"},
                  {"starts_on", "2026-09-01"},
                  {"ends_on", "2026-12-20"},
                  {"organizer_ids", {d.rosatom, d.dobro}},
                  {"team_rules",
                   {{"required_sectors", {"government", "ngo", "business", "volunteer"}},
                    {"min_size", 4},
                    {"max_size", 12}}},
                  {"review_criteria",
                   {{{"name", "Социальный эффект"}, {"weight", 40}},
                    {{"name", "Реализуемость"}, {"weight", 60}}}}};
  auto created = Call(*d.client, "POST", "/v1/programs", program);
  REQUIRE(created.status == 201);
  CHECK(created.body["organizer_ids"] == json::array({d.rosatom, d.dobro}));
  CHECK(created.body["team_rules"]["min_size"] == 4);
  CHECK(created.body["review_criteria"][1]["weight"] == 60);

  json bad = program;
  bad["ends_on"] = "2026-08-01";
  bad["organizer_ids"] = {d.rosatom, 999};
  bad["partner_ids"] = {d.rosatom};
  bad["team_rules"]["min_size"] = 10;
  bad["team_rules"]["max_size"] = 5;
  bad["review_criteria"][0]["weight"] = 0;
  auto rejected = Call(*d.client, "POST", "/v1/programs", bad);
  CHECK(rejected.status == 422);
  for (const char* field :
       {"ends_on", "partner_ids[0]", "team_rules.max_size", "review_criteria[0].weight"}) {
    INFO(field);
    CHECK(Has(ErrorFields(rejected), field));
  }
  // A weight past the integers of the column is refused, not wrapped (2^32 + 3 is not 3).
  bad = program;
  bad["review_criteria"][1]["weight"] = 4294967299LL;
  bad["team_rules"]["min_size"] = 4294967297LL;
  rejected = Call(*d.client, "POST", "/v1/programs", bad);
  CHECK(rejected.status == 422);
  CHECK(Has(ErrorFields(rejected), "review_criteria[1].weight"));
  CHECK(Has(ErrorFields(rejected), "team_rules.min_size"));
  bad = program;
  bad["organizer_ids"] = {999};
  rejected = Call(*d.client, "POST", "/v1/programs", bad);
  CHECK(rejected.status == 422);
  CHECK(Has(ErrorFields(rejected), "organizer_ids[0]"));
  // No end is null; an empty string is not a date, on create and on PATCH.
  bad = program;
  bad["ends_on"] = "";
  rejected = Call(*d.client, "POST", "/v1/programs", bad);
  CHECK(rejected.status == 422);
  CHECK(Has(ErrorFields(rejected), "ends_on"));
  const std::string location = "/v1/programs/" + std::to_string(created.body["id"].get<int64_t>());
  rejected = Call(*d.client, "PATCH", location, json{{"ends_on", ""}});
  CHECK(rejected.status == 422);
  CHECK(Has(ErrorFields(rejected), "ends_on"));
  CHECK(Call(*d.client, "GET", location).body["ends_on"] == "2026-12-20");
  auto open_ended = Call(*d.client, "PATCH", location, json{{"ends_on", nullptr}});
  CHECK(open_ended.status == 200);
  CHECK(open_ended.body["ends_on"].is_null());
  CHECK(Call(*d.client, "GET", "/v1/programs").body["items"].size() == 1);
}

TEST_CASE("Programs: a parent may not make a cycle and referenced rows cannot be deleted",
          "[events][programs][delete]") {
  Directory d;
  const int64_t parent = Create(*d.client, "/v1/programs",
                                {{"title", "Добрые города"},
                                 {"kind", "education"},
                                 {"starts_on", "2026-09-01"},
                                 {"organizer_ids", {d.rosatom}}})["id"];
  const int64_t child = Create(*d.client, "/v1/programs",
                               {{"title", "Модуль 1, Ханты-Мансийск"},
                                {"kind", "education"},
                                {"starts_on", "2026-09-10"},
                                {"parent_program_id", parent}})["id"];
  auto cycle = Call(*d.client, "PATCH", "/v1/programs/" + std::to_string(parent),
                    {{"parent_program_id", child}});
  CHECK(cycle.status == 422);
  CHECK(Has(ErrorFields(cycle), "parent_program_id"));
  CHECK(Call(*d.client, "GET", "/v1/programs?parent_program_id=" + std::to_string(parent))
            .body["items"]
            .size() == 1);

  auto in_use = Call(*d.client, "DELETE", "/v1/organizations/" + std::to_string(d.rosatom));
  CHECK(in_use.status == 409);
  // In the API's words, never the tables behind them.
  CHECK(in_use.body["detail"] ==
        "The organization is referenced by 1 program(s) (organizer_ids or partner_ids); remove "
        "those first.");
  CHECK(Call(*d.client, "DELETE", "/v1/programs/" + std::to_string(parent)).status == 409);
  CHECK(Call(*d.client, "DELETE", "/v1/programs/" + std::to_string(child)).status == 204);
  CHECK(Call(*d.client, "DELETE", "/v1/programs/" + std::to_string(parent)).status == 204);
  CHECK(Call(*d.client, "DELETE", "/v1/organizations/" + std::to_string(d.rosatom)).status == 204);
  CHECK(Call(*d.client, "DELETE", "/v1/cities/" + std::to_string(d.city)).status == 409);
}

TEST_CASE("Ids: the id of a deleted newest row is never given to the next one",
          "[events][directory]") {
  Directory d;
  const int64_t person =
      Create(*d.client, "/v1/people", {{"name", "Пётр Временный"}, {"city_id", d.city}})["id"];
  REQUIRE(Call(*d.client, "DELETE", "/v1/people/" + std::to_string(person)).status == 204);
  const int64_t next =
      Create(*d.client, "/v1/people", {{"name", "Павел Следующий"}, {"city_id", d.city}})["id"];
  CHECK(next > person);
  // A client that kept the old id gets 404, not someone else.
  CHECK(Call(*d.client, "GET", "/v1/people/" + std::to_string(person)).status == 404);

  const int64_t organization = d.dobro;
  REQUIRE(Call(*d.client, "DELETE", "/v1/organizations/" + std::to_string(organization)).status ==
          204);
  CHECK(Create(*d.client, "/v1/organizations",
               {{"name", "АНО «Новые Созидатели»"}, {"sector", "ngo"}})["id"] > organization);
}

TEST_CASE("Directory: ?q= searches organisations, people, cities, programs and teams",
          "[events][search]") {
  Directory d;
  const auto names = [&](const std::string& path, const std::string& query,
                         const std::string& field = "name") {
    httplib::Params params{{"q", query}};
    auto reply = Call(*d.client, "GET", path + "?" + httplib::detail::params_to_query_str(params));
    REQUIRE(reply.status == 200);
    std::vector<std::string> out;
    for (const auto& item : reply.body["items"]) {
      out.push_back(item[field].get<std::string>());
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  const json volunteers = Create(*d.client, "/v1/organizations",
                                 {{"name", "Волонтёры Заречного"}, {"sector", "volunteer"}});
  Create(*d.client, "/v1/people",
         {{"name", "Анна Городецкая"}, {"position", "координатор волонтёров"}});
  CHECK(names("/v1/organizations", "росатома") ==
        std::vector<std::string>{"Госкорпорация «Росатом»"});
  // ё and е are one letter to search, in either direction.
  CHECK(names("/v1/organizations", "волонтер") == std::vector<std::string>{"Волонтёры Заречного"});
  CHECK(names("/v1/people", "волонтёрами") == std::vector<std::string>{"Анна Городецкая"});
  CHECK(names("/v1/cities", "ханты") == std::vector<std::string>{"Ханты-Мансийск"});
  // A renamed organisation is found by its new name only.
  REQUIRE(Call(*d.client, "PATCH",
               "/v1/organizations/" + std::to_string(volunteers["id"].get<int64_t>()),
               {{"name", "Добровольцы Заречного"}})
              .status == 200);
  CHECK(names("/v1/organizations", "волонтер").empty());
  CHECK(names("/v1/organizations", "заречный добровольцы") ==
        std::vector<std::string>{"Добровольцы Заречного"});
  // Paged: the cursor carries the search, and another search refuses it.
  for (const char* name : {"Волонтёрский штаб", "Центр волонтёрства", "Волонтёры Победы"}) {
    Create(*d.client, "/v1/organizations", {{"name", name}, {"sector", "volunteer"}});
  }
  const std::string volunteer = "%D0%B2%D0%BE%D0%BB%D0%BE%D0%BD%D1%82%D0%B5%D1%80";
  std::vector<std::string> paged;
  std::string path = "/v1/organizations?limit=2&q=" + volunteer;
  std::string first_cursor;
  while (!path.empty()) {
    auto page = Call(*d.client, "GET", path);
    REQUIRE(page.status == 200);
    for (const auto& item : page.body["items"]) {
      paged.push_back(item["name"].get<std::string>());
    }
    path = "";
    if (page.body["next"].is_string()) {
      const std::string cursor = page.body["next"];
      first_cursor = first_cursor.empty() ? cursor : first_cursor;
      path = "/v1/organizations?limit=2&q=" + volunteer + "&cursor=" + cursor;
    }
  }
  std::sort(paged.begin(), paged.end());
  CHECK(paged ==
        std::vector<std::string>{"Волонтёрский штаб", "Волонтёры Победы", "Центр волонтёрства"});
  REQUIRE_FALSE(first_cursor.empty());
  auto reused =
      Call(*d.client, "GET",
           "/v1/organizations?limit=2&q=%D1%86%D0%B5%D0%BD%D1%82%D1%80&cursor=" + first_cursor);
  CHECK(reused.status == 422);
  CHECK(Has(ErrorFields(reused), "cursor"));
  auto bad = Call(*d.client, "GET", "/v1/teams?q=%C2%AB%C2%BB");  // «»
  CHECK(bad.status == 422);
  CHECK(Has(ErrorFields(bad), "q"));
}
