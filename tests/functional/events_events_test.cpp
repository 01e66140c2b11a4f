// Events and their sessions in the events API, on the seeds: the Ufa conference «Сообщества:
// перспективы и технологии развития» (project «Конструктор сообществ», plenary + 4 sectional
// platforms), the Novokuznetsk rally of urban-change leaders (2 days) and the Yakutsk school of
// ТОС with its case session. People are invented.
#include <sqlite3.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::Has;
using nlohmann::json;

namespace {

std::string ReasonOf(const civic::test::JsonReply& reply, const std::string& field) {
  for (const auto& error : reply.body.value("errors", json::array())) {
    if (error["field"] == field) {
      return error["reason"].get<std::string>();
    }
  }
  return "";
}

std::string Id(const json& resource) { return std::to_string(resource["id"].get<int64_t>()); }

std::vector<std::string> Titles(const json& page) {
  std::vector<std::string> titles;
  for (const auto& item : page["items"]) {
    titles.push_back(item["title"].get<std::string>());
  }
  return titles;
}

// The seeds' places, organisations and programs, and a few invented people.
struct Seeds {
  civic::test::Service service{civic::test::EventsApiBinary()};
  std::unique_ptr<httplib::Client> client = service.Client();
  int64_t ufa = 0;
  int64_t novokuznetsk = 0;
  int64_t yakutsk = 0;
  int64_t rusal_social = 0;
  int64_t rusal_innovation = 0;
  int64_t grants_fund = 0;
  int64_t yakutsk_administration = 0;
  int64_t resource_centre = 0;
  int64_t city_changes_school = 0;
  int64_t community_constructor = 0;
  int64_t yakutsk_forum = 0;
  int64_t speaker = 0;
  int64_t second_speaker = 0;
  int64_t moderator = 0;

  Seeds() {
    ufa = Create(*client, "/v1/cities",
                 {{"name", "Уфа"},
                  {"region", "Республика Башкортостан"},
                  {"time_zone", "Asia/Yekaterinburg"}})["id"];
    novokuznetsk = Create(*client, "/v1/cities",
                          {{"name", "Новокузнецк"},
                           {"region", "Кемеровская область"},
                           {"time_zone", "Asia/Novokuznetsk"}})["id"];
    yakutsk = Create(*client, "/v1/cities",
                     {{"name", "Якутск"},
                      {"region", "Республика Саха (Якутия)"},
                      {"time_zone", "Asia/Yakutsk"}})["id"];
    rusal_social = Org("Центр социальных программ РУСАЛа", "business");
    rusal_innovation = Org("Центр инноваций в социальной сфере РУСАЛа", "business");
    grants_fund = Org("Фонд президентских грантов", "ngo");
    yakutsk_administration = Org("Администрация города Якутска", "government");
    resource_centre = Org("Единый ресурсный центр поддержки СО НКО", "ngo");
    city_changes_school = Create(*client, "/v1/programs",
                                 {{"title", "Школа городских изменений"},
                                  {"kind", "education"},
                                  {"starts_on", "2019-01-15"},
                                  {"organizer_ids", {rusal_social}}})["id"];
    community_constructor = Create(*client, "/v1/programs",
                                   {{"title", "Конструктор сообществ"},
                                    {"kind", "grant"},
                                    {"starts_on", "2019-09-01"},
                                    {"ends_on", "2020-11-30"}})["id"];
    yakutsk_forum = Create(*client, "/v1/programs",
                           {{"title", "Форум «Якутск 4.0.0 Старт»"},
                            {"kind", "forum"},
                            {"starts_on", "2022-09-08"},
                            {"ends_on", "2022-09-11"}})["id"];
    speaker = Person("Анна Тестова");
    second_speaker = Person("Пётр Примеров");
    moderator = Person("Ольга Образцова");
  }

  int64_t Org(const std::string& name, const std::string& sector) {
    return Create(*client, "/v1/organizations", {{"name", name}, {"sector", sector}})["id"];
  }
  int64_t Person(const std::string& name) {
    return Create(*client, "/v1/people", {{"name", name}, {"position", "Эксперт"}})["id"];
  }

  // 18 December 2019, Ufa, 10:00-17:00 local (UTC+5).
  json UfaConference() const {
    return {{"kind", "conference"},
            {"title", "Сообщества: перспективы и технологии развития"},
            {"description", "Межрегиональная конференция проекта «Конструктор сообществ»."},
            {"program_id", community_constructor},
            {"city_id", ufa},
            {"venue", "Конгресс-холл"},
            {"starts_at", "2019-12-18T10:00:00+05:00"},
            {"ends_at", "2019-12-18T17:00:00+05:00"},
            {"capacity", 120},
            {"status", "published"}};
  }
  // 28-29 September, Novokuznetsk (UTC+7), two days.
  json NovokuznetskRally() const {
    return {{"kind", "rally"},
            {"title", "Люди для города – город для людей"},
            {"program_id", city_changes_school},
            {"city_id", novokuznetsk},
            {"starts_at", "2019-09-28T10:00:00+07:00"},
            {"ends_at", "2019-09-29T18:00:00+07:00"},
            {"capacity", 300},
            {"organizer_ids", {rusal_social, rusal_innovation}},
            {"partner_ids", {grants_fund}},
            {"status", "published"}};
  }
  // 8 September 2022, Yakutsk (UTC+9), online registration before it.
  json YakutskSchool() const {
    return {{"kind", "school"},
            {"title", "Школа территориальных общественных самоуправлений"},
            {"program_id", yakutsk_forum},
            {"city_id", yakutsk},
            {"format", "hybrid"},
            {"starts_at", "2022-09-08T10:00:00+09:00"},
            {"ends_at", "2022-09-08T18:00:00+09:00"},
            {"capacity", 80},
            {"registration_opens_at", "2022-09-01T09:00:00+09:00"},
            {"registration_closes_at", "2022-09-07T21:00:00+09:00"},
            {"organizer_ids", {yakutsk_administration, resource_centre}}};
  }
  json UfaSession(const json& event, const std::string& kind, const std::string& title,
                  const std::string& starts, const std::string& ends) const {
    return {{"event_id", event["id"]},
            {"kind", kind},
            {"title", title},
            {"starts_at", "2019-12-18T" + starts + ":00+05:00"},
            {"ends_at", "2019-12-18T" + ends + ":00+05:00"}};
  }
};

// Reads one integer from the service's SQLite file.
int64_t StoredInteger(const civic::test::Service& service, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((service.data_dir() + "/events.db").c_str(), &db, SQLITE_OPEN_READONLY,
                          nullptr) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
  int64_t value = -1;
  if (sqlite3_step(statement) == SQLITE_ROW) {
    value = sqlite3_column_int64(statement, 0);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return value;
}

}  // namespace

// ---- Events ----------------------------------------------------------------------------------

TEST_CASE("Events: a 10:00 Yakutsk start is stored in UTC and comes back as 10:00+09:00",
          "[events][time]") {
  Seeds s;
  auto created = Call(*s.client, "POST", "/v1/events", s.YakutskSchool());
  REQUIRE(created.status == 201);
  CHECK(created.Header("Location") == "/v1/events/" + Id(created.body));
  CHECK(created.body["time_zone"] == "Asia/Yakutsk");
  CHECK(created.body["starts_at"] == "2022-09-08T10:00:00.000+09:00");
  CHECK(created.body["ends_at"] == "2022-09-08T18:00:00.000+09:00");
  CHECK(created.body["registration_opens_at"] == "2022-09-01T09:00:00.000+09:00");
  CHECK(created.body["status"] == "draft");
  CHECK(created.body["format"] == "hybrid");
  CHECK(created.body["organizer_ids"] ==
        json::array({s.yakutsk_administration, s.resource_centre}));
  CHECK(created.body["partner_ids"] == json::array());
  CHECK(created.body["created_at"].get<std::string>().back() == 'Z');
  CHECK(StoredInteger(s.service, "SELECT starts_at FROM events WHERE id = " + Id(created.body)) ==
        1662598800000);

  // Any offset on input: the same instant given in UTC and in Moscow time reads the same.
  json utc = s.YakutskSchool();
  utc["starts_at"] = "2022-09-08T01:00:00Z";
  utc["ends_at"] = "2022-09-08T12:00:00+03:00";
  auto same = Call(*s.client, "POST", "/v1/events", utc);
  REQUIRE(same.status == 201);
  CHECK(same.body["starts_at"] == "2022-09-08T10:00:00.000+09:00");
  CHECK(same.body["ends_at"] == "2022-09-08T18:00:00.000+09:00");

  auto read = Call(*s.client, "GET", created.Header("Location"));
  CHECK(read.status == 200);
  CHECK(read.body == created.body);
  CHECK(read.Header("ETag") == created.Header("ETag"));
}

TEST_CASE("Events: invalid input is a 422 naming every bad field, and nothing is stored",
          "[events][validation]") {
  Seeds s;
  json bad = s.YakutskSchool();
  bad["kind"] = "party";
  bad["title"] = "";
  bad["format"] = "radio";
  bad["ends_at"] = "2022-09-08T09:00:00+09:00";
  bad["capacity"] = -1;
  bad["registration_closes_at"] = "2022-09-08T11:00:00+09:00";
  bad["time_zone"] = "Europe/Moscow";
  bad["status"] = "postponed";
  bad["colour"] = "red";
  auto reply = Call(*s.client, "POST", "/v1/events", bad);
  CHECK(reply.status == 422);
  for (const char* field : {"kind", "title", "format", "ends_at", "capacity",
                            "registration_closes_at", "time_zone", "status", "colour"}) {
    INFO(field);
    CHECK(Has(ErrorFields(reply), field));
  }

  bad = s.YakutskSchool();
  bad["starts_at"] = "2022-09-08 10:00";  // no offset
  bad.erase("city_id");
  reply = Call(*s.client, "POST", "/v1/events", bad);
  CHECK(reply.status == 422);
  CHECK(Has(ErrorFields(reply), "starts_at"));
  CHECK(Has(ErrorFields(reply), "city_id"));
  CHECK_FALSE(Has(ErrorFields(reply), "registration_closes_at"));  // no start to compare with

  bad = s.YakutskSchool();
  bad["registration_opens_at"] = "2022-09-07T21:00:00+09:00";  // not before closes
  bad["city_id"] = 999;
  reply = Call(*s.client, "POST", "/v1/events", bad);
  CHECK(reply.status == 422);
  CHECK(Has(ErrorFields(reply), "registration_opens_at"));

  bad = s.YakutskSchool();
  bad["city_id"] = 999;
  bad["program_id"] = 998;
  bad["organizer_ids"] = {s.yakutsk_administration, 997};
  bad["partner_ids"] = {996};
  bad["status"] = "completed";  // a new event is a draft or published
  reply = Call(*s.client, "POST", "/v1/events", bad);
  CHECK(reply.status == 422);
  for (const char* field :
       {"city_id", "program_id", "organizer_ids[1]", "partner_ids[0]", "status"}) {
    INFO(field);
    CHECK(Has(ErrorFields(reply), field));
  }
  // Offsets past ±23:59 and instants outside 1900..9999 are not read as some other instant.
  bad = s.YakutskSchool();
  bad["starts_at"] = "2022-09-08T10:00:00+25:00";
  bad["ends_at"] = "9999-12-31T23:59:59Z";
  bad["registration_opens_at"] = "0000-01-01T00:00:00Z";
  reply = Call(*s.client, "POST", "/v1/events", bad);
  CHECK(reply.status == 422);
  for (const char* field : {"starts_at", "ends_at", "registration_opens_at"}) {
    INFO(field);
    CHECK(Has(ErrorFields(reply), field));
  }
  CHECK(Call(*s.client, "GET", "/v1/events").body["items"].empty());
  CHECK(StoredInteger(s.service, "SELECT count(*) FROM event_organizations") == 0);
}

TEST_CASE(
    "Events: status goes draft -> published -> completed, while cancelled and completed are final",
    "[events][status]") {
  Seeds s;
  auto school = Create(*s.client, "/v1/events", s.YakutskSchool());
  const std::string path = "/v1/events/" + Id(school);

  auto skip = Call(*s.client, "PATCH", path, {{"status", "completed"}});
  CHECK(skip.status == 422);
  CHECK(ReasonOf(skip, "status").find("draft to completed") != std::string::npos);
  CHECK(Call(*s.client, "GET", path).body["status"] == "draft");

  CHECK(Call(*s.client, "PATCH", path, {{"status", "published"}}).body["status"] == "published");
  auto back = Call(*s.client, "PATCH", path, {{"status", "draft"}});
  CHECK(back.status == 422);
  CHECK(ReasonOf(back, "status").find("published to draft") != std::string::npos);
  CHECK(Call(*s.client, "PATCH", path, {{"status", "completed"}}).body["status"] == "completed");
  auto reopen = Call(*s.client, "PATCH", path, {{"status", "cancelled"}});
  CHECK(reopen.status == 422);
  CHECK(ReasonOf(reopen, "status").find("completed is final") != std::string::npos);
  // Other members of a completed event can still be corrected.
  auto fixed = Call(*s.client, "PATCH", path, {{"venue", "Дом дружбы народов"}});
  CHECK(fixed.status == 200);
  CHECK(fixed.body["venue"] == "Дом дружбы народов");

  auto rally = Create(*s.client, "/v1/events", s.NovokuznetskRally());
  const std::string rally_path = "/v1/events/" + Id(rally);
  CHECK(rally["status"] == "published");
  CHECK(Call(*s.client, "PATCH", rally_path, {{"status", "cancelled"}}).status == 200);
  auto revive = Call(*s.client, "PATCH", rally_path, {{"status", "published"}});
  CHECK(revive.status == 422);
  CHECK(ReasonOf(revive, "status").find("cancelled is final") != std::string::npos);
}

TEST_CASE("Events: a draft is deleted with its sessions, any other event answers 409",
          "[events][delete]") {
  Seeds s;
  auto draft = Create(*s.client, "/v1/events", s.YakutskSchool());
  Create(*s.client, "/v1/sessions",
         {{"event_id", draft["id"]},
          {"kind", "case_session"},
          {"title", "Развитие ТОС: «Третье место»"},
          {"starts_at", "2022-09-08T11:00:00+09:00"},
          {"ends_at", "2022-09-08T14:00:00+09:00"},
          {"speaker_ids", {s.speaker}}});
  CHECK(Call(*s.client, "DELETE", "/v1/events/" + Id(draft)).status == 204);
  CHECK(Call(*s.client, "GET", "/v1/events/" + Id(draft)).status == 404);
  CHECK(Call(*s.client, "GET", "/v1/sessions").body["items"].empty());
  CHECK(StoredInteger(s.service, "SELECT count(*) FROM session_people") == 0);
  CHECK(StoredInteger(s.service, "SELECT count(*) FROM event_organizations") == 0);

  auto rally = Create(*s.client, "/v1/events", s.NovokuznetskRally());
  const std::string path = "/v1/events/" + Id(rally);
  auto published = Call(*s.client, "DELETE", path);
  CHECK(published.status == 409);
  CHECK(published.body["detail"].get<std::string>().find("cancel it instead") != std::string::npos);
  CHECK(Call(*s.client, "PATCH", path, {{"status", "cancelled"}}).status == 200);
  CHECK(Call(*s.client, "DELETE", path).status == 409);  // kept for history
  CHECK(Call(*s.client, "GET", path).body["status"] == "cancelled");
}

TEST_CASE("Events: lists filter by city, program, kind, status, format, organisation and start",
          "[events][list]") {
  Seeds s;
  auto school = Create(*s.client, "/v1/events", s.YakutskSchool());
  auto conference = Create(*s.client, "/v1/events", s.UfaConference());
  auto rally = Create(*s.client, "/v1/events", s.NovokuznetskRally());

  // Default order: by start.
  auto all = Call(*s.client, "GET", "/v1/events");
  REQUIRE(all.status == 200);
  CHECK(Titles(all.body) ==
        std::vector<std::string>{rally["title"], conference["title"], school["title"]});
  CHECK(Titles(Call(*s.client, "GET", "/v1/events?sort=-starts_at").body).front() ==
        school["title"]);
  CHECK(Titles(Call(*s.client, "GET", "/v1/events?sort=title").body).front() == rally["title"]);

  auto one = [&](const std::string& query) {
    auto reply = Call(*s.client, "GET", "/v1/events?" + query);
    INFO(query);
    REQUIRE(reply.status == 200);
    return Titles(reply.body);
  };
  using Names = std::vector<std::string>;
  CHECK(one("city_id=" + std::to_string(s.ufa)) == Names{conference["title"]});
  CHECK(one("program_id=" + std::to_string(s.city_changes_school)) == Names{rally["title"]});
  CHECK(one("kind=school") == Names{school["title"]});
  CHECK(one("status=draft") == Names{school["title"]});
  CHECK(one("format=hybrid") == Names{school["title"]});
  CHECK(one("format=offline&status=published").size() == 2);
  CHECK(one("organization_id=" + std::to_string(s.grants_fund)) == Names{rally["title"]});
  CHECK(one("organization_id=" + std::to_string(s.resource_centre)) == Names{school["title"]});
  // A start range: the last quarter of 2019 in Ufa time, end exclusive.
  CHECK(one("starts_from=2019-10-01T00:00:00%2B05:00&starts_before=2020-01-01T00:00:00%2B05:00") ==
        Names{conference["title"]});
  CHECK(one("starts_before=2019-09-28T03:00:00Z").empty());            // the rally starts then
  CHECK(one("starts_from=2019-09-28T03:00:00Z&limit=1").size() == 1);  // inclusive

  auto bad = Call(*s.client, "GET", "/v1/events?starts_from=tomorrow&kind=party&sort=venue");
  CHECK(bad.status == 422);
  for (const char* field : {"starts_from", "kind", "sort"}) {
    INFO(field);
    CHECK(Has(ErrorFields(bad), field));
  }

  // Pages by start keep the order and lose nothing.
  auto first = Call(*s.client, "GET", "/v1/events?limit=2");
  REQUIRE(first.body["next"].is_string());
  auto second =
      Call(*s.client, "GET", "/v1/events?limit=2&cursor=" + first.body["next"].get<std::string>());
  CHECK(Titles(second.body) == Names{school["title"]});
  CHECK(second.body["next"].is_null());
}

TEST_CASE("Events: a PATCH to another city shows the same instants in the new city's zone",
          "[events][time][patch]") {
  Seeds s;
  auto rally = Create(*s.client, "/v1/events", s.NovokuznetskRally());
  CHECK(rally["starts_at"] == "2019-09-28T10:00:00.000+07:00");
  CHECK(rally["time_zone"] == "Asia/Novokuznetsk");
  const std::string path = "/v1/events/" + Id(rally);

  auto moved = Call(*s.client, "PATCH", path, {{"city_id", s.ufa}});
  REQUIRE(moved.status == 200);
  CHECK(moved.body["time_zone"] == "Asia/Yekaterinburg");
  CHECK(moved.body["starts_at"] == "2019-09-28T08:00:00.000+05:00");
  CHECK(Call(*s.client, "GET", path).body == moved.body);
  // time_zone is read-only: a PATCH of it changes nothing.
  auto ignored = Call(*s.client, "PATCH", path, {{"time_zone", "Europe/Moscow"}});
  CHECK(ignored.status == 200);
  CHECK(ignored.body == moved.body);
  // Clearing an optional member: capacity null is unlimited.
  auto unlimited = Call(*s.client, "PATCH", path, {{"capacity", nullptr}});
  CHECK(unlimited.body["capacity"].is_null());
}

TEST_CASE("Events: cities, programs and organisations of an event cannot be deleted",
          "[events][delete]") {
  Seeds s;
  auto rally = Create(*s.client, "/v1/events", s.NovokuznetskRally());
  for (const std::string& path : {"/v1/cities/" + std::to_string(s.novokuznetsk),
                                  "/v1/programs/" + std::to_string(s.city_changes_school),
                                  "/v1/organizations/" + std::to_string(s.grants_fund)}) {
    INFO(path);
    auto reply = Call(*s.client, "DELETE", path);
    CHECK(reply.status == 409);
    CHECK(reply.body["detail"].get<std::string>().find("event") != std::string::npos);
  }
  // Without the partner the fund can go.
  CHECK(Call(*s.client, "PATCH", "/v1/events/" + Id(rally), {{"partner_ids", json::array()}})
            .status == 200);
  CHECK(Call(*s.client, "DELETE", "/v1/organizations/" + std::to_string(s.grants_fund)).status ==
        204);
}

// ---- Sessions ----------------------------------------------------------------------------------

TEST_CASE("Sessions: the Ufa conference has a plenary and four platforms, in Ufa time",
          "[events][sessions]") {
  Seeds s;
  auto conference = Create(*s.client, "/v1/events", s.UfaConference());
  const std::vector<std::string> platforms = {
      "Социальное партнёрство в создании городских и сельских сообществ",
      "Комьюнити-менеджмент как стратегия коммуникации с населением",
      "Соседские сообщества. Добрососедство",
      "Молодёжные сообщества и инициативное бюджетирование"};
  for (size_t i = 0; i < platforms.size(); ++i) {
    json section = s.UfaSession(conference, "section", platforms[i], "13:30", "16:30");
    section["room"] = "Аудитория " + std::to_string(i + 1);
    section["capacity"] = 30;
    section["moderator_ids"] = {i % 2 == 0 ? s.moderator : s.second_speaker};
    Create(*s.client, "/v1/sessions", section);
  }
  json plenary = s.UfaSession(conference, "plenary", "Пленарное заседание", "10:00", "12:30");
  plenary["speaker_ids"] = {s.speaker, s.second_speaker};
  plenary["moderator_ids"] = {s.moderator};
  auto created = Call(*s.client, "POST", "/v1/sessions", plenary);
  REQUIRE(created.status == 201);
  CHECK(created.Header("Location") == "/v1/sessions/" + Id(created.body));
  CHECK(created.body["starts_at"] == "2019-12-18T10:00:00.000+05:00");
  CHECK(created.body["time_zone"] == "Asia/Yekaterinburg");
  CHECK(created.body["speaker_ids"] == json::array({s.speaker, s.second_speaker}));
  CHECK(created.body["capacity"].is_null());

  auto programme = Call(*s.client, "GET", "/v1/events/" + Id(conference) + "/sessions");
  REQUIRE(programme.status == 200);
  REQUIRE(programme.body["items"].size() == 5);
  CHECK(programme.body["items"][0]["title"] == "Пленарное заседание");  // by start
  CHECK(programme.body["items"][1]["starts_at"] == "2019-12-18T13:30:00.000+05:00");
  auto sections =
      Call(*s.client, "GET", "/v1/events/" + Id(conference) + "/sessions?kind=section&limit=3");
  CHECK(sections.body["items"].size() == 3);
  auto rest = Call(*s.client, "GET",
                   "/v1/events/" + Id(conference) + "/sessions?kind=section&limit=3&cursor=" +
                       sections.body["next"].get<std::string>());
  CHECK(rest.body["items"].size() == 1);
  CHECK(Call(*s.client, "GET", "/v1/sessions?event_id=" + Id(conference)).body["items"].size() ==
        5);
}

TEST_CASE("Sessions: a session outside its event or above its capacity is a 422 on that field",
          "[events][sessions][validation]") {
  Seeds s;
  auto conference = Create(*s.client, "/v1/events", s.UfaConference());
  auto early = Call(*s.client, "POST", "/v1/sessions",
                    s.UfaSession(conference, "plenary", "Пленарное заседание", "09:00", "12:00"));
  CHECK(early.status == 422);
  CHECK(ErrorFields(early) == std::vector<std::string>{"starts_at"});
  CHECK(ReasonOf(early, "starts_at").find("2019-12-18T10:00:00.000+05:00") != std::string::npos);

  json late = s.UfaSession(conference, "section", "Соседские сообщества", "15:00", "18:00");
  late["capacity"] = 121;
  auto reply = Call(*s.client, "POST", "/v1/sessions", late);
  CHECK(reply.status == 422);
  CHECK(Has(ErrorFields(reply), "ends_at"));
  CHECK(Has(ErrorFields(reply), "capacity"));
  CHECK_FALSE(Has(ErrorFields(reply), "starts_at"));

  json reversed = s.UfaSession(conference, "talk_show", "Ток-шоу", "12:00", "11:00");
  reversed["kind"] = "lecture";
  reversed["title"] = " ";
  reply = Call(*s.client, "POST", "/v1/sessions", reversed);
  CHECK(reply.status == 422);
  for (const char* field : {"ends_at", "kind", "title"}) {
    INFO(field);
    CHECK(Has(ErrorFields(reply), field));
  }
  CHECK(Call(*s.client, "GET", "/v1/sessions").body["items"].empty());
}

TEST_CASE("Sessions: event_id is required on create and cannot change",
          "[events][sessions][validation]") {
  Seeds s;
  auto conference = Create(*s.client, "/v1/events", s.UfaConference());
  auto rally = Create(*s.client, "/v1/events", s.NovokuznetskRally());
  json plenary = s.UfaSession(conference, "plenary", "Пленарное заседание", "10:00", "12:30");
  json orphan = plenary;
  orphan.erase("event_id");
  auto missing = Call(*s.client, "POST", "/v1/sessions", orphan);
  CHECK(missing.status == 422);
  CHECK(Has(ErrorFields(missing), "event_id"));
  orphan["event_id"] = 999;
  auto unknown = Call(*s.client, "POST", "/v1/sessions", orphan);
  CHECK(unknown.status == 422);
  CHECK(ReasonOf(unknown, "event_id") == "no event with id 999");

  auto session = Create(*s.client, "/v1/sessions", plenary);
  const std::string path = "/v1/sessions/" + Id(session);
  auto moved = Call(*s.client, "PATCH", path, {{"event_id", rally["id"]}});
  CHECK(moved.status == 422);
  CHECK(ErrorFields(moved) == std::vector<std::string>{"event_id"});
  CHECK(Call(*s.client, "GET", path).body["event_id"] == conference["id"]);

  auto retitled =
      Call(*s.client, "PATCH", path,
           {{"title", "Пленарное заседание: вовлечённость в сообщество"}, {"room", "Большой зал"}});
  CHECK(retitled.status == 200);
  CHECK(retitled.body["room"] == "Большой зал");
  CHECK(retitled.body["starts_at"] == "2019-12-18T10:00:00.000+05:00");
}

TEST_CASE("Sessions: speakers and moderators exist and differ, and person_id finds their sessions",
          "[events][sessions][people]") {
  Seeds s;
  auto rally = Create(*s.client, "/v1/events", s.NovokuznetskRally());
  json talk_show = {{"event_id", rally["id"]},
                    {"kind", "talk_show"},
                    {"title", "Ток-шоу: социальное предпринимательство в малых городах"},
                    {"starts_at", "2019-09-28T15:00:00+07:00"},
                    {"ends_at", "2019-09-28T16:30:00+07:00"},
                    {"speaker_ids", {s.speaker, s.second_speaker}},
                    {"moderator_ids", {s.speaker}}};
  auto both = Call(*s.client, "POST", "/v1/sessions", talk_show);
  CHECK(both.status == 422);
  CHECK(Has(ErrorFields(both), "moderator_ids[0]"));
  talk_show["moderator_ids"] = {404};
  auto unknown = Call(*s.client, "POST", "/v1/sessions", talk_show);
  CHECK(unknown.status == 422);
  CHECK(ReasonOf(unknown, "moderator_ids[0]") == "no person with id 404");
  talk_show["moderator_ids"] = {s.moderator};
  auto first_day = Create(*s.client, "/v1/sessions", talk_show);
  CHECK(first_day["starts_at"] == "2019-09-28T15:00:00.000+07:00");

  auto second_day = Create(*s.client, "/v1/sessions",
                           {{"event_id", rally["id"]},
                            {"kind", "master_class"},
                            {"title", "Мастер-класс: как найти партнёров для проекта"},
                            {"starts_at", "2019-09-29T11:00:00+07:00"},
                            {"ends_at", "2019-09-29T12:30:00+07:00"},
                            {"capacity", 40},
                            {"speaker_ids", {s.second_speaker}}});
  Create(*s.client, "/v1/sessions",
         {{"event_id", rally["id"]},
          {"kind", "consultation"},
          {"title", "Консультации экспертов по проектам"},
          {"starts_at", "2019-09-29T14:00:00+07:00"},
          {"ends_at", "2019-09-29T17:00:00+07:00"},
          {"speaker_ids", {s.speaker}}});

  auto of = [&](int64_t person) {
    return Titles(Call(*s.client, "GET", "/v1/sessions?person_id=" + std::to_string(person)).body);
  };
  CHECK(of(s.second_speaker) == std::vector<std::string>{first_day["title"], second_day["title"]});
  CHECK(of(s.moderator) == std::vector<std::string>{first_day["title"]});
  CHECK(of(s.speaker).size() == 2);
  CHECK(Titles(Call(*s.client, "GET", "/v1/sessions?kind=master_class").body) ==
        std::vector<std::string>{second_day["title"]});

  // A speaker in a session cannot be deleted; without the session they can.
  auto in_use = Call(*s.client, "DELETE", "/v1/people/" + std::to_string(s.second_speaker));
  CHECK(in_use.status == 409);
  CHECK(in_use.body["detail"] ==
        "The person is referenced by 2 session(s) (speaker_ids or moderator_ids); remove those "
        "first.");
  CHECK(Call(*s.client, "DELETE", "/v1/sessions/" + Id(second_day)).status == 204);
  CHECK(Call(*s.client, "PATCH", "/v1/sessions/" + Id(first_day), {{"speaker_ids", {s.speaker}}})
            .status == 200);
  CHECK(Call(*s.client, "DELETE", "/v1/people/" + std::to_string(s.second_speaker)).status == 204);
}

TEST_CASE("Sessions: moving the event or lowering its capacity may not leave a session out",
          "[events][sessions][patch]") {
  Seeds s;
  auto school = Create(*s.client, "/v1/events", s.YakutskSchool());
  auto case_session = Create(*s.client, "/v1/sessions",
                             {{"event_id", school["id"]},
                              {"kind", "case_session"},
                              {"title", "Развитие ТОС: «Третье место»"},
                              {"starts_at", "2022-09-08T11:00:00+09:00"},
                              {"ends_at", "2022-09-08T15:00:00+09:00"},
                              {"capacity", 60},
                              {"speaker_ids", {s.speaker}}});
  CHECK(case_session["starts_at"] == "2022-09-08T11:00:00.000+09:00");
  const std::string path = "/v1/events/" + Id(school);

  auto later = Call(*s.client, "PATCH", path, {{"starts_at", "2022-09-08T12:00:00+09:00"}});
  CHECK(later.status == 422);
  CHECK(ReasonOf(later, "starts_at").find("session " + Id(case_session)) != std::string::npos);
  auto shorter =
      Call(*s.client, "PATCH", path, {{"ends_at", "2022-09-08T14:00:00+09:00"}, {"capacity", 50}});
  CHECK(shorter.status == 422);
  CHECK(Has(ErrorFields(shorter), "ends_at"));
  CHECK(Has(ErrorFields(shorter), "capacity"));
  auto stored = Call(*s.client, "GET", path);
  CHECK(stored.body["starts_at"] == "2022-09-08T10:00:00.000+09:00");
  CHECK(stored.body["capacity"] == 80);

  // An hour earlier on both ends still holds the session.
  auto earlier =
      Call(*s.client, "PATCH", path,
           {{"starts_at", "2022-09-08T09:00:00+09:00"}, {"ends_at", "2022-09-08T17:00:00+09:00"}});
  CHECK(earlier.status == 200);
  // A session's own move outside the event is refused too.
  auto out = Call(*s.client, "PATCH", "/v1/sessions/" + Id(case_session),
                  {{"ends_at", "2022-09-08T17:30:00+09:00"}});
  CHECK(out.status == 422);
  CHECK(ErrorFields(out) == std::vector<std::string>{"ends_at"});
}

TEST_CASE("Sessions: the nested list needs an existing event and takes event_id from the path",
          "[events][sessions][list]") {
  Seeds s;
  CHECK(Call(*s.client, "GET", "/v1/events/999/sessions").status == 404);
  CHECK(Call(*s.client, "GET", "/v1/events/abc/sessions").status == 404);
  auto school = Create(*s.client, "/v1/events", s.YakutskSchool());
  auto empty = Call(*s.client, "GET", "/v1/events/" + Id(school) + "/sessions");
  CHECK(empty.status == 200);
  CHECK(empty.body["items"].empty());
  auto twice = Call(*s.client, "GET", "/v1/events/" + Id(school) + "/sessions?event_id=1");
  CHECK(twice.status == 422);
  CHECK(Has(ErrorFields(twice), "event_id"));
  CHECK(Call(*s.client, "GET", "/v1/sessions?person_id=x").status == 422);
}

TEST_CASE("Events: ?q= finds the words of title, description and venue in any of their forms",
          "[events][search]") {
  Seeds s;
  const json ufa = Create(*s.client, "/v1/events", s.UfaConference());
  const json rally = Create(*s.client, "/v1/events", s.NovokuznetskRally());
  const json school = Create(*s.client, "/v1/events", s.YakutskSchool());
  const auto search = [&](const std::string& query) {
    httplib::Params params{{"q", query}};
    auto reply =
        Call(*s.client, "GET", "/v1/events?" + httplib::detail::params_to_query_str(params));
    REQUIRE(reply.status == 200);
    auto titles = Titles(reply.body);
    std::sort(titles.begin(), titles.end());
    return titles;
  };
  const std::string ufa_title = ufa["title"];
  const std::string rally_title = rally["title"];
  const std::string school_title = school["title"];
  // «города» and «город» in the rally's title, «городских» nowhere: one stem, any form.
  CHECK(search("город") == std::vector<std::string>{rally_title});
  CHECK(search("Городом") == std::vector<std::string>{rally_title});
  // Description and venue are searched too; every word must be found.
  CHECK(search("конструктор сообществ") == std::vector<std::string>{ufa_title});
  CHECK(search("конгресс-холле") == std::vector<std::string>{ufa_title});
  CHECK(search("конструктор людей").empty());
  // A stem is matched as a prefix: «самоуправлений» is found from «самоуправление».
  CHECK(search("самоуправление") == std::vector<std::string>{school_title});
  // With the other filters and with paging.
  CHECK(Titles(Call(*s.client, "GET",
                    "/v1/events?q=%D0%B3%D0%BE%D1%80%D0%BE%D0%B4&city_id=" + std::to_string(s.ufa))
                   .body)
            .empty());
  // Sessions are searched too, and go with their event.
  Create(
      *s.client, "/v1/sessions",
      s.UfaSession(ufa, "plenary", "Пленарное заседание о развитии сообществ", "10:00", "12:00"));
  Create(*s.client, "/v1/sessions",
         s.UfaSession(ufa, "section", "Площадка «Городские сообщества»", "13:00", "15:00"));
  const auto sessions = [&](const std::string& query) {
    auto reply = Call(*s.client, "GET",
                      "/v1/events/" + Id(ufa) + "/sessions?" +
                          httplib::detail::params_to_query_str(httplib::Params{{"q", query}}));
    REQUIRE(reply.status == 200);
    return Titles(reply.body);
  };
  CHECK(sessions("пленарного") ==
        std::vector<std::string>{"Пленарное заседание о развитии сообществ"});
  CHECK(sessions("сообщество").size() == 2);
  // A change to the title is found at once, the old words no longer; a deleted event is gone.
  const std::string path = "/v1/events/" + Id(school);
  REQUIRE(Call(*s.client, "PATCH", path, {{"title", "Школа активных горожан"}}).status == 200);
  CHECK(search("самоуправление").empty());
  CHECK(search("горожане") == std::vector<std::string>{"Школа активных горожан"});
  REQUIRE(Call(*s.client, "DELETE", path).status == 204);
  CHECK(search("горожане").empty());
  // Bad searches are a 422 naming q.
  for (const std::string& bad :
       std::vector<std::string>{"", "«» — !!!", "1 2 3 4 5 6 7 8 9 10 11", std::string(201, 'a')}) {
    httplib::Params params{{"q", bad}};
    auto reply =
        Call(*s.client, "GET", "/v1/events?" + httplib::detail::params_to_query_str(params));
    INFO(bad);
    CHECK(reply.status == 422);
    CHECK(Has(ErrorFields(reply), "q"));
  }
}
