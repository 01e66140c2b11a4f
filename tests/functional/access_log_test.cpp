// Request ids and the access log (issue #31): X-Request-Id taken from the caller when sane or
// made, echoed on every answer; one access log line per request on stdout, in text or JSON,
// with the route pattern and the key id but no token, voter id or query string; the id (and a
// traceparent) carried on the calls between the services.
#include <catch2/catch.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "ballot_fixture.hpp"
#include "events_api_helpers.hpp"

using civic::test::AdminAuth;
using civic::test::BallotOptions;
using civic::test::Call;
using civic::test::ClientAuth;
using civic::test::Create;
using civic::test::Eventually;
using civic::test::FakeEventsApi;
using civic::test::FromNow;
using civic::test::Service;
using civic::test::Str;
using nlohmann::json;

namespace {

constexpr const char* kTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

bool IsMadeId(const std::string& id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

httplib::Headers With(httplib::Headers headers, const std::string& name, const std::string& value) {
  headers.emplace(name, value);
  return headers;
}

// The access log lines a service wrote on stdout (text: those with " access "; JSON: objects
// whose type is "access", parsed; text lines as {"line": ...}).
std::vector<json> AccessLines(const Service& service) {
  std::vector<json> lines;
  std::istringstream in(service.Stdout());
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.front() == '{') {
      json doc = json::parse(line);
      if (doc.value("type", "") == "access") {
        lines.push_back(std::move(doc));
      }
    } else if (line.find(" access ") != std::string::npos) {
      lines.push_back({{"line", line}});
    }
  }
  return lines;
}

// The text access line whose request_id is `id`, or "".
std::string TextLineOf(const Service& service, const std::string& id) {
  for (const auto& line : AccessLines(service)) {
    if (line.contains("line") &&
        line["line"].get<std::string>().find(" request_id=" + id) != std::string::npos) {
      return line["line"];
    }
  }
  return "";
}

// The JSON access line whose request_id is `id`, or null.
json JsonLineOf(const Service& service, const std::string& id) {
  for (const auto& line : AccessLines(service)) {
    if (line.value("request_id", "") == id) {
      return line;
    }
  }
  return nullptr;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("Request ids: a sane X-Request-Id is echoed, a missing or unsafe one is replaced",
          "[access-log][request-id]") {
  FakeEventsApi fake;
  fake.Put(civic::test::SampleAward());
  Service ballot{civic::test::BallotBinary(), BallotOptions(fake.url())};
  auto client = ballot.Client();

  auto echoed = client->Get("/healthz", {{"X-Request-Id", "edge-7f3a:42"}});
  REQUIRE(echoed);
  CHECK(echoed->get_header_value("X-Request-Id") == "edge-7f3a:42");

  auto made = client->Get("/healthz");
  REQUIRE(made);
  CHECK(IsMadeId(made->get_header_value("X-Request-Id")));
  auto again = client->Get("/healthz");
  CHECK(again->get_header_value("X-Request-Id") != made->get_header_value("X-Request-Id"));

  for (const std::string& unsafe :
       {std::string(129, 'a'), std::string("two words"), std::string("quote\"d"),
        std::string("semi;colon"), std::string("кириллица")}) {
    auto replaced = client->Get("/healthz", {{"X-Request-Id", unsafe}});
    REQUIRE(replaced);
    CHECK(IsMadeId(replaced->get_header_value("X-Request-Id")));
  }

  // Errors carry it too: no route (404), a refused key (401), a body over the route's limit
  // refused before it is read (413).
  auto missing = client->Get("/v1/nowhere", {{"X-Request-Id", "req-404"}});
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(missing->get_header_value("X-Request-Id") == "req-404");
  auto refused = client->Post("/v1/awards/7/votes",
                              {{"X-Request-Id", "req-401"}, {"Authorization", "Bearer wrong"}},
                              "{}", "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 401);
  CHECK(refused->get_header_value("X-Request-Id") == "req-401");
  auto too_large = client->Post("/v1/awards/7/votes", With(ClientAuth(), "X-Request-Id", "req-413"),
                                std::string(20000, ' '), "application/json");
  REQUIRE(too_large);
  CHECK(too_large->status == 413);
  CHECK(too_large->get_header_value("X-Request-Id") == "req-413");

  // Browsers on other origins may read it. (The 413 ended its connection: a new client.)
  auto cors = ballot.Client()->Get("/healthz", {{"Origin", "https://city.example"}});
  REQUIRE(cors);
  CHECK(Contains(cors->get_header_value("Access-Control-Expose-Headers"), "X-Request-Id"));
  // The rate limit's fields too, which every answer near or over the limit carries.
  CHECK(Contains(cors->get_header_value("Access-Control-Expose-Headers"), "RateLimit, "));
  CHECK(Contains(cors->get_header_value("Access-Control-Expose-Headers"), "RateLimit-Policy"));

  // The events API alike.
  Service events{civic::test::EventsApiBinary()};
  auto api = events.Client();
  auto cities = api->Get("/v1/cities", {{"X-Request-Id", "events-req-1"}});
  REQUIRE(cities);
  CHECK(cities->status == 200);
  CHECK(cities->get_header_value("X-Request-Id") == "events-req-1");
  auto no_city = api->Get("/v1/cities/999999");
  REQUIRE(no_city);
  CHECK(no_city->status == 404);
  CHECK(IsMadeId(no_city->get_header_value("X-Request-Id")));
  auto events_cors = api->Get("/v1/cities", {{"Origin", "https://city.example"}});
  REQUIRE(events_cors);
  const std::string exposed = events_cors->get_header_value("Access-Control-Expose-Headers");
  CHECK(Contains(exposed, "RateLimit, "));
  CHECK(Contains(exposed, "RateLimit-Policy"));
}

TEST_CASE("Access log: a text line per request names the route, status, request id and key",
          "[access-log]") {
  FakeEventsApi fake;
  fake.Put(civic::test::SampleAward());
  Service ballot{civic::test::BallotBinary(), BallotOptions(fake.url())};
  auto client = ballot.Client();
  REQUIRE(civic::test::WaitForAward(*client, 7));

  auto vote =
      client->Post("/v1/awards/7/votes", With(ClientAuth(), "X-Request-Id", "vote-req-1"),
                   civic::test::VoteBody("voter-secret-4242", 31, 501).dump(), "application/json");
  REQUIRE(vote);
  REQUIRE(vote->status == 201);
  auto results = client->Get("/v1/awards/7/results?final=false",
                             With(AdminAuth(), "X-Request-Id", "results-req-1"));
  REQUIRE(results);
  REQUIRE(results->status == 200);
  auto unknown = client->Get("/v1/people/secret-name?phone=79990001122",
                             {{"X-Request-Id", "unmatched-req-1"}});
  REQUIRE(unknown);

  REQUIRE(Eventually([&] { return !TextLineOf(ballot, "unmatched-req-1").empty(); }));
  const std::string voted = TextLineOf(ballot, "vote-req-1");
  INFO(voted);
  CHECK(std::regex_search(
      voted, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z access civic-ballot: )"
                        R"(method=POST route=/v1/awards/\{award\}/votes status=201 )"
                        R"(duration_ms=\d+\.\d{3} bytes=\d+ request_id=vote-req-1 )"
                        R"(key=bootstrap:client$)")));
  const std::string read = TextLineOf(ballot, "results-req-1");
  CHECK(Contains(read, "method=GET route=/v1/awards/{award}/results status=200"));
  CHECK(Contains(read, "key=bootstrap:admin"));
  CHECK(Contains(read, Str("bytes=", results->body.size())));
  const std::string unmatched = TextLineOf(ballot, "unmatched-req-1");
  CHECK(Contains(unmatched, "route=unmatched status=404"));
  CHECK_FALSE(Contains(unmatched, " key="));

  // Nothing a caller must keep: no token, no voter id, no path or query string.
  const std::string all = ballot.Stdout() + ballot.Stderr();
  CHECK_FALSE(Contains(all, civic::test::kClientKey));
  CHECK_FALSE(Contains(all, civic::test::kAdminKey));
  CHECK_FALSE(Contains(all, "voter-secret-4242"));
  CHECK_FALSE(Contains(all, "final=false"));
  CHECK_FALSE(Contains(all, "secret-name"));
  CHECK_FALSE(Contains(all, "79990001122"));
}

TEST_CASE("Access log: TRACE is a 405 that names it, with Allow, and the log names it too",
          "[access-log]") {
  for (const std::string& binary : {civic::test::EventsApiBinary(), civic::test::BallotBinary()}) {
    INFO(binary);
    Service service(binary);
    auto client = service.Client();
    httplib::Request request;
    request.method = "TRACE";
    request.path = "/healthz";
    request.set_header("X-Request-Id", "trace-req-1");
    const auto r = client->send(request);
    REQUIRE(r);
    CHECK(r->status == 405);
    CHECK(r->get_header_value("Allow") == "GET, HEAD, OPTIONS");
    const json problem = json::parse(r->body);
    CHECK(Contains(problem["detail"], "TRACE is not allowed"));
    REQUIRE(Eventually([&] { return !TextLineOf(service, "trace-req-1").empty(); }));
    CHECK(Contains(TextLineOf(service, "trace-req-1"), "method=TRACE route=unmatched status=405"));
  }
}

TEST_CASE("Access log: with --log-format json every line is an object with the same fields",
          "[access-log]") {
  // The events API, with a managed key besides the bootstrap admin key.
  civic::test::ServiceOptions options;
  options.args = {"--log-format", "json"};
  Service events{civic::test::EventsApiBinary(), options};
  auto api = events.Client();
  const json key = Create(*api, "/v1/api-keys", {{"name", "ballot copy"}, {"role", "sync"}});
  const std::string token = key["token"];
  const int64_t key_id = key["id"];
  auto keyed = events.ClientWithKey(token);
  auto listed = keyed->Get("/v1/cities?q=Саров&limit=5",
                           {{"X-Request-Id", "list-req-1"}, {"traceparent", kTraceparent}});
  REQUIRE(listed);
  REQUIRE(listed->status == 200);
  auto created =
      Call(*api, "POST", "/v1/cities", {{"name", "Саров"}, {"time_zone", "Europe/Moscow"}},
           {{"X-Request-Id", "create-req-1"}, {"traceparent", "00-bad-trace"}});
  REQUIRE(created.status == 201);

  REQUIRE(Eventually([&] { return !JsonLineOf(events, "create-req-1").is_null(); }));
  const json list = JsonLineOf(events, "list-req-1");
  INFO(list.dump());
  CHECK(list["service"] == "civic-events-api");
  CHECK(list["method"] == "GET");
  CHECK(list["route"] == "/v1/cities");
  CHECK(list["status"] == 200);
  CHECK(list["duration_ms"].is_number());
  CHECK(list["bytes"] == listed->body.size());
  CHECK(list["key"] == std::to_string(key_id));
  CHECK(list["trace_id"] == kTraceId);
  CHECK(std::regex_match(list["time"].get<std::string>(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  const json create = JsonLineOf(events, "create-req-1");
  CHECK(create["route"] == "/v1/cities");
  CHECK(create["status"] == 201);
  CHECK(create["key"] == "bootstrap:admin");
  CHECK_FALSE(create.contains("trace_id"));  // an invalid traceparent is ignored

  // The service's own log lines on stderr are JSON objects too.
  std::istringstream err(events.Stderr());
  std::string line;
  int lines = 0;
  while (std::getline(err, line)) {
    const json doc = json::parse(line);
    CHECK(doc.contains("time"));
    CHECK(doc.contains("level"));
    CHECK(doc["service"] == "civic-events-api");
    CHECK(doc.contains("message"));
    ++lines;
  }
  CHECK(lines > 0);
  const std::string all = events.Stdout() + events.Stderr();
  CHECK_FALSE(Contains(all, token));
  CHECK_FALSE(Contains(all, civic::test::kTestAdminKey));
  CHECK_FALSE(Contains(all, "limit=5"));
}

TEST_CASE("Access log: with --log-format json standard output is JSON lines from the first",
          "[access-log]") {
  // Both services: the line saying where they listen is an object too (a JSON-lines shipper
  // reading stdout must not stop at the first line).
  FakeEventsApi fake;
  fake.Put(civic::test::SampleAward());
  civic::test::ServiceOptions json_events;
  json_events.args = {"--log-format", "json"};
  Service events{civic::test::EventsApiBinary(), json_events};
  Service ballot{civic::test::BallotBinary(),
                 BallotOptions(fake.url(), "", {"--log-format", "json"})};
  for (const Service* service : {&events, &ballot}) {
    REQUIRE(service->Client()->Get("/healthz", {{"X-Request-Id", "json-lines-1"}})->status == 200);
    REQUIRE(Eventually([&] { return !JsonLineOf(*service, "json-lines-1").is_null(); }));
    std::istringstream out(service->Stdout());
    std::string line;
    int listening = 0;
    while (std::getline(out, line)) {
      INFO(line);
      json doc;
      REQUIRE_NOTHROW(doc = json::parse(line));
      REQUIRE(doc.is_object());
      CHECK(doc.contains("time"));
      if (doc.value("type", "") == "listening") {
        ++listening;
        CHECK(doc["url"] == service->base_url());
        CHECK(Contains(doc["message"].get<std::string>(), "listening on " + service->base_url()));
      }
    }
    CHECK(listening == 1);
  }
  CHECK(events.Stdout().rfind("{\"time\":", 0) == 0);
}

TEST_CASE("Access log: --access-log off writes no line", "[access-log]") {
  civic::test::ServiceOptions options;
  options.env = {{"CIVIC_EVENTS_ACCESS_LOG", "off"}};
  Service events{civic::test::EventsApiBinary(), options};
  auto api = events.Client();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(api->Get("/v1/cities", {{"X-Request-Id", "quiet"}})->status == 200);
  }
  civic::test::ServiceOptions on;
  Service other{civic::test::EventsApiBinary(), on};
  REQUIRE(other.Client()->Get("/v1/cities", {{"X-Request-Id", "loud"}})->status == 200);
  REQUIRE(Eventually([&] { return !TextLineOf(other, "loud").empty(); }));
  CHECK(AccessLines(events).empty());
}

TEST_CASE("Request ids: the events API's call to the ballot and the ballot's sync carry the id",
          "[access-log][request-id][e2e]") {
  // A ballot whose events API is not there, and the events API that closes awards at it.
  Service ballot{civic::test::BallotBinary(), BallotOptions("http://127.0.0.1:9")};
  civic::test::ServiceOptions options;
  options.args = {"--ballot-url", ballot.base_url()};
  options.env = {{"CIVIC_EVENTS_BALLOT_ADMIN_KEY", civic::test::kAdminKey}};
  Service events{civic::test::EventsApiBinary(), options};
  auto api = events.Client();
  const int64_t award = Create(*api, "/v1/awards",
                               {{"title", "Новые Созидатели"},
                                {"edition_year", 2026},
                                {"voting_opens_at", FromNow(-std::chrono::hours(2))},
                                {"voting_closes_at", FromNow(-std::chrono::hours(1))},
                                {"status", "published"}})["id"];

  // The close asks the ballot for the final results (it knows the award: the events API pushed
  // it when it was created, its voting having opened), then pushes the closed award (#29).
  auto closed = Call(*api, "POST", Str("/v1/awards/", award, "/close"), nullptr,
                     {{"X-Request-Id", "close-req-77"}, {"traceparent", kTraceparent}});
  CHECK(closed.status == 200);
  CHECK(closed.Header("X-Request-Id") == "close-req-77");
  CHECK(closed.Header("X-Civic-Ballot-Sync") == "applied");
  REQUIRE(Eventually([&] { return !TextLineOf(ballot, "close-req-77").empty(); }));
  const std::string at_ballot = TextLineOf(ballot, "close-req-77");
  INFO(at_ballot);
  CHECK(Contains(at_ballot, "method=GET route=/v1/awards/{award}/results"));
  CHECK(Contains(at_ballot, "key=bootstrap:admin"));
  CHECK(Contains(at_ballot, Str("trace_id=", kTraceId)));
  // The push after the close, in the same or a later flush of the ballot's access log.
  const auto push_carries_id = [&] {
    for (const auto& line : AccessLines(ballot)) {
      const std::string text = line["line"];
      if (Contains(text, "method=POST route=/v1/awards/{award}/sync status=200") &&
          Contains(text, " request_id=close-req-77 ") &&
          Contains(text, Str("trace_id=", kTraceId))) {
        return true;
      }
    }
    return false;
  };
  CHECK(Eventually(push_carries_id));
  REQUIRE(Eventually([&] { return !TextLineOf(events, "close-req-77").empty(); }));
  CHECK(Contains(TextLineOf(events, "close-req-77"), "route=/v1/awards/{id}/close"));

  // A ballot that syncs with that events API: a sync asked for by a request carries its id.
  Service syncing{civic::test::BallotBinary(), BallotOptions(events.base_url())};
  auto admin = syncing.Client();
  auto synced =
      admin->Post(Str("/v1/awards/", award, "/sync"),
                  With(With(AdminAuth(), "X-Request-Id", "sync-req-88"), "X-Civic-Protocol", "1"),
                  "", "application/json");
  REQUIRE(synced);
  CHECK(synced->status == 200);
  REQUIRE(Eventually([&] { return !TextLineOf(events, "sync-req-88").empty(); }));
  const std::string at_events = TextLineOf(events, "sync-req-88");
  INFO(at_events);
  CHECK(Contains(at_events, "method=GET route=/v1/sync/awards/{id} status="));
  CHECK(Contains(at_events, "key=bootstrap:sync"));
  // Its periodic sync has ids of its own.
  bool periodic = false;
  for (const auto& line : AccessLines(events)) {
    const std::string text = line["line"];
    if (Contains(text, "route=/v1/sync/awards ") || Contains(text, "route=/v1/sync/keys ")) {
      std::smatch m;
      REQUIRE(std::regex_search(text, m, std::regex("request_id=([0-9a-f]{32})")));
      periodic = true;
    }
  }
  CHECK(periodic);
}

TEST_CASE("Access log: an unknown --log-format or --access-log stops the service, naming it",
          "[access-log]") {
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--log-format", "yaml"}, {"--access-log", "maybe"}}) {
    civic::test::ServiceOptions options;
    options.args = {flag, value};
    options.expect_listening = false;
    Service events{civic::test::EventsApiBinary(), options};
    CHECK(events.WaitExit() != 0);
    CHECK(Contains(events.Stderr(), flag));
  }
}
