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
  explicit SmallDisk(size_t bytes) {
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

 private:
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
  CHECK(json::parse(ready->body)["detail"].get<std::string>().find("storage failing") !=
        std::string::npos);
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
