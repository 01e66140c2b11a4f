// Public applications for award nominations: a frontend's key submits with the applicant's
// consent, the applicant follows the status with a token, organisers moderate (approve, reject
// with a reason, ask for changes), duplicates are flagged, the numbers count by status and city.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::FromNow;
using civic::test::Has;
using civic::test::JsonReply;
using nlohmann::json;

namespace {

struct Program {
  civic::test::Service service{civic::test::EventsApiBinary()};
  std::unique_ptr<httplib::Client> admin = service.Client();
  int64_t program = 0, penza = 0, sverdlovsk = 0, award = 0, leaders = 0, keepers = 0;
  std::string frontend, organizer;

  explicit Program(bool window_open = true) {
    program = Create(
        *admin, "/v1/programs",
        {{"title", "Новые Созидатели"}, {"kind", "award"}, {"starts_on", "2026-09-01"}})["id"];
    penza = Create(*admin, "/v1/cities",
                   {{"name", "Заречный"},
                    {"region", "Пензенская область"},
                    {"time_zone", "Europe/Moscow"}})["id"];
    sverdlovsk = Create(*admin, "/v1/cities",
                        {{"name", "Заречный"},
                         {"region", "Свердловская область"},
                         {"time_zone", "Asia/Yekaterinburg"}})["id"];
    award = Create(*admin, "/v1/awards",
                   {{"title", "Новые Созидатели"},
                    {"edition_year", 2026},
                    {"program_id", program},
                    {"applications_open_at",
                     FromNow(window_open ? -std::chrono::hours(1) : std::chrono::hours(1))},
                    {"applications_close_at", FromNow(std::chrono::hours(24))},
                    {"voting_opens_at", FromNow(std::chrono::hours(48))},
                    {"voting_closes_at", FromNow(std::chrono::hours(96))},
                    {"status", "published"}})["id"];
    leaders = Create(*admin, "/v1/nominations",
                     {{"award_id", award}, {"title", "Лидер изменений"}})["id"];
    keepers = Create(*admin, "/v1/nominations",
                     {{"award_id", award}, {"title", "Хранитель традиций"}})["id"];
    frontend = Create(
        *admin, "/v1/api-keys",
        {{"name", "городской портал"}, {"role", "frontend"}, {"program_ids", {program}}})["token"];
    organizer = Create(
        *admin, "/v1/api-keys",
        {{"name", "оргкомитет"}, {"role", "organizer"}, {"program_ids", {program}}})["token"];
  }

  json Body(int64_t nomination, const std::string& name, int64_t city) const {
    return {{"nomination_id", nomination},
            {"kind", "person"},
            {"name", name},
            {"city_id", city},
            {"summary", "Организовала субботники во всех дворах"},
            {"links", {"https://zarechny.example/news/1"}},
            {"applicant", {{"name", "Мария Соседова"}, {"email", "maria@example.net"}}},
            {"consent", {{"publication", true}, {"text", "Согласна на публикацию карточки"}}}};
  }
  JsonReply Apply(const json& body) {
    auto client = service.ClientWithKey(frontend);
    return Call(*client, "POST", "/v1/awards/" + std::to_string(award) + "/applications", body);
  }
  JsonReply Status(const std::string& token) {
    auto client = service.ClientWithKey("");
    return Call(*client, "GET", "/v1/application-status", nullptr, {{"Application-Token", token}});
  }
};

}  // namespace

TEST_CASE("Applications: a frontend submits with consent, the applicant follows by token only",
          "[events][awards][applications]") {
  Program p;
  const JsonReply applied = p.Apply(p.Body(p.leaders, "Анна Дворова", p.penza));
  REQUIRE(applied.status == 201);
  const std::string token = applied.body["status_token"];
  CHECK(token.rfind("apl_", 0) == 0);
  CHECK(token.size() >= 40);
  CHECK(applied.body["application"]["status"] == "submitted");
  CHECK(applied.body.dump().find("maria@example.net") == std::string::npos);
  // The token is shown once: no cache may keep the answer that holds it.
  CHECK(applied.Header("Cache-Control") == "no-store");
  const int64_t id = applied.body["application"]["id"];

  // The token alone shows the status, never the contact; a wrong token is a 404.
  const JsonReply status = p.Status(token);
  REQUIRE(status.status == 200);
  CHECK(status.body["status"] == "submitted");
  CHECK(status.body["id"] == id);
  CHECK(status.body.dump().find("maria@example.net") == std::string::npos);
  CHECK(p.Status(token + "x").status == 404);
  CHECK(p.Status("apl_" + std::string(43, 'A')).status == 404);

  // A retry with an Idempotency-Key is not replayed from storage (that would keep the token):
  // it is another application, flagged as a duplicate.
  auto frontend = p.service.ClientWithKey(p.frontend);
  const JsonReply retried =
      Call(*frontend, "POST", "/v1/awards/" + std::to_string(p.award) + "/applications",
           p.Body(p.leaders, "Анна Дворова", p.penza), {{"Idempotency-Key", "retry-1"}});
  REQUIRE(retried.status == 201);
  CHECK(retried.body["status_token"] != token);
  CHECK(Call(*p.service.ClientWithKey(p.organizer), "GET", "/v1/applications/" + std::to_string(id))
            .body["duplicates"]["applications"] == json{retried.body["application"]["id"]});
  // Stored hashed: the database holds no token, in any table.
  const std::string db = p.service.data_dir() + "/events.db";
  const auto dump =
      civic::test::RunToEnd("sqlite3 -readonly " + db + " 'SELECT token_sha256 FROM applications'");
  CHECK(dump.output.find(token) == std::string::npos);
  CHECK(dump.output.find(civic::test::Sha256Hex(token)) != std::string::npos);

  // The organisers see the application with the applicant's contact and consent.
  auto organizer = p.service.ClientWithKey(p.organizer);
  const JsonReply seen = Call(*organizer, "GET", "/v1/applications/" + std::to_string(id));
  REQUIRE(seen.status == 200);
  CHECK(seen.body["applicant"]["email"] == "maria@example.net");
  CHECK(seen.body["consent"]["text"] == "Согласна на публикацию карточки");
  // The public and the frontend do not.
  CHECK(
      Call(*p.service.ClientWithKey(""), "GET", "/v1/applications/" + std::to_string(id)).status ==
      401);
  CHECK(Call(*p.service.ClientWithKey(p.frontend), "GET", "/v1/applications").status == 403);
}

TEST_CASE("Applications: bad input, no consent, a closed window or another program are refused",
          "[events][awards][applications]") {
  Program p;
  json body = p.Body(p.leaders, "Анна Дворова", p.penza);
  body["consent"]["publication"] = false;
  body["applicant"].erase("email");
  body["links"] = {"javascript:alert(1)"};
  const JsonReply bad = p.Apply(body);
  REQUIRE(bad.status == 422);
  const auto fields = ErrorFields(bad);
  CHECK(Has(fields, "consent.publication"));
  CHECK(Has(fields, "applicant.email"));
  CHECK(Has(fields, "links[0]"));
  json other_award = p.Body(p.leaders, "Анна Дворова", p.penza);
  const int64_t elsewhere = Create(*p.admin, "/v1/awards",
                                   {{"title", "Другая премия"},
                                    {"edition_year", 2026},
                                    {"voting_opens_at", FromNow(std::chrono::hours(48))},
                                    {"voting_closes_at", FromNow(std::chrono::hours(96))},
                                    {"status", "published"}})["id"];
  other_award["nomination_id"] =
      Create(*p.admin, "/v1/nominations", {{"award_id", elsewhere}, {"title", "Чужая"}})["id"];
  CHECK(Has(ErrorFields(p.Apply(other_award)), "nomination_id"));
  // A frontend of another program: 403; the award of no program takes none through it either.
  CHECK(Call(*p.service.ClientWithKey(p.frontend), "POST",
             "/v1/awards/" + std::to_string(elsewhere) + "/applications",
             p.Body(other_award["nomination_id"], "Анна Дворова", p.penza))
            .status == 403);
  // Nothing was stored.
  CHECK(Call(*p.admin, "GET", "/v1/applications").body["items"].empty());

  Program closed(false);
  const JsonReply early = closed.Apply(closed.Body(closed.leaders, "Анна Дворова", closed.penza));
  CHECK(early.status == 409);
  // The window must end by the opening of voting.
  const JsonReply late = Call(*p.admin, "PATCH", "/v1/awards/" + std::to_string(p.award),
                              {{"applications_close_at", FromNow(std::chrono::hours(50))}});
  CHECK(Has(ErrorFields(late), "applications_close_at"));
}

TEST_CASE(
    "Applications: moderation approves into a nominee, rejects with a reason, asks for "
    "changes, flags duplicates, audits each decision, counts by status and city",
    "[events][awards][applications][moderation]") {
  Program p;
  auto organizer = p.service.ClientWithKey(p.organizer);
  const auto apply = [&](int64_t nomination, const std::string& name, int64_t city) {
    const JsonReply r = p.Apply(p.Body(nomination, name, city));
    REQUIRE(r.status == 201);
    return std::make_pair(r.body["application"]["id"].get<int64_t>(),
                          r.body["status_token"].get<std::string>());
  };
  const auto [anna, anna_token] = apply(p.leaders, "Анна Дворова", p.penza);
  const auto [anna_again, anna_again_token] = apply(p.leaders, "анна дворова", p.penza);
  const auto [anna_elsewhere, unused1] = apply(p.leaders, "Анна Дворова", p.sverdlovsk);
  const auto [boris, boris_token] = apply(p.keepers, "Борис Липин", p.sverdlovsk);
  (void)unused1;

  // The same person in the same nomination (one city) is flagged, both ways; a namesake of the
  // other Заречный is not.
  const JsonReply first = Call(*organizer, "GET", "/v1/applications/" + std::to_string(anna));
  CHECK(first.body["duplicates"]["applications"] == json{anna_again});
  const JsonReply listed =
      Call(*organizer, "GET",
           "/v1/applications?nomination_id=" + std::to_string(p.leaders) + "&status=submitted");
  REQUIRE(listed.status == 200);
  REQUIRE(listed.body["items"].size() == 3);
  for (const json& item : listed.body["items"]) {
    if (item["id"] == anna_elsewhere) {
      CHECK(item["duplicates"]["applications"].empty());
    }
  }

  // Approve: the candidate becomes a nominee (and a person), with the card.
  const JsonReply approved =
      Call(*organizer, "POST", "/v1/applications/" + std::to_string(anna) + "/approve");
  REQUIRE(approved.status == 200);
  CHECK(approved.body["status"] == "approved");
  const int64_t nominee = approved.body["nominee_id"];
  const JsonReply card = Call(*p.admin, "GET", "/v1/nominees/" + std::to_string(nominee));
  CHECK(card.body["name"] == "Анна Дворова");
  CHECK(card.body["summary"] == "Организовала субботники во всех дворах");
  CHECK(card.body["nomination_id"] == p.leaders);
  CHECK(card.body["person_id"].is_number_integer());
  // The application names the person the approval created (the nominee's).
  CHECK(approved.body["person_id"] == card.body["person_id"]);
  CHECK(Call(*organizer, "GET", "/v1/applications/" + std::to_string(anna)).body["person_id"] ==
        card.body["person_id"]);
  CHECK(p.Status(anna_token).body["nominee_id"] == nominee);
  // The duplicate now points at the nominee too, for the moderator to see.
  const JsonReply dup = Call(*organizer, "GET", "/v1/applications/" + std::to_string(anna_again));
  CHECK(dup.body["duplicates"]["nominees"] == json{nominee});
  // A decision is final.
  CHECK(Call(*organizer, "POST", "/v1/applications/" + std::to_string(anna) + "/reject",
             {{"reason", "поздно"}})
            .status == 409);

  // Reject needs a reason; the applicant sees it.
  CHECK(Has(ErrorFields(Call(*organizer, "POST",
                             "/v1/applications/" + std::to_string(anna_again) + "/reject")),
            "reason"));
  REQUIRE(Call(*organizer, "POST", "/v1/applications/" + std::to_string(anna_again) + "/reject",
               {{"reason", "Повторная заявка: Анна уже номинирована"}})
              .status == 200);
  const JsonReply rejected = p.Status(anna_again_token);
  CHECK(rejected.body["status"] == "rejected");
  CHECK(rejected.body["reason"] == "Повторная заявка: Анна уже номинирована");

  // Ask for changes: the applicant changes the card with the token, and it is submitted again.
  REQUIRE(Call(*organizer, "POST", "/v1/applications/" + std::to_string(boris) + "/request-changes",
               {{"reason", "Добавьте краткое описание"}})
              .status == 200);
  auto anyone = p.service.ClientWithKey("");
  const JsonReply changed =
      Call(*anyone, "PATCH", "/v1/application-status", {{"summary", "Восстановил народный хор"}},
           {{"Application-Token", boris_token}});
  REQUIRE(changed.status == 200);
  CHECK(changed.body["status"] == "submitted");
  CHECK(Call(*anyone, "PATCH", "/v1/application-status", {{"summary", "ещё раз"}},
             {{"Application-Token", boris_token}})
            .status == 409);
  CHECK(Call(*organizer, "GET", "/v1/applications/" + std::to_string(boris)).body["summary"] ==
        "Восстановил народный хор");

  // Every decision is in the audit trail.
  const JsonReply audit =
      Call(*p.admin, "GET", "/v1/audit-events?object_type=application&limit=100");
  REQUIRE(audit.status == 200);
  int decisions = 0;
  for (const json& record : audit.body["items"]) {
    if (record["route"].get<std::string>().find("/v1/applications/{id}/") == 0 &&
        record["status"] == 200) {
      ++decisions;
    }
  }
  CHECK(decisions == 3);  // approve, reject, request-changes
  // Refused decisions are recorded against the application too: the 409 of a second decision
  // on Анна's, the 422 of a rejection without a reason of the other.
  const auto refusals = [&](int64_t id) {
    std::vector<int> statuses;
    const JsonReply records =
        Call(*p.admin, "GET",
             "/v1/audit-events?object_type=application&object_id=" + std::to_string(id));
    REQUIRE(records.status == 200);
    for (const json& record : records.body["items"]) {
      if (record["status"].get<int>() >= 400) {
        statuses.push_back(record["status"]);
      }
    }
    return statuses;
  };
  CHECK(refusals(anna) == std::vector<int>{409});
  CHECK(refusals(anna_again) == std::vector<int>{422});
  // The applicant's contact is redacted there, as a person's.
  const JsonReply submitted =
      Call(*p.admin, "GET",
           "/v1/audit-events?object_type=application&object_id=" + std::to_string(anna));
  CHECK(submitted.body.dump().find("maria@example.net") == std::string::npos);
  CHECK(submitted.body.dump().find("[redacted]") != std::string::npos);

  // Numbers: by status and by city (the two Заречный apart), per award and nomination.
  const JsonReply numbers =
      Call(*organizer, "GET", "/v1/awards/" + std::to_string(p.award) + "/application-stats");
  REQUIRE(numbers.status == 200);
  CHECK(numbers.body["total"] == 4);
  CHECK(numbers.body["by_status"] ==
        json{{"submitted", 2}, {"changes_requested", 0}, {"approved", 1}, {"rejected", 1}});
  REQUIRE(numbers.body["by_city"].size() == 2);
  CHECK(numbers.body["by_city"][0]["city"] ==
        json{{"id", p.penza}, {"name", "Заречный"}, {"region", "Пензенская область"}});
  CHECK(numbers.body["by_city"][0]["applications"] == 2);
  CHECK(numbers.body["by_city"][1]["city"]["region"] == "Свердловская область");
  CHECK(numbers.body["by_city"][1]["applications"] == 2);
  REQUIRE(numbers.body["nominations"].size() == 2);
  CHECK(numbers.body["nominations"][0]["nomination_id"] == p.leaders);
  CHECK(numbers.body["nominations"][0]["total"] == 3);
  CHECK(numbers.body["nominations"][1]["by_status"]["submitted"] == 1);
  CHECK(Call(*p.service.ClientWithKey(p.frontend), "GET",
             "/v1/awards/" + std::to_string(p.award) + "/application-stats")
            .status == 403);
}

TEST_CASE("Applications: duplicates are flagged in any case and grammatical form of the name",
          "[events][awards][applications][duplicates]") {
  Program p;
  auto organizer = p.service.ClientWithKey(p.organizer);
  const auto apply = [&](const std::string& name, int64_t city) {
    const JsonReply r = p.Apply(p.Body(p.leaders, name, city));
    REQUIRE(r.status == 201);
    return r.body["application"]["id"].get<int64_t>();
  };
  const auto duplicates = [&](int64_t id) {
    const JsonReply r = Call(*organizer, "GET", "/v1/applications/" + std::to_string(id));
    REQUIRE(r.status == 200);
    return r.body["duplicates"];
  };
  const int64_t vera = apply("Вера Соседова", p.penza);
  const int64_t dative = apply("Вере Соседовой", p.penza);
  const int64_t shouted = apply("ВЕРА СОСЕДОВОЙ", p.penza);
  const int64_t spaced = apply("Вёра  Соседова", p.penza);
  const int64_t other_city = apply("Вера Соседова", p.sverdlovsk);
  const int64_t other_name = apply("Анна Соседова", p.penza);

  CHECK(duplicates(vera)["applications"] == json{dative, shouted, spaced});
  CHECK(duplicates(dative)["applications"] == json{vera, shouted, spaced});
  CHECK(duplicates(shouted)["applications"] == json{vera, dative, spaced});
  CHECK(duplicates(other_city)["applications"].empty());
  CHECK(duplicates(other_name)["applications"].empty());

  // Approved, the candidate is a nominee: the other forms point at it too.
  const JsonReply approved =
      Call(*organizer, "POST", "/v1/applications/" + std::to_string(vera) + "/approve");
  REQUIRE(approved.status == 200);
  CHECK(duplicates(dative)["nominees"] == json{approved.body["nominee_id"]});
  CHECK(duplicates(other_city)["nominees"].empty());
}

TEST_CASE(
    "Applications: a browser on another origin may send the status token and read the "
    "ballot sync header",
    "[events][applications][cors]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.ClientWithKey("");
  auto preflight = client->Options("/v1/application-status",
                                   {{"Origin", "https://zarechny.example"},
                                    {"Access-Control-Request-Method", "GET"},
                                    {"Access-Control-Request-Headers", "application-token"}});
  REQUIRE(preflight);
  CHECK(preflight->status == 204);
  CHECK(preflight->get_header_value("Access-Control-Allow-Headers").find("Application-Token") !=
        std::string::npos);
  auto status = client->Get("/v1/application-status", {{"Origin", "https://zarechny.example"}});
  REQUIRE(status);
  CHECK(status->status == 404);
  CHECK(status->get_header_value("Access-Control-Expose-Headers").find("X-Civic-Ballot-Sync") !=
        std::string::npos);
}
