#include "resources/references.hpp"

#include <vector>

namespace civic::events::resources {

bool Exists(sqlite::Database& db, const std::string& table, int64_t id) {
  auto statement = db.Prepare("SELECT 1 FROM \"" + table + "\" WHERE id = ?");
  statement.Bind(1, id);
  return statement.Step();
}

void RequireExists(sqlite::Database& db, const std::string& table, const std::string& what,
                   const std::string& field, std::optional<int64_t> id, Violations& violations) {
  if (id && !Exists(db, table, *id)) {
    violations.Add(field, "no " + what + " with id " + std::to_string(*id));
  }
}

std::optional<std::string> FindReferences(sqlite::Database& db, const std::string& table,
                                          const std::string& what, int64_t id) {
  struct Reference {
    std::string table;
    std::string column;
  };
  std::vector<Reference> references;
  auto statement = db.Prepare(
      "SELECT m.name, f.\"from\" FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f "
      "WHERE m.type = 'table' AND f.\"table\" = ? AND f.on_delete NOT IN ('CASCADE', 'SET NULL')");
  statement.Bind(1, table);
  while (statement.Step()) {
    references.push_back({statement.ColumnText(0), statement.ColumnText(1)});
  }
  for (const auto& reference : references) {
    auto uses = db.Prepare("SELECT count(*) FROM \"" + reference.table + "\" WHERE \"" +
                           reference.column + "\" = ?");
    uses.Bind(1, id);
    if (uses.Step() && uses.ColumnInt64(0) > 0) {
      return "The " + what + " is referenced by " + std::to_string(uses.ColumnInt64(0)) + " " +
             reference.table + " row(s) (" + reference.column + "); remove those first.";
    }
  }
  return std::nullopt;
}

}  // namespace civic::events::resources
