#include "vote_log.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "civic/runtime/thread_name.hpp"

namespace civic::ballot {

namespace {

sqlite::Options ReadOptions(bool immutable) {
  sqlite::Options options;
  options.read_only = true;
  options.immutable = immutable;
  return options;
}

constexpr uint64_t kNearlyFullBytes = 1024 * 1024;

constexpr const char* kSelectColumns =
    "SELECT seq, award_id, nomination_id, nominee_id, voter_hash, cast_at_ms FROM votes";
// The same with where each vote stands, in one snapshot.
constexpr const char* kSelectWithStanding =
    "SELECT v.seq, v.award_id, v.nomination_id, v.nominee_id, v.voter_hash, v.cast_at_ms, "
    "h.state FROM votes v LEFT JOIN vote_holds h ON h.seq = v.seq";

VoteRecord ReadRow(sqlite::Statement& stmt) {
  VoteRecord record;
  sqlite3_stmt* raw = stmt.handle();
  record.seq = static_cast<uint64_t>(sqlite3_column_int64(raw, 0));
  record.award_id = sqlite3_column_int64(raw, 1);
  record.nomination_id = sqlite3_column_int64(raw, 2);
  record.nominee_id = sqlite3_column_int64(raw, 3);
  const void* blob = sqlite3_column_blob(raw, 4);
  const int size = sqlite3_column_bytes(raw, 4);
  if (blob != nullptr && size == static_cast<int>(record.voter_hash.size())) {
    std::memcpy(record.voter_hash.data(), blob, record.voter_hash.size());
  }
  record.cast_at_ms = sqlite3_column_int64(raw, 5);
  if (sqlite3_column_count(raw) > 6) {
    const auto* state = reinterpret_cast<const char*>(sqlite3_column_text(raw, 6));
    const std::string_view s = state != nullptr ? state : "";
    record.standing = s == "held"       ? Standing::kHeld
                      : s == "rejected" ? Standing::kRejected
                                        : Standing::kCounted;
  }
  return record;
}

}  // namespace

namespace {

std::string InsertSql(int rows) {
  std::string sql =
      "INSERT INTO votes(seq, award_id, nomination_id, nominee_id, voter_hash, cast_at_ms) VALUES ";
  for (int i = 0; i < rows; ++i) {
    sql += i == 0 ? "(?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?)";
  }
  return sql;
}

// Binds `record` to the six parameters starting at `first` (1-based).
void BindVote(sqlite3_stmt* stmt, int first, const VoteRecord& record) {
  sqlite3_bind_int64(stmt, first, static_cast<sqlite3_int64>(record.seq));
  sqlite3_bind_int64(stmt, first + 1, record.award_id);
  sqlite3_bind_int64(stmt, first + 2, record.nomination_id);
  sqlite3_bind_int64(stmt, first + 3, record.nominee_id);
  sqlite3_bind_blob(stmt, first + 4, record.voter_hash.data(),
                    static_cast<int>(record.voter_hash.size()), SQLITE_STATIC);
  sqlite3_bind_int64(stmt, first + 5, record.cast_at_ms);
}

}  // namespace

std::string VoteSink::Problem(const std::exception&) const { return "storage: failing"; }

std::string StorageProblem(const std::string& db_path, const std::exception& e) {
  const auto* error = dynamic_cast<const sqlite::Error*>(&e);
  if (error != nullptr && error->IsFull()) {
    return "storage: disk full";
  }
  std::string dir = std::filesystem::path(db_path).parent_path().string();
  if (dir.empty()) {
    dir = ".";
  }
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) == 0) {
    if ((fs.f_flag & ST_RDONLY) != 0) {
      return "storage: not writable";
    }
    if (static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < kNearlyFullBytes) {
      return "storage: disk full";
    }
  }
  if (::access(dir.c_str(), W_OK) != 0 ||
      (::access(db_path.c_str(), F_OK) == 0 && ::access(db_path.c_str(), W_OK) != 0)) {
    return "storage: not writable";
  }
  if (error != nullptr && (error->code() == SQLITE_READONLY || error->code() == SQLITE_PERM ||
                           error->code() == SQLITE_CANTOPEN || error->code() == SQLITE_AUTH)) {
    return "storage: not writable";
  }
  return "storage: failing";
}

VoteLog::VoteLog(const std::string& path, int wal_checkpoint_frames)
    : db_(sqlite::Database::Open(path)),
      insert_(db_.Prepare(InsertSql(1))),
      insert_many_(db_.Prepare(InsertSql(kRowsPerInsert))),
      insert_hold_(db_.Prepare("INSERT INTO vote_holds(seq, award_id, rule, count, lim, window_s) "
                               "VALUES (?, ?, ?, ?, ?, ?)")),
      probe_(db_.Prepare("UPDATE service_meta SET value = ? WHERE key = 'probe'")) {
  db_.Exec("PRAGMA wal_autocheckpoint=" + std::to_string(wal_checkpoint_frames));
}

Checkpointer::Checkpointer(std::string path, std::chrono::milliseconds period)
    : path_(std::move(path)), period_(period) {}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Start() {
  thread_ = std::thread([this] {
    runtime::NameThisThread("ballot-ckpt");
    Run();
  });
}

void Checkpointer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Checkpointer::Run() {
  std::optional<sqlite::Database> db;
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, period_, [this] { return stopping_; })) {
    lock.unlock();
    try {
      if (!db) {
        db.emplace(sqlite::Database::Open(path_));
      }
      db->Exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch (const std::exception& e) {
      // Storage trouble shows in commits (503, /readyz); retried next period.
      spdlog::debug("ballot: checkpoint failed: {}", e.what());
      db.reset();
    }
    lock.lock();
  }
}

void VoteLog::Append(const std::vector<VoteRecord>& batch, const std::vector<HoldRecord>& holds) {
  sqlite::Transaction tx(db_);
  // The raw API on the hot path: bind, step, reset; kRowsPerInsert rows per statement while
  // enough are left, then one at a time.
  const auto run = [this](sqlite3_stmt* stmt) {
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
      const int extended = sqlite3_extended_errcode(db_.handle());
      throw sqlite::Error(
          rc, extended,
          std::string("ballot: appending votes failed: ") + sqlite3_errmsg(db_.handle()));
    }
  };
  size_t i = 0;
  sqlite3_stmt* many = insert_many_.handle();
  for (; i + kRowsPerInsert <= batch.size(); i += kRowsPerInsert) {
    for (int r = 0; r < kRowsPerInsert; ++r) {
      BindVote(many, 1 + 6 * r, batch[i + static_cast<size_t>(r)]);
    }
    run(many);
  }
  sqlite3_stmt* one = insert_.handle();
  for (; i < batch.size(); ++i) {
    BindVote(one, 1, batch[i]);
    run(one);
  }
  sqlite3_clear_bindings(many);
  sqlite3_clear_bindings(one);
  for (const HoldRecord& hold : holds) {
    insert_hold_.Bind(1, static_cast<int64_t>(hold.seq))
        .Bind(2, hold.award_id)
        .Bind(3, std::string(ToString(hold.rule)))
        .Bind(4, static_cast<int64_t>(hold.count))
        .Bind(5, static_cast<int64_t>(hold.limit))
        .Bind(6, static_cast<int64_t>(hold.window_s))
        .Run();
    insert_hold_.Reset();
  }
  tx.Commit();
}

void VoteLog::Probe() {
  sqlite::Transaction tx(db_);
  probe_.Bind(1, int64_t{0}).Run();
  probe_.Reset();
  tx.Commit();
}

std::string VoteLog::Problem(const std::exception& e) const {
  return StorageProblem(db_.path(), e);
}

DeferredVoteLog::DeferredVoteLog(std::string path, std::unique_ptr<VoteLog> log, Opener open)
    : path_(std::move(path)), log_(std::move(log)), open_(std::move(open)) {}

void DeferredVoteLog::Append(const std::vector<VoteRecord>& batch,
                             const std::vector<HoldRecord>& holds) {
  if (!log_) {
    throw sqlite::Error(SQLITE_CANTOPEN, SQLITE_CANTOPEN, "ballot: the vote log is not open yet");
  }
  log_->Append(batch, holds);
}

void DeferredVoteLog::Probe() {
  if (!log_) {
    log_ = open_();
  }
  log_->Probe();
}

std::string DeferredVoteLog::Problem(const std::exception& e) const {
  return StorageProblem(path_, e);
}

void VoteReader::SetWritable() {
  std::unique_lock<std::shared_mutex> mode(mode_mu_);
  if (!immutable_) {
    return;
  }
  immutable_ = false;
  std::lock_guard<std::mutex> lock(point_mu_);
  point_db_.reset();
}

sqlite::Database VoteReader::OpenForRead() const {
  return sqlite::Database::Open(path_, ReadOptions(immutable_));
}

void VoteReader::ForEach(const std::function<void(const VoteRecord&)>& fn) const {
  std::shared_lock<std::shared_mutex> mode(mode_mu_);
  sqlite::Database db = OpenForRead();
  sqlite::Statement stmt = db.Prepare(std::string(kSelectColumns) + " ORDER BY seq");
  while (stmt.Step()) {
    fn(ReadRow(stmt));
  }
}

void VoteReader::ForEachChunk(size_t chunk,
                              const std::function<void(std::vector<VoteRecord>&)>& fn) const {
  std::shared_lock<std::shared_mutex> mode(mode_mu_);
  sqlite::Database db = OpenForRead();
  sqlite::Statement stmt = db.Prepare(std::string(kSelectColumns) + " ORDER BY seq");
  std::vector<VoteRecord> rows;
  rows.reserve(chunk);
  while (stmt.Step()) {
    rows.push_back(ReadRow(stmt));
    if (rows.size() == chunk) {
      fn(rows);
      rows.clear();
      rows.reserve(chunk);
    }
  }
  if (!rows.empty()) {
    fn(rows);
  }
}

void VoteReader::ForEachInAward(int64_t award_id,
                                const std::function<bool(const VoteRecord&)>& fn) const {
  std::shared_lock<std::shared_mutex> mode(mode_mu_);
  sqlite::Database db = OpenForRead();
  sqlite::Statement stmt =
      db.Prepare(std::string(kSelectWithStanding) + " WHERE v.award_id = ? ORDER BY v.seq");
  stmt.Bind(1, award_id);
  while (stmt.Step()) {
    if (!fn(ReadRow(stmt))) {
      break;
    }
  }
}

std::optional<VoteRecord> VoteReader::BySeq(uint64_t seq) const {
  std::shared_lock<std::shared_mutex> mode(mode_mu_);
  std::lock_guard<std::mutex> lock(point_mu_);
  if (!point_db_) {
    point_db_.emplace(OpenForRead());
  }
  sqlite::Statement stmt =
      point_db_->Prepare(std::string(kSelectWithStanding) + " WHERE v.seq = ?");
  stmt.Bind(1, static_cast<int64_t>(seq));
  if (!stmt.Step()) {
    return std::nullopt;
  }
  return ReadRow(stmt);
}

namespace {

constexpr const char* kHoldColumns =
    "SELECT seq, award_id, rule, count, lim, window_s, state, coalesce(decided_at_ms, 0), "
    "coalesce(decided_by, '') FROM vote_holds";

HoldRecord ReadHold(sqlite::Statement& stmt) {
  HoldRecord hold;
  hold.seq = static_cast<uint64_t>(stmt.ColumnInt64(0));
  hold.award_id = stmt.ColumnInt64(1);
  hold.rule = ParseHoldRule(stmt.ColumnText(2)).value_or(HoldRule::kNone);
  hold.count = static_cast<uint32_t>(stmt.ColumnInt64(3));
  hold.limit = static_cast<uint32_t>(stmt.ColumnInt64(4));
  hold.window_s = static_cast<uint32_t>(stmt.ColumnInt64(5));
  const std::string state = stmt.ColumnText(6);
  hold.state = state == "released"   ? HoldState::kReleased
               : state == "rejected" ? HoldState::kRejected
                                     : HoldState::kHeld;
  hold.decided_at_ms = stmt.ColumnInt64(7);
  hold.decided_by = stmt.ColumnText(8);
  return hold;
}

}  // namespace

std::string_view ToString(HoldState state) {
  switch (state) {
    case HoldState::kReleased:
      return "released";
    case HoldState::kRejected:
      return "rejected";
    case HoldState::kHeld:
      break;
  }
  return "held";
}

std::unordered_map<uint64_t, HoldRecord> VoteReader::Holds() const {
  std::shared_lock<std::shared_mutex> mode(mode_mu_);
  sqlite::Database db = OpenForRead();
  sqlite::Statement stmt = db.Prepare(kHoldColumns);
  std::unordered_map<uint64_t, HoldRecord> out;
  while (stmt.Step()) {
    HoldRecord hold = ReadHold(stmt);
    out.emplace(hold.seq, std::move(hold));
  }
  return out;
}

std::optional<HoldRecord> VoteReader::HoldOf(uint64_t seq) const {
  std::shared_lock<std::shared_mutex> mode(mode_mu_);
  std::lock_guard<std::mutex> lock(point_mu_);
  if (!point_db_) {
    point_db_.emplace(OpenForRead());
  }
  sqlite::Statement stmt = point_db_->Prepare(std::string(kHoldColumns) + " WHERE seq = ?");
  stmt.Bind(1, static_cast<int64_t>(seq));
  if (!stmt.Step()) {
    return std::nullopt;
  }
  return ReadHold(stmt);
}

uint64_t VoteReader::MaxSeq() const {
  std::shared_lock<std::shared_mutex> mode(mode_mu_);
  sqlite::Database db = OpenForRead();
  sqlite::Statement stmt = db.Prepare("SELECT coalesce(max(seq), 0) FROM votes");
  stmt.Step();
  return static_cast<uint64_t>(stmt.ColumnInt64(0));
}

}  // namespace civic::ballot
