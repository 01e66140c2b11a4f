// civic-ballot-preload: prepares a ballot data dir for the benchmarks. Creates and migrates
// DATA_DIR/ballot.db, stores a snapshot of award 7 (open for a week, K = 1, nominations 31 and
// 32 with 8 nominees each), and appends N votes straight through the ballot's own storage code
// (VoteLog, batches of 10,000), as if they had been cast: distinct random voter hashes, nominees
// spread over both nominations.
//
//   civic-ballot-preload --data-dir DIR --votes 10000000
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "award_store.hpp"
#include "ballot_migrations.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "vote_log.hpp"

namespace {

using nlohmann::json;

std::string Utc(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

json BenchAward() {
  const auto now = std::chrono::system_clock::now();
  json nominations = json::array();
  json nominees = json::array();
  for (int n = 0; n < 2; ++n) {
    const int nomination = 31 + n;
    nominations.push_back({{"id", nomination}, {"title", "Номинация " + std::to_string(n + 1)}});
    for (int i = 0; i < 8; ++i) {
      const int id = 500 + n * 100 + i + 1;
      nominees.push_back({{"id", id},
                          {"nomination_id", nomination},
                          {"name", "Номинант " + std::to_string(id)},
                          {"city", {{"id", 1 + i % 4}, {"name", "Город " + std::to_string(i % 4)}}},
                          {"status", "active"}});
    }
  }
  return {{"protocol", 1},
          {"id", 7},
          {"version", 1},
          {"title", "Benchmark award"},
          {"edition_year", 2026},
          {"status", "voting"},
          {"voting_opens_at", Utc(now - std::chrono::hours(24))},
          {"voting_closes_at", Utc(now + std::chrono::hours(24 * 7))},
          {"max_choices_per_nomination", 1},
          {"results_visibility", "live"},
          {"nominations", nominations},
          {"nominees", nominees}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir;
  uint64_t votes = 0;
  CLI::App cli{"Prepare a ballot data dir with an award and N stored votes (benchmarks)"};
  cli.add_option("--data-dir", data_dir, "Data dir of the ballot (created)")->required();
  cli.add_option("--votes", votes, "Votes to append")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  std::filesystem::create_directories(data_dir);
  const std::string path = (std::filesystem::path(data_dir) / "ballot.db").string();
  {
    civic::sqlite::Database db = civic::sqlite::Database::Open(path);
    civic::sqlite::Migrate(db, civic::ballot::Migrations());
  }
  civic::ballot::AwardStore store(path);
  const json award = BenchAward();
  store.Save({7, 1, true, award.dump()});

  civic::ballot::VoteLog log(path);
  const uint64_t first = civic::ballot::VoteReader(path).MaxSeq() + 1;
  std::mt19937_64 random(first);
  std::vector<civic::ballot::VoteRecord> batch;
  constexpr size_t kBatch = 10000;
  batch.reserve(kBatch);
  const auto started = std::chrono::steady_clock::now();
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  for (uint64_t i = 0; i < votes; ++i) {
    civic::ballot::VoteRecord r;
    r.seq = first + i;
    r.award_id = 7;
    const uint64_t bits = random();
    r.nomination_id = 31 + static_cast<int64_t>(bits & 1);
    r.nominee_id = 500 + (r.nomination_id - 31) * 100 + 1 + static_cast<int64_t>((bits >> 1) % 8);
    const uint64_t a = random();
    const uint64_t b = random();
    std::memcpy(r.voter_hash.data(), &a, 8);
    std::memcpy(r.voter_hash.data() + 8, &b, 8);
    r.cast_at_ms = now_ms;
    batch.push_back(r);
    if (batch.size() == kBatch) {
      log.Append(batch);
      batch.clear();
    }
  }
  if (!batch.empty()) {
    log.Append(batch);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "preloaded " << votes << " votes into " << path << " in " << seconds << " s ("
            << (seconds > 0 ? static_cast<double>(votes) / seconds : 0) << " rows/s)\n";
  return 0;
}
