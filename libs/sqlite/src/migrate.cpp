#include <sqlite3.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "civic/sqlite/sqlite.hpp"

namespace civic::sqlite {
namespace {

// Throws std::invalid_argument unless versions are exactly 1, 2, ..., n.
void ValidateVersions(const std::vector<Migration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    const int expected = static_cast<int>(i) + 1;
    if (migrations[i].version != expected) {
      throw std::invalid_argument(
          "sqlite: migrations must be numbered 1, 2, ... without gaps: position " +
          std::to_string(i) + " ('" + migrations[i].name + "') has version " +
          std::to_string(migrations[i].version) + ", expected " + std::to_string(expected));
    }
  }
}

std::string Describe(const Migration& m) {
  return "migration " + std::to_string(m.version) + " '" + m.name + "'";
}

}  // namespace

int SchemaVersion(const Database& db) {
  Statement stmt = db.Prepare("PRAGMA user_version");
  if (!stmt.Step()) {
    throw Error(SQLITE_ERROR, SQLITE_ERROR, "sqlite: PRAGMA user_version returned no row");
  }
  return stmt.ColumnInt(0);
}

int Migrate(Database& db, const std::vector<Migration>& migrations) {
  ValidateVersions(migrations);
  const int latest = static_cast<int>(migrations.size());
  if (db.InTransaction()) {
    throw Error(SQLITE_MISUSE, SQLITE_MISUSE,
                "sqlite: Migrate() called inside an open transaction on '" + db.path() + "'");
  }
  const auto check_not_newer = [&](int current) {
    if (current > latest) {
      throw Error(SQLITE_ERROR, SQLITE_ERROR,
                  "sqlite: database is newer than this binary: '" + db.path() +
                      "' has schema version " + std::to_string(current) +
                      ", newest known migration is " + std::to_string(latest));
    }
  };
  int current = SchemaVersion(db);
  check_not_newer(current);

  int applied = 0;
  for (const Migration& m : migrations) {
    if (m.version <= current) {
      continue;
    }
    Transaction tx(db, TransactionMode::kImmediate);
    // Another connection may have migrated between our read and taking the write lock.
    current = SchemaVersion(db);
    check_not_newer(current);
    if (m.version <= current) {
      continue;  // ~Transaction rolls back the empty transaction
    }
    try {
      db.Exec(m.sql);
    } catch (const Error& e) {
      // ~Transaction rolls the whole migration back.
      throw Error(e.code(), e.extended_code(), "sqlite: " + Describe(m) + " failed: " + e.what());
    }
    if (!db.InTransaction()) {
      throw Error(SQLITE_MISUSE, SQLITE_MISUSE,
                  "sqlite: " + Describe(m) +
                      " ended its transaction; migrations must not contain BEGIN/COMMIT/ROLLBACK");
    }
    db.Exec("PRAGMA user_version = " + std::to_string(m.version));
    try {
      tx.Commit();
    } catch (const Error& e) {
      throw Error(e.code(), e.extended_code(),
                  "sqlite: committing " + Describe(m) + " failed: " + e.what());
    }
    current = m.version;
    ++applied;
  }
  return applied;
}

Migration ServiceMetaMigration() {
  return {1, "service metadata", R"sql(
CREATE TABLE service_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
INSERT INTO service_meta(key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
)sql"};
}

}  // namespace civic::sqlite
