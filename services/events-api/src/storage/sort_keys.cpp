#include "storage/sort_keys.hpp"

#include <sqlite3.h>

#include "civic/domain/collation.hpp"

namespace civic::events {

namespace {

void SortKeyFunction(sqlite3_context* context, int /*argc*/, sqlite3_value** argv) {
  try {
    const unsigned char* value = sqlite3_value_text(argv[0]);
    const std::string key =
        value == nullptr
            ? std::string()
            : RussianSortKey(std::string_view(reinterpret_cast<const char*>(value),
                                              static_cast<size_t>(sqlite3_value_bytes(argv[0]))));
    sqlite3_result_text(context, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  } catch (const std::exception& e) {
    sqlite3_result_error(context, e.what(), -1);
  }
}

constexpr const char* kVersionKey = "sort_key_version";

}  // namespace

const std::vector<std::string>& SortKeyTables() {
  static const std::vector<std::string> kTables = {"people", "cities", "organizations", "teams",
                                                   "nominees"};
  return kTables;
}

void RegisterSortKeyFunction(sqlite::Database& db) {
  const int rc = sqlite3_create_function_v2(db.handle(), "civic_sort_key", 1,
                                            SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                            SortKeyFunction, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    throw sqlite::Error(
        rc, sqlite3_extended_errcode(db.handle()),
        std::string("cannot register civic_sort_key: ") + sqlite3_errmsg(db.handle()));
  }
}

std::string SortKeySql(const std::string& table) {
  std::string sql;
  sql += "ALTER TABLE " + table + " ADD COLUMN name_key TEXT NOT NULL DEFAULT '';\n";
  sql += "UPDATE " + table + " SET name_key = civic_sort_key(name);\n";
  sql += "CREATE TRIGGER " + table + "_name_key_insert AFTER INSERT ON " + table +
         " BEGIN UPDATE " + table +
         " SET name_key = civic_sort_key(new.name) WHERE id = new.id; "
         "END;\n";
  sql += "CREATE TRIGGER " + table + "_name_key_update AFTER UPDATE OF name ON " + table +
         " BEGIN UPDATE " + table +
         " SET name_key = civic_sort_key(new.name) WHERE id = new.id; "
         "END;\n";
  sql += "CREATE INDEX " + table + "_name_key ON " + table + "(name_key, id);\n";
  return sql;
}

void RefreshSortKeys(sqlite::Database& db) {
  const std::string version = SortKeyVersion();
  auto stored = db.Prepare("SELECT value FROM service_meta WHERE key = ?");
  stored.Bind(1, kVersionKey);
  if (stored.Step() && stored.ColumnText(0) == version) {
    return;
  }
  stored.Reset();
  sqlite::Transaction txn(db, sqlite::TransactionMode::kImmediate);
  for (const std::string& table : SortKeyTables()) {
    db.Exec("UPDATE " + table + " SET name_key = civic_sort_key(name)");
  }
  db.Prepare("INSERT OR REPLACE INTO service_meta(key, value) VALUES (?, ?)")
      .Bind(1, kVersionKey)
      .Bind(2, version)
      .Run();
  txn.Commit();
}

}  // namespace civic::events
