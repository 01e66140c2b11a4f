// Online backups (`backup` subcommand of both binaries): a copy made while the service runs
// under load holds every vote acknowledged before it began and only votes that were
// acknowledged, and its recount is exactly the acknowledged votes it holds; restored elsewhere,
// it starts, recounts and answers receipts.

#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ballot_fixture.hpp"

using civic::test::BallotOptions;
using civic::test::FakeEventsApi;
using civic::test::SampleAward;
using civic::test::Service;
using civic::test::Str;
using civic::test::TempDir;
using nlohmann::json;

namespace {

civic::test::ServiceOptions DataDir(const std::string& path) {
  civic::test::ServiceOptions options;
  options.data_dir = path;
  return options;
}

// Receipts of the votes acknowledged (201) so far, by a load of single votes, with the nominee
// each was cast for.
class VoteLoad {
 public:
  explicit VoteLoad(const Service& ballot) {
    for (int t = 0; t < 2; ++t) {
      threads_.emplace_back([this, &ballot, t] {
        auto client = ballot.Client();
        for (int i = 0; !stop_.load(); ++i) {
          const int64_t nominee = i % 2 ? 501 : 502;
          auto r = civic::test::Vote(*client, 7, Str("load-", t, "-", i), 31, nominee);
          if (r && r->status == 201) {
            std::lock_guard<std::mutex> lock(mu_);
            receipts_.push_back(json::parse(r->body)["receipt"].get<std::string>());
            nominee_of_[receipts_.back()] = nominee;
          }
        }
      });
    }
  }
  ~VoteLoad() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) {
        thread.join();
      }
    }
  }
  std::vector<std::string> receipts() {
    std::lock_guard<std::mutex> lock(mu_);
    return receipts_;
  }
  std::map<std::string, int64_t> nominee_of() {
    std::lock_guard<std::mutex> lock(mu_);
    return nominee_of_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> receipts_;
  std::map<std::string, int64_t> nominee_of_;  // receipt -> nominee
  std::vector<std::thread> threads_;
};

}  // namespace

TEST_CASE("Backup: a copy of the ballot made under load holds every vote acknowledged before it",
          "[ballot][backup]") {
  FakeEventsApi events;
  events.Put(SampleAward(7));
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string copy = dir.path() + "/copy.db";
  Service ballot(civic::test::BallotBinary(), BallotOptions(events.url(), data));
  auto client = ballot.Client();
  REQUIRE(civic::test::WaitForAward(*client, 7));

  VoteLoad load(ballot);
  REQUIRE(civic::test::Eventually([&] { return load.receipts().size() >= 300; }));
  const std::vector<std::string> before = load.receipts();
  const civic::test::CommandResult made = civic::test::RunToEnd(
      civic::test::BallotBinary() + " backup --data-dir " + data + " --to " + copy);
  INFO(made.output);
  REQUIRE(made.exit_code == 0);
  CHECK(made.output.find("backed up") != std::string::npos);
  REQUIRE(civic::test::Eventually([&] { return load.receipts().size() >= before.size() + 100; }));
  load.Stop();
  const std::vector<std::string> all = load.receipts();
  const std::map<std::string, int64_t> acknowledged = load.nominee_of();

  // Only its owner may read the copy; a second backup to the same file is refused.
  struct stat info {};
  REQUIRE(::stat(copy.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  CHECK(civic::test::RunToEnd(civic::test::BallotBinary() + " backup --data-dir " + data +
                              " --to " + copy + " 2>&1")
            .exit_code == 1);

  // Restored elsewhere: the recount holds at least what was acknowledged before the backup and
  // at most what was acknowledged at all, and its audit is clean.
  const std::string restored = dir.path() + "/restored";
  std::filesystem::create_directories(restored);
  std::filesystem::copy_file(copy, restored + "/ballot.db");
  const civic::test::CommandResult recount =
      civic::test::RunToEnd(civic::test::BallotBinary() + " recount --data-dir " + restored);
  REQUIRE(recount.exit_code == 0);
  const json counted = json::parse(recount.output);
  const auto total = counted["total_votes"].get<size_t>();
  CHECK(total >= before.size());
  CHECK(total <= all.size());
  CHECK(counted["audit"]["duplicate_votes"] == 0);

  // The restored ballot starts from the copy and knows every receipt given before the backup.
  Service second(civic::test::BallotBinary(), BallotOptions(events.url(), restored));
  auto second_client = second.Client();

  // Exactly the acknowledged votes up to the backup's moment: every vote the copy holds was
  // acknowledged (its receipt, for its nominee), every vote acknowledged before the backup
  // began is among them, and the copy's recount, nominee by nominee, counts just those.
  auto exported = second_client->Get("/v1/awards/7/votes.ndjson", civic::test::AdminAuth());
  REQUIRE(exported);
  REQUIRE(exported->status == 200);
  std::map<std::string, int64_t> in_copy;  // receipt -> nominee
  std::istringstream lines(exported->body);
  for (std::string line; std::getline(lines, line);) {
    const json vote = json::parse(line);
    in_copy[vote["receipt"].get<std::string>()] = vote["nominee_id"].get<int64_t>();
  }
  CHECK(in_copy.size() == total);
  std::map<int64_t, int64_t> expected;  // nominee -> acknowledged votes in the copy
  for (const auto& [receipt, nominee] : in_copy) {
    const auto it = acknowledged.find(receipt);
    INFO(receipt);
    REQUIRE(it != acknowledged.end());
    CHECK(it->second == nominee);
    ++expected[it->second];
  }
  for (const std::string& receipt : before) {
    CHECK(in_copy.count(receipt) == 1);
  }
  std::map<int64_t, int64_t> recounted;
  for (const json& award : counted["awards"]) {
    for (const json& nomination : award["nominations"]) {
      for (const json& nominee : nomination["nominees"]) {
        if (nominee["votes"].get<int64_t>() > 0) {
          recounted[nominee["id"].get<int64_t>()] = nominee["votes"].get<int64_t>();
        }
      }
    }
  }
  CHECK(recounted == expected);

  for (const std::string& receipt : before) {
    auto r = second_client->Get("/v1/receipts/" + receipt);
    REQUIRE(r);
    REQUIRE(r->status == 200);
  }
}

TEST_CASE("Backup: a copy of the events API's database restores its records", "[events][backup]") {
  TempDir dir;
  const std::string copy = dir.path() + "/copy.db";
  std::string city_path;
  {
    Service events(civic::test::EventsApiBinary(), DataDir(dir.path() + "/data"));
    auto client = events.Client();
    auto city = client->Post("/v1/cities", R"({"name":"Сургут","time_zone":"Asia/Yekaterinburg"})",
                             "application/json");
    REQUIRE(city);
    REQUIRE(city->status == 201);
    city_path = city->get_header_value("Location");
    const civic::test::CommandResult made = civic::test::RunToEnd(
        civic::test::EventsApiBinary() + " backup --data-dir " + dir.path() + "/data --to " + copy);
    INFO(made.output);
    REQUIRE(made.exit_code == 0);
  }
  const std::string restored = dir.path() + "/restored";
  std::filesystem::create_directories(restored);
  std::filesystem::copy_file(copy, restored + "/events.db");
  Service events(civic::test::EventsApiBinary(), DataDir(restored));
  auto r = events.Client()->Get(city_path.c_str());
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body)["name"] == "Сургут");
}
