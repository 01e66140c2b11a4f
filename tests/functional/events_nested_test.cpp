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

namespace {

// Two programs in Yakutsk with an organiser key each and one holding both: the city forum's
// program and the school of ТОС's.
struct TwoPrograms : Yakutsk {
  int64_t forum_program =
      Create(*client, "/v1/programs",
             {{"title", "Якутск 4.0.0"}, {"kind", "forum"}, {"starts_on", "2026-09-01"}})["id"];
  int64_t tos_program =
      Create(*client, "/v1/programs",
             {{"title", "Школа ТОС"}, {"kind", "education"}, {"starts_on", "2026-09-01"}})["id"];
  std::unique_ptr<httplib::Client> forum_organizer = Organizer({forum_program});
  std::unique_ptr<httplib::Client> tos_organizer = Organizer({tos_program});
  std::unique_ptr<httplib::Client> both_organizer = Organizer({forum_program, tos_program});

  std::unique_ptr<httplib::Client> Organizer(const std::vector<int64_t>& programs) {
    const json key =
        Create(*client, "/v1/api-keys",
               {{"name", "организатор"}, {"role", "organizer"}, {"program_ids", programs}});
    return service.ClientWithKey(key["token"].get<std::string>());
  }

  json In(json body, int64_t program) {
    body["program_id"] = program;
    return body;
  }
};

}  // namespace

TEST_CASE("Nested events: an event nests only inside an event of its own program, of the key's",
          "[events][nested][access]") {
  TwoPrograms t;
  const std::string starts = "2026-09-06T10:00:00+09:00", ends = "2026-09-09T18:00:00+09:00";
  const std::string school_starts = "2026-09-08T10:00:00+09:00",
                    school_ends = "2026-09-08T18:00:00+09:00";
  const int64_t forum =
      Create(*t.forum_organizer, "/v1/events",
             t.In(t.Body("Якутск 4.0.0 Старт", starts, ends), t.forum_program))["id"];
  const std::string children = "/v1/events/" + Str(forum) + "/events";

  // The school's organiser may read the published forum but not write its program: a school
  // of its own put inside it, at creation or later, is refused on parent_event_id.
  auto inside = Call(*t.tos_organizer, "POST", "/v1/events",
                     t.In(t.Body("Школа ТОС", school_starts, school_ends, forum), t.tos_program));
  CHECK(inside.status == 422);
  CHECK(ErrorFields(inside) == std::vector<std::string>{"parent_event_id"});
  const int64_t school =
      Create(*t.tos_organizer, "/v1/events",
             t.In(t.Body("Школа ТОС", school_starts, school_ends), t.tos_program))["id"];
  auto moved =
      Call(*t.tos_organizer, "PATCH", "/v1/events/" + Str(school), {{"parent_event_id", forum}});
  CHECK(moved.status == 422);
  CHECK(ErrorFields(moved) == std::vector<std::string>{"parent_event_id"});
  CHECK(Call(*t.client, "GET", "/v1/events/" + Str(school)).body["parent_event_id"].is_null());
  CHECK(Call(*t.client, "GET", children).body["items"].empty());

  // A key of both programs, and an admin, still may not put another program's event inside the
  // forum: whoever changes the forum must be able to change what is inside it.
  for (auto* key : {t.both_organizer.get(), t.client.get()}) {
    auto mixed = Call(*key, "PATCH", "/v1/events/" + Str(school), {{"parent_event_id", forum}});
    CHECK(mixed.status == 422);
    CHECK(ErrorFields(mixed) == std::vector<std::string>{"parent_event_id"});
  }
  CHECK(Call(*t.client, "GET", children).body["items"].empty());

  // The forum's program keeps the forum its own: it is rescheduled and cancelled freely.
  CHECK(Call(*t.forum_organizer, "PATCH", "/v1/events/" + Str(forum),
             {{"ends_at", "2026-09-08T12:00:00+09:00"}})
            .status == 200);

  // The same program nests freely; the nested event then keeps the forum's program, and the
  // forum keeps its program while it holds events.
  const int64_t case_day = Create(
      *t.forum_organizer, "/v1/events",
      t.In(t.Body("Кейс-сессия", "2026-09-07T10:00:00+09:00", "2026-09-07T16:00:00+09:00", forum),
           t.forum_program))["id"];
  CHECK(Call(*t.client, "GET", children).body["items"].size() == 1);
  auto reprogrammed = Call(*t.both_organizer, "PATCH", "/v1/events/" + Str(case_day),
                           {{"program_id", t.tos_program}});
  CHECK(reprogrammed.status == 422);
  CHECK(ErrorFields(reprogrammed) == std::vector<std::string>{"program_id"});
  auto parent_reprogrammed =
      Call(*t.client, "PATCH", "/v1/events/" + Str(forum), {{"program_id", t.tos_program}});
  CHECK(parent_reprogrammed.status == 422);
  CHECK(ErrorFields(parent_reprogrammed) == std::vector<std::string>{"program_id"});
  CHECK(Call(*t.client, "GET", "/v1/events/" + Str(forum)).body["program_id"] == t.forum_program);

  // A draft of the forum's program stays unknown to the other program's organiser.
  json draft_body = t.In(t.Body("Черновик форума", starts, ends), t.forum_program);
  draft_body["status"] = "draft";
  const int64_t draft = Create(*t.forum_organizer, "/v1/events", draft_body)["id"];
  auto hidden =
      Call(*t.tos_organizer, "PATCH", "/v1/events/" + Str(school), {{"parent_event_id", draft}});
  CHECK(hidden.status == 422);
  CHECK(hidden.body["errors"][0]["reason"] == "no event with id " + Str(draft));
}

TEST_CASE("Nested programs: a program goes only inside a program the key writes",
          "[events][nested][programs][access]") {
  TwoPrograms t;
  const std::string forum = "/v1/programs/" + Str(t.forum_program);
  auto refused = Call(*t.forum_organizer, "PATCH", forum, {{"parent_program_id", t.tos_program}});
  CHECK(refused.status == 422);
  CHECK(ErrorFields(refused) == std::vector<std::string>{"parent_program_id"});
  CHECK(Call(*t.client, "GET", forum).body["parent_program_id"].is_null());
  // The other program's own nesting is not blocked by it.
  CHECK(Call(*t.tos_organizer, "PATCH", "/v1/programs/" + Str(t.tos_program),
             {{"parent_program_id", t.forum_program}})
            .status == 422);  // not its program to nest into either
  CHECK(Call(*t.both_organizer, "PATCH", "/v1/programs/" + Str(t.tos_program),
             {{"parent_program_id", t.forum_program}})
            .status == 200);
  // Leaving a parent is the program's own business.
  CHECK(Call(*t.tos_organizer, "PATCH", "/v1/programs/" + Str(t.tos_program),
             {{"parent_program_id", nullptr}})
            .status == 200);
}

TEST_CASE("Nested events: a moved event brings the events inside it, within five levels",
          "[events][nested]") {
  Yakutsk y;
  const std::string starts = "2026-09-06T10:00:00+09:00", ends = "2026-09-09T18:00:00+09:00";
  // A chain five levels deep: L0 holds L1 ... holds L5.
  std::vector<int64_t> chain;
  for (int level = 0; level <= 5; ++level) {
    chain.push_back(Create(*y.client, "/v1/events",
                           y.Body("Уровень " + std::to_string(level), starts, ends,
                                  level == 0 ? json(nullptr) : json(chain.back())))["id"]);
  }
  auto sixth = Call(*y.client, "POST", "/v1/events", y.Body("Уровень 6", starts, ends, chain[5]));
  CHECK(sixth.status == 422);
  CHECK(ErrorFields(sixth) == std::vector<std::string>{"parent_event_id"});

  // Q0 holds Q1: moved under L4, Q1 would be six levels deep.
  const int64_t q0 = Create(*y.client, "/v1/events", y.Body("Q0", starts, ends))["id"];
  const int64_t q1 = Create(*y.client, "/v1/events", y.Body("Q1", starts, ends, q0))["id"];
  auto too_deep =
      Call(*y.client, "PATCH", "/v1/events/" + Str(q0), {{"parent_event_id", chain[4]}});
  CHECK(too_deep.status == 422);
  CHECK(ErrorFields(too_deep) == std::vector<std::string>{"parent_event_id"});
  CHECK(Call(*y.client, "GET", "/v1/events/" + Str(q0)).body["parent_event_id"].is_null());
  // The chain's own top moved under Q1 would push L5 eight levels deep.
  auto top_moved =
      Call(*y.client, "PATCH", "/v1/events/" + Str(chain[0]), {{"parent_event_id", q1}});
  CHECK(top_moved.status == 422);
  CHECK(ErrorFields(top_moved) == std::vector<std::string>{"parent_event_id"});
  // Under L3, Q1 is five levels deep: allowed.
  CHECK(Call(*y.client, "PATCH", "/v1/events/" + Str(q0), {{"parent_event_id", chain[3]}}).status ==
        200);
  CHECK(Call(*y.client, "GET", "/v1/events/" + Str(chain[3]) + "/events").body["items"].size() ==
        2);
}
