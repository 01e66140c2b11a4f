#include "award_store.hpp"

namespace civic::ballot {

namespace {

sqlite::Options StoreOptions(bool immutable) {
  sqlite::Options options;
  options.read_only = immutable;
  options.immutable = immutable;
  return options;
}

}  // namespace

AwardStore::AwardStore(const std::string& path, bool immutable)
    : db_(sqlite::Database::Open(path, StoreOptions(immutable))), immutable_(immutable) {}

void AwardStore::SetWritable() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!immutable_) {
    return;
  }
  db_ = sqlite::Database::Open(db_.path(), StoreOptions(false));
  immutable_ = false;
}

std::vector<StoredAward> AwardStore::LoadAll() {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Statement stmt =
      db_.Prepare("SELECT award_id, version, active, snapshot FROM awards ORDER BY award_id");
  std::vector<StoredAward> out;
  while (stmt.Step()) {
    StoredAward award;
    award.award_id = stmt.ColumnInt64(0);
    award.version = stmt.ColumnInt64(1);
    award.active = stmt.ColumnInt64(2) != 0;
    award.snapshot = stmt.ColumnText(3);
    out.push_back(std::move(award));
  }
  return out;
}

void AwardStore::Save(const StoredAward& award) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Statement stmt = db_.Prepare(
      "INSERT INTO awards(award_id, version, active, snapshot, fetched_at) "
      "VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
      "ON CONFLICT(award_id) DO UPDATE SET version = excluded.version, active = excluded.active, "
      "snapshot = excluded.snapshot, fetched_at = excluded.fetched_at");
  stmt.Bind(1, award.award_id)
      .Bind(2, award.version)
      .Bind(3, award.active ? 1 : 0)
      .Bind(4, award.snapshot)
      .Run();
}

void AwardStore::SetActive(int64_t award_id, bool active) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Statement stmt = db_.Prepare("UPDATE awards SET active = ? WHERE award_id = ?");
  stmt.Bind(1, active ? 1 : 0).Bind(2, award_id).Run();
}

void AwardStore::AppendAudit(const AuditRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  db_.Prepare(
         "INSERT INTO audit_events(at, key_prefix, role, method, route, path, status) "
         "VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?, ?, ?, ?, ?)")
      .Bind(1, record.key_prefix)
      .Bind(2, record.role)
      .Bind(3, record.method)
      .Bind(4, record.route)
      .Bind(5, record.path)
      .Bind(6, record.status)
      .Run();
}

void AwardStore::PurgeAudit(int days) {
  std::lock_guard<std::mutex> lock(mu_);
  db_.Prepare("DELETE FROM audit_events WHERE at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)")
      .Bind(1, "-" + std::to_string(days) + " days")
      .Run();
}

std::vector<AuditRecord> AwardStore::Audit(int64_t after_id, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Statement stmt = db_.Prepare(
      "SELECT id, at, key_prefix, role, method, route, path, status FROM audit_events "
      "WHERE id > ? ORDER BY id LIMIT ?");
  stmt.Bind(1, after_id).Bind(2, limit);
  std::vector<AuditRecord> out;
  while (stmt.Step()) {
    AuditRecord record;
    record.id = stmt.ColumnInt64(0);
    record.at = stmt.ColumnText(1);
    record.key_prefix = stmt.ColumnText(2);
    record.role = stmt.ColumnText(3);
    record.method = stmt.ColumnText(4);
    record.route = stmt.ColumnText(5);
    record.path = stmt.ColumnText(6);
    record.status = stmt.ColumnInt(7);
    out.push_back(std::move(record));
  }
  return out;
}

std::optional<std::string> AwardStore::Meta(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Statement stmt = db_.Prepare("SELECT value FROM service_meta WHERE key = ?");
  stmt.Bind(1, key);
  if (!stmt.Step()) {
    return std::nullopt;
  }
  return stmt.ColumnText(0);
}

void AwardStore::SetMeta(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Statement stmt = db_.Prepare(
      "INSERT INTO service_meta(key, value) VALUES (?, ?) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  stmt.Bind(1, key).Bind(2, value).Run();
}

}  // namespace civic::ballot
