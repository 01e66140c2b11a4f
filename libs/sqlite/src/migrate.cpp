#include <sqlite3.h>

#include <optional>
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

// Turns foreign key enforcement off for its lifetime (outside any transaction), then back to
// what it was.
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(Database& db) : db_(db) {
    Statement state = db_.Prepare("PRAGMA foreign_keys");
    was_on_ = state.Step() && state.ColumnInt(0) != 0;
    db_.Exec("PRAGMA foreign_keys=OFF");
  }
  ~ForeignKeysOff() {
    if (was_on_ && !db_.InTransaction()) {
      try {
        db_.Exec("PRAGMA foreign_keys=ON");
      } catch (const Error&) {
        // Nothing to do in a destructor; the next Open() sets it again.
      }
    }
  }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

 private:
  Database& db_;
  bool was_on_ = false;
};

// The text of `sql` with `from` replaced once by `to`; Error naming `what` when it is missing.
std::string ReplaceOnce(const std::string& sql, const std::string& from, const std::string& to,
                        const std::string& what) {
  const size_t at = sql.find(from);
  if (at == std::string::npos) {
    throw Error(SQLITE_ERROR, SQLITE_ERROR, "sqlite: cannot rebuild " + what);
  }
  return sql.substr(0, at) + to + sql.substr(at + from.size());
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
    std::optional<ForeignKeysOff> foreign_keys_off;
    if (m.foreign_keys_off) {
      foreign_keys_off.emplace(db);
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
      if (m.code) {
        m.code(db);
      }
      if (m.foreign_keys_off) {
        Statement check = db.Prepare("PRAGMA foreign_key_check");
        if (check.Step()) {
          throw Error(SQLITE_CONSTRAINT, SQLITE_CONSTRAINT_FOREIGNKEY,
                      "a row of " + check.ColumnText(0) + " references a missing row of " +
                          check.ColumnText(2));
        }
      }
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

void RebuildWithAutoincrementId(Database& db, const std::string& table) {
  Statement schema = db.Prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?");
  schema.Bind(1, table);
  if (!schema.Step()) {
    throw Error(SQLITE_ERROR, SQLITE_ERROR, "sqlite: cannot rebuild " + table + ": no such table");
  }
  const std::string sql = schema.ColumnText(0);
  schema.Reset();
  if (sql.find("AUTOINCREMENT") != std::string::npos) {
    return;
  }
  // The id column is written "id <spaces> INTEGER PRIMARY KEY," at the start of a line.
  size_t id = sql.find("\n  id ");
  const size_t key = id == std::string::npos ? id : sql.find("INTEGER PRIMARY KEY", id);
  if (key == std::string::npos || sql.find('\n', id + 1) < key) {
    throw Error(SQLITE_ERROR, SQLITE_ERROR,
                "sqlite: cannot rebuild " + table + ": no \"id INTEGER PRIMARY KEY\" column");
  }
  const std::string rebuilt = table + "_rebuilt";
  std::string create = sql.substr(0, key) + "INTEGER PRIMARY KEY AUTOINCREMENT" +
                       sql.substr(key + std::string("INTEGER PRIMARY KEY").size());
  create = ReplaceOnce(create, "CREATE TABLE " + table + " ", "CREATE TABLE " + rebuilt + " ",
                       table + ": unexpected CREATE TABLE text");
  std::vector<std::string> dependents;  // indexes and triggers, dropped with the table
  Statement others = db.Prepare(
      "SELECT sql FROM sqlite_schema WHERE tbl_name = ? AND type IN ('index', 'trigger') AND "
      "sql IS NOT NULL");
  others.Bind(1, table);
  while (others.Step()) {
    dependents.push_back(others.ColumnText(0));
  }
  others.Reset();
  db.Exec(create);
  db.Exec("INSERT INTO " + rebuilt + " SELECT * FROM " + table);
  db.Exec("DROP TABLE " + table);
  db.Exec("ALTER TABLE " + rebuilt + " RENAME TO " + table);
  for (const auto& statement : dependents) {
    db.Exec(statement);
  }
}

}  // namespace civic::sqlite
