// Pure parts of the events API's access control: tokens, the read conditions each role gets,
// the audit trail's diff and object naming.
#include <catch2/catch.hpp>
#include <set>

#include "access/api_keys.hpp"
#include "access/audit.hpp"
#include "access/scope.hpp"

using civic::events::access::Caller;
using civic::events::access::Role;
using nlohmann::json;

TEST_CASE("API keys: a token is civ_ and 32 base64url characters, fresh each time",
          "[events][access]") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string token = civic::events::access::NewToken();
    REQUIRE(token.size() == 36);
    CHECK(token.rfind("civ_", 0) == 0);
    CHECK(token.find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4) ==
          std::string::npos);
    CHECK(seen.insert(token).second);
    CHECK(civic::events::access::TokenPrefix(token) == token.substr(0, 12));
  }
  // SHA-256 of "abc" (FIPS 180-2, appendix B.1).
  CHECK(civic::events::access::TokenHash("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("Access: each role reads the rows its scope gives", "[events][access]") {
  const civic::events::rest::RowAccess events{.program_sql = "program_id",
                                              .public_sql = "status <> 'draft'",
                                              .expert_sql = "",
                                              .frontend_reads = false,
                                              .frontend_own_sql = ""};
  Caller admin;
  admin.role = Role::kAdmin;
  CHECK(civic::events::access::ReadCondition(events, admin).sql.empty());

  Caller anyone;
  CHECK(civic::events::access::ReadCondition(events, anyone).sql == "(status <> 'draft')");

  Caller organizer;
  organizer.role = Role::kOrganizer;
  organizer.programs = {3, 5};
  CHECK(civic::events::access::ReadCondition(events, organizer).sql ==
        "(status <> 'draft') OR (program_id IN (3,5))");

  // A frontend reads its programs' rows only where the resource says so (registrations).
  Caller frontend;
  frontend.role = Role::kFrontend;
  frontend.programs = {3};
  CHECK(civic::events::access::ReadCondition(events, frontend).sql == "(status <> 'draft')");
  const civic::events::rest::RowAccess registrations{.program_sql = "program_of_event",
                                                     .public_sql = "0",
                                                     .expert_sql = "",
                                                     .frontend_reads = true,
                                                     .frontend_own_sql = ""};
  CHECK(civic::events::access::ReadCondition(registrations, frontend).sql ==
        "(program_of_event IN (3))");
  CHECK(civic::events::access::ReadCondition(registrations, anyone).sql == "0");
  // Where rows belong to a key (webhook subscriptions), a frontend reads only its own.
  frontend.key_id = 17;
  const civic::events::rest::RowAccess subscriptions{.program_sql = "program_id",
                                                     .public_sql = "0",
                                                     .expert_sql = "",
                                                     .frontend_reads = true,
                                                     .frontend_own_sql = "owner_key_id = ?"};
  const auto own = civic::events::access::ReadCondition(subscriptions, frontend);
  CHECK(own.sql == "(program_id IN (3) AND owner_key_id = ?)");
  REQUIRE(own.params.size() == 1);
  CHECK(own.params[0].second.second == 17);
  CHECK(civic::events::access::ReadCondition(subscriptions, organizer).sql ==
        "(program_id IN (3,5))");

  Caller expert;
  expert.role = Role::kExpert;
  expert.person_id = 42;
  const civic::events::rest::RowAccess reviews{.program_sql = "program_of_project",
                                               .public_sql = "0",
                                               .expert_sql = "expert_id = ?",
                                               .frontend_reads = false,
                                               .frontend_own_sql = ""};
  const auto condition = civic::events::access::ReadCondition(reviews, expert);
  CHECK(condition.sql == "(expert_id = ?)");
  REQUIRE(condition.params.size() == 1);
  CHECK(condition.params[0].second.second == 42);

  // Organisers and frontends write in their programs; an object of no program is admins' only.
  CHECK(civic::events::access::MayWriteIn(organizer, 5));
  CHECK_FALSE(civic::events::access::MayWriteIn(organizer, 4));
  CHECK_FALSE(civic::events::access::MayWriteIn(organizer, std::nullopt));
  CHECK(civic::events::access::MayWriteIn(admin, std::nullopt));
  CHECK_FALSE(civic::events::access::MayWriteIn(expert, 5));
}

TEST_CASE("Audit: the changes name each member that moved, contacts redacted", "[events][audit]") {
  const json before = {{"id", 7},
                       {"name", "Заречный"},
                       {"population", nullptr},
                       {"email", "a@example.org"},
                       {"updated_at", "2026-12-01T00:00:00.000Z"}};
  json after = before;
  after["population"] = 61000;
  after["email"] = "b@example.org";
  after["updated_at"] = "2026-12-02T00:00:00.000Z";
  const json changes = civic::events::audit::Changes(before, after);
  CHECK(changes.size() == 2);  // not id, name or updated_at
  CHECK(changes["population"] == json({{"before", nullptr}, {"after", 61000}}));
  CHECK(changes["email"] == json({{"before", "[redacted]"}, {"after", "[redacted]"}}));

  // A creation lists every member as new; a deletion every member as gone.
  const json created = civic::events::audit::Changes(nullptr, before);
  CHECK(created["name"] == json({{"before", nullptr}, {"after", "Заречный"}}));
  CHECK(created["population"] == json({{"before", nullptr}, {"after", nullptr}}));
  const json deleted = civic::events::audit::Changes(before, nullptr);
  CHECK(deleted["id"] == json({{"before", 7}, {"after", nullptr}}));
  CHECK_FALSE(deleted.contains("phone"));  // a member neither side has
}

TEST_CASE("Audit: a route's path names its object", "[events][audit]") {
  const auto object = [](const std::string& path) {
    civic::http::Request request;
    request.path = path;
    return civic::events::audit::ObjectOf(request);
  };
  CHECK(object("/v1/registrations/7/check-in") ==
        std::pair<std::string, std::optional<int64_t>>{"registration", 7});
  CHECK(object("/v1/events/3/registrations") ==
        std::pair<std::string, std::optional<int64_t>>{"registration", std::nullopt});
  CHECK(object("/v1/team-members/12") ==
        std::pair<std::string, std::optional<int64_t>>{"team_member", 12});
  CHECK(object("/v1/projects/5/experts/9") ==
        std::pair<std::string, std::optional<int64_t>>{"project_expert", 9});
  CHECK(object("/v1/api-keys/2/revoke") ==
        std::pair<std::string, std::optional<int64_t>>{"api_key", 2});
  CHECK(object("/v1/cities/abc").second == std::nullopt);
}
