// The crash test: a vote load from many clients, `kill -9` of the ballot mid-load, a restart on
// the same data dir, and then: every vote that got a 2xx is counted, no vote is counted twice,
// nothing that got an error is counted. A vote whose connection the kill cut has an unknown
// outcome; retrying it tells which (200: it was stored; 201: it was not, and now is). Some
// clients vote from shared phones, so that the device rule holds their later votes (202): every
// held vote survives the kill held, is not counted, and is exported and receipted as held.
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
  int64_t nomination = 31;
  int64_t nominee = 0;
  std::string device;        // votes from a shared phone: some are held
  bool conflicting = false;  // a second nominee for a voter who already has one: must be 409
  int status = -1;           // -1: no answer (the connection was cut)
  std::string receipt;
};

constexpr int kThreads = 8;
constexpr int kFarmThreads = 2;  // of kThreads: vote from shared phones, in nomination 32

httplib::Result VoteFrom(httplib::Client& client, const Cast& cast) {
  json body = civic::test::VoteBody(cast.voter, cast.nomination, cast.nominee);
  if (!cast.device.empty()) {
    body["device"] = cast.device;
  }
  return client.Post("/v1/awards/7/votes", civic::test::ClientAuth(), body.dump(),
                     "application/json");
}
constexpr auto kLoad = std::chrono::milliseconds(2000);

}  // namespace

TEST_CASE("Ballot: after kill -9 mid-load every acknowledged vote is counted exactly once",
          "[ballot][crash]") {
  civic::test::TempDir dir;
  FakeEventsApi events;
  events.Put(SampleAward());
  // Three voters per phone at most; the others' votes are held.
  const std::vector<std::string> rules = {"--hold-rules", "voters_per_device=3"};
  auto ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                          BallotOptions(events.url(), dir.path(), rules));
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
        const bool farm = t < kFarmThreads;
        cast.nomination = farm ? 32 : 31;
        cast.nominee = farm ? 601 : (i % 2 == 0 ? 501 : 502);
        if (farm) {
          cast.device = Str("farm-phone-", t, "-", i / 10);  // ten voters per phone
        }
        auto r = VoteFrom(*client, cast);
        if (r) {
          cast.status = r->status;
          if (r->status == 201 || r->status == 200 || r->status == 202) {
            cast.receipt = json::parse(r->body)["receipt"];
          }
        }
        const bool counted = cast.status == 201;
        casts.push_back(cast);
        if (counted && !farm && i % 7 == 0) {
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
  INFO("casts: " << casts.size() << " 201: " << statuses[201] << " 202: " << statuses[202]
                 << " 409: " << statuses[409] << " cut: " << statuses[-1]);
  REQUIRE(statuses[201] > 100);
  REQUIRE(statuses[202] > 10);
  for (const auto& [status, n] : statuses) {
    CHECK((status == 201 || status == 202 || status == 409 || status == -1));
  }

  ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                     BallotOptions(events.url(), dir.path(), rules));
  auto client = ballot->Client();
  REQUIRE(civic::test::WaitForAward(*client, 7));
  const auto restarted = civic::test::VotesByNominee(Results(*client, 7));

  // The log holds each voter at most once (K = 1) and exactly as many votes as the tallies.
  auto r = client->Get("/v1/awards/7/votes.ndjson", AdminAuth());
  REQUIRE(r);
  REQUIRE(r->status == 200);
  std::set<std::string> voter_hashes;
  std::set<std::string> stored_receipts;
  std::set<std::string> held_receipts;
  std::istringstream lines(r->body);
  std::string line;
  size_t exported = 0;
  size_t exported_counted = 0;
  while (std::getline(lines, line)) {
    const json vote = json::parse(line);
    ++exported;
    voter_hashes.insert(vote["voter_hash"].get<std::string>());
    stored_receipts.insert(vote["receipt"].get<std::string>());
    if (vote["status"] == "held") {
      held_receipts.insert(vote["receipt"].get<std::string>());
    } else {
      CHECK(vote["status"] == "counted");
      ++exported_counted;
    }
  }
  CHECK(voter_hashes.size() == exported);
  CHECK(static_cast<int64_t>(exported_counted) ==
        restarted.at(501) + restarted.at(502) + restarted.at(601));
  // The admins' list of held votes has as many as the export.
  auto held_list = client->Get("/v1/awards/7/held-votes?limit=1000", AdminAuth());
  REQUIRE(held_list);
  REQUIRE(held_list->status == 200);
  CHECK(json::parse(held_list->body)["held"].get<size_t>() == held_receipts.size());

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
    if (cast.status == 202) {
      // Held, acknowledged: stored held, not counted, and a retry says so again.
      CHECK(held_receipts.count(cast.receipt) == 1);
      auto again = VoteFrom(*client, cast);
      REQUIRE(again);
      CHECK(again->status == 202);
      CHECK(json::parse(again->body)["receipt"] == cast.receipt);
      auto receipt = client->Get("/v1/receipts/" + cast.receipt);
      REQUIRE(receipt);
      CHECK(json::parse(receipt->body)["status"] == "held");
      continue;
    }
    if (cast.status == 201) {
      CHECK(stored_receipts.count(cast.receipt) == 1);
      auto again = VoteFrom(*client, cast);
      REQUIRE(again);
      CHECK(again->status == 200);
      CHECK(json::parse(again->body)["receipt"] == cast.receipt);
      ++expected[cast.nominee];
    } else if (cast.status == -1) {
      auto again = VoteFrom(*client, cast);
      REQUIRE(again);
      CHECK((again->status == 200 || again->status == 201 || again->status == 202));
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
  CHECK(restarted.at(601) == expected[601]);
}
