#pragma once

// The vote log in SQLite (table `votes`, see ballot_migrations.cpp): the one place its SQL lives.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "civic/sqlite/sqlite.hpp"
#include "crypto.hpp"
#include "vote_outcome.hpp"
#include "vote_rules.hpp"

namespace civic::ballot {

// One accepted vote as stored.
struct VoteRecord {
  uint64_t seq = 0;  // the row id; named by the receipt
  int64_t award_id = 0;
  int64_t nomination_id = 0;
  int64_t nominee_id = 0;
  VoterHash voter_hash{};
  int64_t cast_at_ms = 0;  // milliseconds since the Unix epoch
  // Where it stands (held votes): read by BySeq and ForEachInAward only; the others leave it
  // kCounted (see Holds()).
  Standing standing = Standing::kCounted;
};

// Where a held vote stands (vote_holds.state).
enum class HoldState : uint8_t { kHeld, kReleased, kRejected };
std::string_view ToString(HoldState state);  // "held", "released", "rejected"

// A vote held by a rule (README "Held votes"): stored in the same transaction as the vote.
struct HoldRecord {
  uint64_t seq = 0;
  int64_t award_id = 0;
  HoldRule rule = HoldRule::kNone;
  uint32_t count = 0;  // the evidence: what was counted, the limit, the window
  uint32_t limit = 0;
  uint32_t window_s = 0;
  HoldState state = HoldState::kHeld;
  int64_t decided_at_ms = 0;  // 0 while held
  std::string decided_by;     // the deciding key's prefix (as the audit trail names it)
};

// Where accepted votes become durable. The committer is its only caller (one thread).
class VoteSink {
 public:
  virtual ~VoteSink() = default;
  // Appends `batch`, and the holds of those of its votes that are held, in one transaction and
  // commits it durably. Throws on any failure; nothing of the batch is then stored.
  virtual void Append(const std::vector<VoteRecord>& batch,
                      const std::vector<HoldRecord>& holds) = 0;
  // A small write transaction to learn whether storage works again. Throws on failure.
  virtual void Probe() = 0;
  // Why a call failed with `e`, in a few words fit for the public (/readyz): never the storage
  // engine's own message.
  virtual std::string Problem(const std::exception& e) const;
};

// Why storage at `db_path` failed with `e`, for the public: "storage: disk full" (the file
// system has less than a MiB left for us, or SQLite said so), "storage: not writable" (a
// read-only file system, no permission) or "storage: failing" (anything else).
std::string StorageProblem(const std::string& db_path, const std::exception& e);

// The SQLite vote log: its own connection (WAL, synchronous=FULL), one prepared INSERT reused.
//
// WAL upkeep is shared with a Checkpointer: it copies the WAL into the database file in the
// background, so that commits rarely pay for that. But SQLite restarts the WAL from its start
// only after a checkpoint that copied every frame, and under a steady vote load a checkpoint on
// another connection never catches up with the commits made while it runs: the WAL would grow
// without end (measured: 146 MB after 8 s of single votes), and every commit would extend the
// file (a costlier fdatasync than overwriting). So this connection also checkpoints after a
// commit once the WAL holds `wal_checkpoint_frames` frames (SQLite's wal_autocheckpoint): most
// pages are already copied by then, and with no commit running the checkpoint completes and the
// next commit starts the WAL over.
class VoteLog final : public VoteSink {
 public:
  static constexpr int kDefaultWalCheckpointFrames = 1000;  // SQLite's own default (~4 MB)

  // Opens `path` (already migrated). Throws sqlite::Error.
  explicit VoteLog(const std::string& path,
                   int wal_checkpoint_frames = kDefaultWalCheckpointFrames);

  void Append(const std::vector<VoteRecord>& batch, const std::vector<HoldRecord>& holds) override;
  // Without holds.
  void Append(const std::vector<VoteRecord>& batch) { Append(batch, {}); }
  void Probe() override;
  std::string Problem(const std::exception& e) const override;

  // For tests that provoke storage failures (e.g. PRAGMA max_page_count). Same thread rules as
  // Append.
  sqlite::Database& database() { return db_; }

 private:
  static constexpr int kRowsPerInsert = 32;  // rows per statement of insert_many_

  sqlite::Database db_;
  sqlite::Statement insert_;       // one row
  sqlite::Statement insert_many_;  // kRowsPerInsert rows: fewer statement runs per batch
  sqlite::Statement insert_hold_;
  sqlite::Statement probe_;
};

// The vote log of a service that may start before it can write (a full disk): until `open`
// has given it a VoteLog, Append throws and Probe calls `open` first. `open` returns the log
// or throws; it runs on the committer's thread. The committer is the only caller.
class DeferredVoteLog final : public VoteSink {
 public:
  using Opener = std::function<std::unique_ptr<VoteLog>()>;
  // `log` may be null (not open yet).
  DeferredVoteLog(std::string path, std::unique_ptr<VoteLog> log, Opener open);

  void Append(const std::vector<VoteRecord>& batch, const std::vector<HoldRecord>& holds) override;
  void Probe() override;
  std::string Problem(const std::exception& e) const override;

  // The open log, or null. Same thread rules as Append.
  VoteLog* log() { return log_.get(); }

 private:
  const std::string path_;
  std::unique_ptr<VoteLog> log_;
  Opener open_;
};

// Copies the WAL back into the database file every `period`, on its own connection and thread
// (PASSIVE: never blocks the committer). Under a steady load it cannot finish the WAL on its own:
// see VoteLog for the checkpoint that lets the WAL start over.
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
//
// A reader made `immutable` opens its connections with sqlite::Options::immutable, for a service
// that starts where it cannot write (no -shm can be created): only while nothing writes the
// file. SetWritable() ends that, after every read begun immutable has finished; call it before
// anything writes.
class VoteReader {
 public:
  explicit VoteReader(std::string path, bool immutable = false)
      : path_(std::move(path)), immutable_(immutable) {}

  // From now on, connections are plain read-only ones (they see the WAL). Waits for the reads
  // in progress. Idempotent; thread-safe.
  void SetWritable();

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
  // Every hold, by seq (few: only held votes have one). Throws sqlite::Error.
  std::unordered_map<uint64_t, HoldRecord> Holds() const;
  // The hold of the vote `seq`, if it was held. Thread-safe.
  std::optional<HoldRecord> HoldOf(uint64_t seq) const;

  const std::string& path() const { return path_; }

 private:
  // Opens a read connection in the current mode. REQUIRES: mode_mu_ held (shared or not).
  sqlite::Database OpenForRead() const;

  std::string path_;
  // Held shared by every read for its whole length, exclusively by SetWritable: no immutable
  // connection outlives the switch. Guards immutable_.
  mutable std::shared_mutex mode_mu_;
  bool immutable_;
  mutable std::mutex point_mu_;  // guards point_db_; taken after mode_mu_
  mutable std::optional<sqlite::Database> point_db_;
};

}  // namespace civic::ballot
