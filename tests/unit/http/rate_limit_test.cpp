#include "civic/http/rate_limit.hpp"

#include <catch2/catch.hpp>

using civic::http::ApplyRateLimitSpecs;
using civic::http::BucketKey;
using civic::http::BucketLimit;
using civic::http::ClientAddress;
using civic::http::ParseIp;
using civic::http::ParseNetwork;
using civic::http::RateIdentity;
using civic::http::RateLimiter;
using civic::http::RateLimitOptions;

TEST_CASE("Rate limit: a bucket lets its burst through, then refills at its rate", "[http][rate]") {
  RateLimiter limiter(1024);
  const BucketLimit limit{2, 3};  // 2 per second, 3 at once
  for (int i = 0; i < 3; ++i) {
    REQUIRE(limiter.Take(42, limit, 1000).allowed);
  }
  const auto refused = limiter.Take(42, limit, 1000);
  REQUIRE_FALSE(refused.allowed);
  CHECK(refused.retry_after_s == Approx(0.5));
  CHECK(refused.full_after_s == Approx(1.5));
  CHECK_FALSE(limiter.Take(42, limit, 1400).allowed);  // 0.8 of a token
  CHECK(limiter.Take(42, limit, 1500).allowed);        // one token back after 0.5 s
  CHECK(limiter.Take(7, limit, 1500).allowed);         // another key has its own bucket
}

TEST_CASE("Rate limit: the table stays within its bound under many distinct keys", "[http][rate]") {
  RateLimiter limiter(4096);
  const BucketLimit limit{1, 1};
  for (uint64_t key = 1; key <= 200'000; ++key) {
    REQUIRE(limiter.Take(key * 0x9e3779b97f4a7c15ULL, limit, 0).allowed);
  }
  CHECK(limiter.capacity() == 4096);
  CHECK(limiter.memory_bytes() == 4096 * 24);
  // In a table of one set, a bucket in use stays while new keys take the idlest slots.
  RateLimiter small(8);
  REQUIRE(small.Take(1, limit, 100).allowed);
  for (uint64_t key = 2; key < 40; ++key) {
    small.Take(key * 2, limit, 0);
  }
  CHECK_FALSE(small.Take(1, limit, 150).allowed);
}

TEST_CASE("Rate limit: addresses, networks and X-Forwarded-For from trusted proxies only",
          "[http][rate]") {
  const auto v4 = ParseIp("203.0.113.7");
  REQUIRE(v4);
  CHECK((*v4)[10] == 0xff);
  CHECK((*v4)[15] == 7);
  CHECK(ParseIp("[2001:db8::1]"));
  CHECK_FALSE(ParseIp("example.org"));
  CHECK_FALSE(ParseIp(""));
  const auto net = ParseNetwork("10.0.0.0/8");
  REQUIRE(net);
  CHECK(net->Contains(*ParseIp("10.200.1.1")));
  CHECK_FALSE(net->Contains(*ParseIp("11.0.0.1")));
  CHECK_FALSE(ParseNetwork("10.0.0.0/33"));
  CHECK_FALSE(ParseNetwork("10.0.0.0/x"));

  const std::vector<civic::http::IpNetwork> trusted = {*ParseNetwork("10.0.0.0/8")};
  // Not from a proxy: the header is the client's own word, and ignored.
  CHECK(*ClientAddress("198.51.100.1", std::string("203.0.113.7"), trusted) ==
        *ParseIp("198.51.100.1"));
  // From a proxy: the right-most address that is not a proxy.
  CHECK(*ClientAddress("10.0.0.2", std::string("1.2.3.4, 203.0.113.7, 10.0.0.9"), trusted) ==
        *ParseIp("203.0.113.7"));
  // Garbage stops the walk at the last good hop.
  CHECK(*ClientAddress("10.0.0.2", std::string("bogus, 10.0.0.3"), trusted) ==
        *ParseIp("10.0.0.3"));
}

TEST_CASE("Rate limit: IPv6 clients share a bucket per /64, IPv4 per address", "[http][rate]") {
  const RateIdentity anonymous;
  const auto a = *ParseIp("2001:db8:1:2::1");
  const auto b = *ParseIp("2001:db8:1:2:ffff::9");
  const auto c = *ParseIp("2001:db8:1:3::1");
  CHECK(BucketKey(5, 0, anonymous, &a) == BucketKey(5, 0, anonymous, &b));
  CHECK(BucketKey(5, 0, anonymous, &a) != BucketKey(5, 0, anonymous, &c));
  CHECK(BucketKey(5, 0, anonymous, &a) != BucketKey(5, 1, anonymous, &a));  // per class
  const auto x = *ParseIp("192.0.2.1");
  const auto y = *ParseIp("192.0.2.2");
  CHECK(BucketKey(5, 0, anonymous, &x) != BucketKey(5, 0, anonymous, &y));
}

TEST_CASE("Rate limit: specs set classes and roles, and name what is wrong", "[http][rate]") {
  RateLimitOptions options;
  options.roles = {"public", "voting_client", "admin"};
  REQUIRE(ApplyRateLimitSpecs({"votes@voting_client=5:10", "exports=off", "*@admin=1.5"},
                              options) == "");
  CHECK(options.limits[1][2].per_second == 5);
  CHECK(options.limits[1][2].burst == 10);
  CHECK(options.limits[0][3].unlimited());
  CHECK(options.limits[2][0].per_second == 1.5);
  CHECK(options.limits[2][0].burst == 1);
  CHECK(ApplyRateLimitSpecs({"reads=1:1"}, options).find("unknown class 'reads'") !=
        std::string::npos);
  CHECK(ApplyRateLimitSpecs({"votes@robot=1:1"}, options).find("unknown role 'robot'") !=
        std::string::npos);
  CHECK(ApplyRateLimitSpecs({"votes=fast"}, options).find("RATE") != std::string::npos);
  CHECK(ApplyRateLimitSpecs({"votes"}, options).find("expected") != std::string::npos);
  options.enabled = true;
  REQUIRE(ApplyRateLimitSpecs({"off"}, options) == "");
  CHECK_FALSE(options.enabled);
}

TEST_CASE("Rate limit: the answer fields are draft-10 structured-field items", "[http][rate]") {
  CHECK(civic::http::RateLimitPolicyField("votes", {10, 40}) == "\"votes\";q=40;w=4");
  RateLimiter::Decision decision;
  decision.remaining = 2.7;
  decision.full_after_s = 1.2;
  CHECK(civic::http::RateLimitField("votes", decision) == "\"votes\";r=2;t=2");
}
