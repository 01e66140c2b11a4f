// The crash test: a vote load from many clients, `kill -9` of the ballot mid-load, a restart on
// the same data dir, and then: every vote that got a 2xx is counted, no vote is counted twice,
// nothing that got an error is counted. A vote whose connection the kill cut has an unknown
// outcome; retrying it tells which (200: it was stored; 201: it was not, and now is).
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <set>
#include <sstream>

#include "ballot_fixture.hpp"

using civic::test::AdminAuth;
using civic::test::BallotOptions;
using civic::test::FakeEventsApi;
using civic::test::Results;
using civic::test::SampleAward;
using civic::test::Service;
using civic::test::Str;
using civic::test::Vote;
using nlohmann::json;

namespace {

struct Cast {
  std::string voter;
  int64_t nominee = 0;
  bool conflicting = false;  // a second nominee for a voter who already has one: must be 409
  int status = -1;           // -1: no answer (the connection was cut)
  std::string receipt;
};

constexpr int kThreads = 8;
constexpr auto kLoad = std::chrono::milliseconds(2000);

}  // namespace

TEST_CASE("Ballot: after kill -9 mid-load every acknowledged vote is counted exactly once",
          "[ballot][crash]") {
  civic::test::TempDir dir;
  FakeEventsApi events;
  events.Put(SampleAward());
  auto ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                          BallotOptions(events.url(), dir.path()));
  {
    auto client = ballot->Client();
    REQUIRE(civic::test::WaitForAward(*client, 7));
  }

  std::atomic<bool> killed{false};
  std::vector<std::future<std::vector<Cast>>> futures;
  for (int t = 0; t < kThreads; ++t) {
    futures.push_back(std::async(std::launch::async, [&, t] {
      auto client = ballot->Client();
      client->set_read_timeout(5, 0);
      std::vector<Cast> casts;
      for (int i = 0;; ++i) {
        Cast cast;
        cast.voter = Str("crash-", t, "-", i);
        cast.nominee = i % 2 == 0 ? 501 : 502;
        auto r = Vote(*client, 7, cast.voter, 31, cast.nominee);
        if (r) {
          cast.status = r->status;
          if (r->status == 201 || r->status == 200) {
            cast.receipt = json::parse(r->body)["receipt"];
          }
        }
        const bool counted = cast.status == 201;
        casts.push_back(cast);
        if (counted && i % 7 == 0) {
          Cast conflict;
          conflict.voter = cast.voter;
          conflict.nominee = cast.nominee == 501 ? 502 : 501;
          conflict.conflicting = true;
          auto c = Vote(*client, 7, conflict.voter, 31, conflict.nominee);
          conflict.status = c ? c->status : -1;
          casts.push_back(conflict);
        }
        if (!r && killed) {
          return casts;
        }
      }
    }));
  }
  std::this_thread::sleep_for(kLoad);
  killed = true;
  REQUIRE(ballot->Signal(SIGKILL) == 128 + SIGKILL);

  std::vector<Cast> casts;
  for (auto& f : futures) {
    for (auto& cast : f.get()) {
      casts.push_back(std::move(cast));
    }
  }
  std::map<int, int> statuses;
  for (const auto& cast : casts) {
    ++statuses[cast.status];
  }
  INFO("casts: " << casts.size() << " 201: " << statuses[201] << " 409: " << statuses[409]
                 << " cut: " << statuses[-1]);
  REQUIRE(statuses[201] > 100);
  for (const auto& [status, n] : statuses) {
    CHECK((status == 201 || status == 409 || status == -1));
  }

  ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                     BallotOptions(events.url(), dir.path()));
  auto client = ballot->Client();
  REQUIRE(civic::test::WaitForAward(*client, 7));
  const auto restarted = civic::test::VotesByNominee(Results(*client, 7));

  // The log holds each voter at most once (K = 1) and exactly as many votes as the tallies.
  auto r = client->Get("/v1/awards/7/votes.ndjson", AdminAuth());
  REQUIRE(r);
  REQUIRE(r->status == 200);
  std::set<std::string> voter_hashes;
  std::set<std::string> stored_receipts;
  std::istringstream lines(r->body);
  std::string line;
  size_t exported = 0;
  while (std::getline(lines, line)) {
    const json vote = json::parse(line);
    ++exported;
    voter_hashes.insert(vote["voter_hash"].get<std::string>());
    stored_receipts.insert(vote["receipt"].get<std::string>());
  }
  CHECK(voter_hashes.size() == exported);
  CHECK(static_cast<int64_t>(exported) == restarted.at(501) + restarted.at(502));

  // Every 2xx is stored with its receipt; retries tell the cut ones apart; errors stay out.
  std::map<int64_t, int64_t> expected;
  int cut_stored = 0;
  int cut_lost = 0;
  for (const auto& cast : casts) {
    if (cast.conflicting) {
      if (cast.status == 409) {
        CHECK(Vote(*client, 7, cast.voter, 31, cast.nominee)->status == 409);
      }
      continue;
    }
    if (cast.status == 201) {
      CHECK(stored_receipts.count(cast.receipt) == 1);
      auto again = Vote(*client, 7, cast.voter, 31, cast.nominee);
      REQUIRE(again);
      CHECK(again->status == 200);
      CHECK(json::parse(again->body)["receipt"] == cast.receipt);
      ++expected[cast.nominee];
    } else if (cast.status == -1) {
      auto again = Vote(*client, 7, cast.voter, 31, cast.nominee);
      REQUIRE(again);
      CHECK((again->status == 200 || again->status == 201));
      if (again->status == 200) {
        ++expected[cast.nominee];
        ++cut_stored;
      } else {
        ++cut_lost;
      }
    }
  }
  INFO("cut and stored: " << cut_stored << ", cut and not stored: " << cut_lost);
  CHECK(restarted.at(501) == expected[501]);
  CHECK(restarted.at(502) == expected[502]);
}
