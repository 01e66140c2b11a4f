// Registrations and check-in in the events API, on the seeds' Novokuznetsk rally of urban-change
// leaders «Люди для города – город для людей» (2 days, expert consultations with few places).
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

std::string Path(const std::string& base, int64_t id, const std::string& tail = "") {
  return base + "/" + std::to_string(id) + tail;
}

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
  int64_t novokuznetsk = 0;

  Rally() {
    novokuznetsk = Create(*client, "/v1/cities",
                          {{"name", "Новокузнецк"},
                           {"region", "Кемеровская область"},
                           {"time_zone", "Asia/Novokuznetsk"}})["id"];
  }

  // The rally in 30 days, published, with `capacity` places (null: unlimited); `extra` members
  // replace the defaults.
  int64_t Event(const json& capacity, const json& extra = json::object()) {
    json body = {{"kind", "rally"},
                 {"title", "Люди для города – город для людей"},
                 {"city_id", novokuznetsk},
                 {"format", "offline"},
                 {"starts_at", FromNow(std::chrono::hours(24 * 30))},
                 {"ends_at", FromNow(std::chrono::hours(24 * 31))},
                 {"capacity", capacity},
                 {"status", "published"}};
    body.update(extra);
    return Create(*client, "/v1/events", body)["id"];
  }

  int64_t Person(const std::string& name) {
    return Create(*client, "/v1/people", {{"name", name}, {"city_id", novokuznetsk}})["id"];
  }

  civic::test::JsonReply Register(int64_t event, int64_t person, httplib::Headers headers = {}) {
    return Call(*client, "POST", Path("/v1/events", event, "/registrations"),
                {{"person_id", person}}, std::move(headers));
  }

  json Get(int64_t registration) {
    auto reply = Call(*client, "GET", Path("/v1/registrations", registration));
    REQUIRE(reply.status == 200);
    return reply.body;
  }
};

}  // namespace

TEST_CASE("Registrations: past capacity one waits in line and moves up, in order, as places free",
          "[events][registrations]") {
  Rally r;
  const int64_t rally = r.Event(2);
  std::vector<int64_t> people;
  for (const char* name : {"Иван Первов", "Мария Вторая", "Сергей Третьяков", "Дарья Четвертак"}) {
    people.push_back(r.Person(name));
  }
  std::vector<int64_t> ids;
  for (const int64_t person : people) {
    auto reply = r.Register(rally, person);
    REQUIRE(reply.status == 201);
    CHECK(reply.Header("Location") == Path("/v1/registrations", reply.body["id"]));
    CHECK(reply.body["event_id"] == rally);
    CHECK(reply.body["person_id"] == person);
    CHECK(reply.body["checked_in_at"].is_null());
    ids.push_back(reply.body["id"]);
  }
  CHECK(r.Get(ids[0])["status"] == "confirmed");
  CHECK(r.Get(ids[1])["status"] == "confirmed");
  CHECK(r.Get(ids[2])["status"] == "waitlisted");
  CHECK(r.Get(ids[3])["status"] == "waitlisted");

  // The event's list is in the order of registration, which is the waitlist's order.
  auto all = Call(*r.client, "GET", Path("/v1/events", rally, "/registrations"));
  REQUIRE(all.status == 200);
  CHECK(Statuses(all.body) ==
        std::vector<std::string>{"confirmed", "confirmed", "waitlisted", "waitlisted"});

  // A cancellation frees a place: the first in line takes it, the next one still waits.
  auto cancelled = Call(*r.client, "DELETE", Path("/v1/registrations", ids[0]));
  REQUIRE(cancelled.status == 200);
  CHECK(cancelled.body["status"] == "cancelled");
  CHECK(cancelled.body["cancelled_at"].is_string());
  CHECK(r.Get(ids[0])["status"] == "cancelled");  // kept for history
  CHECK(r.Get(ids[2])["status"] == "confirmed");
  CHECK(r.Get(ids[3])["status"] == "waitlisted");
  auto waiting =
      Call(*r.client, "GET", Path("/v1/events", rally, "/registrations") + "?status=waitlisted");
  REQUIRE(waiting.body["items"].size() == 1);
  CHECK(waiting.body["items"][0]["id"] == ids[3]);

  // Cancelling twice is a conflict, and so is a stale If-Match.
  CHECK(Call(*r.client, "DELETE", Path("/v1/registrations", ids[0])).status == 409);
  CHECK(Call(*r.client, "DELETE", Path("/v1/registrations", ids[3]), nullptr,
             {{"If-Match", "\"stale\""}})
            .status == 412);
  CHECK(r.Get(ids[3])["status"] == "waitlisted");

  // Someone who cancelled may register again, at the end of the line.
  auto again = r.Register(rally, people[0]);
  REQUIRE(again.status == 201);
  CHECK(again.body["status"] == "waitlisted");
  CHECK(again.body["id"].get<int64_t>() > ids[3]);

  // A waitlisted registration leaves without moving anyone up: the one behind it still waits.
  const std::string etag = Call(*r.client, "GET", Path("/v1/registrations", ids[3])).Header("ETag");
  REQUIRE(
      Call(*r.client, "DELETE", Path("/v1/registrations", ids[3]), nullptr, {{"If-Match", etag}})
          .status == 200);
  CHECK(r.Get(again.body["id"])["status"] == "waitlisted");

  // A person's registrations across events.
  auto mine = Call(*r.client, "GET", "/v1/registrations?person_id=" + std::to_string(people[0]));
  REQUIRE(mine.status == 200);
  CHECK(Statuses(mine.body) == std::vector<std::string>{"cancelled", "waitlisted"});
}

TEST_CASE("Registrations: check-in marks a confirmed registration once, and attended ones stay",
          "[events][registrations]") {
  Rally r;
  // One day in Novokuznetsk (UTC+7), 10:00 to 18:00: the check-in needs no day (its only day).
  const auto midnight = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now() +
                                                              std::chrono::hours(24 * 30));
  const auto until = [](std::chrono::system_clock::time_point at) {
    return std::chrono::duration_cast<std::chrono::seconds>(at - std::chrono::system_clock::now());
  };
  const int64_t rally =
      r.Event(1, {{"starts_at", FromNow(until(midnight + std::chrono::hours(3)))},
                  {"ends_at", FromNow(until(midnight + std::chrono::hours(11)))}});
  const int64_t confirmed = r.Register(rally, r.Person("Иван Первов")).body["id"];
  const int64_t waitlisted = r.Register(rally, r.Person("Мария Вторая")).body["id"];

  auto checked = Call(*r.client, "POST", Path("/v1/registrations", confirmed, "/check-in"));
  REQUIRE(checked.status == 200);
  const std::string at = checked.body["checked_in_at"];
  CHECK(at.back() == 'Z');
  auto twice = Call(*r.client, "POST", Path("/v1/registrations", confirmed, "/check-in"));
  REQUIRE(twice.status == 200);
  CHECK(twice.body["checked_in_at"] == at);  // unchanged

  auto not_yet = Call(*r.client, "POST", Path("/v1/registrations", waitlisted, "/check-in"));
  CHECK(not_yet.status == 409);
  CHECK(not_yet.Header("Content-Type") == "application/problem+json");
  CHECK(r.Get(waitlisted)["checked_in_at"].is_null());

  // An attended registration is not cancelled, so the waitlist does not move.
  CHECK(Call(*r.client, "DELETE", Path("/v1/registrations", confirmed)).status == 409);
  CHECK(r.Get(waitlisted)["status"] == "waitlisted");
  CHECK(Call(*r.client, "POST", "/v1/registrations/999/check-in").status == 404);
}

TEST_CASE(
    "Registrations: only a published event inside its window takes them, and bad input stores "
    "nothing",
    "[events][registrations][validation]") {
  Rally r;
  const int64_t person = r.Person("Иван Первов");
  const int64_t draft = r.Event(10, {{"status", "draft"}});
  const int64_t not_yet =
      r.Event(10, {{"registration_opens_at", FromNow(std::chrono::hours(24 * 7))}});
  const int64_t closed =
      r.Event(10, {{"registration_opens_at", FromNow(std::chrono::hours(-48))},
                   {"registration_closes_at", FromNow(std::chrono::hours(-24))}});
  const int64_t open = r.Event(nullptr);

  for (const int64_t event : {draft, not_yet, closed}) {
    INFO(event);
    auto refused = r.Register(event, person);
    CHECK(refused.status == 409);
    CHECK(refused.body["detail"].is_string());
  }
  auto unknown_person = r.Register(open, 999);
  CHECK(unknown_person.status == 422);
  CHECK(Has(ErrorFields(unknown_person), "person_id"));
  auto no_person =
      Call(*r.client, "POST", Path("/v1/events", open, "/registrations"), {{"person", person}});
  CHECK(no_person.status == 422);
  CHECK(Has(ErrorFields(no_person), "person_id"));
  CHECK(Has(ErrorFields(no_person), "person"));  // unknown member
  CHECK(Call(*r.client, "POST", "/v1/events/999/registrations", {{"person_id", person}}).status ==
        404);
  CHECK(Call(*r.client, "GET", "/v1/registrations").body["items"].empty());

  // Without a capacity everyone is confirmed; a second registration of the same person is a
  // conflict that names the first.
  auto first = r.Register(open, person);
  REQUIRE(first.status == 201);
  CHECK(first.body["status"] == "confirmed");
  auto duplicate = r.Register(open, person);
  CHECK(duplicate.status == 409);
  CHECK(duplicate.body["detail"].get<std::string>().find(
            Path("/v1/registrations", first.body["id"])) != std::string::npos);
  CHECK(Call(*r.client, "GET", "/v1/registrations").body["items"].size() == 1);

  // A retry with the same Idempotency-Key answers the first response.
  const int64_t other = r.Person("Мария Вторая");
  httplib::Headers key = {{"Idempotency-Key", "registration-retry-1"}};
  auto once = r.Register(open, other, key);
  auto replay = r.Register(open, other, key);
  REQUIRE(once.status == 201);
  CHECK(replay.status == 201);
  CHECK(replay.body == once.body);
  CHECK(replay.Header("Idempotency-Replayed") == "true");

  // A refusal is not remembered under the key: once the draft is published, the same retry
  // registers (it is not the first 409 again).
  const int64_t unpublished = r.Event(nullptr, {{"status", "draft"}});
  httplib::Headers early_key = {{"Idempotency-Key", "registration-too-early"}};
  auto too_early = r.Register(unpublished, other, early_key);
  CHECK(too_early.status == 409);
  auto still_early = r.Register(unpublished, other, early_key);
  CHECK(still_early.status == 409);
  CHECK(still_early.Header("Idempotency-Replayed").empty());
  REQUIRE(
      Call(*r.client, "PATCH", Path("/v1/events", unpublished), {{"status", "published"}}).status ==
      200);
  auto later = r.Register(unpublished, other, early_key);
  CHECK(later.status == 201);
  CHECK(later.Header("Idempotency-Replayed").empty());
  auto later_replay = r.Register(unpublished, other, early_key);
  CHECK(later_replay.status == 201);
  CHECK(later_replay.Header("Idempotency-Replayed") == "true");
  CHECK(later_replay.body == later.body);

  // A person with registrations is kept (they are history, never removed).
  auto kept = Call(*r.client, "DELETE", Path("/v1/people", person));
  CHECK(kept.status == 409);
  CHECK(kept.body["detail"].get<std::string>().find("kept for history") != std::string::npos);
  CHECK(Call(*r.client, "GET", Path("/v1/people", person)).status == 200);
}

TEST_CASE(
    "Registrations: with no places everyone waits, and nobody moves up once the event is "
    "over",
    "[events][registrations]") {
  Rally r;
  const int64_t full = r.Event(0);
  const int64_t waiting = r.Register(full, r.Person("Иван Первов")).body["id"];
  CHECK(r.Get(waiting)["status"] == "waitlisted");

  const int64_t rally = r.Event(1);
  const int64_t first = r.Register(rally, r.Person("Мария Вторая")).body["id"];
  const int64_t second = r.Register(rally, r.Person("Сергей Третьяков")).body["id"];
  REQUIRE(Call(*r.client, "PATCH", Path("/v1/events", rally), {{"status", "completed"}}).status ==
          200);
  // A place freed after the event does not confirm anyone, and more capacity neither.
  REQUIRE(Call(*r.client, "DELETE", Path("/v1/registrations", first)).status == 200);
  CHECK(r.Get(second)["status"] == "waitlisted");
  REQUIRE(Call(*r.client, "PATCH", Path("/v1/events", rally), {{"capacity", 5}}).status == 200);
  CHECK(r.Get(second)["status"] == "waitlisted");
  CHECK(Call(*r.client, "POST", Path("/v1/registrations", second, "/check-in")).status == 409);
}

TEST_CASE(
    "Registrations: more capacity confirms the line in order, and less than the confirmed is "
    "a 422",
    "[events][registrations]") {
  Rally r;
  const int64_t rally = r.Event(1);
  std::vector<int64_t> ids;
  for (const char* name : {"Иван Первов", "Мария Вторая", "Сергей Третьяков"}) {
    ids.push_back(r.Register(rally, r.Person(name)).body["id"]);
  }
  const std::string event = Path("/v1/events", rally);
  auto less = Call(*r.client, "PATCH", event, {{"capacity", 0}});
  CHECK(less.status == 422);
  CHECK(Has(ErrorFields(less), "capacity"));
  CHECK(Call(*r.client, "GET", event).body["capacity"] == 1);

  REQUIRE(Call(*r.client, "PATCH", event, {{"capacity", 2}}).status == 200);
  CHECK(r.Get(ids[1])["status"] == "confirmed");
  CHECK(r.Get(ids[2])["status"] == "waitlisted");
  REQUIRE(Call(*r.client, "PATCH", event, {{"capacity", nullptr}}).status == 200);
  CHECK(r.Get(ids[2])["status"] == "confirmed");
}

TEST_CASE("Registrations: concurrent registrations never fill more places than there are",
          "[events][registrations][concurrency]") {
  Rally r;
  const int64_t rally = r.Event(3);
  constexpr int kPeople = 12;
  std::vector<int64_t> people;
  for (int i = 0; i < kPeople; ++i) {
    people.push_back(r.Person("Участник " + std::to_string(i + 1)));
  }
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kPeople; ++i) {
    threads.emplace_back([&, i] {
      auto client = r.service.Client();
      auto reply = Call(*client, "POST", Path("/v1/events", rally, "/registrations"),
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
  auto page = Call(*r.client, "GET", Path("/v1/events", rally, "/registrations"));
  const auto statuses = Statuses(page.body);
  CHECK(std::count(statuses.begin(), statuses.end(), "confirmed") == 3);
  CHECK(std::count(statuses.begin(), statuses.end(), "waitlisted") == kPeople - 3);
}

namespace {

// The value of `sample` (a name with its labels) in the service's /metrics, or -1.
double Sample(httplib::Client& client, const std::string& sample) {
  auto r = client.Get("/metrics");
  if (!r) {
    return -1;
  }
  const size_t at = r->body.find("\n" + sample + " ");
  if (at == std::string::npos) {
    return -1;
  }
  return std::stod(r->body.substr(at + sample.size() + 2));
}

}  // namespace

TEST_CASE("Registrations: events_registrations_total counts stored outcomes, once per request",
          "[events][registrations][metrics]") {
  Rally r;
  const auto count = [&](const char* outcome) {
    return Sample(*r.client,
                  std::string("events_registrations_total{outcome=\"") + outcome + "\"}");
  };
  CHECK(count("confirmed") == 0);  // exported before the first registration
  const int64_t event = r.Event(1);
  const auto first = r.Register(event, r.Person("Мария Ковалёва"), {{"Idempotency-Key", "m-1"}});
  REQUIRE(first.status == 201);
  REQUIRE(first.body["status"] == "confirmed");
  // A replay of the same request is answered again but stores nothing new: not counted.
  REQUIRE(r.Register(event, first.body["person_id"].get<int64_t>(), {{"Idempotency-Key", "m-1"}})
              .status == 201);
  const auto second = r.Register(event, r.Person("Пётр Гусев"));
  REQUIRE(second.status == 201);
  REQUIRE(second.body["status"] == "waitlisted");
  // A refused one (already registered) is not counted.
  REQUIRE(r.Register(event, second.body["person_id"].get<int64_t>()).status == 409);
  REQUIRE(Call(*r.client, "DELETE", Path("/v1/registrations", first.body["id"].get<int64_t>()))
              .status == 200);
  CHECK(count("confirmed") == 1);
  CHECK(count("waitlisted") == 1);
  CHECK(count("cancelled") == 1);
}
