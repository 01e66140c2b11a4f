// A full disk under the real binary: the ballot stops acknowledging (503, /readyz not ready, a
// metric), never answers 2xx for a vote not on disk, and recovers when space is back.
// The data dir is a small tmpfs; mounting one needs root, so elsewhere the test is skipped.
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ballot_fixture.hpp"

using civic::test::BallotOptions;
using civic::test::FakeEventsApi;
using civic::test::SampleAward;
using civic::test::Service;
using civic::test::Str;
using civic::test::Vote;
using nlohmann::json;

namespace {

// A tmpfs of `bytes` mounted on a fresh directory; unmounted when destroyed.
class SmallDisk {
 public:
  explicit SmallDisk(size_t bytes) : bytes_(bytes) {
    const std::string options = Str("size=", bytes);
    mounted_ = mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) {
      umount2(dir_.path().c_str(), MNT_DETACH);
    }
  }
  bool mounted() const { return mounted_; }
  const std::string& path() const { return dir_.path(); }

  // Writes a filler file until the disk is full.
  void Fill() {
    std::ofstream out(path() + "/filler", std::ios::binary);
    const std::string block(4096, 'x');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) {
      out.flush();
      if (!out) {
        break;
      }
    }
  }
  void Free() { std::filesystem::remove(path() + "/filler"); }
  // Remounts the file system read-only, or writable again. True when it worked.
  bool SetReadOnly(bool read_only) {
    const std::string options = Str("size=", bytes_);
    unsigned long flags = MS_REMOUNT;
    if (read_only) {
      flags |= MS_RDONLY;
    }
    return mount("tmpfs", dir_.path().c_str(), "tmpfs", flags, options.c_str()) == 0;
  }

 private:
  size_t bytes_;
  civic::test::TempDir dir_;
  bool mounted_ = false;
};

int Status(const httplib::Result& r) { return r ? r->status : -1; }

}  // namespace

TEST_CASE("Ballot: a full disk stops acknowledgements with 503 until space is back",
          "[ballot][storage]") {
  SmallDisk disk(8 * 1024 * 1024);
  if (!disk.mounted()) {
    WARN("skipped: mounting a tmpfs needs root");
    return;
  }
  FakeEventsApi events;
  events.Put(SampleAward());
  auto ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                          BallotOptions(events.url(), disk.path()));
  auto client = ballot->Client();
  REQUIRE(civic::test::WaitForAward(*client, 7));
  REQUIRE(Vote(*client, 7, "before", 31, 501)->status == 201);

  disk.Fill();
  // Votes now fail to commit: each is 503, never 2xx; the service says why it is not ready.
  int failed = 0;
  std::vector<std::string> refused;
  for (int i = 0; i < 400 && failed < 5; ++i) {
    const std::string voter = Str("full-", i);
    auto r = Vote(*client, 7, voter, 31, 502);
    REQUIRE(r);
    if (r->status == 503) {
      ++failed;
      refused.push_back(voter);
    } else {
      // Space freed by SQLite's own reuse may take a few more votes before the disk is full.
      REQUIRE(r->status == 201);
    }
  }
  REQUIRE(failed > 0);
  auto ready = client->Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK(json::parse(ready->body)["detail"].get<std::string>() == "storage: disk full");
  auto metrics = client->Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("ballot_storage_healthy 0\n") != std::string::npos);
  CHECK(metrics->body.find("ballot_commit_failures_total 0\n") == std::string::npos);
  // A vote counted before still answers 200: it is on disk.
  CHECK(Status(Vote(*client, 7, "before", 31, 501)) == 200);

  disk.Free();
  REQUIRE(civic::test::Eventually([&] { return Status(client->Get("/readyz")) == 200; }));
  for (const auto& voter : refused) {
    CHECK(Status(Vote(*client, 7, voter, 31, 502)) == 201);  // was not stored before
  }
  // And everything acknowledged survives a restart.
  const auto before = civic::test::VotesByNominee(civic::test::Results(*client, 7));
  REQUIRE(ballot->Signal(SIGTERM) == 0);
  ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                     BallotOptions(events.url(), disk.path()));
  client = ballot->Client();
  REQUIRE(civic::test::WaitForAward(*client, 7));
  CHECK(civic::test::VotesByNominee(civic::test::Results(*client, 7)) == before);
}

namespace {

// The first results event of `award`'s stream, or null JSON when none comes.
json FirstStreamedResults(const Service& ballot, int64_t award) {
  auto sse = ballot.Client();
  sse->set_read_timeout(std::chrono::seconds(5));
  std::string buffer;
  json first;
  sse->Get(
      Str("/v1/awards/", award, "/results/stream"), {{"Accept", "text/event-stream"}},
      [&](const httplib::Response& response) { return response.status == 200; },
      [&](const char* data, size_t size) {
        buffer.append(data, size);
        size_t end;
        while ((end = buffer.find("\n\n")) != std::string::npos) {
          const std::string event = buffer.substr(0, end);
          buffer.erase(0, end + 2);
          const size_t data_at = event.find("data: ");
          if (event.find("event: results") != std::string::npos && data_at != std::string::npos) {
            first = json::parse(event.substr(data_at + 6));
            return false;  // enough: end the stream
          }
        }
        return true;
      });
  return first;
}

}  // namespace

TEST_CASE("Ballot: restarted on a full disk it starts not ready, serves what it has and recovers",
          "[ballot][storage]") {
  SmallDisk disk(8 * 1024 * 1024);
  if (!disk.mounted()) {
    WARN("skipped: mounting a tmpfs needs root");
    return;
  }
  FakeEventsApi events;
  events.Put(SampleAward());
  auto ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                          BallotOptions(events.url(), disk.path()));
  auto client = ballot->Client();
  REQUIRE(civic::test::WaitForAward(*client, 7));
  std::vector<std::string> receipts;
  for (int i = 0; i < 5; ++i) {
    auto r = Vote(*client, 7, Str("early-", i), 31, i % 2 == 0 ? 501 : 502);
    REQUIRE(Status(r) == 201);
    receipts.push_back(json::parse(r->body)["receipt"].get<std::string>());
  }
  const auto before = civic::test::VotesByNominee(civic::test::Results(*client, 7));
  REQUIRE(before.at(501) == 3);
  REQUIRE(before.at(502) == 2);
  REQUIRE(ballot->Signal(SIGTERM) == 0);

  // Restarted on a full disk: it starts (no exit 1, no restart loop) but is not ready.
  disk.Fill();
  ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                     BallotOptions(events.url(), disk.path()));
  client = ballot->Client();
  auto ready = client->Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  const std::string reason = json::parse(ready->body)["detail"].get<std::string>();
  CHECK(reason == "storage: disk full");  // a reason of ours, not SQLite's text
  auto metrics = client->Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("ballot_storage_healthy 0\n") != std::string::npos);

  // What it rebuilt from the database is served: results, a receipt, the stream.
  CHECK(civic::test::VotesByNominee(civic::test::Results(*client, 7)) == before);
  auto receipt = client->Get(Str("/v1/receipts/", receipts[1]));
  REQUIRE(receipt);
  CHECK(receipt->status == 200);
  CHECK(json::parse(receipt->body)["counted"] == true);
  const json streamed = FirstStreamedResults(*ballot, 7);
  REQUIRE_FALSE(streamed.is_null());
  CHECK(civic::test::VotesByNominee(streamed) == before);
  // A counted vote is still answered from memory; a new one is refused with 503 and a retry hint.
  CHECK(Status(Vote(*client, 7, "early-0", 31, 501)) == 200);
  auto refused = Vote(*client, 7, "late", 31, 502);
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(refused->get_header_value("Content-Type") == "application/problem+json");
  CHECK_FALSE(refused->get_header_value("Retry-After").empty());

  // Space comes back: within a bounded time it opens the writer by itself and takes votes.
  disk.Free();
  REQUIRE(civic::test::Eventually([&] { return Status(client->Get("/readyz")) == 200; },
                                  std::chrono::seconds(20)));
  CHECK(Status(Vote(*client, 7, "late", 31, 502)) == 201);
  auto after = before;
  ++after[502];
  CHECK(civic::test::VotesByNominee(civic::test::Results(*client, 7)) == after);
  auto receipt_again = client->Get(Str("/v1/receipts/", receipts[1]));
  REQUIRE(receipt_again);
  CHECK(receipt_again->status == 200);

  // And every acknowledged vote survives another restart.
  REQUIRE(ballot->Signal(SIGTERM) == 0);
  ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                     BallotOptions(events.url(), disk.path()));
  client = ballot->Client();
  REQUIRE(civic::test::WaitForAward(*client, 7));
  CHECK(civic::test::VotesByNominee(civic::test::Results(*client, 7)) == after);
  CHECK(Status(client->Get("/readyz")) == 200);
}

TEST_CASE("Ballot: restarted on a read-only file system it starts not ready and recovers",
          "[ballot][storage]") {
  SmallDisk disk(8 * 1024 * 1024);
  if (!disk.mounted()) {
    WARN("skipped: mounting a tmpfs needs root");
    return;
  }
  FakeEventsApi events;
  events.Put(SampleAward());
  auto ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                          BallotOptions(events.url(), disk.path()));
  auto client = ballot->Client();
  REQUIRE(civic::test::WaitForAward(*client, 7));
  REQUIRE(Status(Vote(*client, 7, "before", 31, 501)) == 201);
  const auto before = civic::test::VotesByNominee(civic::test::Results(*client, 7));
  REQUIRE(ballot->Signal(SIGTERM) == 0);

  REQUIRE(disk.SetReadOnly(true));
  ballot = std::make_unique<Service>(civic::test::BallotBinary(),
                                     BallotOptions(events.url(), disk.path()));
  client = ballot->Client();
  auto ready = client->Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK(json::parse(ready->body)["detail"] == "storage: not writable");
  CHECK(civic::test::VotesByNominee(civic::test::Results(*client, 7)) == before);
  CHECK(Status(Vote(*client, 7, "after", 31, 502)) == 503);

  REQUIRE(disk.SetReadOnly(false));
  REQUIRE(civic::test::Eventually([&] { return Status(client->Get("/readyz")) == 200; },
                                  std::chrono::seconds(20)));
  CHECK(Status(Vote(*client, 7, "after", 31, 502)) == 201);
}
