// Access control of the events API (docs/security.md): API keys and their life cycle, what each
// role reads and writes, contacts, and the audit trail. Places and numbers from the seeds (the
// Novokuznetsk rally, seed 002; the «Добрые города» program, seed 000); people are invented.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::FromNow;
using civic::test::Has;
using civic::test::Sha256Hex;
using nlohmann::json;

namespace {

std::string Path(const std::string& base, int64_t id, const std::string& tail = "") {
  return base + "/" + std::to_string(id) + tail;
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// One program's world: a published event with a registered participant (with contacts), a team.
struct ProgramWorld {
  int64_t program = 0;
  int64_t event = 0;
  int64_t person = 0;
  int64_t registration = 0;
  std::string email;
  std::string phone;
};

struct Platform {
  civic::test::Service service{civic::test::EventsApiBinary()};
  std::unique_ptr<httplib::Client> admin = service.Client();
  std::unique_ptr<httplib::Client> anonymous = service.ClientWithKey("");
  int64_t novokuznetsk = 0;

  Platform() {
    novokuznetsk = Create(*admin, "/v1/cities",
                          {{"name", "Новокузнецк"},
                           {"region", "Кемеровская область"},
                           {"time_zone", "Asia/Novokuznetsk"}})["id"];
  }

  ProgramWorld World(const std::string& title, const std::string& participant,
                     const std::string& email, const std::string& phone) {
    ProgramWorld w;
    w.email = email;
    w.phone = phone;
    w.program = Create(*admin, "/v1/programs",
                       {{"title", title}, {"kind", "forum"}, {"starts_on", "2026-12-01"}})["id"];
    w.event = Create(*admin, "/v1/events",
                     {{"kind", "rally"},
                      {"title", "Слёт: " + title},
                      {"program_id", w.program},
                      {"city_id", novokuznetsk},
                      {"format", "offline"},
                      {"starts_at", FromNow(std::chrono::hours(24 * 30))},
                      {"ends_at", FromNow(std::chrono::hours(24 * 31))},
                      {"capacity", 250},
                      {"status", "published"}})["id"];
    w.person = Create(*admin, "/v1/people",
                      {{"name", participant},
                       {"city_id", novokuznetsk},
                       {"email", email},
                       {"phone", phone}})["id"];
    w.registration = Create(*admin, Path("/v1/events", w.event, "/registrations"),
                            {{"person_id", w.person}})["id"];
    return w;
  }

  // A new key with `body` (name, role, scope); returns the creation's answer (with the token).
  json Key(json body) {
    if (!body.contains("name")) {
      body["name"] = "ключ " + body["role"].get<std::string>();
    }
    return Create(*admin, "/v1/api-keys", body);
  }

  std::unique_ptr<httplib::Client> As(const json& key) {
    return service.ClientWithKey(key["token"].get<std::string>());
  }
};

}  // namespace

TEST_CASE("Access: an admin makes keys, shown once and stored only as a hash", "[events][access]") {
  Platform p;
  const auto rally =
      p.World("Люди для города", "Арина Тестова", "arina@example.org", "+79001112233");

  auto refused = Call(*p.anonymous, "POST", "/v1/api-keys", {{"name", "x"}, {"role", "admin"}});
  CHECK(refused.status == 401);
  CHECK(refused.Header("WWW-Authenticate").rfind("Bearer", 0) == 0);

  auto created = Call(
      *p.admin, "POST", "/v1/api-keys",
      {{"name", "Организаторы слёта"}, {"role", "organizer"}, {"program_ids", {rally.program}}});
  REQUIRE(created.status == 201);
  const std::string token = created.body["token"];
  CHECK(token.rfind("civ_", 0) == 0);
  CHECK(token.size() == 36);  // "civ_" and 24 random bytes in base64url
  CHECK(created.body["prefix"] == token.substr(0, 12));
  CHECK(created.body["role"] == "organizer");
  CHECK(created.body["program_ids"] == json::array({rally.program}));
  CHECK(created.Header("Cache-Control") == "no-store");
  CHECK(created.Header("Location") == Path("/v1/api-keys", created.body["id"]));
  CHECK_FALSE(created.body.contains("token_hash"));

  // Never shown again: not by id, not in the list.
  auto shown = Call(*p.admin, "GET", Path("/v1/api-keys", created.body["id"]));
  REQUIRE(shown.status == 200);
  CHECK_FALSE(shown.body.contains("token"));
  CHECK(shown.body["prefix"] == created.body["prefix"]);
  auto listed = Call(*p.admin, "GET", "/v1/api-keys?role=organizer");
  REQUIRE(listed.status == 200);
  REQUIRE(listed.body["items"].size() == 1);
  CHECK(listed.body["items"][0].dump().find(token) == std::string::npos);

  // Stored as its SHA-256 only: the token itself is nowhere in the database files.
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2((p.service.data_dir() + "/events.db").c_str(), &db,
                            SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT token_hash FROM api_keys", -1, &statement, nullptr) ==
            SQLITE_OK);
    REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0))) ==
          Sha256Hex(token));
    sqlite3_finalize(statement);
    sqlite3_close(db);
  }
  for (const char* file : {"/events.db", "/events.db-wal"}) {
    CHECK(FileBytes(p.service.data_dir() + file).find(token) == std::string::npos);
  }

  // The key works for its role, and is not an admin's.
  auto organizer = p.service.ClientWithKey(token);
  CHECK(Call(*organizer, "GET", Path("/v1/events", rally.event, "/registrations")).status == 200);
  auto not_admin = Call(*organizer, "POST", "/v1/api-keys", {{"name", "x"}, {"role", "admin"}});
  CHECK(not_admin.status == 403);
  CHECK(not_admin.body["detail"].get<std::string>().find("admin") != std::string::npos);
  auto used = Call(*p.admin, "GET", Path("/v1/api-keys", created.body["id"]));
  CHECK_FALSE(used.body["last_used_at"].is_null());

  // Scopes follow the role: each missing or misplaced member is named.
  auto no_programs = Call(*p.admin, "POST", "/v1/api-keys", {{"name", "x"}, {"role", "organizer"}});
  CHECK(no_programs.status == 422);
  CHECK(Has(ErrorFields(no_programs), "program_ids"));
  auto expert = Call(*p.admin, "POST", "/v1/api-keys", {{"name", "x"}, {"role", "expert"}});
  CHECK(Has(ErrorFields(expert), "person_id"));
  auto voting = Call(*p.admin, "POST", "/v1/api-keys",
                     {{"name", "x"}, {"role", "voting_client"}, {"program_ids", {rally.program}}});
  CHECK(Has(ErrorFields(voting), "award_ids"));
  CHECK(Has(ErrorFields(voting), "program_ids"));
  auto unknown_role = Call(*p.admin, "POST", "/v1/api-keys", {{"name", "x"}, {"role", "root"}});
  CHECK(Has(ErrorFields(unknown_role), "role"));
  auto missing_program = Call(*p.admin, "POST", "/v1/api-keys",
                              {{"name", "x"}, {"role", "frontend"}, {"program_ids", {999}}});
  CHECK(Has(ErrorFields(missing_program), "program_ids[0]"));
  auto past = Call(*p.admin, "POST", "/v1/api-keys",
                   {{"name", "x"}, {"role", "sync"}, {"expires_at", "2020-01-01T00:00:00Z"}});
  CHECK(Has(ErrorFields(past), "expires_at"));
  CHECK(Call(*p.admin, "GET", "/v1/api-keys?role=sync").body["items"].empty());
}

TEST_CASE("Access: a key's scope names each program and award once, a repeat is a 422",
          "[events][access]") {
  Platform p;
  const auto rally =
      p.World("Люди для города", "Арина Тестова", "arina@example.org", "+79001112233");
  const auto other =
      p.World("Добрые города", "Борис Примеров", "boris@example.org", "+79004445566");
  const auto twice = Call(*p.admin, "POST", "/v1/api-keys",
                          {{"name", "x"},
                           {"role", "organizer"},
                           {"program_ids", {rally.program, other.program, rally.program}}});
  CHECK(twice.status == 422);
  CHECK(ErrorFields(twice) == std::vector<std::string>{"program_ids[2]"});
  // Nothing was stored.
  CHECK(Call(*p.admin, "GET", "/v1/api-keys?role=organizer").body["items"].empty());
  const auto once =
      Call(*p.admin, "POST", "/v1/api-keys",
           {{"name", "x"}, {"role", "organizer"}, {"program_ids", {rally.program, other.program}}});
  CHECK(once.status == 201);
}

TEST_CASE("Access: a revoked or expired key is refused at once, a bad header too",
          "[events][access]") {
  Platform p;
  const auto rally =
      p.World("Люди для города", "Арина Тестова", "arina@example.org", "+79001112233");
  const json key = p.Key({{"role", "organizer"}, {"program_ids", {rally.program}}});
  auto organizer = p.As(key);
  CHECK(Call(*organizer, "GET", "/v1/registrations").status == 200);

  auto revoked = Call(*p.admin, "POST", Path("/v1/api-keys", key["id"], "/revoke"));
  REQUIRE(revoked.status == 200);
  CHECK_FALSE(revoked.body["revoked_at"].is_null());
  // Revoking again changes nothing.
  auto again = Call(*p.admin, "POST", Path("/v1/api-keys", key["id"], "/revoke"));
  CHECK(again.status == 200);
  CHECK(again.body["revoked_at"] == revoked.body["revoked_at"]);
  for (const std::string path : {"/v1/registrations", "/v1/cities"}) {
    auto reply = Call(*organizer, "GET", path);
    CHECK(reply.status == 401);
    CHECK(reply.body["detail"].get<std::string>().find("revoked") != std::string::npos);
    CHECK(reply.Header("WWW-Authenticate").find("invalid_token") != std::string::npos);
  }
  CHECK(Call(*p.admin, "GET", "/v1/api-keys?revoked=true").body["items"].size() == 1);
  CHECK(Call(*p.admin, "GET", "/v1/api-keys?revoked=false").body["items"].empty());

  const json brief = p.Key({{"role", "organizer"},
                            {"program_ids", {rally.program}},
                            {"expires_at", FromNow(std::chrono::seconds(2))}});
  auto short_lived = p.As(brief);
  CHECK(Call(*short_lived, "GET", "/v1/registrations").status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  auto expired = Call(*short_lived, "GET", "/v1/registrations");
  CHECK(expired.status == 401);
  CHECK(expired.body["detail"].get<std::string>().find("expired") != std::string::npos);

  // An unknown key is refused even where none is needed; so is another scheme.
  auto unknown = p.service.ClientWithKey("civ_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  CHECK(Call(*unknown, "GET", "/v1/cities").status == 401);
  auto basic = Call(*p.anonymous, "GET", "/v1/cities", nullptr,
                    {{"Authorization", "Basic YWRtaW46YWRtaW4="}});
  CHECK(basic.status == 401);
  CHECK(Call(*p.anonymous, "GET", "/v1/cities").status == 200);
  CHECK(Call(*p.anonymous, "GET", "/v1/registrations").status == 401);
}

TEST_CASE("Access: a missing or refused key is a 401 before the body is read", "[events][access]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto anyone = service.ClientWithKey("");
  auto stranger = service.ClientWithKey("civ_not-a-key-of-ours-0123456789abcdef");
  const auto post = [](httplib::Client& client, const std::string& path, const std::string& body,
                       const std::string& type) {
    auto r = client.Post(path, body, type);
    REQUIRE(r);
    return std::make_pair(r->status, r->get_header_value("WWW-Authenticate"));
  };
  // Malformed JSON, another media type, an empty body: whoever may not call the route learns
  // nothing about them, only that a key is needed (or refused).
  for (const auto& [body, type] : std::vector<std::pair<std::string, std::string>>{
           {"{bad", "application/json"}, {"name=1", "text/plain"}, {"", "application/json"}}) {
    INFO(body << " " << type);
    const auto [missing, missing_challenge] = post(*anyone, "/v1/cities", body, type);
    CHECK(missing == 401);
    CHECK(missing_challenge.rfind("Bearer", 0) == 0);
    const auto [refused, refused_challenge] = post(*stranger, "/v1/cities", body, type);
    CHECK(refused == 401);
    CHECK(refused_challenge.find("invalid_token") != std::string::npos);
  }
  // With a valid key the body is read as before; a route the public may call reads it without
  // a key, but a refused key is still a 401.
  CHECK(post(*service.Client(), "/v1/cities", "{bad", "application/json").first == 400);
  CHECK(post(*anyone, "/v1/awards/1/applications", "{bad", "application/json").first == 401);
  auto patch = anyone->Patch("/v1/application-status", "{bad", "application/json");
  REQUIRE(patch);
  CHECK(patch->status == 400);
  patch = stranger->Patch("/v1/application-status", "{bad", "application/json");
  REQUIRE(patch);
  CHECK(patch->status == 401);
}

TEST_CASE("Access: contacts reach admins and the organisers of the person's programs only",
          "[events][access][privacy]") {
  Platform p;
  const auto rally =
      p.World("Люди для города", "Арина Тестова", "arina@example.org", "+79001112233");
  const auto other =
      p.World("Добрые города", "Борис Примеров", "boris@example.org", "+79004445566");
  auto own = p.As(p.Key({{"role", "organizer"}, {"program_ids", {rally.program}}}));
  auto foreign = p.As(p.Key({{"role", "organizer"}, {"program_ids", {other.program}}}));
  auto frontend = p.As(p.Key({{"role", "frontend"}, {"program_ids", {rally.program}}}));

  auto by_admin = Call(*p.admin, "GET", Path("/v1/people", rally.person));
  CHECK(by_admin.body["email"] == rally.email);
  CHECK(by_admin.body["phone"] == rally.phone);
  auto by_own = Call(*own, "GET", Path("/v1/people", rally.person));
  CHECK(by_own.body["email"] == rally.email);
  auto by_foreign = Call(*foreign, "GET", Path("/v1/people", rally.person));
  REQUIRE(by_foreign.status == 200);
  CHECK_FALSE(by_foreign.body.contains("email"));
  CHECK_FALSE(by_foreign.body.contains("phone"));
  CHECK(by_foreign.body["has_email"] == true);
  CHECK(Call(*p.anonymous, "GET", Path("/v1/people", rally.person)).status == 401);
  CHECK(Call(*frontend, "GET", Path("/v1/people", rally.person)).status == 403);

  // Lists: each organiser sees the contacts of its own participants only.
  auto people = Call(*foreign, "GET", "/v1/people?limit=100");
  REQUIRE(people.status == 200);
  const std::string text = people.body.dump();
  CHECK(text.find(rally.email) == std::string::npos);
  CHECK(text.find(rally.phone) == std::string::npos);
  CHECK(text.find(other.email) != std::string::npos);

  // Participant lists: the own program's only; another program's list holds nothing.
  auto own_list = Call(*own, "GET", Path("/v1/events", rally.event, "/registrations"));
  CHECK(own_list.body["items"].size() == 1);
  auto foreign_list = Call(*foreign, "GET", Path("/v1/events", rally.event, "/registrations"));
  REQUIRE(foreign_list.status == 200);
  CHECK(foreign_list.body["items"].empty());
  CHECK(Call(*p.anonymous, "GET", Path("/v1/events", rally.event, "/registrations")).status == 401);
  CHECK(Call(*foreign, "GET", Path("/v1/registrations", rally.registration)).status == 404);

  // An organiser changes the contacts of its own participants only.
  auto patched = Call(*own, "PATCH", Path("/v1/people", rally.person), {{"phone", "+79007778899"}});
  CHECK(patched.status == 200);
  CHECK(patched.body["phone"] == "+79007778899");
  auto not_theirs =
      Call(*foreign, "PATCH", Path("/v1/people", rally.person), {{"phone", "+70000000000"}});
  CHECK(not_theirs.status == 403);
  CHECK(Call(*p.admin, "GET", Path("/v1/people", rally.person)).body["phone"] == "+79007778899");
}

TEST_CASE("Access: an organiser creating a person gets the contacts back, as its next GET shows",
          "[events][access][privacy]") {
  Platform p;
  const auto rally =
      p.World("Люди для города", "Арина Тестова", "arina@example.org", "+79001112233");
  auto own = p.As(p.Key({{"role", "organizer"}, {"program_ids", {rally.program}}}));
  const auto created = Call(*own, "POST", "/v1/people",
                            {{"name", "Вера Соседова"},
                             {"city_id", p.novokuznetsk},
                             {"email", "vera@example.org"},
                             {"phone", "+79005550011"}});
  REQUIRE(created.status == 201);
  CHECK(created.body["email"] == "vera@example.org");
  CHECK(created.body["phone"] == "+79005550011");
  const auto read = Call(*own, "GET", created.Header("Location"));
  REQUIRE(read.status == 200);
  CHECK(read.body == created.body);
  CHECK(read.Header("ETag") == created.Header("ETag"));
}

TEST_CASE("Access: a link an organiser makes alone does not give it the person's contacts",
          "[events][access][privacy]") {
  Platform p;
  const auto rally =
      p.World("Люди для города", "Арина Тестова", "arina@example.org", "+79001112233");
  const auto other =
      p.World("Добрые города", "Борис Примеров", "boris@example.org", "+79004445566");
  auto own = p.As(p.Key({{"role", "organizer"}, {"program_ids", {rally.program}}}));
  auto foreign = p.As(p.Key({{"role", "organizer"}, {"program_ids", {other.program}}}));
  auto foreign_frontend = p.As(p.Key({{"role", "frontend"}, {"program_ids", {other.program}}}));
  const std::string arina = Path("/v1/people", rally.person);
  auto sees_contacts = [&](httplib::Client& client, const std::string& person) {
    const auto reply = Call(client, "GET", person);
    REQUIRE(reply.status == 200);
    return reply.body.contains("email") || reply.body.contains("phone");
  };
  REQUIRE_FALSE(sees_contacts(*foreign, arina));

  // The foreign organiser nominates Arina in a draft award of its own, makes her a team member
  // and registers her for its event: each is allowed, none gives it her contacts.
  const int64_t award = Create(*foreign, "/v1/awards",
                               {{"title", "Новые Созидатели"},
                                {"edition_year", 2027},
                                {"program_id", other.program},
                                {"voting_opens_at", FromNow(std::chrono::hours(24 * 40))},
                                {"voting_closes_at", FromNow(std::chrono::hours(24 * 50))}})["id"];
  const int64_t nomination =
      Create(*foreign, "/v1/nominations", {{"award_id", award}, {"title", "Соседи"}})["id"];
  REQUIRE(Call(*foreign, "POST", "/v1/nominees",
               {{"nomination_id", nomination},
                {"kind", "person"},
                {"person_id", rally.person},
                {"name", "Арина Тестова"},
                {"city_id", p.novokuznetsk}})
              .status == 201);
  const int64_t team = Create(*foreign, "/v1/teams",
                              {{"name", "Команда Новокузнецка"},
                               {"program_id", other.program},
                               {"city_id", p.novokuznetsk},
                               {"status", "active"}})["id"];
  REQUIRE(
      Call(*foreign, "POST", "/v1/team-members",
           {{"team_id", team}, {"person_id", rally.person}, {"sector", "ngo"}, {"role", "member"}})
          .status == 201);
  REQUIRE(Call(*foreign, "POST", Path("/v1/events", other.event, "/registrations"),
               {{"person_id", rally.person}})
              .status == 201);
  CHECK_FALSE(sees_contacts(*foreign, arina));
  const std::string listed =
      Call(*foreign, "GET", Path("/v1/events", other.event, "/registrations?expand=person"))
          .body.dump();
  CHECK(listed.find(rally.email) == std::string::npos);
  CHECK(listed.find(rally.phone) == std::string::npos);
  // Nor may it change her, or give her calendar to whoever has a link.
  CHECK(Call(*foreign, "PATCH", arina, {{"phone", "+70000000000"}}).status == 403);
  CHECK(Call(*foreign, "POST", arina + "/calendar-feed", json::object()).status == 403);
  CHECK(Call(*p.admin, "GET", arina).body["phone"] == rally.phone);
  // Her own program's organiser still holds them.
  CHECK(sees_contacts(*own, arina));

  // A person the organiser's program was given (made with its key, or through its frontend)
  // is its own; an admin's link gives the program the contacts too.
  const int64_t made = Create(*foreign, "/v1/people",
                              {{"name", "Вера Соседова"},
                               {"city_id", p.novokuznetsk},
                               {"email", "vera@example.org"}})["id"];
  CHECK(sees_contacts(*foreign, Path("/v1/people", made)));
  CHECK_FALSE(sees_contacts(*own, Path("/v1/people", made)));
  const int64_t signed_up = Create(
      *foreign_frontend, "/v1/people",
      {{"name", "Глеб Жителев"}, {"city_id", p.novokuznetsk}, {"phone", "+79005550011"}})["id"];
  CHECK(sees_contacts(*foreign, Path("/v1/people", signed_up)));
  REQUIRE(Call(*p.admin, "POST", Path("/v1/events", rally.event, "/registrations"),
               {{"person_id", made}})
              .status == 201);
  CHECK(sees_contacts(*own, Path("/v1/people", made)));
}

TEST_CASE("Access: organisers write in their programs only, frontends register and cancel",
          "[events][access]") {
  Platform p;
  const auto rally =
      p.World("Люди для города", "Арина Тестова", "arina@example.org", "+79001112233");
  const auto other =
      p.World("Добрые города", "Борис Примеров", "boris@example.org", "+79004445566");
  auto organizer = p.As(p.Key({{"role", "organizer"}, {"program_ids", {rally.program}}}));
  auto frontend = p.As(p.Key({{"role", "frontend"}, {"program_ids", {rally.program}}}));

  json session = {{"event_id", rally.event},
                  {"kind", "master_class"},
                  {"title", "Соседские сообщества"},
                  {"starts_at", FromNow(std::chrono::hours(24 * 30 + 2))},
                  {"ends_at", FromNow(std::chrono::hours(24 * 30 + 3))}};
  CHECK(Call(*organizer, "POST", "/v1/sessions", session).status == 201);
  session["event_id"] = other.event;
  auto foreign_session = Call(*organizer, "POST", "/v1/sessions", session);
  CHECK(foreign_session.status == 403);
  CHECK(foreign_session.body["detail"].get<std::string>().find("program") != std::string::npos);

  // Moving an own event into another program is refused; a foreign event is not changed.
  auto moved =
      Call(*organizer, "PATCH", Path("/v1/events", rally.event), {{"program_id", other.program}});
  CHECK(moved.status == 403);
  CHECK(Call(*organizer, "PATCH", Path("/v1/events", other.event), {{"venue", "Кузбасс-Арена"}})
            .status == 403);
  CHECK(Call(*p.admin, "GET", Path("/v1/events", other.event)).body["venue"] == "");

  // A draft of another program does not exist for the organiser.
  const int64_t draft = Create(*p.admin, "/v1/events",
                               {{"kind", "school"},
                                {"title", "Школа ТОС"},
                                {"program_id", other.program},
                                {"city_id", p.novokuznetsk},
                                {"format", "offline"},
                                {"starts_at", FromNow(std::chrono::hours(24 * 40))},
                                {"ends_at", FromNow(std::chrono::hours(24 * 41))},
                                {"status", "draft"}})["id"];
  CHECK(Call(*organizer, "GET", Path("/v1/events", draft)).status == 404);
  CHECK(Call(*organizer, "PATCH", Path("/v1/events", draft), {{"venue", "x"}}).status == 404);
  CHECK(Call(*p.anonymous, "GET", Path("/v1/events", draft)).status == 404);
  const auto published = Call(*p.anonymous, "GET", "/v1/events?limit=100");
  REQUIRE(published.status == 200);
  for (const auto& item : published.body["items"]) {
    CHECK(item["id"] != draft);
  }

  // The frontend signs a resident up for its program's event and cancels; nothing else.
  const int64_t resident = Create(*frontend, "/v1/people", {{"name", "Вера Жителева"}})["id"];
  auto registered = Call(*frontend, "POST", Path("/v1/events", rally.event, "/registrations"),
                         {{"person_id", resident}});
  REQUIRE(registered.status == 201);
  CHECK(Call(*frontend, "GET", Path("/v1/registrations", registered.body["id"])).status == 200);
  CHECK(Call(*frontend, "POST", Path("/v1/events", other.event, "/registrations"),
             {{"person_id", resident}})
            .status == 403);
  CHECK(Call(*frontend, "GET", Path("/v1/registrations", other.registration)).status == 404);
  CHECK(Call(*frontend, "GET", "/v1/registrations").status == 403);
  CHECK(Call(*frontend, "POST", Path("/v1/registrations", registered.body["id"], "/check-in"))
            .status == 403);
  auto cancelled = Call(*frontend, "DELETE", Path("/v1/registrations", registered.body["id"]));
  CHECK(cancelled.status == 200);
  CHECK(cancelled.body["status"] == "cancelled");
  CHECK(Call(*frontend, "POST", "/v1/events", {{"title", "x"}}).status == 403);
}

TEST_CASE("Access: an expert reads the projects assigned to it and writes only its own reviews",
          "[events][access]") {
  Platform p;
  const auto program = Create(*p.admin, "/v1/programs",
                              {{"title", "Добрые города"},
                               {"kind", "accelerator"},
                               {"starts_on", "2026-09-01"},
                               {"review_criteria", {{{"name", "Польза"}, {"weight", 1}}}}})["id"];
  const int64_t team = Create(*p.admin, "/v1/teams",
                              {{"name", "Команда Новокузнецка"},
                               {"city_id", p.novokuznetsk},
                               {"program_id", program},
                               {"status", "active"}})["id"];
  auto project = [&](const std::string& title, const std::string& status) {
    return Create(*p.admin, "/v1/projects",
                  {{"team_id", team}, {"title", title}, {"status", status}})["id"]
        .get<int64_t>();
  };
  const int64_t assigned = project("Зелёный двор", "submitted");
  const int64_t assigned_draft = project("Двор мечты", "draft");
  const int64_t unassigned = project("Тёплый подъезд", "submitted");
  const int64_t unassigned_draft = project("Чистый берег", "draft");
  const int64_t expert_person = Create(*p.admin, "/v1/people", {{"name", "Эксперт Оценкин"}})["id"];
  const int64_t colleague = Create(*p.admin, "/v1/people", {{"name", "Эксперт Второй"}})["id"];
  auto organizer = p.As(p.Key({{"role", "organizer"}, {"program_ids", {program}}}));
  const auto assign = [&](int64_t project_id, int64_t person) {
    return Call(*organizer, "PUT",
                Path("/v1/projects", project_id, "/experts/") + std::to_string(person))
        .status;
  };
  CHECK(assign(assigned, expert_person) == 201);
  CHECK(assign(assigned, expert_person) == 200);
  CHECK(assign(assigned, colleague) == 201);
  CHECK(assign(assigned_draft, expert_person) == 201);
  auto experts = Call(*organizer, "GET", Path("/v1/projects", assigned, "/experts"));
  REQUIRE(experts.status == 200);
  CHECK(experts.body["items"].size() == 2);

  // A draft is read by the experts assigned to it, and by no one else without a key.
  auto expert = p.As(p.Key({{"role", "expert"}, {"person_id", expert_person}}));
  CHECK(Call(*expert, "GET", Path("/v1/projects", assigned_draft)).status == 200);
  CHECK(Call(*expert, "GET", Path("/v1/projects", unassigned_draft)).status == 404);
  CHECK(Call(*p.anonymous, "GET", Path("/v1/projects", assigned_draft)).status == 404);
  std::set<int64_t> listed;
  const auto projects = Call(*expert, "GET", "/v1/projects");
  REQUIRE(projects.status == 200);
  for (const auto& item : projects.body["items"]) {
    listed.insert(item["id"].get<int64_t>());
  }
  CHECK(listed == std::set<int64_t>{assigned, assigned_draft, unassigned});

  const json scores = {{"Польза", 8}};
  CHECK(Call(*expert, "POST", "/v1/reviews",
             {{"project_id", unassigned}, {"expert_id", expert_person}, {"scores", scores}})
            .status == 403);
  CHECK(Call(*expert, "POST", "/v1/reviews",
             {{"project_id", assigned}, {"expert_id", colleague}, {"scores", scores}})
            .status == 403);
  auto own = Call(*expert, "POST", "/v1/reviews",
                  {{"project_id", assigned}, {"expert_id", expert_person}, {"scores", scores}});
  REQUIRE(own.status == 201);
  const int64_t theirs = Create(
      *p.admin, "/v1/reviews",
      {{"project_id", assigned}, {"expert_id", colleague}, {"scores", {{"Польза", 5}}}})["id"];
  CHECK(Call(*expert, "PATCH", Path("/v1/reviews", own.body["id"]), {{"comment", "Сильный"}})
            .status == 200);
  CHECK(Call(*expert, "GET", Path("/v1/reviews", theirs)).status == 404);
  CHECK(Call(*expert, "PATCH", Path("/v1/reviews", theirs), {{"comment", "x"}}).status == 404);
  CHECK(Call(*expert, "GET", Path("/v1/projects", assigned, "/reviews")).body["items"].size() == 1);
  CHECK(Call(*expert, "DELETE", Path("/v1/reviews", own.body["id"])).status == 403);
  CHECK(Call(*expert, "GET", Path("/v1/projects", assigned, "/assessment")).status == 403);
  CHECK(Call(*organizer, "GET", Path("/v1/projects", assigned, "/reviews")).body["items"].size() ==
        2);
}

TEST_CASE("Audit: each write with a key leaves one record with what changed, reads leave none",
          "[events][access][audit]") {
  Platform p;
  const auto rally =
      p.World("Люди для города", "Арина Тестова", "arina@example.org", "+79001112233");
  auto count = [&] {
    return Call(*p.admin, "GET", "/v1/audit-events?limit=100").body["items"].size();
  };
  const size_t before = count();
  CHECK(before >= 5);  // the world's city, program, event, person and registration

  // Create, change, delete a city: three records, with the fields before and after.
  const int64_t city = Create(*p.admin, "/v1/cities",
                              {{"name", "Заречный"},
                               {"region", "Пензенская область"},
                               {"time_zone", "Europe/Moscow"}})["id"];
  CHECK(Call(*p.admin, "PATCH", Path("/v1/cities", city), {{"population", 61000}}).status == 200);
  CHECK(Call(*p.admin, "GET", Path("/v1/cities", city)).status == 200);  // a read: no record
  CHECK(Call(*p.admin, "DELETE", Path("/v1/cities", city)).status == 204);
  auto trail =
      Call(*p.admin, "GET", "/v1/audit-events?object_type=city&object_id=" + std::to_string(city));
  REQUIRE(trail.status == 200);
  REQUIRE(trail.body["items"].size() == 3);
  const json& created = trail.body["items"][0];
  CHECK(created["method"] == "POST");
  CHECK(created["route"] == "/v1/cities");
  CHECK(created["status"] == 201);
  CHECK(created["role"] == "admin");
  CHECK(created["key_prefix"] == std::string(civic::test::kTestAdminKey).substr(0, 12));
  CHECK(created["changes"]["name"]["before"].is_null());
  CHECK(created["changes"]["name"]["after"] == "Заречный");
  const json& changed = trail.body["items"][1];
  CHECK(changed["method"] == "PATCH");
  CHECK(changed["changes"].size() == 1);
  CHECK(changed["changes"]["population"]["before"].is_null());
  CHECK(changed["changes"]["population"]["after"] == 61000);
  const json& deleted = trail.body["items"][2];
  CHECK(deleted["status"] == 204);
  CHECK(deleted["changes"]["name"]["before"] == "Заречный");
  CHECK(deleted["changes"]["name"]["after"].is_null());
  CHECK(count() == before + 3);

  // Contacts are redacted; the change is still seen.
  CHECK(Call(*p.admin, "PATCH", Path("/v1/people", rally.person), {{"email", "new@example.org"}})
            .status == 200);
  auto person =
      Call(*p.admin, "GET",
           "/v1/audit-events?object_type=person&object_id=" + std::to_string(rally.person));
  const std::string person_text = person.body.dump();
  CHECK(person_text.find("example.org") == std::string::npos);
  CHECK(person_text.find("+7900") == std::string::npos);
  CHECK(person.body["items"].back()["changes"]["email"]["after"] == "[redacted]");

  // A refused write is recorded with its status; a key's token never is.
  const json key = p.Key({{"role", "organizer"}, {"program_ids", {rally.program}}});
  auto organizer = p.As(key);
  CHECK(Call(*organizer, "POST", "/v1/cities", {{"name", "x"}}).status == 403);
  auto by_key = Call(*p.admin, "GET", "/v1/audit-events?key_id=" + key["id"].dump());
  REQUIRE(by_key.body["items"].size() == 1);
  CHECK(by_key.body["items"][0]["status"] == 403);
  CHECK(by_key.body["items"][0]["object_type"] == "city");
  auto keys = Call(*p.admin, "GET", "/v1/audit-events?object_type=api_key");
  REQUIRE(keys.body["items"].size() == 1);
  CHECK(keys.body["items"][0].dump().find(key["token"].get<std::string>()) == std::string::npos);
  CHECK(keys.body["items"][0]["changes"]["prefix"]["after"] == key["prefix"]);

  // Registration and cancellation; time filters; only admins read the trail.
  CHECK(Call(*organizer, "DELETE", Path("/v1/registrations", rally.registration)).status == 200);
  auto cancel = Call(
      *p.admin, "GET",
      "/v1/audit-events?object_type=registration&object_id=" + std::to_string(rally.registration));
  REQUIRE(cancel.body["items"].size() == 2);
  CHECK(cancel.body["items"][1]["changes"]["status"]["before"] == "confirmed");
  CHECK(cancel.body["items"][1]["changes"]["status"]["after"] == "cancelled");
  CHECK(Call(*p.admin, "GET", "/v1/audit-events?since=" + FromNow(std::chrono::hours(1)))
            .body["items"]
            .empty());
  CHECK(Call(*organizer, "GET", "/v1/audit-events").status == 403);
  CHECK(Call(*p.anonymous, "GET", "/v1/audit-events").status == 401);
}
