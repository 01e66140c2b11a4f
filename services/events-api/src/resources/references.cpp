#include "resources/references.hpp"

#include <algorithm>
#include <map>
#include <utility>
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

std::optional<int64_t> ProgramOfRow(sqlite::Database& db, const char* sql, int64_t id) {
  auto statement = db.Prepare(sql);
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return statement.ColumnOptionalInt64(0);
}

std::optional<std::string> DescribeReference(const std::string& table, const std::string& column) {
  // (table, column) -> what a client of the API sees holding the reference.
  static const std::map<std::pair<std::string, std::string>, std::string> kNames = {
      {{"applications", "award_id"}, "award application(s) (award_id)"},
      {{"applications", "city_id"}, "award application(s) (city_id)"},
      {{"applications", "nomination_id"}, "award application(s) (nomination_id)"},
      {{"applications", "nominee_id"}, "award application(s) approved into it (nominee_id)"},
      {{"applications", "person_id"}, "award application(s) (person_id)"},
      {{"attendances", "event_id"}, "check-in(s) (event_id)"},
      {{"attendances", "person_id"}, "check-in(s) (person_id)"},
      {{"attendances", "registration_id"}, "check-in(s) (registration_id)"},
      {{"attendances", "session_id"}, "check-in(s) at the session (session_id)"},
      {{"awards", "program_id"}, "award(s) (program_id)"},
      {{"events", "city_id"}, "event(s) (city_id)"},
      {{"events", "program_id"}, "event(s) (program_id)"},
      {{"events", "parent_event_id"}, "event(s) inside it (parent_event_id)"},
      {{"event_organizations", "organization_id"}, "event(s) (organizer_ids or partner_ids)"},
      {{"laureates", "award_id"}, "laureate(s) of the award"},
      {{"laureates", "nomination_id"}, "laureate(s) of the nomination"},
      {{"laureates", "nominee_id"}, "laureate(s)"},
      {{"nominations", "award_id"}, "nomination(s) (award_id)"},
      {{"nominees", "city_id"}, "nominee(s) (city_id)"},
      {{"nominees", "nomination_id"}, "nominee(s) (nomination_id)"},
      {{"nominees", "person_id"}, "nominee(s) (person_id)"},
      {{"organizations", "city_id"}, "organization(s) (city_id)"},
      {{"people", "city_id"}, "person(s) (city_id)"},
      {{"people", "organization_id"}, "person(s) (organization_id)"},
      {{"programs", "parent_program_id"}, "program(s) (parent_program_id)"},
      {{"program_organizations", "organization_id"}, "program(s) (organizer_ids or partner_ids)"},
      {{"projects", "program_id"}, "project(s) (program_id)"},
      {{"projects", "team_id"}, "project(s) (team_id)"},
      {{"project_experts", "person_id"}, "project expert assignment(s)"},
      {{"api_keys", "person_id"}, "API key(s) of an expert (person_id)"},
      {{"registrations", "event_id"}, "registration(s) (event_id)"},
      {{"registrations", "person_id"}, "registration(s) (person_id)"},
      {{"registrations", "team_id"}, "registration(s) made for the team (team_id)"},
      {{"reviews", "expert_id"}, "review(s) (expert_id)"},
      {{"session_registrations", "person_id"}, "session registration(s) (person_id)"},
      {{"session_registrations", "registration_id"}, "session registration(s)"},
      {{"session_registrations", "session_id"}, "session registration(s) (session_id)"},
      {{"reviews", "project_id"}, "review(s) (project_id)"},
      {{"session_people", "person_id"}, "session(s) (speaker_ids or moderator_ids)"},
      {{"team_members", "person_id"}, "team membership(s) (person_id)"},
      {{"teams", "city_id"}, "team(s) (city_id)"},
      {{"teams", "program_id"}, "team(s) (program_id)"},
  };
  const auto it = kNames.find({table, column});
  if (it == kNames.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::vector<std::pair<std::string, std::string>> RestrictingReferences(sqlite::Database& db,
                                                                       const std::string& table) {
  std::vector<std::pair<std::string, std::string>> references;
  auto statement = db.Prepare(
      "SELECT m.name, f.\"from\" FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f "
      "WHERE m.type = 'table' AND f.\"table\" = ? AND f.on_delete NOT IN ('CASCADE', 'SET NULL') "
      "ORDER BY m.name, f.\"from\"");
  statement.Bind(1, table);
  while (statement.Step()) {
    references.emplace_back(statement.ColumnText(0), statement.ColumnText(1));
  }
  return references;
}

std::optional<std::string> FindReferences(
    sqlite::Database& db, const std::string& table, const std::string& what, int64_t id,
    const std::vector<std::pair<std::string, std::string>>& handled) {
  for (const auto& [from_table, column] : RestrictingReferences(db, table)) {
    if (std::find(handled.begin(), handled.end(), std::make_pair(from_table, column)) !=
        handled.end()) {
      continue;
    }
    auto uses =
        db.Prepare("SELECT count(*) FROM \"" + from_table + "\" WHERE \"" + column + "\" = ?");
    uses.Bind(1, id);
    if (uses.Step() && uses.ColumnInt64(0) > 0) {
      // Never a table name: a reference without a description (a unit test keeps the list
      // complete) is named as records only.
      const std::string holders = DescribeReference(from_table, column).value_or("other record(s)");
      return "The " + what + " is referenced by " + std::to_string(uses.ColumnInt64(0)) + " " +
             holders + "; remove those first.";
    }
  }
  return std::nullopt;
}

}  // namespace civic::events::resources
