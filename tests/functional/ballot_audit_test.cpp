// The ballot's audit trail and operations against the real binary: recount, export and live
// results agree; live results over Server-Sent Events; drain on SIGTERM; secrets; metrics.
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include "ballot_fixture.hpp"

using civic::test::AdminAuth;
using civic::test::BallotOptions;
using civic::test::ClientAuth;
using civic::test::FakeEventsApi;
using civic::test::Results;
using civic::test::SampleAward;
using civic::test::Service;
using civic::test::ServiceOptions;
using civic::test::Str;
using civic::test::Vote;
using civic::test::VoteBody;
using civic::test::WaitForAward;
using nlohmann::json;

namespace {

// How recount is told where the database is: its own flag, the service's flag before the
// subcommand, or the service's environment variable.
enum class DirFrom { kRecountFlag, kServiceFlag, kEnvironment };

// Runs `civic-ballot recount` on DIR; returns its exit code and stdout.
int RunRecount(const std::string& data_dir, std::string& out,
               DirFrom from = DirFrom::kRecountFlag) {
  const std::string bin = civic::test::BallotBinary();
  const std::string cmd = from == DirFrom::kRecountFlag ? bin + " recount --data-dir " + data_dir
                          : from == DirFrom::kServiceFlag
                              ? bin + " --data-dir " + data_dir + " recount"
                              : "CIVIC_BALLOT_DATA_DIR=" + data_dir + " " + bin + " recount";
  civic::test::CommandResult result = civic::test::RunToEnd(cmd);
  out += result.output;
  return result.exit_code;
}

// (award, nominee) -> votes
using Counts = std::map<std::pair<int64_t, int64_t>, int64_t>;

Counts FromResults(int64_t award, const json& results) {
  Counts out;
  for (const auto& [nominee, votes] : civic::test::VotesByNominee(results)) {
    if (votes > 0) {
      out[{award, nominee}] = votes;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("Ballot: recount from the file, the NDJSON export and live results agree",
          "[ballot][audit]") {
  civic::test::TempDir dir;
  FakeEventsApi events;
  events.Put(SampleAward(7, 2));
  events.Put(SampleAward(8, 1));
  Service ballot(civic::test::BallotBinary(), BallotOptions(events.url(), dir.path()));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  REQUIRE(WaitForAward(*client, 8));

  // A mix through both routes: K = 2 in award 7, duplicates and conflicts that must not count.
  json votes = json::array();
  for (int i = 0; i < 300; ++i) {
    json v = VoteBody(Str("voter-", i % 120), i % 5 == 0 ? 32 : 31,
                      i % 5 == 0 ? 601 : (i % 3 == 0 ? 501 : 502));
    v["award"] = i % 4 == 0 ? 8 : 7;
    votes.push_back(std::move(v));
  }
  auto r = client->Post("/v1/votes/batch", ClientAuth(), json({{"votes", votes}}).dump(),
                        "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  for (int i = 0; i < 40; ++i) {
    Vote(*client, 7, Str("single-", i), 31, i % 2 == 0 ? 501 : 502);
  }
  const Counts live = [&] {
    Counts all = FromResults(7, Results(*client, 7));
    for (const auto& [key, n] : FromResults(8, Results(*client, 8))) {
      all[key] = n;
    }
    return all;
  }();
  REQUIRE_FALSE(live.empty());

  // The export: one line per counted vote; hashed voters only; every receipt verifies.
  Counts exported;
  std::set<std::string> receipts;
  for (const int64_t award : {7, 8}) {
    r = client->Get(Str("/v1/awards/", award, "/votes.ndjson"), AdminAuth());
    REQUIRE(r);
    REQUIRE(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == "application/x-ndjson");
    CHECK(r->body.find("voter-") == std::string::npos);
    std::istringstream lines(r->body);
    std::string line;
    while (std::getline(lines, line)) {
      const json vote = json::parse(line);
      CHECK(vote["award_id"] == award);
      CHECK(vote["voter_hash"].get<std::string>().size() == 32);
      ++exported[{award, vote["nominee_id"].get<int64_t>()}];
      receipts.insert(vote["receipt"].get<std::string>());
    }
  }
  CHECK(exported == live);
  int checked = 0;
  for (const auto& receipt : receipts) {
    if (++checked > 20) {
      break;
    }
    auto check = client->Get("/v1/receipts/" + receipt);
    REQUIRE(check);
    CHECK(check->status == 200);
  }
  r = client->Get("/v1/awards/7/votes.ndjson");
  REQUIRE(r);
  CHECK(r->status == 401);

  // The recount reads the file alone (here after a clean stop).
  REQUIRE(ballot.Signal(SIGTERM) == 0);
  std::string out;
  REQUIRE(RunRecount(dir.path(), out) == 0);
  const json recount = json::parse(out);
  // The service's own ways of naming its data dir reach the recount too (README: every flag
  // has an environment variable).
  for (const DirFrom from : {DirFrom::kServiceFlag, DirFrom::kEnvironment}) {
    std::string same;
    CHECK(RunRecount(dir.path(), same, from) == 0);
    CHECK(same == out);
  }
  Counts recounted;
  for (const auto& award : recount["awards"]) {
    for (const auto& nomination : award["nominations"]) {
      for (const auto& nominee : nomination["nominees"]) {
        if (nominee["votes"].get<int64_t>() > 0) {
          recounted[{award["award_id"].get<int64_t>(), nominee["id"].get<int64_t>()}] =
              nominee["votes"];
        }
      }
    }
  }
  CHECK(recounted == live);
  CHECK(recount["audit"]["duplicate_votes"] == 0);
  CHECK(recount["audit"]["voters_over_limit"] == 0);
  std::string missing;
  CHECK(RunRecount(dir.path() + "/nothing-here", missing) == 1);
}

TEST_CASE("Ballot: votes taken through a copy the events API then changed stay counted, as removed",
          "[ballot][sync][audit]") {
  // The ballot's copy can lag the events API: here votes reach nominees that a later snapshot
  // moves (501, to nomination 32) or deletes (502).
  civic::test::TempDir dir;
  FakeEventsApi events;
  events.Put(SampleAward());
  auto ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                          BallotOptions(events.url(), dir.path()));
  auto client = ballot->Client();
  REQUIRE(WaitForAward(*client, 7));
  REQUIRE(Vote(*client, 7, "alice", 31, 501)->status == 201);
  auto bob_first = Vote(*client, 7, "bob", 31, 502);
  REQUIRE(bob_first->status == 201);
  const std::string bob_receipt = json::parse(bob_first->body)["receipt"];
  REQUIRE(Vote(*client, 7, "carol", 31, 502)->status == 201);
  events.Edit(7, [](json& a) {
    a["nominees"][0]["nomination_id"] = 32;
    a["nominees"].erase(1);
  });
  REQUIRE(WaitForAward(*client, 7, 2));

  const auto check = [](const json& results) {
    CHECK(results["award_version"] == 2);
    CHECK(results["total_votes"] == 3);
    REQUIRE(results["nominations"].size() == 2);
    const json& leaders = results["nominations"][0];
    CHECK(leaders["id"] == 31);
    CHECK(leaders["removed"] == false);
    CHECK(leaders["total_votes"] == 3);
    std::map<int64_t, std::pair<int64_t, std::string>> in_31;  // id -> (votes, status)
    for (const auto& n : leaders["nominees"]) {
      in_31[n["id"]] = {n["votes"], n["status"]};
    }
    CHECK(in_31[502] == std::make_pair(int64_t{2}, std::string("removed")));
    CHECK(in_31[501] == std::make_pair(int64_t{1}, std::string("removed")));
    CHECK(in_31.count(503) == 1);  // withdrawn, listed as before
    CHECK(leaders["nominees"][0]["id"] == 502);
    CHECK(leaders["nominees"][0]["rank"] == 1);
    const json& teams = results["nominations"][1];
    CHECK(teams["id"] == 32);
    bool moved_here = false;
    for (const auto& n : teams["nominees"]) {
      moved_here = moved_here || (n["id"] == 501 && n["status"] == "active");
    }
    CHECK(moved_here);
  };
  check(Results(*client, 7));
  // New votes follow the new copy.
  CHECK(Vote(*client, 7, "dave", 32, 501)->status == 201);
  auto erin = Vote(*client, 7, "erin", 31, 502);
  CHECK(erin->status == 404);
  CHECK(json::parse(erin->body)["detail"] == "Nominee 502 is no longer in nomination 31.");
  CHECK(Vote(*client, 7, "frank", 31, 501)->status == 404);
  // A retry of a vote counted before its nominee was removed is answered as a retry (its first
  // answer may have been lost): 200 and the same receipt, nothing counted twice.
  auto bob_again = Vote(*client, 7, "bob", 31, 502);
  CHECK(bob_again->status == 200);
  CHECK(json::parse(bob_again->body)["receipt"] == bob_receipt);
  // Carol already uses her one choice in 31: another removed nominee is still "not there" (404),
  // not "no choice left" (409).
  CHECK(Vote(*client, 7, "carol", 31, 501)->status == 404);
  auto metrics = client->Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("ballot_sync_failures_total 0\n") != std::string::npos);

  // The removed entries survive a restart, and the recount agrees.
  REQUIRE(ballot->Signal(SIGTERM) == 0);
  ballot.reset();
  std::string out;
  REQUIRE(RunRecount(dir.path(), out) == 0);
  const json recount = json::parse(out);
  // The service's own ways of naming its data dir reach the recount too (README: every flag
  // has an environment variable).
  for (const DirFrom from : {DirFrom::kServiceFlag, DirFrom::kEnvironment}) {
    std::string same;
    CHECK(RunRecount(dir.path(), same, from) == 0);
    CHECK(same == out);
  }
  REQUIRE(recount["awards"].size() == 1);
  CHECK(recount["total_votes"] == 4);
  std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, bool>> counted;
  for (const auto& nomination : recount["awards"][0]["nominations"]) {
    for (const auto& n : nomination["nominees"]) {
      counted[{nomination["id"], n["id"]}] = {n["votes"], n["removed"]};
    }
  }
  CHECK(counted[{31, 501}] == std::make_pair(int64_t{1}, true));
  CHECK(counted[{31, 502}] == std::make_pair(int64_t{2}, true));
  CHECK(counted[{32, 501}] == std::make_pair(int64_t{1}, false));
  ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                     BallotOptions(events.url(), dir.path()));
  client = ballot->Client();
  REQUIRE(WaitForAward(*client, 7, 2));
  const json after = Results(*client, 7);
  CHECK(after["total_votes"] == 4);
  CHECK(after["nominations"][0]["total_votes"] == 3);
  CHECK(after["nominations"][0]["nominees"][0]["status"] == "removed");
}

TEST_CASE("Ballot: choices taken under a K the events API then lowered pass the recount's audit",
          "[ballot][sync][audit]") {
  civic::test::TempDir dir;
  FakeEventsApi events;
  events.Put(SampleAward(7, 2));
  Service ballot(civic::test::BallotBinary(), BallotOptions(events.url(), dir.path()));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  REQUIRE(Vote(*client, 7, "alice", 31, 501)->status == 201);
  REQUIRE(Vote(*client, 7, "alice", 31, 502)->status == 201);
  events.Edit(7, [](json& a) { a["max_choices_per_nomination"] = 1; });
  REQUIRE(WaitForAward(*client, 7, 2));
  CHECK(Results(*client, 7)["max_choices_per_nomination"] == 1);
  CHECK(Vote(*client, 7, "bob", 31, 501)->status == 201);
  CHECK(Vote(*client, 7, "bob", 31, 502)->status == 409);
  REQUIRE(ballot.Signal(SIGTERM) == 0);
  std::string out;
  CHECK(RunRecount(dir.path(), out) == 0);
  const json recount = json::parse(out);
  CHECK(recount["total_votes"] == 3);
  CHECK(recount["audit"]["voters_over_limit"] == 0);
}

TEST_CASE("Ballot: live results stream over Server-Sent Events, at most about once a second",
          "[ballot][sse]") {
  FakeEventsApi events;
  events.Put(SampleAward());
  events.Put(SampleAward(8, 1, "hidden_until_close"));
  Service ballot(civic::test::BallotBinary(), BallotOptions(events.url()));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  REQUIRE(WaitForAward(*client, 8));
  auto hidden = client->Get("/v1/awards/8/results/stream");
  REQUIRE(hidden);
  CHECK(hidden->status == 403);

  std::mutex mu;
  std::vector<std::pair<std::chrono::steady_clock::time_point, json>> received;
  std::atomic<bool> stop{false};
  std::string content_type;
  std::thread reader([&] {
    auto sse = ballot.Client();
    std::string buffer;
    sse->Get(
        "/v1/awards/7/results/stream", {{"Accept", "text/event-stream"}},
        [&](const httplib::Response& response) {
          content_type = response.get_header_value("Content-Type");
          return true;
        },
        [&](const char* data, size_t size) {
          buffer.append(data, size);
          size_t end;
          while ((end = buffer.find("\n\n")) != std::string::npos) {
            const std::string event = buffer.substr(0, end);
            buffer.erase(0, end + 2);
            const size_t data_at = event.find("data: ");
            if (event.find("event: results") != std::string::npos && data_at != std::string::npos) {
              std::lock_guard<std::mutex> lock(mu);
              received.emplace_back(std::chrono::steady_clock::now(),
                                    json::parse(event.substr(data_at + 6)));
            }
          }
          return !stop.load();
        });
  });
  const auto count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return received.size();
  };
  REQUIRE(civic::test::Eventually([&] { return count() >= 1; }));
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(received[0].second["total_votes"] == 0);
  }
  CHECK(content_type == "text/event-stream");
  // 20 votes over ~1 s: the stream carries the change, throttled to about one event a second.
  for (int i = 0; i < 20; ++i) {
    REQUIRE(Vote(*client, 7, Str("sse-", i), 31, 501)->status == 201);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(civic::test::Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return received.back().second["total_votes"] == 20;
  }));
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(received.size() <= 5);
    // The server sends at most one event a second; arrival times jitter on a loaded machine.
    for (size_t i = 2; i < received.size(); ++i) {
      CHECK(received[i].first - received[i - 1].first > std::chrono::milliseconds(400));
    }
  }
  stop = true;
  Vote(*client, 7, "wake", 31, 502);  // an event to notice the reader left
  reader.join();
  CHECK(civic::test::Eventually([&] {
    auto r = client->Get("/metrics");
    return r && r->body.find("ballot_results_stream_subscribers 0\n") != std::string::npos;
  }));
}

TEST_CASE("Ballot: a stream cap the descriptor limit cannot hold is warned about at start",
          "[ballot][sse]") {
  // A million streams need ~2 million descriptors (two per connection).
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  const bool fits = limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= 2'000'256;
  FakeEventsApi events;
  events.Put(SampleAward());
  Service ballot(civic::test::BallotBinary(),
                 BallotOptions(events.url(), "", {"--max-streams", "1000000"}));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  const bool warned =
      ballot.Stderr().find("--max-streams 1000000 needs about 2000256 descriptors") !=
      std::string::npos;
  CHECK(warned == !fits);
}

TEST_CASE("Ballot: live-results streams are capped, past the cap 503, a place frees when one ends",
          "[ballot][sse]") {
  FakeEventsApi events;
  events.Put(SampleAward());
  Service ballot(civic::test::BallotBinary(),
                 BallotOptions(events.url(), "", {"--max-streams", "2"}));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));

  // A reader counts the events it got and leaves, at its next event, once told to stop.
  struct Reader {
    std::atomic<bool> stop{false};
    std::atomic<int> events{0};
    std::thread thread;
  };
  auto start = [&](Reader& reader) {
    reader.thread = std::thread([&] {
      auto sse = ballot.Client();
      sse->Get(
          "/v1/awards/7/results/stream", {{"Accept", "text/event-stream"}},
          [](const httplib::Response&) { return true; },
          [&](const char* data, size_t size) {
            if (std::string_view(data, size).find("event: results") != std::string_view::npos) {
              ++reader.events;
            }
            return !reader.stop.load();
          });
    });
  };
  Reader first;
  Reader second;
  start(first);
  start(second);
  REQUIRE(civic::test::Eventually([&] { return first.events > 0 && second.events > 0; }));

  auto refused = ballot.Client();
  refused->set_read_timeout(5, 0);
  auto third = refused->Get("/v1/awards/7/results/stream");
  REQUIRE(third);
  CHECK(third->status == 503);
  CHECK(third->get_header_value("Content-Type") == "application/problem+json");
  CHECK(third->get_header_value("Retry-After") == "5");
  CHECK(json::parse(third->body)["detail"].get<std::string>().find("/v1/awards/7/results") !=
        std::string::npos);
  auto metrics = client->Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("ballot_results_stream_refused_total 1\n") != std::string::npos);
  // Polling still answers.
  CHECK(client->Get("/v1/awards/7/results")->status == 200);

  // One reader leaves (noticed at the next write); its place goes to a new stream.
  first.stop = true;
  REQUIRE(Vote(*client, 7, "cap-wake", 31, 501)->status == 201);
  first.thread.join();
  REQUIRE(civic::test::Eventually([&] {
    auto r = client->Get("/metrics");
    return r && r->body.find("ballot_results_stream_subscribers 1\n") != std::string::npos;
  }));
  Reader later;
  start(later);
  CHECK(civic::test::Eventually([&] { return later.events > 0; }));

  second.stop = true;
  later.stop = true;
  REQUIRE(Vote(*client, 7, "cap-wake-2", 31, 502)->status == 201);
  second.thread.join();
  later.thread.join();
}

TEST_CASE("Ballot: SIGTERM commits and answers votes in flight and later ones get 503",
          "[ballot][shutdown]") {
  civic::test::TempDir dir;
  FakeEventsApi events;
  events.Put(SampleAward());
  auto ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                          BallotOptions(events.url(), dir.path()));
  {
    auto client = ballot->Client();
    REQUIRE(WaitForAward(*client, 7));
  }
  constexpr int kThreads = 8;
  std::atomic<bool> signalled{false};
  std::vector<std::future<std::vector<std::pair<std::string, int>>>> futures;
  for (int t = 0; t < kThreads; ++t) {
    futures.push_back(std::async(std::launch::async, [&, t] {
      auto client = ballot->Client();
      client->set_read_timeout(5, 0);
      std::vector<std::pair<std::string, int>> outcomes;
      for (int i = 0; i < 100000; ++i) {
        const std::string voter = Str("drain-", t, "-", i);
        auto r = Vote(*client, 7, voter, 31, 501);
        outcomes.emplace_back(voter, r ? r->status : -1);
        if (!r && signalled) {
          break;
        }
      }
      return outcomes;
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  signalled = true;
  CHECK(ballot->Signal(SIGTERM) == 0);
  std::map<int, int> statuses;
  std::vector<std::pair<std::string, int>> all;
  for (auto& f : futures) {
    for (auto& outcome : f.get()) {
      ++statuses[outcome.second];
      all.push_back(std::move(outcome));
    }
  }
  INFO("201: " << statuses[201] << " 503: " << statuses[503] << " cut: " << statuses[-1]);
  CHECK(statuses[201] > 0);
  for (const auto& [status, n] : statuses) {
    CHECK((status == 201 || status == 503 || status == -1));
  }
  ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                     BallotOptions(events.url(), dir.path()));
  auto client = ballot->Client();
  REQUIRE(WaitForAward(*client, 7));
  CHECK(civic::test::VotesByNominee(Results(*client, 7))[501] >= statuses[201]);
  // Retrying tells what was stored: every 201 is there (200), no 503 is (201).
  for (const auto& [voter, status] : all) {
    if (status == 201 || status == 503) {
      auto r = Vote(*client, 7, voter, 31, 501);
      REQUIRE(r);
      CHECK(r->status == (status == 201 ? 200 : 201));
    }
  }
}

TEST_CASE("Ballot: a missing or weak secret stops the ballot, naming the setting, never the value",
          "[ballot][config]") {
  civic::test::TempDir dir;
  const auto start = [&](std::map<std::string, std::string> env,
                         std::vector<std::string> args = {}) {
    ServiceOptions options = BallotOptions("http://127.0.0.1:9", "", std::move(args));
    for (auto& [key, value] : env) {
      options.env[key] = value;
    }
    options.expect_listening = false;
    auto service = std::make_unique<Service>(civic::test::BallotBinary(), options);
    CHECK(service->WaitExit() != 0);
    return service->Stderr();
  };
  std::string err = start({{"CIVIC_BALLOT_VOTER_KEY", ""}});
  CHECK(err.find("--voter-key-file") != std::string::npos);
  CHECK(err.find("CIVIC_BALLOT_VOTER_KEY") != std::string::npos);
  CHECK(err.find(civic::test::kClientKey) == std::string::npos);
  err = start({{"CIVIC_BALLOT_VOTER_KEY", "too-short"}});
  CHECK(err.find("at least 32 bytes") != std::string::npos);
  CHECK(err.find("too-short") == std::string::npos);
  err = start({{"CIVIC_BALLOT_ADMIN_KEY", civic::test::kClientKey}});
  CHECK(err.find("must differ") != std::string::npos);
  err = start({}, {"--client-key-file", dir.path() + "/missing.key"});
  CHECK(err.find("--client-key-file") != std::string::npos);

  // Keys from files (as deploy/ and scripts/run-local.sh do) work.
  const std::string file = dir.path() + "/client.key";
  std::ofstream(file) << "key-from-a-file-0123456789\n";
  FakeEventsApi events;
  events.Put(SampleAward());
  ServiceOptions options = BallotOptions(events.url(), "", {"--client-key-file", file});
  Service ballot(civic::test::BallotBinary(), options);
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  auto r =
      client->Post("/v1/awards/7/votes", {{"Authorization", "Bearer key-from-a-file-0123456789"}},
                   VoteBody("v", 31, 501).dump(), "application/json");
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(Vote(*client, 7, "w", 31, 501)->status == 401);  // the environment's key is not used
  CHECK(ballot.Stderr().find("key-from-a-file") == std::string::npos);
}

TEST_CASE("Ballot: metrics count votes by outcome, commits, queue, dedup entries and sync",
          "[ballot][metrics]") {
  FakeEventsApi events;
  events.Put(SampleAward());
  Service ballot(civic::test::BallotBinary(), BallotOptions(events.url()));
  auto client = ballot.Client();
  REQUIRE(WaitForAward(*client, 7));
  REQUIRE(Vote(*client, 7, "m1", 31, 501)->status == 201);
  REQUIRE(Vote(*client, 7, "m2", 31, 502)->status == 201);
  REQUIRE(Vote(*client, 7, "m1", 31, 501)->status == 200);
  REQUIRE(Vote(*client, 7, "m1", 31, 502)->status == 409);
  REQUIRE(Vote(*client, 7, "m3", 31, 599)->status == 404);
  auto r = client->Get("/metrics");
  REQUIRE(r);
  for (const char* sample :
       {"ballot_votes_accepted_total{award=\"7\"} 2\n", "ballot_votes_duplicate_total 1\n",
        "ballot_votes_rejected_total{reason=\"conflict\"} 1\n",
        "ballot_votes_rejected_total{reason=\"not_found\"} 1\n",
        "ballot_commit_batch_size_count 2\n", "ballot_commit_duration_seconds_bucket{le=\"0.001\"}",
        "ballot_commit_queue_depth 0\n", "ballot_votes_not_durable 0\n", "ballot_dedup_entries 2\n",
        "ballot_awards_loaded 1\n", "ballot_storage_healthy 1\n", "ballot_sync_failures_total 0\n",
        "ballot_sync_last_success_timestamp_seconds "}) {
    INFO(sample);
    CHECK(r->body.find(sample) != std::string::npos);
  }
}
