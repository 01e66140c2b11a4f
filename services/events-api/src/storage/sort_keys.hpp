#pragma once

// Russian name order in the events database: each table with a name sorted in lists has a
// `name_key` column, the ICU sort key of its name (civic::RussianSortKey), written by triggers
// that call the SQL function civic_sort_key(text), and indexed with the row's id, so that
// `?sort=name` is an index range scan and its cursor a key. Every connection that writes such a
// table must have the function: Store registers it on each of its connections.

#include <string>
#include <vector>

#include "civic/sqlite/sqlite.hpp"

namespace civic::events {

// The tables whose `name` has a `name_key` (each given its key by a migration of its own).
const std::vector<std::string>& SortKeyTables();

// Registers civic_sort_key(text): the sort key of its argument ('' for NULL). Throws sqlite::Error.
void RegisterSortKeyFunction(sqlite::Database& db);

// The SQL that gives `table` its name_key column, filled from the rows stored, and the two
// triggers that keep it in step with `name`.
std::string SortKeySql(const std::string& table);

// Recomputes every stored key when the keys were made by another ICU collation version than
// this process's (after an ICU upgrade), and records the version, in a transaction of its own.
// REQUIRES: no transaction is open on `db`.
void RefreshSortKeys(sqlite::Database& db);

}  // namespace civic::events
