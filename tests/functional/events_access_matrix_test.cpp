// The access matrix of the events API: every route the binary has (civic-events-api
// --print-routes) x every role x an object of the key's own scope and one of another scope, each
// cell's status asserted against this file's own table, and no contact of a person outside the
// caller's reach in any answer. A route missing from the table, or a table row with no route,
// fails the test: a new route cannot be left out.
//
// Writes are probed without destroying the fixtures: PATCH and DELETE carry an If-Match that
// never matches, so an allowed caller gets 412 (the checks of who may write come first);
// creations make new objects.
#include <stdio.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::FromNow;
using nlohmann::json;

namespace {

// What the test expects of one route.
struct Expect {
  std::set<std::string> roles;  // besides admin; "public": anyone, with or without a key
  int ok;                       // the status of a caller the route admits, on its own objects
  int other;  // the status of an admitted non-admin caller on another program's object; 0: ok
};

// Routes of objects that belong to the key that made them (webhook subscriptions and their
// deliveries): a frontend reaches only its own, so on the matrix's (made by an admin) it gets the
// 404 of an object it may not read, even in its own program.
const std::set<std::string>& OwnedByTheirKey() {
  static const std::set<std::string> kRoutes = {"GET /v1/webhooks/{id}",
                                                "PATCH /v1/webhooks/{id}",
                                                "DELETE /v1/webhooks/{id}",
                                                "POST /v1/webhooks/{id}/rotate-secret",
                                                "GET /v1/webhooks/{id}/deliveries",
                                                "GET /v1/webhook-deliveries/{id}",
                                                "POST /v1/webhook-deliveries/{id}/redeliver"};
  return kRoutes;
}

const std::map<std::string, Expect>& Table() {
  static const std::map<std::string, Expect> kTable = {
      {"GET /v1/cities", {{"public"}, 200, 0}},
      {"GET /v1/cities/{id}", {{"public"}, 200, 0}},
      {"POST /v1/cities", {{}, 201, 0}},
      {"PATCH /v1/cities/{id}", {{}, 412, 0}},
      {"DELETE /v1/cities/{id}", {{}, 412, 0}},
      {"GET /v1/organizations", {{"public"}, 200, 0}},
      {"GET /v1/organizations/{id}", {{"public"}, 200, 0}},
      {"POST /v1/organizations", {{"organizer"}, 201, 0}},
      {"PATCH /v1/organizations/{id}", {{}, 412, 0}},
      {"DELETE /v1/organizations/{id}", {{}, 412, 0}},
      {"GET /v1/people", {{"organizer"}, 200, 0}},
      {"GET /v1/people/{id}", {{"organizer"}, 200, 0}},
      {"POST /v1/people", {{"organizer", "frontend"}, 201, 0}},
      {"PATCH /v1/people/{id}", {{"organizer"}, 412, 403}},
      {"DELETE /v1/people/{id}", {{}, 412, 0}},
      {"GET /v1/programs", {{"public"}, 200, 0}},
      {"GET /v1/programs/{id}", {{"public"}, 200, 0}},
      {"POST /v1/programs", {{}, 201, 0}},
      {"PATCH /v1/programs/{id}", {{"organizer"}, 412, 403}},
      {"DELETE /v1/programs/{id}", {{}, 412, 0}},
      {"GET /v1/programs/{id}/project-ranking", {{"organizer"}, 200, 403}},
      {"GET /v1/teams", {{"public"}, 200, 0}},
      {"GET /v1/teams/{id}", {{"public"}, 200, 0}},
      {"POST /v1/teams", {{"organizer"}, 201, 403}},
      {"PATCH /v1/teams/{id}", {{"organizer"}, 412, 403}},
      {"DELETE /v1/teams/{id}", {{"organizer"}, 412, 403}},
      {"GET /v1/team-members", {{"public"}, 200, 0}},
      {"GET /v1/team-members/{id}", {{"public"}, 200, 0}},
      {"POST /v1/team-members", {{"organizer"}, 201, 403}},
      {"PATCH /v1/team-members/{id}", {{"organizer"}, 412, 403}},
      {"DELETE /v1/team-members/{id}", {{"organizer"}, 412, 403}},
      {"GET /v1/teams/{id}/members", {{"public"}, 200, 0}},
      {"GET /v1/teams/{id}/composition", {{"public"}, 200, 0}},
      {"GET /v1/events", {{"public"}, 200, 0}},
      {"GET /v1/events/{id}", {{"public"}, 200, 0}},
      {"POST /v1/events", {{"organizer"}, 201, 403}},
      {"PATCH /v1/events/{id}", {{"organizer"}, 412, 403}},
      {"DELETE /v1/events/{id}", {{"organizer"}, 412, 403}},
      {"GET /v1/sessions", {{"public"}, 200, 0}},
      {"GET /v1/sessions/{id}", {{"public"}, 200, 0}},
      {"POST /v1/sessions", {{"organizer"}, 201, 403}},
      {"PATCH /v1/sessions/{id}", {{"organizer"}, 412, 403}},
      {"DELETE /v1/sessions/{id}", {{"organizer"}, 412, 403}},
      {"GET /v1/events/{id}/sessions", {{"public"}, 200, 0}},
      {"GET /v1/events/{id}/events", {{"public"}, 200, 0}},
      {"GET /v1/events/{id}/statistics", {{"organizer"}, 200, 403}},
      {"GET /v1/events/{id}/calendar.ics", {{"public"}, 200, 0}},
      {"GET /v1/programs/{id}/calendar.ics", {{"public"}, 200, 0}},
      {"GET /v1/cities/{id}/calendar.ics", {{"public"}, 200, 0}},
      {"GET /v1/people/{id}/calendar.ics", {{"organizer"}, 200, 403}},
      {"POST /v1/people/{id}/calendar-feed", {{"organizer"}, 201, 403}},
      {"DELETE /v1/people/{id}/calendar-feed", {{"organizer"}, 204, 403}},
      // No token here: the path's "{token}" opens no feed.
      {"GET /v1/calendar-feeds/{token}", {{"public"}, 404, 0}},
      {"GET /v1/programs/{id}/statistics", {{"organizer"}, 200, 403}},
      {"POST /v1/events/{id}/registrations", {{"organizer", "frontend"}, 201, 403}},
      {"POST /v1/events/{id}/team-registrations", {{"organizer", "frontend"}, 200, 403}},
      {"GET /v1/events/{id}/registrations", {{"organizer"}, 200, 0}},
      {"GET /v1/registrations", {{"organizer"}, 200, 0}},
      {"GET /v1/registrations/{id}", {{"organizer", "frontend"}, 200, 404}},
      {"DELETE /v1/registrations/{id}", {{"organizer", "frontend"}, 412, 404}},
      {"POST /v1/registrations/{id}/check-in", {{"organizer"}, 200, 404}},
      {"GET /v1/attendances/{id}", {{"organizer"}, 200, 404}},
      {"DELETE /v1/attendances/{id}", {{"organizer"}, 412, 404}},
      {"GET /v1/events/{id}/attendance", {{"organizer"}, 200, 403}},
      {"GET /v1/events/{id}/attendances", {{"organizer"}, 200, 0}},
      {"GET /v1/sessions/{id}/attendances", {{"organizer"}, 200, 0}},
      {"POST /v1/sessions/{id}/registrations", {{"organizer", "frontend"}, 201, 403}},
      {"GET /v1/sessions/{id}/registrations", {{"organizer"}, 200, 0}},
      {"GET /v1/session-registrations", {{"organizer"}, 200, 0}},
      {"GET /v1/session-registrations/{id}", {{"organizer", "frontend"}, 200, 404}},
      {"DELETE /v1/session-registrations/{id}", {{"organizer", "frontend"}, 412, 404}},
      {"GET /v1/projects", {{"public"}, 200, 0}},
      {"GET /v1/projects/{id}", {{"public"}, 200, 0}},
      {"POST /v1/projects", {{"organizer"}, 201, 403}},
      {"PATCH /v1/projects/{id}", {{"organizer"}, 412, 403}},
      {"DELETE /v1/projects/{id}", {{"organizer"}, 412, 403}},
      {"GET /v1/teams/{id}/projects", {{"public"}, 200, 0}},
      {"GET /v1/projects/{id}/assessment", {{"organizer"}, 200, 403}},
      {"GET /v1/projects/{id}/experts", {{"organizer"}, 200, 403}},
      {"PUT /v1/projects/{id}/experts/{person_id}", {{"organizer"}, 200, 403}},
      {"DELETE /v1/projects/{id}/experts/{person_id}", {{"organizer"}, 204, 403}},
      {"GET /v1/reviews", {{"organizer", "expert"}, 200, 0}},
      {"GET /v1/reviews/{id}", {{"organizer", "expert"}, 200, 404}},
      {"POST /v1/reviews", {{"organizer", "expert"}, 201, 403}},
      {"PATCH /v1/reviews/{id}", {{"organizer", "expert"}, 412, 404}},
      {"DELETE /v1/reviews/{id}", {{"organizer"}, 412, 404}},
      {"GET /v1/projects/{id}/reviews", {{"organizer", "expert"}, 200, 0}},
      {"GET /v1/awards", {{"public"}, 200, 0}},
      {"GET /v1/awards/{id}", {{"public"}, 200, 0}},
      {"POST /v1/awards", {{"organizer"}, 201, 403}},
      {"PATCH /v1/awards/{id}", {{"organizer"}, 412, 403}},
      {"DELETE /v1/awards/{id}", {{"organizer"}, 412, 403}},
      {"GET /v1/nominations", {{"public"}, 200, 0}},
      {"GET /v1/nominations/{id}", {{"public"}, 200, 0}},
      {"POST /v1/nominations", {{"organizer"}, 201, 403}},
      {"PATCH /v1/nominations/{id}", {{"organizer"}, 412, 403}},
      {"DELETE /v1/nominations/{id}", {{"organizer"}, 412, 403}},
      {"GET /v1/nominees", {{"public"}, 200, 0}},
      {"GET /v1/nominees/{id}", {{"public"}, 200, 0}},
      {"POST /v1/nominees", {{"organizer"}, 201, 403}},
      {"PATCH /v1/nominees/{id}", {{"organizer"}, 412, 403}},
      {"DELETE /v1/nominees/{id}", {{"organizer"}, 412, 403}},
      {"GET /v1/awards/{id}/nominations", {{"public"}, 200, 0}},
      {"GET /v1/awards/{id}/nominees", {{"public"}, 200, 0}},
      {"GET /v1/nominations/{id}/nominees", {{"public"}, 200, 0}},
      {"GET /v1/awards/{id}/laureates", {{"public"}, 200, 0}},
      // CSV exports: participants' data for the program's organisers; an award's nominees and
      // laureates for anyone (contacts only for those who may see them); results once voting
      // is over (the matrix's awards are still voting: 409).
      {"GET /v1/events/{id}/registrations.csv", {{"organizer"}, 200, 403}},
      {"GET /v1/events/{id}/attendance.csv", {{"organizer"}, 200, 403}},
      {"GET /v1/programs/{id}/teams.csv", {{"organizer"}, 200, 403}},
      {"GET /v1/awards/{id}/nominees.csv", {{"public"}, 200, 0}},
      {"GET /v1/awards/{id}/laureates.csv", {{"public"}, 200, 0}},
      {"GET /v1/awards/{id}/results.csv", {{"organizer"}, 409, 403}},
      {"POST /v1/awards/{id}/close", {{"organizer"}, 409, 403}},
      // No photo is uploaded in the matrix (and its PUT sends no image: 415 before any scope).
      {"PUT /v1/nominees/{id}/photo", {{"organizer"}, 415, 0}},
      {"GET /v1/nominees/{id}/photo", {{"public"}, 404, 0}},
      {"DELETE /v1/nominees/{id}/photo", {{"organizer"}, 404, 403}},
      {"POST /v1/awards/{id}/applications", {{"frontend"}, 201, 403}},
      // No status token given: 404, whoever asks.
      {"GET /v1/application-status", {{"public"}, 404, 0}},
      {"PATCH /v1/application-status", {{"public"}, 404, 0}},
      {"GET /v1/applications", {{"organizer"}, 200, 0}},
      {"GET /v1/applications/{id}", {{"organizer"}, 200, 404}},
      // The world's application is approved already: a decision on it is a conflict.
      {"POST /v1/applications/{id}/approve", {{"organizer"}, 409, 404}},
      {"POST /v1/applications/{id}/reject", {{"organizer"}, 409, 404}},
      {"POST /v1/applications/{id}/request-changes", {{"organizer"}, 409, 404}},
      {"GET /v1/awards/{id}/application-stats", {{"organizer"}, 200, 403}},
      {"GET /v1/sync/awards", {{"sync"}, 200, 0}},
      {"GET /v1/sync/awards/{id}", {{"sync"}, 200, 0}},
      {"GET /v1/sync/keys", {{"sync"}, 200, 0}},
      {"POST /v1/api-keys", {{}, 201, 0}},
      {"GET /v1/api-keys", {{}, 200, 0}},
      {"GET /v1/api-keys/{id}", {{}, 200, 0}},
      {"POST /v1/api-keys/{id}/revoke", {{}, 200, 0}},
      {"GET /v1/audit-events", {{}, 200, 0}},
      {"GET /v1/webhooks", {{"organizer", "frontend"}, 200, 0}},
      {"GET /v1/webhooks/{id}", {{"organizer", "frontend"}, 200, 404}},
      {"POST /v1/webhooks", {{"organizer", "frontend"}, 201, 403}},
      {"PATCH /v1/webhooks/{id}", {{"organizer", "frontend"}, 412, 404}},
      {"DELETE /v1/webhooks/{id}", {{"organizer", "frontend"}, 412, 404}},
      {"POST /v1/webhooks/{id}/rotate-secret", {{"organizer", "frontend"}, 200, 404}},
      {"GET /v1/webhooks/{id}/deliveries", {{"organizer", "frontend"}, 200, 404}},
      {"GET /v1/webhook-deliveries/{id}", {{"organizer", "frontend"}, 200, 404}},
      {"POST /v1/webhook-deliveries/{id}/redeliver", {{"organizer", "frontend"}, 409, 404}},
  };
  return kTable;
}

const std::vector<std::string> kRoles = {"public",   "admin",         "organizer", "expert",
                                         "frontend", "voting_client", "sync"};

std::string Str(int64_t id) { return std::to_string(id); }

// Everything one program holds, made by the admin.
struct World {
  std::string tag;
  int64_t program = 0, team = 0, member = 0, participant = 0, event = 0, session = 0;
  int64_t registration = 0, session_registration = 0, project = 0, expert = 0, review = 0,
          award = 0, nomination = 0;
  int64_t nominee = 0, webhook = 0, delivery = 0;  // delivery: of webhook, still pending
  int64_t application = 0;
  int64_t attendance = 0;  // the participant's check-in at the session
  std::string email, phone;
};

civic::test::ServiceOptions Faster() {
  civic::test::ServiceOptions options;
  // ~1,400 requests, most of them writes. Webhooks go to a closed loopback port: they stay
  // pending, retried.
  options.args = {"--synchronous", "normal", "--webhook-allow-hosts", "127.0.0.1"};
  return options;
}

struct Fixture {
  civic::test::Service service{civic::test::EventsApiBinary(), Faster()};
  std::unique_ptr<httplib::Client> admin = service.Client();
  int64_t city = 0, organization = 0;
  World own, other;
  std::map<std::string, std::string> tokens;  // role -> token ("" for public)
  int serial = 0;

  std::string Unique(const std::string& text) { return text + " " + Str(++serial); }

  int64_t NewPerson(const std::string& name) {
    return Create(*admin, "/v1/people", {{"name", Unique(name)}, {"city_id", city}})["id"];
  }

  World MakeWorld(const std::string& tag, const std::string& email, const std::string& phone) {
    World w;
    w.tag = tag;
    w.email = email;
    w.phone = phone;
    w.program = Create(*admin, "/v1/programs",
                       {{"title", "Программа " + tag},
                        {"kind", "accelerator"},
                        {"starts_on", "2026-09-01"},
                        {"review_criteria", {{{"name", "Польза"}, {"weight", 1}}}}})["id"];
    w.team = Create(*admin, "/v1/teams",
                    {{"name", "Команда " + tag},
                     {"city_id", city},
                     {"program_id", w.program},
                     {"status", "active"}})["id"];
    w.participant = Create(
        *admin, "/v1/people",
        {{"name", "Участник " + tag}, {"city_id", city}, {"email", email}, {"phone", phone}})["id"];
    w.member = Create(*admin, "/v1/team-members",
                      {{"team_id", w.team},
                       {"person_id", w.participant},
                       {"sector", "ngo"},
                       {"role", "member"}})["id"];
    w.webhook = Create(*admin, "/v1/webhooks", WebhookBody(w))["id"];
    w.event = Create(*admin, "/v1/events",
                     {{"kind", "rally"},
                      {"title", "Слёт " + tag},
                      {"program_id", w.program},
                      {"city_id", city},
                      {"format", "offline"},
                      {"starts_at", FromNow(std::chrono::hours(24 * 30))},
                      {"ends_at", FromNow(std::chrono::hours(24 * 31))},
                      {"capacity", 250},
                      {"status", "published"}})["id"];
    w.session = Create(*admin, "/v1/sessions", SessionBody(w))["id"];
    w.registration = Create(*admin, "/v1/events/" + Str(w.event) + "/registrations",
                            {{"person_id", w.participant}})["id"];
    w.session_registration = Create(*admin, "/v1/sessions/" + Str(w.session) + "/registrations",
                                    {{"person_id", w.participant}})["id"];
    w.attendance = Call(*admin, "POST", "/v1/registrations/" + Str(w.registration) + "/check-in",
                        {{"session_id", w.session}})
                       .body["attendance"]["id"];
    w.project =
        Create(*admin, "/v1/projects",
               {{"team_id", w.team}, {"title", "Проект " + tag}, {"status", "submitted"}})["id"];
    w.expert = NewPerson("Эксперт " + tag);
    Call(*admin, "PUT", "/v1/projects/" + Str(w.project) + "/experts/" + Str(w.expert));
    w.review = Create(
        *admin, "/v1/reviews",
        {{"project_id", w.project}, {"expert_id", w.expert}, {"scores", {{"Польза", 7}}}})["id"];
    w.award = Create(*admin, "/v1/awards",
                     {{"title", "Новые Созидатели " + tag},
                      {"edition_year", 2026},
                      {"program_id", w.program},
                      {"voting_opens_at", FromNow(std::chrono::hours(24 * 10))},
                      {"voting_closes_at", FromNow(std::chrono::hours(24 * 20))},
                      {"applications_open_at", FromNow(-std::chrono::hours(1))},
                      {"applications_close_at", FromNow(std::chrono::hours(24 * 5))},
                      {"results_visibility", "live"},
                      {"status", "published"}})["id"];
    w.nomination = Create(*admin, "/v1/nominations",
                          {{"award_id", w.award}, {"title", "Лидер изменений"}})["id"];
    w.nominee = Create(*admin, "/v1/nominees", NomineeBody(w))["id"];
    w.delivery = Call(*admin, "GET", "/v1/webhooks/" + Str(w.webhook) + "/deliveries")
                     .body["items"][0]["id"];
    w.application = Create(*admin, "/v1/awards/" + Str(w.award) + "/applications",
                           ApplicationBody(w))["application"]["id"];
    REQUIRE(Call(*admin, "POST", "/v1/applications/" + Str(w.application) + "/approve").status ==
            200);
    return w;
  }

  json SessionBody(const World& w) {
    return {{"event_id", w.event},
            {"kind", "master_class"},
            {"title", Unique("Мастер-класс")},
            {"starts_at", FromNow(std::chrono::hours(24 * 30 + 2))},
            {"ends_at", FromNow(std::chrono::hours(24 * 30 + 3))}};
  }
  json WebhookBody(const World& w) {
    return {{"url", "http://127.0.0.1:9/hooks"},
            {"event_types", {"registration.created"}},
            {"program_id", w.program}};
  }
  json ApplicationBody(const World& w) {
    const std::string title = Unique("Сквер у школы");
    return {{"nomination_id", w.nomination},
            {"kind", "project"},
            {"project_title", title},
            {"name", title},
            {"city_id", city},
            {"applicant", {{"name", "Заявитель"}, {"email", "applicant@example.net"}}},
            {"consent", {{"publication", true}, {"text", "Согласен на публикацию"}}}};
  }
  json NomineeBody(const World& w) {
    const std::string title = Unique("Зелёный двор");
    return {{"nomination_id", w.nomination},
            {"kind", "project"},
            {"project_title", title},
            {"name", title},
            {"city_id", city}};
  }

  // A valid body for a creation route, in world `w` (a key of another program gets 403).
  json CreateBody(const std::string& pattern, const World& w, const std::string& role) {
    if (pattern == "/v1/cities") {
      return {{"name", Unique("Заречный")}, {"time_zone", "Europe/Moscow"}};
    }
    if (pattern == "/v1/organizations") {
      return {{"name", Unique("НКО")}, {"sector", "ngo"}};
    }
    if (pattern == "/v1/people") {
      return {{"name", Unique("Житель")}};
    }
    if (pattern == "/v1/programs") {
      return {{"title", Unique("Программа")}, {"kind", "forum"}, {"starts_on", "2026-12-01"}};
    }
    if (pattern == "/v1/teams") {
      return {{"name", Unique("Команда")},
              {"city_id", city},
              {"program_id", w.program},
              {"status", "forming"}};
    }
    if (pattern == "/v1/team-members") {
      return {{"team_id", w.team},
              {"person_id", NewPerson("Член команды")},
              {"sector", "business"},
              {"role", "member"}};
    }
    if (pattern == "/v1/events") {
      return {{"kind", "forum"},
              {"title", Unique("Форум")},
              {"program_id", w.program},
              {"city_id", city},
              {"format", "offline"},
              {"starts_at", FromNow(std::chrono::hours(24 * 50))},
              {"ends_at", FromNow(std::chrono::hours(24 * 51))},
              {"status", "draft"}};
    }
    if (pattern == "/v1/sessions") {
      return SessionBody(w);
    }
    if (pattern == "/v1/events/{id}/registrations") {
      return {{"person_id", NewPerson("Участник")}};
    }
    if (pattern == "/v1/events/{id}/team-registrations") {
      return {{"team_id", w.team}};
    }
    if (pattern == "/v1/sessions/{id}/registrations") {
      const int64_t person = NewPerson("Участник мастер-класса");
      Create(*admin, "/v1/events/" + Str(w.event) + "/registrations", {{"person_id", person}});
      return {{"person_id", person}};
    }
    if (pattern == "/v1/projects") {
      return {{"team_id", w.team}, {"title", Unique("Проект")}, {"status", "draft"}};
    }
    if (pattern == "/v1/reviews") {
      // A fresh project of w with an expert assigned: the expert key's own person in its own
      // world, w's expert otherwise.
      const int64_t project =
          Create(*admin, "/v1/projects",
                 {{"team_id", w.team}, {"title", Unique("Проект")}, {"status", "submitted"}})["id"];
      const int64_t expert = role == "expert" && w.tag == own.tag ? own.expert : w.expert;
      Call(*admin, "PUT", "/v1/projects/" + Str(project) + "/experts/" + Str(expert));
      return {{"project_id", project}, {"expert_id", expert}, {"scores", {{"Польза", 6}}}};
    }
    if (pattern == "/v1/awards") {
      return {{"title", Unique("Премия")},
              {"edition_year", 2027},
              {"program_id", w.program},
              {"voting_opens_at", FromNow(std::chrono::hours(24 * 10))},
              {"voting_closes_at", FromNow(std::chrono::hours(24 * 20))},
              {"results_visibility", "live"},
              {"status", "draft"}};
    }
    if (pattern == "/v1/nominations") {
      return {{"award_id", w.award}, {"title", Unique("Номинация")}};
    }
    if (pattern == "/v1/nominees") {
      return NomineeBody(w);
    }
    if (pattern == "/v1/webhooks") {
      return WebhookBody(w);
    }
    if (pattern == "/v1/awards/{id}/applications") {
      return ApplicationBody(w);
    }
    if (pattern == "/v1/api-keys") {
      return {{"name", Unique("ключ")}, {"role", "sync"}};
    }
    return nullptr;
  }

  // The path of `pattern` for world `w`'s objects.
  std::string PathFor(const std::string& pattern, const World& w, int64_t key_id) {
    static const std::map<std::string, int64_t World::*> kIds = {
        {"programs", &World::program},
        {"teams", &World::team},
        {"team-members", &World::member},
        {"people", &World::participant},
        {"events", &World::event},
        {"sessions", &World::session},
        {"registrations", &World::registration},
        {"session-registrations", &World::session_registration},
        {"projects", &World::project},
        {"reviews", &World::review},
        {"awards", &World::award},
        {"nominations", &World::nomination},
        {"nominees", &World::nominee},
        {"webhooks", &World::webhook},
        {"webhook-deliveries", &World::delivery},
        {"applications", &World::application},
        {"attendances", &World::attendance},
    };
    std::string path;
    std::string collection;
    size_t start = 1;
    while (start <= pattern.size()) {
      size_t end = pattern.find('/', start);
      if (end == std::string::npos) {
        end = pattern.size();
      }
      const std::string segment = pattern.substr(start, end - start);
      std::string value = segment;
      if (segment == "{id}") {
        if (collection == "cities") {
          value = Str(city);
        } else if (collection == "organizations") {
          value = Str(organization);
        } else if (collection == "api-keys") {
          value = Str(key_id);
        } else {
          value = Str(w.*kIds.at(collection));
        }
      } else if (segment == "{person_id}") {
        value = Str(w.expert);
      } else if (segment != "v1" && segment != "sync") {
        collection = segment;
      }
      path += "/" + value;
      start = end + 1;
    }
    return path;
  }
};

std::vector<std::pair<std::string, std::set<std::string>>> PrintedRoutes() {
  std::vector<std::pair<std::string, std::set<std::string>>> routes;
  const civic::test::CommandResult printed =
      civic::test::RunToEnd(civic::test::EventsApiBinary() + " --print-routes");
  REQUIRE(printed.exit_code == 0);
  std::istringstream lines(printed.output);
  std::string line;
  while (std::getline(lines, line)) {
    const json route = json::parse(line);
    std::set<std::string> roles;
    for (const auto& role : route["roles"]) {
      if (role != "admin") {
        roles.insert(role.get<std::string>());
      }
    }
    routes.emplace_back(
        route["method"].get<std::string>() + " " + route["pattern"].get<std::string>(), roles);
  }
  return routes;
}

}  // namespace

TEST_CASE("Access matrix: every route x every role x own and other scope answers as the table says",
          "[events][access][matrix]") {
  const auto routes = PrintedRoutes();
  REQUIRE(routes.size() > 80);
  std::set<std::string> printed;
  for (const auto& [route, roles] : routes) {
    printed.insert(route);
    INFO(route);
    REQUIRE(Table().count(route) == 1);  // a new route needs its row in Table()
    CHECK(roles == Table().at(route).roles);
  }
  for (const auto& [route, expect] : Table()) {
    INFO(route);
    CHECK(printed.count(route) == 1);  // a row whose route is gone
  }

  Fixture f;
  f.city = Create(*f.admin, "/v1/cities",
                  {{"name", "Новокузнецк"},
                   {"region", "Кемеровская область"},
                   {"time_zone", "Asia/Novokuznetsk"}})["id"];
  f.organization =
      Create(*f.admin, "/v1/organizations", {{"name", "РУСАЛ"}, {"sector", "business"}})["id"];
  f.own = f.MakeWorld("Новокузнецк", "own@example.org", "+79001110001");
  f.other = f.MakeWorld("Саров", "other@example.org", "+79002220002");
  auto key = [&](json body) {
    body["name"] = "ключ матрицы";
    return Create(*f.admin, "/v1/api-keys", body)["token"].get<std::string>();
  };
  f.tokens["public"] = "";
  f.tokens["admin"] = civic::test::kTestAdminKey;
  f.tokens["organizer"] = key({{"role", "organizer"}, {"program_ids", {f.own.program}}});
  f.tokens["expert"] = key({{"role", "expert"}, {"person_id", f.own.expert}});
  f.tokens["frontend"] = key({{"role", "frontend"}, {"program_ids", {f.own.program}}});
  f.tokens["voting_client"] = key({{"role", "voting_client"}, {"award_ids", {f.own.award}}});
  f.tokens["sync"] = key({{"role", "sync"}});
  std::map<std::string, std::unique_ptr<httplib::Client>> clients;
  for (const auto& role : kRoles) {
    clients[role] = f.service.ClientWithKey(f.tokens[role]);
  }

  int cells = 0;
  for (const auto& [route, expect] : Table()) {
    const std::string method = route.substr(0, route.find(' '));
    const std::string pattern = route.substr(route.find(' ') + 1);
    for (const auto& role : kRoles) {
      for (const World* world : {&f.own, &f.other}) {
        const bool own = world == &f.own;
        // A key to revoke, for the revoke route.
        const int64_t throwaway =
            pattern == "/v1/api-keys/{id}/revoke" || pattern == "/v1/api-keys/{id}"
                ? Create(*f.admin, "/v1/api-keys",
                         {{"name", f.Unique("ключ")}, {"role", "sync"}})["id"]
                      .get<int64_t>()
                : 0;
        const std::string path = f.PathFor(pattern, *world, throwaway);
        json body = nullptr;
        httplib::Headers headers;
        if (method == "POST" && pattern.find("{id}") == std::string::npos) {
          body = f.CreateBody(pattern, *world, role);
        } else if (method == "POST" && (pattern == "/v1/events/{id}/registrations" ||
                                        pattern == "/v1/events/{id}/team-registrations" ||
                                        pattern == "/v1/sessions/{id}/registrations" ||
                                        pattern == "/v1/awards/{id}/applications")) {
          body = f.CreateBody(pattern, *world, role);
        } else if (method == "POST" && pattern == "/v1/registrations/{id}/check-in") {
          body = {{"session_id", world->session}};  // open to every participant: a walk-in
        } else if (method == "PATCH" ||
                   (method == "DELETE" && pattern.find("{person_id}") == std::string::npos)) {
          headers.emplace("If-Match", "\"0000000000000000\"");
          if (method == "PATCH") {
            body = json::object();
          }
        }

        // Expected: the route's roles first (public routes admit anyone), then the scope.
        const bool is_public_route = expect.roles.count("public") != 0;
        int expected = expect.ok;
        if (role == "public" && !is_public_route) {
          expected = 401;
        } else if (role != "admin" && role != "public" && !is_public_route &&
                   expect.roles.count(role) == 0) {
          expected = 403;
        } else if (!own && role != "admin" && expect.other != 0 && !is_public_route) {
          expected = expect.other;
        } else if (own && role == "frontend" && OwnedByTheirKey().count(route) != 0) {
          expected = 404;
        }

        const auto reply = Call(*clients[role], method, path, body, headers);
        INFO(route << " as " << role << " on " << (own ? "its own" : "another")
                   << " program's object: " << path << " -> " << reply.body.dump());
        CHECK(reply.status == expected);
        if (reply.status == 401) {
          CHECK(reply.Header("WWW-Authenticate").rfind("Bearer", 0) == 0);
        }
        // No answer but an admin's holds the other program's contacts; a public one none.
        if (role != "admin") {
          const std::string text = reply.body.dump();
          CHECK(text.find(f.other.email) == std::string::npos);
          CHECK(text.find(f.other.phone) == std::string::npos);
          if (role != "organizer") {
            CHECK(text.find(f.own.email) == std::string::npos);
            CHECK(text.find(f.own.phone) == std::string::npos);
          }
        }
        if (pattern == "/v1/projects/{id}/experts/{person_id}" && method == "DELETE") {
          Call(*f.admin, "PUT", path);  // the assignment back, for the next cells
        }
        ++cells;
      }
    }
  }
  CHECK(cells == static_cast<int>(Table().size() * kRoles.size() * 2));
}
