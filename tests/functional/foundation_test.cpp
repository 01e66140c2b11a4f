// Both real binaries: start-up, flags, health, readiness, metrics, errors, shutdown.
#include <signal.h>
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "harness.hpp"

using civic::test::Service;
using civic::test::ServiceOptions;
using nlohmann::json;

namespace {

struct Binary {
  std::string name;
  std::string path;
  std::string env_prefix;
  std::string db_file;
};

std::vector<Binary> Binaries() {
  return {{"civic-events-api", civic::test::EventsApiBinary(), "CIVIC_EVENTS", "events.db"},
          {"civic-ballot", civic::test::BallotBinary(), "CIVIC_BALLOT", "ballot.db"}};
}

// Runs promtool on `text`; returns its exit code and fills `output`.
int Promtool(const std::string& text, std::string& output) {
  civic::test::TempDir dir;
  const std::string in = dir.path() + "/metrics.txt";
  std::ofstream(in) << text;
  const std::string cmd = "promtool check metrics < " + in + " 2>&1";
  civic::test::CommandResult result = civic::test::RunToEnd(cmd);
  output += result.output;
  return result.exit_code;
}

}  // namespace

TEST_CASE("Both services start on port 0, print where they listen and answer /healthz",
          "[foundation]") {
  for (const auto& binary : Binaries()) {
    INFO(binary.name);
    Service service(binary.path);
    REQUIRE(service.port() > 0);
    CHECK(service.Stdout().find(binary.name + " listening on http://127.0.0.1:") !=
          std::string::npos);
    auto client = service.Client();
    auto r = client->Get("/healthz");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(json::parse(r->body)["status"] == "ok");
    CHECK(std::filesystem::exists(service.data_dir() + "/" + binary.db_file));
  }
}

TEST_CASE("/readyz is 200 when storage is migrated and 503 with a reason when it is not",
          "[foundation][readiness]") {
  for (const auto& binary : Binaries()) {
    INFO(binary.name);
    Service service(binary.path);
    auto client = service.Client();
    auto r = client->Get("/readyz");
    REQUIRE(r);
    CHECK(r->status == 200);

    // Another binary moved the schema on: this one must say it is not ready, and why.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((service.data_dir() + "/" + binary.db_file).c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    r = client->Get("/readyz");
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(r->get_header_value("Content-Type") == "application/problem+json");
    CHECK(json::parse(r->body)["detail"].get<std::string>().find("999") != std::string::npos);
  }
}

TEST_CASE("/metrics is valid Prometheus text with the required families", "[foundation][metrics]") {
  for (const auto& binary : Binaries()) {
    INFO(binary.name);
    Service service(binary.path);
    auto client = service.Client();
    REQUIRE(client->Get("/healthz"));
    REQUIRE(client->Get("/no-such-route"));
    auto r = client->Get("/metrics");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    for (const char* family :
         {"civic_build_info{", "process_start_time_seconds ", "process_resident_memory_bytes ",
          "process_open_fds ",
          "http_requests_total{route=\"/healthz\",method=\"GET\",code=\"200\"}",
          "http_requests_total{route=\"unmatched\"", "http_request_duration_seconds_bucket{",
          "http_requests_in_flight "}) {
      INFO(family);
      CHECK(r->body.find(family) != std::string::npos);
    }
    std::string output;
    CHECK(Promtool(r->body, output) == 0);
    INFO(output);
    CHECK(output.empty());
  }
}

TEST_CASE("Unknown routes and wrong methods get problem+json from both services",
          "[foundation][errors]") {
  for (const auto& binary : Binaries()) {
    INFO(binary.name);
    Service service(binary.path);
    auto client = service.Client();
    auto r = client->Get("/v1/definitely-not-here");
    REQUIRE(r);
    CHECK(r->status == 404);
    CHECK(r->get_header_value("Content-Type") == "application/problem+json");
    CHECK(json::parse(r->body)["status"] == 404);
    r = client->Post("/healthz", "{}", "application/json");
    REQUIRE(r);
    CHECK(r->status == 405);
    CHECK(r->get_header_value("Allow") == "GET, HEAD, OPTIONS");
    CHECK(json::parse(r->body)["status"] == 405);
  }
}

TEST_CASE("A 404 or 405 does not repeat the path, which may hold a token", "[foundation][errors]") {
  constexpr const char* kSecret = "calf_Zk3rQ9sPpLx0aBcDeFgHiJkLmNoPqRsTuVwXyZ01234";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      // The feed route with a trailing slash matches nothing; POST to it is a wrong method.
      {civic::test::EventsApiBinary(),
       {"GET /v1/calendar-feeds/" + std::string(kSecret) + "/",
        "POST /v1/calendar-feeds/" + std::string(kSecret)}},
      {civic::test::BallotBinary(),
       {"GET /v1/receipts/" + std::string(kSecret) + "/",
        "DELETE /v1/receipts/" + std::string(kSecret)}}};
  for (const auto& [binary, requests] : cases) {
    Service service(binary);
    auto client = service.Client();
    for (const auto& request : requests) {
      INFO(binary << ": " << request);
      const size_t space = request.find(' ');
      const std::string method = request.substr(0, space);
      const std::string path = request.substr(space + 1);
      httplib::Request req;
      req.method = method;
      req.path = path;
      if (method == "POST") {
        req.body = "{}";
        req.set_header("Content-Type", "application/json");
      }
      const auto r = client->send(req);
      REQUIRE(r);
      CHECK(r->status == (method == "GET" ? 404 : 405));
      CHECK(r->get_header_value("Content-Type") == "application/problem+json");
      CHECK(r->body.find(kSecret) == std::string::npos);
      CHECK(r->body.find("/v1/") == std::string::npos);
    }
  }
}

TEST_CASE("A query parameter given twice is a 422 naming it, on both services",
          "[foundation][errors][query]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {civic::test::EventsApiBinary(), "/v1/cities?limit=1&sort=id&limit=500"},
      {civic::test::BallotBinary(), "/v1/awards/1/results?final=false&final=true"}};
  for (const auto& [binary, path] : cases) {
    INFO(binary << " " << path);
    Service service(binary);
    const auto r = service.Client()->Get(path);
    REQUIRE(r);
    CHECK(r->status == 422);
    CHECK(r->get_header_value("Content-Type") == "application/problem+json");
    const json body = json::parse(r->body);
    REQUIRE(body["errors"].size() == 1);
    CHECK(body["errors"][0]["field"] ==
          (path.find("limit") != std::string::npos ? "limit" : "final"));
    CHECK(body["errors"][0]["reason"] == "is given more than once");
  }
}

TEST_CASE("More than one Authorization header is a 400 on both services, in either order",
          "[foundation][errors][auth]") {
  const std::string admin = std::string("Bearer ") + civic::test::kTestAdminKey;
  const std::string other = "Bearer civ_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {admin, other}, {other, admin}, {admin, admin}};
  const auto check_refused = [](const httplib::Result& r) {
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->get_header_value("Content-Type") == "application/problem+json");
    CHECK(json::parse(r->body)["status"] == 400);
  };
  {
    // The events API: a city created with the admin key alone; with two keys, nothing is.
    Service service(civic::test::EventsApiBinary());
    auto client = service.ClientWithKey("");
    const std::string city = R"({"name":"Якутск","time_zone":"Asia/Yakutsk"})";
    const auto alone = client->Post("/v1/cities", httplib::Headers{{"Authorization", admin}}, city,
                                    "application/json");
    REQUIRE(alone);
    CHECK(alone->status == 201);
    for (const auto& [first, second] : pairs) {
      INFO("events API: " << first << " then " << second);
      check_refused(client->Post(
          "/v1/cities", httplib::Headers{{"Authorization", first}, {"Authorization", second}}, city,
          "application/json"));
    }
    const auto list = client->Get("/v1/cities", httplib::Headers{{"Authorization", admin}});
    REQUIRE(list);
    CHECK(json::parse(list->body)["items"].size() == 1);
  }
  {
    ServiceOptions options;
    options.env["CIVIC_BALLOT_ADMIN_KEY"] = civic::test::kTestAdminKey;
    Service service(civic::test::BallotBinary(), options);
    auto client = service.ClientWithKey("");
    const auto alone =
        client->Get("/v1/awards/1/results", httplib::Headers{{"Authorization", admin}});
    REQUIRE(alone);
    CHECK(alone->status != 400);
    for (const auto& [first, second] : pairs) {
      INFO("ballot: " << first << " then " << second);
      check_refused(
          client->Get("/v1/awards/1/results",
                      httplib::Headers{{"Authorization", first}, {"Authorization", second}}));
    }
  }
}

TEST_CASE("A JSON body declared in a charset other than utf-8 is a 415 on both services",
          "[foundation][errors][json]") {
  {
    Service service(civic::test::EventsApiBinary());
    auto client = service.Client();
    const std::string city = R"({"name":"Екатеринбург","time_zone":"Asia/Yekaterinburg"})";
    const auto latin1 = client->Post("/v1/cities", city, "application/json; charset=latin1");
    REQUIRE(latin1);
    CHECK(latin1->status == 415);
    CHECK(latin1->get_header_value("Content-Type") == "application/problem+json");
    const auto listed = client->Get("/v1/cities");
    REQUIRE(listed);
    CHECK(json::parse(listed->body)["items"].empty());
    const auto utf8 = client->Post("/v1/cities", city, "application/json; charset=UTF-8");
    REQUIRE(utf8);
    CHECK(utf8->status == 201);
  }
  {
    ServiceOptions options;
    options.env["CIVIC_BALLOT_CLIENT_KEY"] = civic::test::kTestAdminKey;
    Service service(civic::test::BallotBinary(), options);
    auto client = service.ClientWithKey(civic::test::kTestAdminKey);
    const auto vote = client->Post("/v1/awards/1/votes", R"({"voter_id":"v","choices":[]})",
                                   "application/json; charset=windows-1251");
    REQUIRE(vote);
    CHECK(vote->status == 415);
    CHECK(vote->get_header_value("Content-Type") == "application/problem+json");
  }
}

TEST_CASE("SIGTERM and SIGINT stop a service cleanly with exit code 0 and storage reopens",
          "[foundation][shutdown]") {
  for (const auto& binary : Binaries()) {
    for (const int sig : {SIGTERM, SIGINT}) {
      INFO(binary.name << " signal " << sig);
      civic::test::TempDir dir;
      ServiceOptions options;
      options.data_dir = dir.path();
      {
        Service service(binary.path, options);
        auto client = service.Client();
        REQUIRE(client->Get("/healthz"));
        CHECK(service.Signal(sig) == 0);
        CHECK(service.Stderr().find("stopped") != std::string::npos);
      }
      Service again(binary.path, options);
      auto client = again.Client();
      auto r = client->Get("/readyz");
      REQUIRE(r);
      CHECK(r->status == 200);
    }
  }
}

TEST_CASE("A wrong flag or environment value stops the process with a message naming it",
          "[foundation][config]") {
  for (const auto& binary : Binaries()) {
    INFO(binary.name);
    struct Case {
      std::vector<std::string> args;
      std::map<std::string, std::string> env;
      std::string named;
    };
    const std::vector<Case> cases = {
        {{"--port", "70000"}, {}, "--port"},
        {{"--port", "eighty"}, {}, "--port"},
        {{"--log-level", "loud"}, {}, "--log-level"},
        {{"--threads", "0"}, {}, "--threads"},
        {{"--host", "not-an-ip"}, {}, "--host"},
        {{"--no-such-flag"}, {}, "--no-such-flag"},
        {{}, {{binary.env_prefix + "_THREADS", "-3"}}, "--threads"},
        // An origin with a path would never match a browser's Origin header.
        {{"--cors-origins", "https://portal.example/app"}, {}, "--cors-origins"},
        {{}, {{binary.env_prefix + "_CORS_ORIGINS", "https://portal.example/"}}, "--cors-origins"},
    };
    for (const auto& c : cases) {
      INFO(c.named);
      ServiceOptions options;
      options.args = c.args;
      options.env = c.env;
      options.expect_listening = false;
      Service service(binary.path, options);
      CHECK(service.WaitExit() != 0);
      CHECK(service.Stderr().find(c.named) != std::string::npos);
    }
  }
}

TEST_CASE("CORS origins given are compared as browsers send them: scheme and host in lower case",
          "[foundation][config][cors]") {
  for (const auto& binary : Binaries()) {
    INFO(binary.name);
    ServiceOptions options;
    options.args = {"--cors-origins", "HTTPS://Portal.Example:443,http://Vote.Example:8080"};
    Service service(binary.path, options);
    auto client = service.Client();
    for (const char* origin : {"https://portal.example", "http://vote.example:8080"}) {
      INFO(origin);
      const auto r = client->Get("/healthz", {{"Origin", origin}});
      REQUIRE(r);
      CHECK(r->get_header_value("Access-Control-Allow-Origin") == origin);
    }
    const auto other = client->Get("/healthz", {{"Origin", "https://portal.example:8443"}});
    REQUIRE(other);
    CHECK_FALSE(other->has_header("Access-Control-Allow-Origin"));
  }
}

TEST_CASE("Settings come from the environment when no flag is given", "[foundation][config]") {
  ServiceOptions options;
  options.env = {{"CIVIC_EVENTS_LOG_LEVEL", "debug"}};
  Service service(civic::test::EventsApiBinary(), options);
  CHECK(service.Stderr().find(" debug ") != std::string::npos);
}

TEST_CASE("A data dir that cannot be created stops the process with the path in the message",
          "[foundation][config]") {
  civic::test::TempDir dir;
  const std::string file = dir.path() + "/a-file";
  std::ofstream(file) << "x";
  ServiceOptions options;
  options.data_dir = file + "/sub";
  options.expect_listening = false;
  Service service(civic::test::EventsApiBinary(), options);
  CHECK(service.WaitExit() != 0);
  CHECK(service.Stderr().find("--data-dir") != std::string::npos);
}

TEST_CASE("Both binaries print their flags and environment variables with --help, and exit 0",
          "[foundation][config]") {
  for (const auto& binary : Binaries()) {
    ServiceOptions options;
    options.args = {"--help"};
    options.expect_listening = false;
    Service service(binary.path, options);
    CHECK(service.WaitExit() == 0);
    CHECK(service.Stdout().find(binary.env_prefix + "_PORT") != std::string::npos);
  }
}

TEST_CASE("Both binaries print their version and commit with --version, and exit 0",
          "[foundation][config]") {
  for (const auto& binary : Binaries()) {
    INFO(binary.name);
    const civic::test::CommandResult result = civic::test::RunToEnd(binary.path + " --version");
    CHECK(result.exit_code == 0);
    // "civic-ballot 0.1.0 (commit 0123456789ab)", the same as the civic_build_info metric says.
    const std::regex line(binary.name + R"( \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,40}|unknown)\)\n)");
    CHECK(std::regex_match(result.output, line));
  }
}
