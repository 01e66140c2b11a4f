#pragma once

// The vote log in SQLite (table `votes`, see migrations.cpp): the one place its SQL lives.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "civic/sqlite/sqlite.hpp"
#include "crypto.hpp"

namespace civic::ballot {

// One accepted vote as stored.
struct VoteRecord {
  uint64_t seq = 0;  // the row id; named by the receipt
  int64_t award_id = 0;
  int64_t nomination_id = 0;
  int64_t nominee_id = 0;
  VoterHash voter_hash{};
  int64_t cast_at_ms = 0;  // milliseconds since the Unix epoch
};

// Where accepted votes become durable. The committer is its only caller (one thread).
class VoteSink {
 public:
  virtual ~VoteSink() = default;
  // Appends `batch` in one transaction and commits it durably. Throws on any failure; nothing of
  // the batch is then stored.
  virtual void Append(const std::vector<VoteRecord>& batch) = 0;
  // A small write transaction to learn whether storage works again. Throws on failure.
  virtual void Probe() = 0;
};

// The SQLite vote log: its own connection (WAL, synchronous=FULL), one prepared INSERT reused.
// It never checkpoints the WAL itself (wal_autocheckpoint=0), so that no commit pays for one: a
// Checkpointer does it in the background.
class VoteLog final : public VoteSink {
 public:
  // Opens `path` (already migrated). Throws sqlite::Error.
  explicit VoteLog(const std::string& path);

  void Append(const std::vector<VoteRecord>& batch) override;
  void Probe() override;

  // For tests that provoke storage failures (e.g. PRAGMA max_page_count). Same thread rules as
  // Append.
  sqlite::Database& database() { return db_; }

 private:
  sqlite::Database db_;
  sqlite::Statement insert_;
  sqlite::Statement probe_;
};

// Copies the WAL back into the database file every `period`, on its own connection and thread
// (PASSIVE: never blocks the committer; SQLite restarts the WAL once a checkpoint completed).
class Checkpointer {
 public:
  Checkpointer(std::string path, std::chrono::milliseconds period);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  void Start();
  void Stop();

 private:
  void Run();
  const std::string path_;
  const std::chrono::milliseconds period_;
  std::mutex mu_;  // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// Read side of the log. Each call that scans opens its own read-only connection, so scans run in
// parallel with appends (WAL) and see one consistent snapshot.
class VoteReader {
 public:
  explicit VoteReader(std::string path) : path_(std::move(path)) {}

  // Calls `fn` for every stored vote in seq order. Throws sqlite::Error.
  void ForEach(const std::function<void(const VoteRecord&)>& fn) const;
  // Calls `fn` with the stored votes in seq order, `chunk` at a time (the last may be shorter);
  // `fn` may keep the vector (move from it). Throws sqlite::Error.
  void ForEachChunk(size_t chunk, const std::function<void(std::vector<VoteRecord>&)>& fn) const;
  // Calls `fn` for every vote of `award_id` in seq order; stops early when fn returns false.
  void ForEachInAward(int64_t award_id, const std::function<bool(const VoteRecord&)>& fn) const;
  // The vote with this seq, if stored. Thread-safe (one shared connection, serialised).
  std::optional<VoteRecord> BySeq(uint64_t seq) const;
  // Highest stored seq, 0 when empty.
  uint64_t MaxSeq() const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  mutable std::mutex point_mu_;  // guards point_db_
  mutable std::optional<sqlite::Database> point_db_;
};

}  // namespace civic::ballot
