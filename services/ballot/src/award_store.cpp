#include "award_store.hpp"

namespace civic::ballot {

AwardStore::AwardStore(const std::string& path) : db_(sqlite::Database::Open(path)) {}

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
