#pragma once

// Text search over the events database: each searchable table T has an FTS5 table T_search
// (migration 11) holding the stems of T's text columns (civic::SearchStems), kept in step by
// triggers that call the SQL function civic_search_stems(...). Every connection that writes a
// searchable table must have that function: Store registers it on each of its connections.

#include <optional>
#include <string>
#include <string_view>

#include "civic/sqlite/sqlite.hpp"

namespace civic::events {

// Registers civic_search_stems(text, ...): the stems of its arguments (NULLs skipped), joined by
// spaces. Throws sqlite::Error.
void RegisterSearchFunctions(sqlite::Database& db);

// The FTS5 MATCH expression for a search `q`: every word's stem as a prefix ("город"* finds
// «городской»), all of them required. nullopt, with `error` set, when `q` has no word or more
// than kMaxSearchWords.
std::optional<std::string> SearchMatch(std::string_view q, std::string& error);

// The SQL of migration 11 for one table: its FTS5 table, the three triggers and the backfill.
// `columns` are T's text columns, comma-separated ("title, description").
std::string SearchIndexSql(const std::string& table, const std::string& columns);

}  // namespace civic::events
