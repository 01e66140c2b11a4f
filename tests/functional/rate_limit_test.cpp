// Rate limits on both services (README "Rate limits"): per client address without a key (IPv6
// by /64, X-Forwarded-For believed from trusted proxies only), per key by role and route
// class, 429 problem+json with Retry-After and the RateLimit fields, metrics.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "ballot_fixture.hpp"
#include "harness.hpp"

using civic::test::AdminAuth;
using civic::test::BallotOptions;
using civic::test::ClientAuth;
using civic::test::FakeEventsApi;
using civic::test::SampleAward;
using civic::test::Service;
using civic::test::ServiceOptions;
using civic::test::Str;
using civic::test::Vote;
using civic::test::WaitForAward;
using nlohmann::json;

namespace {

ServiceOptions BallotWithLimits(const FakeEventsApi& events, const std::string& limits,
                                std::vector<std::string> extra = {}) {
  ServiceOptions options = BallotOptions(events.url(), "", std::move(extra));
  options.env["CIVIC_BALLOT_RATE_LIMITS"] = limits;
  return options;
}

int Status(const httplib::Result& r) { return r ? r->status : 0; }

// Checks a 429 answer: problem+json with the code rate-limited, Retry-After, the RateLimit
// fields of `policy`, and the request id every answer carries.
void RequireLimited(const httplib::Result& r, const std::string& policy) {
  REQUIRE(r);
  REQUIRE(r->status == 429);
  CHECK(r->get_header_value("Content-Type") == "application/problem+json");
  const json body = json::parse(r->body);
  CHECK(body["status"] == 429);
  CHECK(body["code"] == "rate-limited");
  CHECK(body["type"] == "/problems/rate-limited");
  CHECK_FALSE(r->get_header_value("X-Request-Id").empty());
  CHECK(body["policy"] == policy);
  REQUIRE(r->has_header("Retry-After"));
  CHECK(std::stoi(r->get_header_value("Retry-After")) >= 1);
  CHECK(r->get_header_value("RateLimit").rfind("\"" + policy + "\";r=0;t=", 0) == 0);
  CHECK(r->get_header_value("RateLimit-Policy").rfind("\"" + policy + "\";q=", 0) == 0);
}

}  // namespace

TEST_CASE("Rate limits: a client without a key is limited per address, with the headers",
          "[ratelimit][ballot]") {
  FakeEventsApi events;
  events.Put(SampleAward(7));
  Service ballot(civic::test::BallotBinary(), BallotWithLimits(events, "public_read@public=0.2:3"));
  auto admin = ballot.Client();
  REQUIRE(WaitForAward(*admin, 7));  // with the admin key: another bucket
  auto anonymous = ballot.ClientWithKey("");
  auto first = anonymous->Get("/v1/awards/7/results");
  REQUIRE(Status(first) != 429);
  CHECK_FALSE(first->has_header("RateLimit"));  // plenty left: no fields
  REQUIRE(Status(anonymous->Get("/v1/awards/7/results")) != 429);
  // The last token: the answer says how little is left.
  auto last = anonymous->Get("/v1/awards/7/results");
  REQUIRE(Status(last) != 429);
  CHECK(last->get_header_value("RateLimit") == "\"public_read\";r=0;t=15");
  CHECK(last->get_header_value("RateLimit-Policy") == "\"public_read\";q=3;w=15");
  auto limited = anonymous->Get("/v1/awards/7/results");
  RequireLimited(limited, "public_read");
  CHECK(limited->get_header_value("Retry-After") == "5");

  // Other classes, keys and the operational routes have buckets (or exemptions) of their own.
  CHECK(Status(anonymous->Get("/healthz")) == 200);
  CHECK(Status(anonymous->Get("/metrics")) == 200);
  CHECK(Status(admin->Get("/v1/awards/7/results", AdminAuth())) == 200);
  const std::string metrics = admin->Get("/metrics")->body;
  CHECK(metrics.find("http_requests_rate_limited_total{class=\"public_read\",role=\"public\"} 1") !=
        std::string::npos);
}

TEST_CASE("Rate limits: votes are limited per key, and one key's limit leaves others alone",
          "[ratelimit][ballot]") {
  FakeEventsApi events;
  events.Put(SampleAward(7));
  Service ballot(civic::test::BallotBinary(),
                 BallotWithLimits(events, "votes@voting_client=0.5:2,exports@admin=0.1:1"));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  CHECK(Status(Vote(*client, 7, "voter-1", 31, 501)) == 201);
  CHECK(Status(Vote(*client, 7, "voter-2", 31, 501)) == 201);
  auto limited = Vote(*client, 7, "voter-3", 31, 501);
  RequireLimited(limited, "votes");
  // The access log records the refused vote under its request id, by route pattern.
  const std::string id = limited->get_header_value("X-Request-Id");
  auto access_line = [&] {
    std::istringstream out(ballot.Stdout());
    std::string line;
    while (std::getline(out, line)) {
      if (line.find(" request_id=" + id) != std::string::npos) {
        return line;
      }
    }
    return std::string();
  };
  REQUIRE(civic::test::Eventually([&] { return !access_line().empty(); }));
  CHECK(access_line().find("method=POST route=/v1/awards/{award}/votes status=429") !=
        std::string::npos);
  // ... naming the key it limited by its id (as every access line does), never by its token.
  CHECK(access_line().find(" key=bootstrap:client") != std::string::npos);
  CHECK(ballot.Stdout().find(civic::test::kClientKey) == std::string::npos);
  // The refused vote did nothing: the results count two.
  const json results = civic::test::Results(*client, 7);
  CHECK(results["total_votes"] == 2);
  // A batch is a vote request too.
  auto batch = client->Post(
      "/v1/votes/batch", ClientAuth(),
      json{{"votes",
            json::array(
                {{{"award", 7}, {"voter", "voter-4"}, {"nomination", 31}, {"nominee", 502}}})}}
          .dump(),
      "application/json");
  RequireLimited(batch, "votes");
  // Exports are a class of their own: one, then 429.
  auto exported = client->Get("/v1/awards/7/votes.ndjson", AdminAuth());
  REQUIRE(Status(exported) == 200);
  RequireLimited(client->Get("/v1/awards/7/votes.ndjson", AdminAuth()), "exports");
  const std::string metrics = client->Get("/metrics")->body;
  CHECK(
      metrics.find("http_requests_rate_limited_total{class=\"votes\",role=\"voting_client\"} 2") !=
      std::string::npos);
  CHECK(metrics.find("http_requests_rate_limited_total{class=\"exports\",role=\"admin\"} 1") !=
        std::string::npos);
}

TEST_CASE("Rate limits: opening live-results streams is a class of its own",
          "[ratelimit][ballot]") {
  FakeEventsApi events;
  events.Put(SampleAward(7));
  Service ballot(civic::test::BallotBinary(), BallotWithLimits(events, "streams@public=0.01:1"));
  auto admin = ballot.Client();
  REQUIRE(WaitForAward(*admin, 7));
  {
    // The first stream opens (and is left after a second: it never ends by itself).
    auto first = ballot.ClientWithKey("");
    first->set_read_timeout(1, 0);
    first->Get("/v1/awards/7/results/stream");
  }
  auto second = ballot.ClientWithKey("");
  RequireLimited(second->Get("/v1/awards/7/results/stream"), "streams");
  // Polling the results is another class.
  CHECK(Status(second->Get("/v1/awards/7/results")) == 200);
}

TEST_CASE("Rate limits: X-Forwarded-For names the client only behind a trusted proxy, IPv6 by /64",
          "[ratelimit][ballot]") {
  FakeEventsApi events;
  events.Put(SampleAward(7));
  const auto get = [](httplib::Client& c, const std::string& forwarded) {
    return Status(c.Get("/v1/awards/7/results",
                        {{"X-Forwarded-For", forwarded}, {"Connection", "keep-alive"}}));
  };
  SECTION("behind a trusted proxy") {
    Service ballot(civic::test::BallotBinary(),
                   BallotWithLimits(events, "public_read@public=0.01:1",
                                    {"--trusted-proxies", "127.0.0.0/8,::1"}));
    auto c = ballot.ClientWithKey("");
    CHECK(get(*c, "203.0.113.5") != 429);
    CHECK(get(*c, "203.0.113.5") == 429);
    CHECK(get(*c, "198.51.100.1, 203.0.113.6") != 429);  // the right-most hop is the client
    // A proxy that adds a line of its own: the lines are one list, whatever the first says.
    for (const char* made_up : {"6.6.6.1", "6.6.6.2"}) {
      CHECK(Status(c->Get("/v1/awards/7/results", {{"X-Forwarded-For", made_up},
                                                   {"X-Forwarded-For", "203.0.113.5"},
                                                   {"Connection", "keep-alive"}})) == 429);
    }
    CHECK(get(*c, "2001:db8:1:2::1") != 429);
    CHECK(get(*c, "2001:db8:1:2::77") == 429);  // same /64
    CHECK(get(*c, "2001:db8:1:3::1") != 429);   // another /64
  }
  SECTION("without trusted proxies the header is ignored") {
    Service ballot(civic::test::BallotBinary(),
                   BallotWithLimits(events, "public_read@public=0.01:1"));
    auto c = ballot.ClientWithKey("");
    CHECK(get(*c, "203.0.113.5") != 429);
    CHECK(get(*c, "203.0.113.6") == 429);  // both are 127.0.0.1
  }
}

TEST_CASE("Rate limits: the events API limits writes per key by role", "[ratelimit][events]") {
  ServiceOptions options;
  options.env["CIVIC_EVENTS_RATE_LIMITS"] = "writes@admin=0.1:2,public_read@public=0.1:1";
  Service events(civic::test::EventsApiBinary(), options);
  auto admin = events.Client();
  const auto create = [&](const std::string& name) {
    return admin->Post(
        "/v1/cities", civic::test::JsonHeaders(),
        json{{"name", name}, {"region", "Якутия"}, {"time_zone", "Asia/Yakutsk"}}.dump(),
        "application/json");
  };
  CHECK(Status(create("Якутск")) == 201);
  CHECK(Status(create("Мирный")) == 201);
  auto limited = create("Нерюнгри");
  RequireLimited(limited, "writes");
  // The access log names the key it limited, by its id, never by its token.
  const std::string id = limited->get_header_value("X-Request-Id");
  const auto access_line = [&] {
    std::istringstream out(events.Stdout());
    std::string line;
    while (std::getline(out, line)) {
      if (line.find(" request_id=" + id) != std::string::npos) {
        return line;
      }
    }
    return std::string();
  };
  REQUIRE(civic::test::Eventually([&] { return !access_line().empty(); }));
  CHECK(access_line().find("status=429") != std::string::npos);
  CHECK(access_line().find(" key=bootstrap:admin") != std::string::npos);
  CHECK(events.Stdout().find(civic::test::kTestAdminKey) == std::string::npos);
  // Reads by the same key are another class; reads without a key are limited per address.
  CHECK(Status(admin->Get("/v1/cities")) == 200);
  auto anonymous = events.ClientWithKey("");
  CHECK(Status(anonymous->Get("/v1/cities")) == 200);
  RequireLimited(anonymous->Get("/v1/cities"), "public_read");
  // Only two cities exist: the refused write changed nothing.
  CHECK(json::parse(admin->Get("/v1/cities")->body)["items"].size() == 2);
}

TEST_CASE("Rate limits: a wrong setting stops the service at start, naming the flag",
          "[ratelimit]") {
  ServiceOptions options;
  options.env["CIVIC_EVENTS_RATE_LIMITS"] = "writes@robot=1:1";
  options.expect_listening = false;
  Service events(civic::test::EventsApiBinary(), options);
  CHECK(events.WaitExit() != 0);
  CHECK(events.Stderr().find("--rate-limits") != std::string::npos);
  CHECK(events.Stderr().find("robot") != std::string::npos);
}
