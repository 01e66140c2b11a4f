// Session sign-up at the seeds' Novokuznetsk rally «Люди для города – город для людей»: its
// 250 participants sign up for master classes and expert consultations with few places.
// People are invented.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::FromNow;
using civic::test::Has;
using nlohmann::json;

namespace {

std::string Str(int64_t id) { return std::to_string(id); }

std::vector<std::string> Statuses(const json& page) {
  std::vector<std::string> out;
  for (const auto& item : page["items"]) {
    out.push_back(item["status"].get<std::string>());
  }
  return out;
}

struct Rally {
  civic::test::Service service{civic::test::EventsApiBinary()};
  std::unique_ptr<httplib::Client> client = service.Client();
  int64_t city = Create(*client, "/v1/cities",
                        {{"name", "Новокузнецк"}, {"time_zone", "Asia/Novokuznetsk"}})["id"];
  int64_t event = 0;

  // The two-day rally in 30 days, published, unlimited.
  explicit Rally(const json& capacity = nullptr) {
    event = Create(*client, "/v1/events",
                   {{"kind", "rally"},
                    {"title", "Люди для города – город для людей"},
                    {"city_id", city},
                    {"starts_at", FromNow(std::chrono::hours(24 * 30))},
                    {"ends_at", FromNow(std::chrono::hours(24 * 32))},
                    {"capacity", capacity},
                    {"status", "published"}})["id"];
  }

  // A session `from_hours` after the rally's start, `hours` long.
  int64_t Session(const std::string& title, int from_hours, int hours, const json& capacity) {
    return Create(*client, "/v1/sessions",
                  {{"event_id", event},
                   {"kind", "master_class"},
                   {"title", title},
                   {"starts_at", FromNow(std::chrono::hours(24 * 30 + from_hours))},
                   {"ends_at", FromNow(std::chrono::hours(24 * 30 + from_hours + hours))},
                   {"capacity", capacity}})["id"];
  }

  int64_t Person(const std::string& name) {
    return Create(*client, "/v1/people", {{"name", name}, {"city_id", city}})["id"];
  }

  // A person registered (confirmed) for the rally; returns the person.
  int64_t Participant(const std::string& name) {
    const int64_t person = Person(name);
    auto reply = Call(*client, "POST", "/v1/events/" + Str(event) + "/registrations",
                      {{"person_id", person}});
    REQUIRE(reply.status == 201);
    REQUIRE(reply.body["status"] == "confirmed");
    return person;
  }

  civic::test::JsonReply SignUp(int64_t session, int64_t person) {
    return Call(*client, "POST", "/v1/sessions/" + Str(session) + "/registrations",
                {{"person_id", person}});
  }

  std::string StatusOf(int64_t session_registration) {
    auto reply = Call(*client, "GET", "/v1/session-registrations/" + Str(session_registration));
    REQUIRE(reply.status == 200);
    return reply.body["status"];
  }
};

}  // namespace

TEST_CASE("Session sign-up: past a session's capacity one waits, and moves up when a place frees",
          "[events][sessions][registrations]") {
  Rally r;
  const int64_t master_class = r.Session("Мастер-класс «Соседский центр»", 2, 2, 2);
  std::vector<int64_t> ids;
  std::vector<int64_t> people;
  for (const char* name : {"Иван Первов", "Мария Вторая", "Сергей Третьяков", "Дарья Четвертак"}) {
    people.push_back(r.Participant(name));
    auto reply = r.SignUp(master_class, people.back());
    REQUIRE(reply.status == 201);
    CHECK(reply.Header("Location") == "/v1/session-registrations/" + Str(reply.body["id"]));
    CHECK(reply.body["session_id"] == master_class);
    CHECK(reply.body["person_id"] == people.back());
    ids.push_back(reply.body["id"]);
  }
  auto list = Call(*r.client, "GET", "/v1/sessions/" + Str(master_class) + "/registrations");
  REQUIRE(list.status == 200);
  CHECK(Statuses(list.body) ==
        std::vector<std::string>{"confirmed", "confirmed", "waitlisted", "waitlisted"});

  // A cancellation frees a place for the first in line; a second cancellation is a 409.
  auto cancelled = Call(*r.client, "DELETE", "/v1/session-registrations/" + Str(ids[1]));
  REQUIRE(cancelled.status == 200);
  CHECK(cancelled.body["status"] == "cancelled");
  CHECK(cancelled.body["cancelled_at"].is_string());
  CHECK(r.StatusOf(ids[2]) == "confirmed");
  CHECK(r.StatusOf(ids[3]) == "waitlisted");
  auto twice = Call(*r.client, "DELETE", "/v1/session-registrations/" + Str(ids[1]));
  CHECK(twice.status == 409);
  CHECK(twice.body["code"] == "not-cancellable");

  // Signed up again, and at once: 409 naming the registration.
  auto again = r.SignUp(master_class, people[0]);
  CHECK(again.status == 409);
  CHECK(again.body["code"] == "already-registered");
  CHECK(again.body["detail"].get<std::string>().find("/v1/session-registrations/" + Str(ids[0])) !=
        std::string::npos);

  // Fewer places than the confirmed is a 422 on capacity; more confirms the line.
  auto fewer = Call(*r.client, "PATCH", "/v1/sessions/" + Str(master_class), {{"capacity", 1}});
  CHECK(fewer.status == 422);
  CHECK(ErrorFields(fewer) == std::vector<std::string>{"capacity"});
  auto more = Call(*r.client, "PATCH", "/v1/sessions/" + Str(master_class), {{"capacity", 3}});
  CHECK(more.status == 200);
  CHECK(r.StatusOf(ids[3]) == "confirmed");
  auto filtered =
      Call(*r.client, "GET",
           "/v1/session-registrations?session_id=" + Str(master_class) + "&status=confirmed");
  CHECK(filtered.body["items"].size() == 3);
}

TEST_CASE("Session sign-up: only the event's confirmed participants take places",
          "[events][sessions][registrations]") {
  Rally r(1);  // one place at the rally: the second person waits
  const int64_t consultation = r.Session("Консультация эксперта", 4, 1, nullptr);
  const int64_t confirmed = r.Participant("Ольга Подтверждённая");
  const int64_t waiting = r.Person("Пётр Ожидающий");
  REQUIRE(Call(*r.client, "POST", "/v1/events/" + Str(r.event) + "/registrations",
               {{"person_id", waiting}})
              .body["status"] == "waitlisted");
  const int64_t stranger = r.Person("Анна Незарегистрированная");

  for (const int64_t person : {stranger, waiting}) {
    auto refused = r.SignUp(consultation, person);
    CHECK(refused.status == 409);
    CHECK(refused.body["code"] == "not-registered-for-event");
    CHECK(refused.body["type"] == "/problems/not-registered-for-event");
  }
  auto unknown = r.SignUp(consultation, 999999);
  CHECK(unknown.status == 422);
  CHECK(ErrorFields(unknown) == std::vector<std::string>{"person_id"});
  auto bad = Call(*r.client, "POST", "/v1/sessions/" + Str(consultation) + "/registrations",
                  {{"person", confirmed}});
  CHECK(bad.status == 422);
  CHECK(Call(*r.client, "POST", "/v1/sessions/999999/registrations", {{"person_id", confirmed}})
            .status == 404);
  // Without a capacity every participant gets a place.
  auto ok = r.SignUp(consultation, confirmed);
  CHECK(ok.status == 201);
  CHECK(ok.body["status"] == "confirmed");
  auto none = Call(*r.client, "GET", "/v1/session-registrations?person_id=" + Str(stranger));
  CHECK(none.body["items"].empty());
}

TEST_CASE("Session sign-up: two sessions that overlap in time cannot both hold one person",
          "[events][sessions][registrations]") {
  Rally r;
  const int64_t first = r.Session("Мастер-класс «Двор»", 2, 2, 10);
  const int64_t overlapping = r.Session("Консультация «Гранты»", 3, 1, 10);
  const int64_t after = r.Session("Мастер-класс «Парк»", 4, 1, 10);
  const int64_t person = r.Participant("Глеб Занятой");
  REQUIRE(r.SignUp(first, person).status == 201);
  auto clash = r.SignUp(overlapping, person);
  CHECK(clash.status == 409);
  CHECK(clash.body["code"] == "session-overlap");
  CHECK(clash.body["detail"].get<std::string>().find("/v1/sessions/" + Str(first)) !=
        std::string::npos);
  // One that starts as the first ends does not overlap.
  CHECK(r.SignUp(after, person).status == 201);
  // Moving a session onto another that one of its people holds is a 422.
  auto moved = Call(*r.client, "PATCH", "/v1/sessions/" + Str(after),
                    {{"starts_at", FromNow(std::chrono::hours(24 * 30 + 3))}});
  CHECK(moved.status == 422);
  CHECK(Has(ErrorFields(moved), "starts_at"));
  // Once the first place is given up, the overlapping session takes the person.
  auto held = Call(*r.client, "GET", "/v1/session-registrations?person_id=" + Str(person));
  REQUIRE(held.body["items"].size() == 2);
  REQUIRE(Call(*r.client, "DELETE", "/v1/session-registrations/" + Str(held.body["items"][0]["id"]))
              .status == 200);
  CHECK(r.SignUp(overlapping, person).status == 201);
}

TEST_CASE("Session sign-up: cancelling the event registration cancels the sessions' places",
          "[events][sessions][registrations]") {
  Rally r;
  const int64_t master_class = r.Session("Мастер-класс «Соседский центр»", 2, 2, 1);
  const int64_t leaving = r.Participant("Уходящий Участник");
  const int64_t waiting = r.Participant("Ждущий Участник");
  const int64_t first = r.SignUp(master_class, leaving).body["id"];
  const int64_t second = r.SignUp(master_class, waiting).body["id"];
  REQUIRE(r.StatusOf(second) == "waitlisted");
  auto registrations = Call(*r.client, "GET", "/v1/registrations?person_id=" + Str(leaving));
  REQUIRE(registrations.body["items"].size() == 1);
  auto cancelled =
      Call(*r.client, "DELETE", "/v1/registrations/" + Str(registrations.body["items"][0]["id"]));
  REQUIRE(cancelled.status == 200);
  CHECK(r.StatusOf(first) == "cancelled");
  CHECK(r.StatusOf(second) == "confirmed");
}

TEST_CASE("Session sign-up: concurrent sign-ups never fill more places than a session has",
          "[events][sessions][registrations][concurrency]") {
  Rally r;
  const int64_t consultation = r.Session("Экспертная консультация", 2, 1, 3);
  constexpr int kPeople = 12;
  std::vector<int64_t> people;
  for (int i = 0; i < kPeople; ++i) {
    people.push_back(r.Participant("Участник " + std::to_string(i + 1)));
  }
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kPeople; ++i) {
    threads.emplace_back([&, i] {
      auto client = r.service.Client();
      auto reply = Call(*client, "POST", "/v1/sessions/" + Str(consultation) + "/registrations",
                        {{"person_id", people[static_cast<size_t>(i)]}});
      if (reply.status == 201) {
        ++created;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(created == kPeople);
  auto page = Call(*r.client, "GET", "/v1/sessions/" + Str(consultation) + "/registrations");
  const auto statuses = Statuses(page.body);
  CHECK(std::count(statuses.begin(), statuses.end(), "confirmed") == 3);
  CHECK(std::count(statuses.begin(), statuses.end(), "waitlisted") == kPeople - 3);
}

TEST_CASE("Session sign-up: a session whose sign-ups are all cancelled is deleted with them",
          "[events][sessions][registrations][delete]") {
  Rally r;
  const int64_t consultation = r.Session("Консультация эксперта", 2, 1, 2);
  const std::string path = "/v1/sessions/" + Str(consultation);
  const int64_t first = r.SignUp(consultation, r.Participant("Иван Первов")).body["id"];
  const int64_t second = r.SignUp(consultation, r.Participant("Мария Вторая")).body["id"];

  // Places still held: 409, the detail saying what to do.
  auto held = Call(*r.client, "DELETE", path);
  CHECK(held.status == 409);
  CHECK(held.body["code"] == "referenced");
  CHECK(held.body["detail"] ==
        "The session is referenced by 2 active session registration(s) (confirmed or "
        "waitlisted); cancel them first (DELETE /v1/session-registrations/{id}), and the "
        "cancelled ones are deleted with the session.");
  REQUIRE(Call(*r.client, "DELETE", "/v1/session-registrations/" + Str(first)).status == 200);
  CHECK(Call(*r.client, "DELETE", path).status == 409);
  CHECK(r.StatusOf(first) == "cancelled");
  REQUIRE(Call(*r.client, "DELETE", "/v1/session-registrations/" + Str(second)).status == 200);

  // All cancelled: the session goes, its cancelled sign-ups with it, each in the audit trail.
  CHECK(Call(*r.client, "DELETE", path).status == 204);
  CHECK(Call(*r.client, "GET", path).status == 404);
  for (const int64_t id : {first, second}) {
    CHECK(Call(*r.client, "GET", "/v1/session-registrations/" + Str(id)).status == 404);
    auto audit = Call(*r.client, "GET",
                      "/v1/audit-events?object_type=session%20registration&object_id=" + Str(id));
    REQUIRE(audit.status == 200);
    REQUIRE(audit.body["items"].size() == 3);  // signed up, cancelled, deleted
    CHECK(audit.body["items"][2]["method"] == "DELETE");
    CHECK(audit.body["items"][2]["path"] == path);
    CHECK(audit.body["items"][2]["status"] == 204);
  }

  // A check-in at a session still holds it, cancelled sign-up or not: nothing is deleted.
  const int64_t walk_in = r.Session("Открытый микрофон", 4, 1, nullptr);
  const int64_t person = r.Participant("Сергей Третьяков");
  const int64_t signed_up = r.SignUp(walk_in, person).body["id"];
  auto registrations = Call(*r.client, "GET", "/v1/registrations?person_id=" + Str(person));
  REQUIRE(Call(*r.client, "POST",
               "/v1/registrations/" + Str(registrations.body["items"][0]["id"]) + "/check-in",
               {{"session_id", walk_in}})
              .status == 200);
  REQUIRE(Call(*r.client, "DELETE", "/v1/session-registrations/" + Str(signed_up)).status == 200);
  auto attended = Call(*r.client, "DELETE", "/v1/sessions/" + Str(walk_in));
  CHECK(attended.status == 409);
  CHECK(attended.body["detail"].get<std::string>().find("check-in(s) at the session") !=
        std::string::npos);
  CHECK(r.StatusOf(signed_up) == "cancelled");
}
