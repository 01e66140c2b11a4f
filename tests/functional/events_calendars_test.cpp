// Calendar feeds (iCalendar): an event with its sessions, a program's and a city's events as the
// public reads them, and a person's confirmed registrations behind an organiser's key or a feed
// token that is shown once, stored hashed, replaced by rotation and never logged. The Yakutsk
// forum with its school of ТОС (seed 004), «Добрые города» (seed 000); people are invented.
// python3-icalendar reads every feed in tests/calendar/check-feeds.py.
#include <catch2/catch.hpp>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::FromNow;
using nlohmann::json;

namespace {

std::string Str(int64_t id) { return std::to_string(id); }

// Next year, so that fixed local times lie in the future: "2027".
std::string NextYear() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return std::to_string(tm.tm_year + 1900 + 1);
}

struct Feed {
  int status = 0;
  std::string body;
  httplib::Headers headers;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  bool Has(const std::string& text) const { return body.find(text) != std::string::npos; }
};

Feed Get(httplib::Client& client, const std::string& path, httplib::Headers headers = {}) {
  headers.emplace("Connection", "keep-alive");
  auto result = client.Get(path.c_str(), headers);
  REQUIRE(result);
  return {result->status, result->body, result->headers};
}

std::string Uid(const char* kind, int64_t id) {
  return std::string("UID:") + kind + "-" + Str(id) + "@civic-platform\r\n";
}

}  // namespace

TEST_CASE("Calendars: an event, a program and a city as the public reads them, in local time",
          "[events][calendar]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto admin = service.Client();
  auto anyone = service.ClientWithKey("");
  const std::string year = NextYear();
  const int64_t yakutsk =
      Create(*admin, "/v1/cities", {{"name", "Якутск"}, {"time_zone", "Asia/Yakutsk"}})["id"];
  const int64_t sarov =
      Create(*admin, "/v1/cities", {{"name", "Саров"}, {"time_zone", "Europe/Moscow"}})["id"];
  const int64_t program = Create(
      *admin, "/v1/programs",
      {{"title", "Добрые города"}, {"kind", "accelerator"}, {"starts_on", "2026-09-01"}})["id"];
  auto event = [&](const std::string& title, int64_t city, const std::string& start,
                   const std::string& end, const std::string& status) -> int64_t {
    return Create(*admin, "/v1/events",
                  {{"kind", "forum"},
                   {"title", title},
                   {"program_id", program},
                   {"city_id", city},
                   {"venue", "Дом дружбы народов"},
                   {"starts_at", start},
                   {"ends_at", end},
                   {"status", status}})["id"];
  };
  const int64_t forum =
      event("Якутск 4.0.0 Старт; школа ТОС, день 1", yakutsk, year + "-09-08T10:00:00+09:00",
            year + "-09-11T18:00:00+09:00", "published");
  const int64_t draft = event("Черновик", yakutsk, year + "-10-01T10:00:00+09:00",
                              year + "-10-01T12:00:00+09:00", "draft");
  const int64_t cancelled = event("Отменённый семинар", sarov, year + "-05-14T10:00:00+03:00",
                                  year + "-05-14T18:00:00+03:00", "published");
  REQUIRE(Call(*admin, "PATCH", "/v1/events/" + Str(cancelled), {{"status", "cancelled"}}).status ==
          200);
  const int64_t session = Create(*admin, "/v1/sessions",
                                 {{"event_id", forum},
                                  {"kind", "case_session"},
                                  {"title", "Кейс-сессия ТОС"},
                                  {"room", "Зал 2"},
                                  {"starts_at", year + "-09-09T14:00:00+09:00"},
                                  {"ends_at", year + "-09-09T16:00:00+09:00"}})["id"];

  SECTION("an event's feed holds it and its sessions, at 10:00 Yakutsk time") {
    const Feed feed = Get(*anyone, "/v1/events/" + Str(forum) + "/calendar.ics");
    REQUIRE(feed.status == 200);
    CHECK(feed.Header("Content-Type") == "text/calendar; charset=utf-8");
    CHECK(feed.Header("Cache-Control") == "public, max-age=300");
    CHECK(feed.body.rfind("BEGIN:VCALENDAR\r\n", 0) == 0);
    CHECK(feed.Has("BEGIN:VTIMEZONE\r\nTZID:Asia/Yakutsk\r\n"));
    CHECK(feed.Has(Uid("event", forum)));
    CHECK(feed.Has("DTSTART;TZID=Asia/Yakutsk:" + year + "0908T100000\r\n"));
    CHECK(feed.Has("DTEND;TZID=Asia/Yakutsk:" + year + "0911T180000\r\n"));
    CHECK(feed.Has("SUMMARY:Якутск 4.0.0 Старт\\; школа ТОС\\, день 1\r\n"));
    CHECK(feed.Has("LOCATION:Дом дружбы народов\\, Якутск\r\n"));
    CHECK(feed.Has(Uid("session", session)));
    CHECK(feed.Has("DTSTART;TZID=Asia/Yakutsk:" + year + "0909T140000\r\n"));
    CHECK(feed.Has("RELATED-TO;RELTYPE=PARENT:event-" + Str(forum) + "@civic-platform\r\n"));

    // ETag and If-None-Match as every GET; a change makes a new one and a later LAST-MODIFIED.
    const std::string etag = feed.Header("ETag");
    REQUIRE(!etag.empty());
    const Feed again =
        Get(*anyone, "/v1/events/" + Str(forum) + "/calendar.ics", {{"If-None-Match", etag}});
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    REQUIRE(
        Call(*admin, "PATCH", "/v1/events/" + Str(forum), {{"venue", "Национальная библиотека"}})
            .status == 200);
    const Feed changed =
        Get(*anyone, "/v1/events/" + Str(forum) + "/calendar.ics", {{"If-None-Match", etag}});
    REQUIRE(changed.status == 200);
    CHECK(changed.Header("ETag") != etag);
    CHECK(changed.Has("LOCATION:Национальная библиотека\\, Якутск\r\n"));
  }

  SECTION("a draft's feed is not the public's; its program's organisers and admins read it") {
    CHECK(Get(*anyone, "/v1/events/" + Str(draft) + "/calendar.ics").status == 404);
    const Feed own = Get(*admin, "/v1/events/" + Str(draft) + "/calendar.ics");
    CHECK(own.status == 200);
    CHECK(own.Header("Cache-Control") == "private, no-cache");  // never in a shared cache
    CHECK(own.Has(Uid("event", draft)));
  }

  SECTION("a program's feed: published and cancelled events, no drafts") {
    const Feed feed = Get(*anyone, "/v1/programs/" + Str(program) + "/calendar.ics");
    REQUIRE(feed.status == 200);
    CHECK(feed.Has("NAME:Добрые города\r\n"));
    CHECK(feed.Has(Uid("event", forum)));
    CHECK(feed.Has(Uid("event", cancelled)));
    CHECK_FALSE(feed.Has(Uid("event", draft)));
    CHECK_FALSE(feed.Has(Uid("session", session)));  // sessions are in the event's own feed
    // Both zones, each once, and the cancelled seminar at 10:00 Moscow time, cancelled.
    CHECK(feed.Has("TZID:Asia/Yakutsk\r\n"));
    CHECK(feed.Has("TZID:Europe/Moscow\r\n"));
    CHECK(feed.Has("DTSTART;TZID=Europe/Moscow:" + year + "0514T100000\r\n"));
    const size_t at = feed.body.find(Uid("event", cancelled));
    CHECK(feed.body.find("STATUS:CANCELLED\r\n", at) < feed.body.find("END:VEVENT", at));
    // With an admin's key, the draft too.
    CHECK(Get(*admin, "/v1/programs/" + Str(program) + "/calendar.ics").Has(Uid("event", draft)));
  }

  SECTION("a city's feed holds the events held there") {
    const Feed feed = Get(*anyone, "/v1/cities/" + Str(sarov) + "/calendar.ics");
    REQUIRE(feed.status == 200);
    CHECK(feed.Has("NAME:Мероприятия: Саров\r\n"));
    CHECK(feed.Has(Uid("event", cancelled)));
    CHECK_FALSE(feed.Has(Uid("event", forum)));
    CHECK_FALSE(feed.Has("TZID:Asia/Yakutsk"));
  }

  SECTION("unknown objects are 404, query parameters 422") {
    CHECK(Get(*anyone, "/v1/events/999999/calendar.ics").status == 404);
    CHECK(Get(*anyone, "/v1/programs/999999/calendar.ics").status == 404);
    CHECK(Get(*anyone, "/v1/cities/999999/calendar.ics").status == 404);
    const auto query = Call(*anyone, "GET", "/v1/cities/" + Str(sarov) + "/calendar.ics?days=30");
    CHECK(query.status == 422);
    CHECK(civic::test::Has(civic::test::ErrorFields(query), "days"));
  }
}

TEST_CASE(
    "Calendars: a person's confirmed registrations behind an organiser's key or a feed token that "
    "rotation replaces and no log holds",
    "[events][calendar][access]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto admin = service.Client();
  auto anyone = service.ClientWithKey("");
  const std::string year = NextYear();
  const int64_t zarechny = Create(*admin, "/v1/cities",
                                  {{"name", "Заречный"},
                                   {"region", "Свердловская область"},
                                   {"time_zone", "Asia/Yekaterinburg"}})["id"];
  auto program = [&](const std::string& title) -> int64_t {
    return Create(*admin, "/v1/programs",
                  {{"title", title}, {"kind", "accelerator"}, {"starts_on", "2026-09-01"}})["id"];
  };
  const int64_t good_cities = program("Добрые города");
  const int64_t leaders = program("Лидеры атомных городов");
  const int64_t elsewhere = program("Конструктор сообществ");
  auto event = [&](const std::string& title, int64_t in_program, const std::string& day,
                   std::optional<int> capacity) -> int64_t {
    json body = {{"kind", "seminar"},
                 {"title", title},
                 {"program_id", in_program},
                 {"city_id", zarechny},
                 {"starts_at", year + "-" + day + "T10:00:00+05:00"},
                 {"ends_at", year + "-" + day + "T17:00:00+05:00"},
                 {"status", "published"}};
    if (capacity) {
      body["capacity"] = *capacity;
    }
    return Create(*admin, "/v1/events", body)["id"];
  };
  const int64_t confirmed = event("Модуль «Добрых городов»", good_cities, "04-02", std::nullopt);
  const int64_t waitlisted = event("Семинар без мест", good_cities, "04-03", 0);
  const int64_t cancelled = event("Отменённая запись", good_cities, "04-04", std::nullopt);
  const int64_t other_program = event("Семинар лидеров", leaders, "04-05", std::nullopt);
  const int64_t master_class = Create(*admin, "/v1/sessions",
                                      {{"event_id", confirmed},
                                       {"kind", "master_class"},
                                       {"title", "Мастер-класс"},
                                       {"starts_at", year + "-04-02T11:00:00+05:00"},
                                       {"ends_at", year + "-04-02T12:30:00+05:00"}})["id"];
  const int64_t person = Create(
      *admin, "/v1/people",
      {{"name", "Дарья Полякова"}, {"city_id", zarechny}, {"email", "polyakova@example.ru"}})["id"];
  auto register_for = [&](int64_t id) -> json {
    return Create(*admin, "/v1/events/" + Str(id) + "/registrations", {{"person_id", person}});
  };
  register_for(confirmed);
  CHECK(register_for(waitlisted)["status"] == "waitlisted");
  const int64_t dropped = register_for(cancelled)["id"];
  REQUIRE(Call(*admin, "DELETE", "/v1/registrations/" + Str(dropped)).status == 200);
  register_for(other_program);
  Create(*admin, "/v1/sessions/" + Str(master_class) + "/registrations", {{"person_id", person}});

  auto key = [&](const json& body) {
    json with_name = body;
    with_name["name"] = "ключ календаря";
    return Create(*admin, "/v1/api-keys", with_name)["token"].get<std::string>();
  };
  auto organizer = service.ClientWithKey(
      key({{"role", "organizer"}, {"program_ids", json::array({good_cities})}}));
  auto stranger = service.ClientWithKey(
      key({{"role", "organizer"}, {"program_ids", json::array({elsewhere})}}));
  auto frontend = service.ClientWithKey(
      key({{"role", "frontend"}, {"program_ids", json::array({good_cities})}}));
  const std::string path = "/v1/people/" + Str(person) + "/calendar.ics";

  SECTION("keys: the organiser sees its program's part, the admin all, others nothing") {
    const Feed own = Get(*organizer, path);
    REQUIRE(own.status == 200);
    CHECK(own.Header("Cache-Control") == "private, no-cache");
    CHECK(own.Has(Uid("event", confirmed)));
    CHECK(own.Has("DTSTART;TZID=Asia/Yekaterinburg:" + year + "0402T100000\r\n"));
    CHECK(own.Has(Uid("session", master_class)));
    CHECK_FALSE(own.Has(Uid("event", waitlisted)));
    CHECK_FALSE(own.Has(Uid("event", cancelled)));
    CHECK_FALSE(own.Has(Uid("event", other_program)));  // another program's: not its to know
    CHECK_FALSE(own.Has("polyakova@example.ru"));
    const Feed all = Get(*admin, path);
    CHECK(all.Has(Uid("event", confirmed)));
    CHECK(all.Has(Uid("event", other_program)));
    CHECK(Get(*stranger, path).status == 403);
    CHECK(Get(*frontend, path).status == 403);
    CHECK(Get(*anyone, path).status == 401);
    CHECK(Get(*admin, "/v1/people/999999/calendar.ics").status == 404);
  }

  SECTION("a token opens the whole feed until it is rotated or withdrawn; it is never logged") {
    const std::string feed_path = "/v1/people/" + Str(person) + "/calendar-feed";
    CHECK(Call(*stranger, "POST", feed_path).status == 403);
    CHECK(Call(*frontend, "POST", feed_path).status == 403);
    CHECK(Call(*anyone, "POST", feed_path).status == 401);
    const auto issued = Call(*organizer, "POST", feed_path);
    REQUIRE(issued.status == 201);
    CHECK(issued.Header("Cache-Control") == "no-store");
    CHECK(issued.body["replaced"] == false);
    const std::string token = issued.body["token"];
    CHECK(token.rfind("calf_", 0) == 0);
    CHECK(token.size() == 48);
    CHECK(issued.body["path"] == "/v1/calendar-feeds/" + token);

    const Feed feed = Get(*anyone, "/v1/calendar-feeds/" + token);
    REQUIRE(feed.status == 200);
    CHECK(feed.Header("Content-Type") == "text/calendar; charset=utf-8");
    CHECK(feed.Header("Cache-Control") == "private, max-age=300");
    CHECK(feed.Has("NAME:Мероприятия: Дарья Полякова\r\n"));
    CHECK(feed.Has(Uid("event", confirmed)));
    CHECK(feed.Has(Uid("event", other_program)));  // the person's own: every program
    CHECK(feed.Has(Uid("session", master_class)));
    CHECK_FALSE(feed.Has(Uid("event", waitlisted)));
    CHECK_FALSE(feed.Has(Uid("event", cancelled)));
    CHECK(Get(*anyone, "/v1/calendar-feeds/" + token, {{"If-None-Match", feed.Header("ETag")}})
              .status == 304);
    // Stored only as a hash: neither the database nor its log holds the token.
    for (const char* file : {"/events.db", "/events.db-wal"}) {
      std::ifstream in(service.data_dir() + file, std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      CHECK(bytes.str().find(token.substr(5)) == std::string::npos);
    }

    // A wrong token of the same shape, or another shape: 404 without the token in the answer.
    std::string wrong = token;
    wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
    const auto refused = Call(*anyone, "GET", "/v1/calendar-feeds/" + wrong);
    CHECK(refused.status == 404);
    CHECK(refused.body.dump().find(wrong) == std::string::npos);
    CHECK(Call(*anyone, "GET", "/v1/calendar-feeds/not-a-token").status == 404);

    // Rotation: the old token opens nothing, the new one the same feed.
    const auto rotated = Call(*admin, "POST", feed_path);
    REQUIRE(rotated.status == 201);
    CHECK(rotated.body["replaced"] == true);
    const std::string fresh = rotated.body["token"];
    CHECK(fresh != token);
    CHECK(Get(*anyone, "/v1/calendar-feeds/" + token).status == 404);
    CHECK(Get(*anyone, "/v1/calendar-feeds/" + fresh).Has(Uid("event", confirmed)));

    // Withdrawn: nothing opens; withdrawing again changes nothing.
    CHECK(Call(*stranger, "DELETE", feed_path).status == 403);
    CHECK(Call(*organizer, "DELETE", feed_path).status == 204);
    CHECK(Get(*anyone, "/v1/calendar-feeds/" + fresh).status == 404);
    CHECK(Call(*organizer, "DELETE", feed_path).status == 204);

    // The audit trail has the issues and the withdrawal, never a token.
    const auto audit = Call(*admin, "GET", "/v1/audit-events?object_type=calendar_feed");
    REQUIRE(audit.status == 200);
    CHECK(audit.body["items"].size() == 3);
    CHECK(audit.body.dump().find(token) == std::string::npos);
    CHECK(audit.body.dump().find(fresh) == std::string::npos);
    // No log line and no metric holds a token: the access log names the route pattern.
    const auto metrics = Get(*anyone, "/metrics");
    for (const std::string& t : {token, fresh, wrong}) {
      CHECK(metrics.body.find(t) == std::string::npos);
      CHECK(metrics.body.find(t.substr(5, 16)) == std::string::npos);
      CHECK(civic::test::Eventually([&] {
        return service.Stdout().find("route=/v1/calendar-feeds/{token}") != std::string::npos;
      }));
      CHECK(service.Stdout().find(t.substr(5, 16)) == std::string::npos);
      CHECK(service.Stderr().find(t.substr(5, 16)) == std::string::npos);
    }
  }

  SECTION("a person deleted takes the token with it") {
    const int64_t visitor =
        Create(*admin, "/v1/people", {{"name", "Гость Форума"}, {"city_id", zarechny}})["id"];
    const auto issued = Call(*admin, "POST", "/v1/people/" + Str(visitor) + "/calendar-feed");
    REQUIRE(issued.status == 201);
    const std::string token = issued.body["token"];
    CHECK(Get(*anyone, "/v1/calendar-feeds/" + token).status == 200);
    REQUIRE(Call(*admin, "DELETE", "/v1/people/" + Str(visitor)).status == 204);
    CHECK(Get(*anyone, "/v1/calendar-feeds/" + token).status == 404);
  }
}
