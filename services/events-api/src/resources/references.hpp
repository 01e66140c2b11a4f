#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "civic/domain/validation.hpp"
#include "civic/sqlite/sqlite.hpp"

namespace civic::events::resources {

// Whether a row with this id exists in `table` (a table name from code, never user input).
bool Exists(sqlite::Database& db, const std::string& table, int64_t id);

// Records "no <what> with id N" on `field` when `id` is set and absent from `table`.
void RequireExists(sqlite::Database& db, const std::string& table, const std::string& what,
                   const std::string& field, std::optional<int64_t> id, Violations& violations);

// The program id that `sql` (one ? for `id`, one column) selects; nothing for no row or NULL.
std::optional<int64_t> ProgramOfRow(sqlite::Database& db, const char* sql, int64_t id);

// What holds a reference from `table`.`column`, in the API's words ("session(s) (speaker_ids or
// moderator_ids)"); nothing for a pair it does not know.
std::optional<std::string> DescribeReference(const std::string& table, const std::string& column);

// The (table, column) pairs whose foreign keys to `table` neither cascade nor null on delete.
std::vector<std::pair<std::string, std::string>> RestrictingReferences(sqlite::Database& db,
                                                                       const std::string& table);

// The reason a row of `table` cannot be deleted: rows of other tables that reference it through a
// foreign key that neither cascades nor nulls on delete. Nothing when it can be deleted.
// Found from the schema itself, so new tables are covered without code here. The (table,
// column) pairs in `handled` are left out: the caller decides about those itself.
std::optional<std::string> FindReferences(
    sqlite::Database& db, const std::string& table, const std::string& what, int64_t id,
    const std::vector<std::pair<std::string, std::string>>& handled = {});

}  // namespace civic::events::resources
