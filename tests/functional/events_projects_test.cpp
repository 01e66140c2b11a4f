// Social projects and expert reviews in the events API: the city teams of «Добрые города»
// (seed 000) develop social projects, experts score them against the program's review criteria,
// and the best are selected for the «Мы вместе» forum. People are invented.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::Has;
using nlohmann::json;

namespace {

std::string Str(int64_t id) { return std::to_string(id); }

// A running events API with «Добрые города» and its review criteria (weights 3, 2, 3, 2), two
// city teams with a member each, and three experts from Москва.
struct Contest {
  civic::test::Service service{civic::test::EventsApiBinary()};
  std::unique_ptr<httplib::Client> client = service.Client();
  int64_t program = 0;
  std::map<std::string, int64_t> cities;
  std::map<std::string, int64_t> teams;
  std::map<std::string, int64_t> members;  // person ids of the teams' members, by city
  std::vector<int64_t> experts;

  Contest() {
    program = Create(*client, "/v1/programs",
                     {{"title", "Добрые города"},
                      {"kind", "education"},
                      {"starts_on", "2026-09-01"},
                      {"ends_on", "2026-12-20"},
                      {"review_criteria",
                       {{{"name", "Актуальность"}, {"weight", 3}},
                        {{"name", "Реализуемость"}, {"weight", 2}},
                        {{"name", "Социальный эффект"}, {"weight", 3}},
                        {{"name", "Устойчивость"}, {"weight", 2}}}}})["id"];
    for (const char* city : {"Саров", "Снежинск", "Москва"}) {
      cities[city] =
          Create(*client, "/v1/cities",
                 {{"name", city},
                  {"time_zone", city == std::string("Снежинск") ? "Asia/Yekaterinburg"
                                                                : "Europe/Moscow"}})["id"];
    }
    for (const char* city : {"Саров", "Снежинск"}) {
      teams[city] = Create(*client, "/v1/teams",
                           {{"city_id", cities[city]},
                            {"name", std::string("Команда города ") + city},
                            {"program_id", program}})["id"];
      members[city] =
          Create(*client, "/v1/people",
                 {{"name", std::string("Участник из ") + city}, {"city_id", cities[city]}})["id"];
      Create(*client, "/v1/team-members",
             {{"team_id", teams[city]}, {"person_id", members[city]}, {"sector", "ngo"}});
    }
    for (const char* name :
         {"Эксперт Анна Первая", "Эксперт Борис Второй", "Эксперт Вера Третья"}) {
      experts.push_back(
          Create(*client, "/v1/people", {{"name", name}, {"city_id", cities["Москва"]}})["id"]);
    }
  }

  int64_t Project(const std::string& city, const std::string& title) {
    return Create(*client, "/v1/projects", {{"team_id", teams.at(city)}, {"title", title}})["id"];
  }

  civic::test::JsonReply Patch(const std::string& path, const json& body) {
    return Call(*client, "PATCH", path, body);
  }

  // Scores in the criteria's order.
  static json Scores(int a, int b, int c, int d) {
    return {
        {"Актуальность", a}, {"Реализуемость", b}, {"Социальный эффект", c}, {"Устойчивость", d}};
  }

  civic::test::JsonReply Review(int64_t project, int64_t expert, const json& scores) {
    return Call(*client, "POST", "/v1/reviews",
                {{"project_id", project}, {"expert_id", expert}, {"scores", scores}});
  }
};

}  // namespace

TEST_CASE("Projects: a team's project is drafted, submitted, reviewed by experts and selected",
          "[events][projects]") {
  Contest c;
  auto created = Call(*c.client, "POST", "/v1/projects",
                      {{"team_id", c.teams["Саров"]},
                       {"title", "Двор, где играют дети"},
                       {"summary", "Детская площадка во дворе на улице Зернова"}});
  REQUIRE(created.status == 201);
  const int64_t project = created.body["id"];
  CHECK(created.Header("Location") == "/v1/projects/" + Str(project));
  CHECK(created.body["status"] == "draft");
  CHECK(created.body["program_id"] == c.program);  // the team's program
  const std::string path = "/v1/projects/" + Str(project);

  // A draft takes no reviews; an undecided project cannot be selected.
  auto early = c.Review(project, c.experts[0], Contest::Scores(8, 7, 9, 6));
  CHECK(early.status == 422);
  CHECK(Has(ErrorFields(early), "project_id"));
  REQUIRE(c.Patch(path, {{"status", "submitted"}}).status == 200);
  auto unreviewed = c.Patch(path, {{"status", "selected"}});
  CHECK(unreviewed.status == 422);
  CHECK(Has(ErrorFields(unreviewed), "status"));

  // Two experts score it: (3·8 + 2·7 + 3·9 + 2·6) / 10 = 7.7 and (3·6 + 2·5 + 3·7 + 2·4) / 10
  // = 5.7.
  auto first = c.Review(project, c.experts[0], Contest::Scores(8, 7, 9, 6));
  REQUIRE(first.status == 201);
  CHECK(first.Header("Location") == "/v1/reviews/" + Str(first.body["id"]));
  CHECK(first.body["score"] == 7.7);
  CHECK(first.body["scores"]["Социальный эффект"] == 9);
  auto second = c.Review(project, c.experts[1], Contest::Scores(6, 5, 7, 4));
  REQUIRE(second.status == 201);
  CHECK(second.body["score"] == 5.7);

  auto assessment = Call(*c.client, "GET", path + "/assessment");
  REQUIRE(assessment.status == 200);
  CHECK(assessment.body["reviews"] == 2);
  CHECK(assessment.body["score"] == 6.7);
  REQUIRE(assessment.body["criteria"].size() == 4);
  CHECK(assessment.body["criteria"][0] ==
        json{{"name", "Актуальность"}, {"weight", 3}, {"mean", 7}});
  CHECK(assessment.body["criteria"][2]["mean"] == 8);
  auto again = Call(*c.client, "GET", path + "/assessment", nullptr,
                    {{"If-None-Match", assessment.Header("ETag")}});
  CHECK(again.status == 304);
  // It takes no query parameters: one given is a 422 naming it, not silently ignored.
  auto queried = Call(*c.client, "GET", path + "/assessment?limit=abc");
  CHECK(queried.status == 422);
  CHECK(ErrorFields(queried) == std::vector<std::string>{"limit"});

  // An expert changes their scores while the project is under review: 6.7 → 7.2.
  const std::string review_path = "/v1/reviews/" + Str(second.body["id"]);
  auto changed =
      c.Patch(review_path, {{"scores", {{"Реализуемость", 10}}}, {"comment", "Смета реальна"}});
  REQUIRE(changed.status == 200);
  CHECK(changed.body["score"] == 6.7);
  CHECK(changed.body["scores"]["Актуальность"] == 6);
  CHECK(Call(*c.client, "GET", path + "/assessment").body["score"] == 7.2);

  auto listed = Call(*c.client, "GET", path + "/reviews");
  REQUIRE(listed.status == 200);
  REQUIRE(listed.body["items"].size() == 2);
  CHECK(listed.body["items"][1]["comment"] == "Смета реальна");
  CHECK(Call(*c.client, "GET", "/v1/reviews?expert_id=" + Str(c.experts[0])).body["items"].size() ==
        1);

  // The organisers select it; its reviews are its record from then on.
  auto selected = c.Patch(path, {{"status", "selected"}});
  REQUIRE(selected.status == 200);
  CHECK(selected.body["status"] == "selected");
  auto late = c.Patch(review_path, {{"comment", "Передумал"}});
  CHECK(late.status == 422);
  CHECK(Has(ErrorFields(late), "project_id"));
  CHECK(Call(*c.client, "DELETE", review_path).status == 409);
  CHECK(c.Review(project, c.experts[2], Contest::Scores(5, 5, 5, 5)).status == 422);
  auto deleted = Call(*c.client, "DELETE", path);
  CHECK(deleted.status == 409);
  CHECK(deleted.body["detail"].get<std::string>().find("withdraw") != std::string::npos);
  CHECK(Call(*c.client, "GET", review_path).body["comment"] == "Смета реальна");
  // A patch that changes nothing has nothing to refuse: 200, the review as it was.
  auto before = Call(*c.client, "GET", review_path);
  auto same = c.Patch(review_path, {{"comment", "Смета реальна"}});
  CHECK(same.status == 200);
  CHECK(same.Header("ETag") == before.Header("ETag"));
  CHECK(same.body["updated_at"] == before.body["updated_at"]);

  // A decided project does not go back under review; a reviewer does not join the team.
  auto reopened = c.Patch(path, {{"status", "submitted"}});
  CHECK(reopened.status == 422);
  CHECK(Has(ErrorFields(reopened), "status"));
  auto joins =
      Call(*c.client, "POST", "/v1/team-members",
           {{"team_id", c.teams["Саров"]}, {"person_id", c.experts[1]}, {"sector", "ngo"}});
  CHECK(joins.status == 422);
  CHECK(Has(ErrorFields(joins), "person_id"));

  // Scored criteria, the project's program and team stay as they were.
  auto criteria = c.Patch("/v1/programs/" + Str(c.program),
                          {{"review_criteria", {{{"name", "Актуальность"}, {"weight", 1}}}}});
  CHECK(criteria.status == 422);
  CHECK(Has(ErrorFields(criteria), "review_criteria"));
  CHECK(c.Patch(path, {{"team_id", c.teams["Снежинск"]}}).status == 422);
  CHECK(c.Patch(path, {{"program_id", nullptr}}).status == 200);  // the team's program again
  CHECK(Call(*c.client, "GET", path).body["program_id"] == c.program);
  // An expert with reviews is kept.
  auto expert = Call(*c.client, "DELETE", "/v1/people/" + Str(c.experts[0]));
  CHECK(expert.status == 409);
  CHECK(expert.body["detail"].get<std::string>().find("expert review") != std::string::npos);
}

TEST_CASE(
    "Projects: a review scores every criterion of the program, once per expert, never by "
    "the team",
    "[events][projects]") {
  Contest c;
  const int64_t project = c.Project("Снежинск", "Тропа здоровья");
  REQUIRE(c.Patch("/v1/projects/" + Str(project), {{"status", "submitted"}}).status == 200);

  auto missing = c.Review(project, c.experts[0],
                          {{"Актуальность", 8}, {"Реализуемость", 7}, {"Устойчивость", 6}});
  CHECK(missing.status == 422);
  CHECK(Has(ErrorFields(missing), "scores.Социальный эффект"));
  json unknown = Contest::Scores(8, 7, 9, 6);
  unknown["Красота"] = 10;
  auto extra = c.Review(project, c.experts[0], unknown);
  CHECK(extra.status == 422);
  CHECK(Has(ErrorFields(extra), "scores.Красота"));
  auto high = c.Review(project, c.experts[0], Contest::Scores(11, 7, 0, 6));
  CHECK(high.status == 422);
  CHECK(Has(ErrorFields(high), "scores.Актуальность"));
  CHECK(Has(ErrorFields(high), "scores.Социальный эффект"));
  json as_text = Contest::Scores(8, 7, 9, 6);
  as_text["Устойчивость"] = "шесть";
  auto typed = c.Review(project, c.experts[0], as_text);
  CHECK(typed.status == 422);
  CHECK(Has(ErrorFields(typed), "scores.Устойчивость"));
  auto not_object = c.Review(project, c.experts[0], json::array({8, 7, 9, 6}));
  CHECK(not_object.status == 422);
  CHECK(Has(ErrorFields(not_object), "scores"));
  auto own_team = c.Review(project, c.members["Снежинск"], Contest::Scores(10, 10, 10, 10));
  CHECK(own_team.status == 422);
  CHECK(Has(ErrorFields(own_team), "expert_id"));
  auto nobody = c.Review(project, 999999, Contest::Scores(8, 7, 9, 6));
  CHECK(nobody.status == 422);
  CHECK(Has(ErrorFields(nobody), "expert_id"));
  CHECK(Call(*c.client, "GET", "/v1/projects/" + Str(project) + "/reviews").body["items"].empty());

  REQUIRE(c.Review(project, c.experts[0], Contest::Scores(8, 7, 9, 6)).status == 201);
  auto twice = c.Review(project, c.experts[0], Contest::Scores(1, 1, 1, 1));
  CHECK(twice.status == 422);
  CHECK(Has(ErrorFields(twice), "expert_id"));
  auto review =
      Call(*c.client, "GET", "/v1/projects/" + Str(project) + "/reviews").body["items"][0];
  auto moved = c.Patch("/v1/reviews/" + Str(review["id"]), {{"expert_id", c.experts[1]}});
  CHECK(moved.status == 422);
  CHECK(Has(ErrorFields(moved), "expert_id"));
  // What GET returns may be sent back as a PATCH (the computed score is ignored there); a POST
  // may not set it.
  json round_trip = review;
  round_trip["comment"] = "Хороший план";
  auto patched = c.Patch("/v1/reviews/" + Str(review["id"]), round_trip);
  CHECK(patched.status == 200);
  CHECK(patched.body["score"] == review["score"]);
  auto scored = Call(*c.client, "POST", "/v1/reviews",
                     {{"project_id", project},
                      {"expert_id", c.experts[1]},
                      {"scores", Contest::Scores(8, 7, 9, 6)},
                      {"score", 10}});
  CHECK(scored.status == 422);
  CHECK(Has(ErrorFields(scored), "score"));
  // A reviewed project does not go back to draft.
  CHECK(c.Patch("/v1/projects/" + Str(project), {{"status", "draft"}}).status == 422);

  // While the project is under review an expert may take a review back.
  CHECK(Call(*c.client, "DELETE", "/v1/reviews/" + Str(review["id"])).status == 204);
  // Nobody has reviewed it now: it may go back to draft, and a withdrawn project stays so.
  REQUIRE(c.Patch("/v1/projects/" + Str(project), {{"status", "draft"}}).status == 200);
  REQUIRE(c.Patch("/v1/projects/" + Str(project), {{"status", "withdrawn"}}).status == 200);
  CHECK(c.Patch("/v1/projects/" + Str(project), {{"status", "submitted"}}).status == 422);

  // A project outside any program has no criteria to score.
  const int64_t loose_team = Create(
      *c.client, "/v1/teams", {{"city_id", c.cities["Москва"]}, {"name", "Без программы"}})["id"];
  const int64_t loose =
      Create(*c.client, "/v1/projects", {{"team_id", loose_team}, {"title", "Сам по себе"}})["id"];
  CHECK(Call(*c.client, "GET", "/v1/projects/" + Str(loose)).body["program_id"].is_null());
  REQUIRE(c.Patch("/v1/projects/" + Str(loose), {{"status", "submitted"}}).status == 200);
  auto no_criteria = c.Review(loose, c.experts[0], Contest::Scores(8, 7, 9, 6));
  CHECK(no_criteria.status == 422);
  CHECK(Has(ErrorFields(no_criteria), "project_id"));
  // A project without reviews may be deleted; a team with projects may not.
  CHECK(Call(*c.client, "DELETE", "/v1/teams/" + Str(loose_team)).status == 409);
  CHECK(Call(*c.client, "DELETE", "/v1/projects/" + Str(loose)).status == 204);
  CHECK(Call(*c.client, "DELETE", "/v1/teams/" + Str(loose_team)).status == 204);
}

TEST_CASE("Projects: the program's ranking orders projects by their experts' score",
          "[events][projects]") {
  Contest c;
  const int64_t play = c.Project("Саров", "Двор, где играют дети");
  const int64_t trail = c.Project("Снежинск", "Тропа здоровья");
  const int64_t library = c.Project("Саров", "Библиотека вещей");
  const int64_t garden = c.Project("Снежинск", "Общественный сад");
  const int64_t draft = c.Project("Саров", "Пока черновик");
  for (const int64_t p : {play, trail, library, garden}) {
    REQUIRE(c.Patch("/v1/projects/" + Str(p), {{"status", "submitted"}}).status == 200);
  }
  // play: 7.7 (one review); trail: 7.7 and 7.7 (two reviews: ahead of play); library: 5.0;
  // garden: not reviewed (listed last, no rank).
  REQUIRE(c.Review(play, c.experts[0], Contest::Scores(8, 7, 9, 6)).status == 201);
  REQUIRE(c.Review(trail, c.experts[0], Contest::Scores(9, 6, 8, 7)).status == 201);
  REQUIRE(c.Review(trail, c.experts[1], Contest::Scores(8, 7, 9, 6)).status == 201);
  REQUIRE(c.Review(library, c.experts[2], Contest::Scores(5, 5, 5, 5)).status == 201);
  const int64_t withdrawn = c.Project("Снежинск", "Отозванный");
  REQUIRE(c.Patch("/v1/projects/" + Str(withdrawn), {{"status", "submitted"}}).status == 200);
  REQUIRE(c.Review(withdrawn, c.experts[0], Contest::Scores(10, 10, 10, 10)).status == 201);
  REQUIRE(c.Patch("/v1/projects/" + Str(withdrawn), {{"status", "withdrawn"}}).status == 200);

  const std::string path = "/v1/programs/" + Str(c.program) + "/project-ranking";
  auto ranking = Call(*c.client, "GET", path);
  REQUIRE(ranking.status == 200);
  CHECK(ranking.body["projects"] == 4);  // neither the draft nor the withdrawn one
  CHECK(ranking.body["criteria"].size() == 4);
  const auto& items = ranking.body["items"];
  REQUIRE(items.size() == 4);
  CHECK(items[0]["project_id"] == trail);
  CHECK(items[0]["rank"] == 1);
  CHECK(items[0]["reviews"] == 2);
  CHECK(items[0]["score"] == 7.7);
  CHECK(items[1]["project_id"] == play);
  CHECK(items[1]["rank"] == 2);
  CHECK(items[2]["project_id"] == library);
  CHECK(items[2]["rank"] == 3);
  CHECK(items[2]["score"] == 5.0);
  CHECK(items[3]["project_id"] == garden);
  CHECK(items[3]["rank"].is_null());
  CHECK(items[3]["score"].is_null());
  (void)draft;

  auto top = Call(*c.client, "GET", path + "?limit=1");
  REQUIRE(top.status == 200);
  REQUIRE(top.body["items"].size() == 1);
  CHECK(top.body["items"][0]["project_id"] == trail);
  for (const char* bad : {"?limit=0", "?limit=101", "?limit=x", "?sort=score"}) {
    INFO(bad);
    auto reply = Call(*c.client, "GET", path + bad);
    CHECK(reply.status == 422);
    CHECK(reply.Header("Content-Type") == "application/problem+json");
  }
  CHECK(Call(*c.client, "GET", "/v1/programs/999999/project-ranking").status == 404);
  CHECK(Call(*c.client, "GET", "/v1/projects/999999/assessment").status == 404);
  CHECK(Call(*c.client, "GET", "/v1/teams/" + Str(c.teams["Саров"]) + "/projects")
            .body["items"]
            .size() == 3);
  CHECK(Call(*c.client, "GET", "/v1/projects?program_id=" + Str(c.program) + "&status=withdrawn")
            .body["items"]
            .size() == 1);
}
