// Attendance per day and per session: the forum «Якутск 4.0.0 Старт» (seed 004) over two days in
// Yakutsk (UTC+9), whose first morning is still the day before in UTC, with its ТОС case session
// and a master class. People are invented.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::FromNow;
using civic::test::Has;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string Str(int64_t id) { return std::to_string(id); }

std::string Utc(std::chrono::system_clock::time_point at, const char* format) {
  const std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), format, &tm);
  return buffer;
}

// Today's date in Yakutsk (UTC+9 all year).
std::string YakutskToday() { return Utc(std::chrono::system_clock::now() + 9h, "%Y-%m-%d"); }

civic::test::ServiceOptions WithWebhooks() {
  civic::test::ServiceOptions options;
  options.args = {"--webhook-allow-hosts", "127.0.0.1"};
  return options;
}

struct Forum {
  civic::test::Service service{civic::test::EventsApiBinary(), WithWebhooks()};
  std::unique_ptr<httplib::Client> admin = service.Client();
  int64_t yakutsk = 0, program = 0, event = 0;
  int serial = 0;
  std::string day1, day2, utc_day_before;  // the forum's local days; its start's UTC date

  Forum() {
    yakutsk = Create(*admin, "/v1/cities",
                     {{"name", "Якутск"},
                      {"region", "Республика Саха (Якутия)"},
                      {"time_zone", "Asia/Yakutsk"}})["id"];
    program =
        Create(*admin, "/v1/programs",
               {{"title", "Школа ТОС"}, {"kind", "education"}, {"starts_on", "2026-09-01"}})["id"];
    // In 30 days: from 08:00 Yakutsk (23:00 UTC the day before) to 18:00 the next day.
    const auto midnight =
        std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now() + 24h * 30);
    day1 = Utc(midnight, "%Y-%m-%d");
    day2 = Utc(midnight + 24h, "%Y-%m-%d");
    utc_day_before = Utc(midnight - 1h, "%Y-%m-%d");
    event = Create(*admin, "/v1/events",
                   {{"kind", "forum"},
                    {"title", "Якутск 4.0.0 Старт"},
                    {"program_id", program},
                    {"city_id", yakutsk},
                    {"format", "offline"},
                    {"starts_at", Utc(midnight - 1h, "%Y-%m-%dT%H:%M:%SZ")},
                    {"ends_at", Utc(midnight + 24h + 9h, "%Y-%m-%dT%H:%M:%SZ")},
                    {"status", "published"}})["id"];
  }

  int64_t Person(const std::string& name) {
    return Create(*admin, "/v1/people",
                  {{"name", name},
                   {"city_id", yakutsk},
                   {"email", "p" + Str(++serial) + "@example.ru"}})["id"];
  }
  int64_t Register(int64_t person, int64_t at = 0) {
    return Create(*admin, "/v1/events/" + Str(at == 0 ? event : at) + "/registrations",
                  {{"person_id", person}})["id"];
  }
  int64_t Session(const std::string& title, const json& capacity, int hour) {
    auto forum = Call(*admin, "GET", "/v1/events/" + Str(event)).body;
    // starts_at is shown in Yakutsk time: "YYYY-MM-DDT08:00:00.000+09:00".
    const std::string date = forum["starts_at"].get<std::string>().substr(0, 10);
    char at[64];
    std::snprintf(at, sizeof at, "%sT%02d:00:00+09:00", date.c_str(), hour);
    char until[64];
    std::snprintf(until, sizeof until, "%sT%02d:00:00+09:00", date.c_str(), hour + 1);
    return Create(*admin, "/v1/sessions",
                  {{"event_id", event},
                   {"kind", "case_session"},
                   {"title", title},
                   {"starts_at", at},
                   {"ends_at", until},
                   {"capacity", capacity}})["id"];
  }
  civic::test::JsonReply CheckIn(int64_t registration, const json& body,
                                 httplib::Client* client = nullptr) {
    return Call(client != nullptr ? *client : *admin, "POST",
                "/v1/registrations/" + Str(registration) + "/check-in", body);
  }
  json Report() {
    auto reply = Call(*admin, "GET", "/v1/events/" + Str(event) + "/attendance");
    REQUIRE(reply.status == 200);
    return reply.body;
  }
};

// The attended count of `day` in a report's or statistics' list.
json AttendedOn(const json& rows, const std::string& member, const json& key) {
  for (const auto& row : rows) {
    if (row[member] == key) {
      return row["attended"];
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("Attendance: a check-in names a local day of the event, once per person and day",
          "[events][attendance]") {
  Forum f;
  const int64_t anna = f.Register(f.Person("Анна Петрова"));

  // The UTC date of the forum's first morning is not one of its days: 422 naming `day`.
  for (const std::string& outside : {f.utc_day_before, civic::test::FromNow(24h * 40).substr(0, 10),
                                     std::string("2026-02-30")}) {
    INFO(outside);
    auto refused = f.CheckIn(anna, {{"day", outside}});
    CHECK(refused.status == 422);
    CHECK(Has(ErrorFields(refused), "day"));
  }
  // Without a day, a forum of two days takes today's local date only while it runs.
  auto no_day = f.CheckIn(anna, nullptr);
  CHECK(no_day.status == 422);
  CHECK(Has(ErrorFields(no_day), "day"));
  CHECK(Call(*f.admin, "GET", "/v1/registrations/" + Str(anna)).body["checked_in_at"].is_null());
  // Unknown members and both a day and a session are refused too.
  auto both = f.CheckIn(anna, {{"day", f.day1}, {"session_id", 1}});
  CHECK(both.status == 422);
  CHECK(Has(ErrorFields(both), "session_id"));
  CHECK(Has(ErrorFields(f.CheckIn(anna, {{"date", f.day1}})), "date"));

  auto first = f.CheckIn(anna, {{"day", f.day1}});
  REQUIRE(first.status == 200);
  CHECK(first.body["id"] == anna);
  CHECK(first.body["status"] == "confirmed");
  CHECK(first.body["attendance"]["day"] == f.day1);
  CHECK(first.body["attendance"]["session_id"].is_null());
  CHECK(first.body["checked_in_at"] == first.body["attendance"]["checked_in_at"]);

  // Again: the same check-in, unchanged.
  std::this_thread::sleep_for(5ms);
  auto again = f.CheckIn(anna, {{"day", f.day1}});
  REQUIRE(again.status == 200);
  CHECK(again.body["attendance"] == first.body["attendance"]);
  CHECK(again.body["checked_in_at"] == first.body["checked_in_at"]);

  // Day two is a check-in of its own; checked_in_at stays the first.
  auto second = f.CheckIn(anna, {{"day", f.day2}});
  REQUIRE(second.status == 200);
  CHECK(second.body["attendance"]["day"] == f.day2);
  CHECK(second.body["attendance"]["id"] != first.body["attendance"]["id"]);
  CHECK(second.body["checked_in_at"] == first.body["checked_in_at"]);

  const json report = f.Report();
  CHECK(report["first_day"] == f.day1);
  CHECK(report["last_day"] == f.day2);
  CHECK(report["time_zone"] == "Asia/Yakutsk");
  CHECK(report["attended"] == 1);
  CHECK(report["days"] ==
        json::array({{{"day", f.day1}, {"attended", 1}}, {{"day", f.day2}, {"attended", 1}}}));
}

TEST_CASE("Attendance: concurrent check-ins of one person for one day make one record",
          "[events][attendance][concurrency]") {
  Forum f;
  const int64_t registration = f.Register(f.Person("Борис Иванов"));
  constexpr int kThreads = 8;
  std::vector<civic::test::JsonReply> replies(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto client = f.service.Client();
      replies[i] = f.CheckIn(registration, {{"day", f.day2}}, client.get());
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (const auto& reply : replies) {
    REQUIRE(reply.status == 200);
    CHECK(reply.body["attendance"] == replies[0].body["attendance"]);
  }
  auto listed = Call(*f.admin, "GET", "/v1/events/" + Str(f.event) + "/attendances?day=" + f.day2);
  REQUIRE(listed.status == 200);
  CHECK(listed.body["items"].size() == 1);
  CHECK(AttendedOn(f.Report()["days"], "day", f.day2) == 1);
  auto stats = Call(*f.admin, "GET", "/v1/events/" + Str(f.event) + "/statistics");
  CHECK(stats.body["totals"]["attended"] == 1);
  CHECK(stats.body["attended_by_day"] == json::array({{{"day", f.day2}, {"attended", 1}}}));
}

TEST_CASE("Attendance: without a day, a running forum's check-in counts for today in Yakutsk",
          "[events][attendance]") {
  Forum f;
  // A forum running now: two days around the present, registrations made before it started.
  const int64_t running = Create(*f.admin, "/v1/events",
                                 {{"kind", "forum"},
                                  {"title", "Форум идёт"},
                                  {"program_id", f.program},
                                  {"city_id", f.yakutsk},
                                  {"starts_at", FromNow(1h)},
                                  {"ends_at", FromNow(49h)},
                                  {"status", "published"}})["id"];
  const int64_t registration = f.Register(f.Person("Вера Сидорова"), running);
  REQUIRE(
      Call(*f.admin, "PATCH", "/v1/events/" + Str(running), {{"starts_at", FromNow(-1h)}}).status ==
      200);
  const std::string before = YakutskToday();
  auto checked = f.CheckIn(registration, nullptr);
  const std::string after = YakutskToday();
  REQUIRE(checked.status == 200);
  const std::string day = checked.body["attendance"]["day"];
  CHECK((day == before || day == after));
  // The same call again is the same check-in (a client with no body keeps working).
  auto again = f.CheckIn(registration, nullptr);
  REQUIRE(again.status == 200);
  CHECK(again.body["attendance"]["id"] == checked.body["attendance"]["id"]);
}

TEST_CASE("Attendance: a session checks in those signed up (limited places) or anyone (open)",
          "[events][attendance][sessions]") {
  Forum f;
  const int64_t case_session = f.Session("Кейс-сессия ТОС", 2, 10);
  const int64_t open_talk = f.Session("Открытый разговор", nullptr, 12);
  const int64_t anna_person = f.Person("Анна Петрова");
  const int64_t boris_person = f.Person("Борис Иванов");
  const int64_t anna = f.Register(anna_person);
  const int64_t boris = f.Register(boris_person);
  REQUIRE(Call(*f.admin, "POST", "/v1/sessions/" + Str(case_session) + "/registrations",
               {{"person_id", anna_person}})
              .status == 201);

  auto signed_up = f.CheckIn(anna, {{"session_id", case_session}});
  REQUIRE(signed_up.status == 200);
  CHECK(signed_up.body["attendance"]["session_id"] == case_session);
  CHECK(signed_up.body["attendance"]["day"].is_null());
  CHECK(signed_up.body["checked_in_at"] == signed_up.body["attendance"]["checked_in_at"]);
  auto again = f.CheckIn(anna, {{"session_id", case_session}});
  REQUIRE(again.status == 200);
  CHECK(again.body["attendance"] == signed_up.body["attendance"]);

  auto not_signed_up = f.CheckIn(boris, {{"session_id", case_session}});
  CHECK(not_signed_up.status == 409);
  CHECK(not_signed_up.body["code"] == "check-in-refused");
  auto walk_in = f.CheckIn(boris, {{"session_id", open_talk}});
  REQUIRE(walk_in.status == 200);
  CHECK(walk_in.body["attendance"]["session_id"] == open_talk);

  // A session of another event is no session of this registration's event.
  const int64_t other_event = Create(*f.admin, "/v1/events",
                                     {{"kind", "seminar"},
                                      {"title", "Другой семинар"},
                                      {"city_id", f.yakutsk},
                                      {"starts_at", FromNow(24h * 60)},
                                      {"ends_at", FromNow(24h * 60 + 3h)},
                                      {"status", "published"}})["id"];
  const int64_t elsewhere = Create(*f.admin, "/v1/sessions",
                                   {{"event_id", other_event},
                                    {"kind", "workshop"},
                                    {"title", "Чужая секция"},
                                    {"starts_at", FromNow(24h * 60 + 1h)},
                                    {"ends_at", FromNow(24h * 60 + 2h)}})["id"];
  auto foreign = f.CheckIn(anna, {{"session_id", elsewhere}});
  CHECK(foreign.status == 422);
  CHECK(Has(ErrorFields(foreign), "session_id"));

  // The report per session, and the session's attendees with their people.
  const json report = f.Report();
  CHECK(AttendedOn(report["sessions"], "session_id", case_session) == 1);
  CHECK(AttendedOn(report["sessions"], "session_id", open_talk) == 1);
  CHECK(report["attended"] == 2);
  CHECK(AttendedOn(report["days"], "day", f.day1) == 0);  // sessions are not days
  auto attendees =
      Call(*f.admin, "GET", "/v1/sessions/" + Str(case_session) + "/attendances?expand=person");
  REQUIRE(attendees.status == 200);
  REQUIRE(attendees.body["items"].size() == 1);
  CHECK(attendees.body["items"][0]["person_id"] == anna_person);
  CHECK(attendees.body["items"][0]["person"]["name"] == "Анна Петрова");
  CHECK(attendees.body["items"][0]["person"]["email"].is_string());  // an admin sees contacts

  auto stats = Call(*f.admin, "GET", "/v1/events/" + Str(f.event) + "/statistics");
  REQUIRE(stats.status == 200);
  CHECK(AttendedOn(stats.body["attended_by_session"], "session_id", case_session) == 1);
  CHECK(AttendedOn(stats.body["attended_by_session"], "session_id", open_talk) == 1);
  CHECK(stats.body["attended_by_day"].empty());
  CHECK(stats.body["totals"]["attended"] == 2);
}

TEST_CASE("Attendance: reports per day page their attendees, statistics count per day, undo works",
          "[events][attendance][statistics]") {
  Forum f;
  std::vector<int64_t> people, registrations;
  for (const char* name : {"Анна", "Борис", "Вера"}) {
    people.push_back(f.Person(name));
    registrations.push_back(f.Register(people.back()));
  }
  for (const int64_t r : registrations) {
    REQUIRE(f.CheckIn(r, {{"day", f.day1}}).status == 200);
  }
  REQUIRE(f.CheckIn(registrations[0], {{"day", f.day2}}).status == 200);

  // Day one, two to a page, people embedded.
  const std::string base = "/v1/events/" + Str(f.event) + "/attendances?day=" + f.day1;
  auto page = Call(*f.admin, "GET", base + "&limit=2&expand=person");
  REQUIRE(page.status == 200);
  REQUIRE(page.body["items"].size() == 2);
  CHECK(page.body["items"][0]["person"]["name"] == "Анна");
  REQUIRE(page.body["next"].is_string());
  auto rest = Call(*f.admin, "GET",
                   base + "&limit=2&expand=person&cursor=" + page.body["next"].get<std::string>());
  REQUIRE(rest.status == 200);
  REQUIRE(rest.body["items"].size() == 1);
  CHECK(rest.body["items"][0]["person_id"] == people[2]);
  CHECK(rest.body["next"].is_null());

  // Statistics: attended per day, and per program (a second event on the same day adds up).
  auto stats = Call(*f.admin, "GET", "/v1/events/" + Str(f.event) + "/statistics");
  REQUIRE(stats.status == 200);
  CHECK(stats.body["totals"]["attended"] == 3);
  CHECK(stats.body["attended_by_day"] ==
        json::array({{{"day", f.day1}, {"attended", 3}}, {{"day", f.day2}, {"attended", 1}}}));
  auto program = Call(*f.admin, "GET", "/v1/programs/" + Str(f.program) + "/statistics");
  REQUIRE(program.status == 200);
  CHECK(AttendedOn(program.body["attended_by_day"], "day", f.day1) == 3);

  // Undo Вера's check-in (a mistaken scan): counts fall, she is no longer attended, and the
  // undo is in the audit trail.
  const int64_t vera_attendance = rest.body["items"][0]["id"];
  auto shown = Call(*f.admin, "GET", "/v1/attendances/" + Str(vera_attendance));
  REQUIRE(shown.status == 200);
  CHECK(Call(*f.admin, "DELETE", "/v1/attendances/" + Str(vera_attendance), nullptr,
             {{"If-Match", "\"stale\""}})
            .status == 412);
  REQUIRE(Call(*f.admin, "DELETE", "/v1/attendances/" + Str(vera_attendance), nullptr,
               {{"If-Match", shown.Header("ETag")}})
              .status == 204);
  CHECK(Call(*f.admin, "GET", "/v1/attendances/" + Str(vera_attendance)).status == 404);
  CHECK(Call(*f.admin, "GET", "/v1/registrations/" + Str(registrations[2]))
            .body["checked_in_at"]
            .is_null());
  stats = Call(*f.admin, "GET", "/v1/events/" + Str(f.event) + "/statistics");
  CHECK(stats.body["totals"]["attended"] == 2);
  CHECK(AttendedOn(stats.body["attended_by_day"], "day", f.day1) == 2);
  auto audit = Call(*f.admin, "GET",
                    "/v1/audit-events?object_type=attendance&object_id=" + Str(vera_attendance));
  REQUIRE(audit.status == 200);
  // The check-in, the refused undo (412) and the undo.
  REQUIRE(audit.body["items"].size() == 3);
  CHECK(audit.body["items"][0]["method"] == "POST");
  CHECK(audit.body["items"][1]["status"] == 412);
  CHECK(audit.body["items"][2]["method"] == "DELETE");
  CHECK(audit.body["items"][2]["status"] == 204);
  // Анна's first check-in undone: checked_in_at becomes her remaining (day two) check-in.
  auto anna_days = Call(*f.admin, "GET",
                        "/v1/events/" + Str(f.event) + "/attendances?person_id=" + Str(people[0]));
  REQUIRE(anna_days.body["items"].size() == 2);
  REQUIRE(
      Call(*f.admin, "DELETE", "/v1/attendances/" + Str(anna_days.body["items"][0]["id"])).status ==
      204);
  CHECK(Call(*f.admin, "GET", "/v1/registrations/" + Str(registrations[0])).body["checked_in_at"] ==
        anna_days.body["items"][1]["checked_in_at"]);
  CHECK(Call(*f.admin, "GET", "/v1/events/" + Str(f.event) + "/statistics")
            .body["totals"]["attended"] == 2);
}

TEST_CASE("Attendance: another program's organiser neither checks in nor reads the reports",
          "[events][attendance][access]") {
  Forum f;
  const int64_t person = f.Person("Анна Петрова");
  const int64_t registration = f.Register(person);
  const int64_t other_program = Create(
      *f.admin, "/v1/programs",
      {{"title", "Добрые города"}, {"kind", "accelerator"}, {"starts_on", "2026-09-01"}})["id"];
  auto key = [&](int64_t program) {
    return Create(*f.admin, "/v1/api-keys",
                  {{"name", "организатор"},
                   {"role", "organizer"},
                   {"program_ids", {program}}})["token"]
        .get<std::string>();
  };
  auto own = f.service.ClientWithKey(key(f.program));
  auto other = f.service.ClientWithKey(key(other_program));

  auto checked = f.CheckIn(registration, {{"day", f.day1}}, own.get());
  REQUIRE(checked.status == 200);
  const int64_t attendance = checked.body["attendance"]["id"];
  CHECK(Call(*own, "GET", "/v1/events/" + Str(f.event) + "/attendance").status == 200);

  CHECK(f.CheckIn(registration, {{"day", f.day2}}, other.get()).status == 404);
  CHECK(Call(*other, "GET", "/v1/events/" + Str(f.event) + "/attendance").status == 403);
  auto listed = Call(*other, "GET", "/v1/events/" + Str(f.event) + "/attendances");
  REQUIRE(listed.status == 200);
  CHECK(listed.body["items"].empty());
  CHECK(Call(*other, "GET", "/v1/attendances/" + Str(attendance)).status == 404);
  CHECK(Call(*other, "DELETE", "/v1/attendances/" + Str(attendance)).status == 404);
  CHECK(Call(*other, "GET", "/v1/events/" + Str(f.event) + "/statistics").status == 403);
  auto frontend = f.service.ClientWithKey(
      Create(*f.admin, "/v1/api-keys",
             {{"name", "фронтенд"}, {"role", "frontend"}, {"program_ids", {f.program}}})["token"]
          .get<std::string>());
  CHECK(f.CheckIn(registration, {{"day", f.day2}}, frontend.get()).status == 403);
  CHECK(Call(*frontend, "GET", "/v1/events/" + Str(f.event) + "/attendance").status == 403);
  CHECK(AttendedOn(f.Report()["days"], "day", f.day2) == 0);
}

TEST_CASE("Attendance: registration.checked_in carries the day or the session",
          "[events][attendance][webhooks]") {
  Forum f;
  const int64_t session = f.Session("Кейс-сессия ТОС", nullptr, 10);
  const int64_t registration = f.Register(f.Person("Анна Петрова"));
  REQUIRE(Create(*f.admin, "/v1/webhooks",
                 {{"url", "http://127.0.0.1:9/hooks"},
                  {"event_types", {"registration.checked_in"}},
                  {"program_id", f.program}})
              .contains("secret"));
  REQUIRE(f.CheckIn(registration, {{"day", f.day2}}).status == 200);
  REQUIRE(f.CheckIn(registration, {{"day", f.day2}}).status == 200);  // a repeat sends nothing
  REQUIRE(f.CheckIn(registration, {{"session_id", session}}).status == 200);

  // What the outbox stored for the subscriber, in order.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((f.service.data_dir() + "/events.db").c_str(), &db, SQLITE_OPEN_READONLY,
                          nullptr) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT body FROM outbox_deliveries ORDER BY id", -1, &statement,
                             nullptr) == SQLITE_OK);
  std::vector<json> bodies;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    bodies.push_back(json::parse(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0))));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  REQUIRE(bodies.size() == 2);
  for (const json& body : bodies) {
    CHECK(body["type"] == "registration.checked_in");
    CHECK(body["data"]["id"] == registration);
    CHECK(body["data"]["person"]["name"] == "Анна Петрова");
  }
  CHECK(bodies[0]["data"]["attendance"]["day"] == f.day2);
  CHECK(bodies[1]["data"]["attendance"]["session_id"] == session);
  CHECK(bodies[1]["data"]["checked_in_at"] == bodies[0]["data"]["attendance"]["checked_in_at"]);
}

TEST_CASE("Attendance: the attendee list's day filter takes only a date", "[events][attendance]") {
  Forum f;
  const int64_t registration = f.Register(f.Person("Анна Петрова"));
  REQUIRE(f.CheckIn(registration, {{"day", f.day1}}).status == 200);
  const std::string list = "/v1/events/" + Str(f.event) + "/attendances?day=";
  for (const char* day : {"abc", "2027-02-30", "2027-5-1", "01.05.2027"}) {
    auto refused = Call(*f.admin, "GET", list + day);
    CHECK(refused.status == 422);
    CHECK(ErrorFields(refused) == std::vector<std::string>{"day"});
  }
  auto listed = Call(*f.admin, "GET", list + f.day1);
  REQUIRE(listed.status == 200);
  CHECK(listed.body["items"].size() == 1);
}

TEST_CASE("Attendance: an event's days cannot move away from its check-ins",
          "[events][attendance]") {
  civic::test::Service service{civic::test::EventsApiBinary()};
  auto admin = service.Client();
  const int64_t yekaterinburg = Create(*admin, "/v1/cities",
                                       {{"name", "Екатеринбург"},
                                        {"region", "Свердловская область"},
                                        {"time_zone", "Asia/Yekaterinburg"}})["id"];
  const int64_t moscow =
      Create(*admin, "/v1/cities", {{"name", "Москва"}, {"time_zone", "Europe/Moscow"}})["id"];
  // Three days in Yekaterinburg (UTC+5): 2027-05-01 to 2027-05-03.
  const int64_t event = Create(*admin, "/v1/events",
                               {{"kind", "forum"},
                                {"title", "Форум городских сообществ"},
                                {"city_id", yekaterinburg},
                                {"starts_at", "2027-05-01T10:00:00+05:00"},
                                {"ends_at", "2027-05-03T18:00:00+05:00"},
                                {"status", "published"}})["id"];
  const std::string path = "/v1/events/" + Str(event);
  auto check_in = [&](const std::string& name, const std::string& day) {
    const int64_t person = Create(*admin, "/v1/people", {{"name", name}})["id"];
    const int64_t registration =
        Create(*admin, path + "/registrations", {{"person_id", person}})["id"];
    auto checked = Call(*admin, "POST", "/v1/registrations/" + Str(registration) + "/check-in",
                        {{"day", day}});
    REQUIRE(checked.status == 200);
    return checked.body["attendance"]["id"].get<int64_t>();
  };
  const int64_t first_day = check_in("Анна Петрова", "2027-05-01");
  const int64_t last_day = check_in("Борис Иванов", "2027-05-03");
  const json before = Call(*admin, "GET", path).body;

  // Shortened, started later, or moved: each leaves a check-in outside its days.
  auto shortened = Call(*admin, "PATCH", path, {{"ends_at", "2027-05-02T18:00:00+05:00"}});
  CHECK(shortened.status == 422);
  CHECK(ErrorFields(shortened) == std::vector<std::string>{"ends_at"});
  CHECK(shortened.body["errors"][0]["reason"].get<std::string>().find("1 check-in") !=
        std::string::npos);
  auto later = Call(*admin, "PATCH", path, {{"starts_at", "2027-05-02T10:00:00+05:00"}});
  CHECK(later.status == 422);
  CHECK(ErrorFields(later) == std::vector<std::string>{"starts_at"});
  auto moved =
      Call(*admin, "PATCH", path,
           {{"starts_at", "2027-06-01T10:00:00+05:00"}, {"ends_at", "2027-06-03T18:00:00+05:00"}});
  CHECK(moved.status == 422);
  CHECK(ErrorFields(moved) == std::vector<std::string>{"starts_at"});
  CHECK(moved.body["errors"][0]["reason"].get<std::string>().find("2 check-in") !=
        std::string::npos);

  // Ending at 02:00 on 05-03 keeps 05-03 in Yekaterinburg, but in Moscow it ends at midnight:
  // neither the event's city nor the city's zone may change so.
  REQUIRE(Call(*admin, "PATCH", path, {{"ends_at", "2027-05-03T02:00:00+05:00"}}).status == 200);
  const json kept = Call(*admin, "GET", path).body;
  auto rezoned = Call(*admin, "PATCH", path, {{"city_id", moscow}});
  CHECK(rezoned.status == 422);
  CHECK(ErrorFields(rezoned) == std::vector<std::string>{"city_id"});
  auto city_rezoned =
      Call(*admin, "PATCH", "/v1/cities/" + Str(yekaterinburg), {{"time_zone", "Europe/Moscow"}});
  CHECK(city_rezoned.status == 422);
  CHECK(ErrorFields(city_rezoned) == std::vector<std::string>{"time_zone"});
  CHECK(Call(*admin, "GET", "/v1/cities/" + Str(yekaterinburg)).body["time_zone"] ==
        "Asia/Yekaterinburg");
  CHECK(Call(*admin, "GET", path).body == kept);
  CHECK(Call(*admin, "GET", path + "/attendance").body["days"].size() == 3);

  // The check-in undone, the event may end on 05-02; the report and statistics agree.
  REQUIRE(Call(*admin, "DELETE", "/v1/attendances/" + Str(last_day)).status == 204);
  REQUIRE(Call(*admin, "PATCH", path, {{"ends_at", "2027-05-02T18:00:00+05:00"}}).status == 200);
  const json report = Call(*admin, "GET", path + "/attendance").body;
  CHECK(report["days"] == json::array({{{"day", "2027-05-01"}, {"attended", 1}},
                                       {{"day", "2027-05-02"}, {"attended", 0}}}));
  CHECK(report["attended"] == 1);
  CHECK(Call(*admin, "GET", path + "/statistics").body["attended_by_day"] ==
        json::array({{{"day", "2027-05-01"}, {"attended", 1}}}));
  CHECK(Call(*admin, "GET", "/v1/attendances/" + Str(first_day)).status == 200);
  CHECK(before["starts_at"] == Call(*admin, "GET", path).body["starts_at"]);
}
