// Events inside events: the Yakutsk school of ТОС (seed 004) inside the four-day city forum
// «Якутск 4.0.0 Старт».
#include <catch2/catch.hpp>
#include <string>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::Has;
using nlohmann::json;

namespace {

struct Yakutsk {
  civic::test::Service service{civic::test::EventsApiBinary()};
  std::unique_ptr<httplib::Client> client = service.Client();
  int64_t city =
      Create(*client, "/v1/cities", {{"name", "Якутск"}, {"time_zone", "Asia/Yakutsk"}})["id"];

  json Body(const std::string& title, const std::string& starts, const std::string& ends,
            const json& parent = nullptr) {
    return {{"kind", parent.is_null() ? "forum" : "school"},
            {"title", title},
            {"city_id", city},
            {"starts_at", starts},
            {"ends_at", ends},
            {"parent_event_id", parent},
            {"status", "published"}};
  }
};

std::string Str(int64_t id) { return std::to_string(id); }

}  // namespace

TEST_CASE("Nested events: a school inside a forum lies within its time and is listed by it",
          "[events][nested]") {
  Yakutsk y;
  const int64_t forum = Create(
      *y.client, "/v1/events",
      y.Body("Якутск 4.0.0 Старт", "2026-09-06T10:00:00+09:00", "2026-09-09T18:00:00+09:00"))["id"];
  auto school =
      Call(*y.client, "POST", "/v1/events",
           y.Body("Школа ТОС", "2026-09-08T10:00:00+09:00", "2026-09-08T18:00:00+09:00", forum));
  REQUIRE(school.status == 201);
  CHECK(school.body["parent_event_id"] == forum);
  const int64_t school_id = school.body["id"];
  Create(
      *y.client, "/v1/events",
      y.Body("Форум предпринимателей", "2026-10-01T10:00:00+09:00", "2026-10-01T18:00:00+09:00"));

  // The parent lists its children; the filter finds them too.
  auto children = Call(*y.client, "GET", "/v1/events/" + Str(forum) + "/events");
  REQUIRE(children.status == 200);
  REQUIRE(children.body["items"].size() == 1);
  CHECK(children.body["items"][0]["id"] == school_id);
  auto filtered = Call(*y.client, "GET", "/v1/events?parent_event_id=" + Str(forum));
  REQUIRE(filtered.body["items"].size() == 1);
  CHECK(Call(*y.client, "GET", "/v1/events/" + Str(school_id) + "/events").body["items"].empty());
  CHECK(Call(*y.client, "GET", "/v1/events/999999/events").status == 404);

  // Outside the forum's time: 422 on the time that sticks out, nothing stored.
  auto late = Call(
      *y.client, "POST", "/v1/events",
      y.Body("Школа ТОС, день 2", "2026-09-09T10:00:00+09:00", "2026-09-10T18:00:00+09:00", forum));
  CHECK(late.status == 422);
  CHECK(ErrorFields(late) == std::vector<std::string>{"ends_at"});
  auto patched_out = Call(*y.client, "PATCH", "/v1/events/" + Str(school_id),
                          {{"starts_at", "2026-09-05T10:00:00+09:00"}});
  CHECK(patched_out.status == 422);
  CHECK(Has(ErrorFields(patched_out), "starts_at"));
  CHECK(Call(*y.client, "GET", "/v1/events/" + Str(forum) + "/events").body["items"].size() == 1);

  // The forum cannot move away from its school, nor be deleted while it holds it.
  auto moved = Call(*y.client, "PATCH", "/v1/events/" + Str(forum),
                    {{"ends_at", "2026-09-07T18:00:00+09:00"}});
  CHECK(moved.status == 422);
  CHECK(Has(ErrorFields(moved), "ends_at"));

  // No unknown parent, no event inside itself or its own child.
  auto unknown =
      Call(*y.client, "POST", "/v1/events",
           y.Body("Школа", "2026-09-08T10:00:00+09:00", "2026-09-08T18:00:00+09:00", 999999));
  CHECK(unknown.status == 422);
  CHECK(ErrorFields(unknown) == std::vector<std::string>{"parent_event_id"});
  auto self = Call(*y.client, "PATCH", "/v1/events/" + Str(forum), {{"parent_event_id", forum}});
  CHECK(self.status == 422);
  auto cycle =
      Call(*y.client, "PATCH", "/v1/events/" + Str(forum), {{"parent_event_id", school_id}});
  CHECK(cycle.status == 422);
  CHECK(ErrorFields(cycle) == std::vector<std::string>{"parent_event_id"});
  CHECK(Call(*y.client, "GET", "/v1/events/" + Str(forum)).body["parent_event_id"].is_null());

  // Taken out of the forum, the school stands alone.
  auto alone =
      Call(*y.client, "PATCH", "/v1/events/" + Str(school_id), {{"parent_event_id", nullptr}});
  CHECK(alone.status == 200);
  CHECK(alone.body["parent_event_id"].is_null());
  CHECK(Call(*y.client, "GET", "/v1/events/" + Str(forum) + "/events").body["items"].empty());
}

TEST_CASE("Nested events: a draft forum with a school inside is not deleted", "[events][nested]") {
  Yakutsk y;
  json forum_body =
      y.Body("Якутск 4.0.0 Старт", "2026-09-06T10:00:00+09:00", "2026-09-09T18:00:00+09:00");
  forum_body["status"] = "draft";
  const int64_t forum = Create(*y.client, "/v1/events", forum_body)["id"];
  json school_body =
      y.Body("Школа ТОС", "2026-09-08T10:00:00+09:00", "2026-09-08T18:00:00+09:00", forum);
  school_body["status"] = "draft";
  const int64_t school = Create(*y.client, "/v1/events", school_body)["id"];
  auto refused = Call(*y.client, "DELETE", "/v1/events/" + Str(forum));
  CHECK(refused.status == 409);
  CHECK(refused.body["detail"].get<std::string>().find("parent_event_id") != std::string::npos);
  CHECK(Call(*y.client, "DELETE", "/v1/events/" + Str(school)).status == 204);
  CHECK(Call(*y.client, "DELETE", "/v1/events/" + Str(forum)).status == 204);
}
