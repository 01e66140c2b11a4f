#include "resources/teams.hpp"

#include "resources/json_util.hpp"
#include "resources/programs.hpp"
#include "resources/references.hpp"
#include "resources/team_members.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, city_id, program_id, name, description, status, created_at, updated_at";

}  // namespace

Result<Team> Teams::FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode) {
  Violations violations;
  rest::JsonReader reader(body, violations, mode);
  Team team;
  team.city_id = reader.Id("city_id", true).value_or(0);
  team.program_id = reader.Id("program_id", false);
  team.name = reader.String("name", true).value_or("");
  team.description = reader.String("description", false).value_or("");
  team.status = reader.Enum("status", TeamStatuses(), false).value_or("forming");
  reader.RejectUnknown();
  Validate(team, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return team;
}

nlohmann::json Teams::ToJson(const Team& team) {
  return {{"id", team.id},
          {"city_id", team.city_id},
          {"program_id", OrNull(team.program_id)},
          {"name", team.name},
          {"description", team.description},
          {"status", team.status},
          {"created_at", FormatUtc(team.created_at)},
          {"updated_at", FormatUtc(team.updated_at)}};
}

void Teams::CheckReferences(sqlite::Database& db, const Team& team, Violations& violations) {
  RequireExists(db, "cities", "city", "city_id", team.city_id, violations);
  RequireExists(db, "programs", "program", "program_id", team.program_id, violations);
}

Team Teams::FromRow(sqlite::Statement& row) {
  Team team;
  team.id = row.ColumnInt64(0);
  team.city_id = row.ColumnInt64(1);
  team.program_id = row.ColumnOptionalInt64(2);
  team.name = row.ColumnText(3);
  team.description = row.ColumnText(4);
  team.status = row.ColumnText(5);
  team.created_at = FromMillis(row.ColumnInt64(6));
  team.updated_at = FromMillis(row.ColumnInt64(7));
  return team;
}

std::optional<Team> Teams::Get(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM teams WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

namespace {

// The columns insert and update both write, as parameters 1-5.
sqlite::Statement& BindWritable(sqlite::Statement& statement, const Team& team) {
  return statement.Bind(1, team.city_id)
      .Bind(2, team.program_id)
      .Bind(3, team.name)
      .Bind(4, team.description)
      .Bind(5, team.status);
}

}  // namespace

void Teams::Insert(sqlite::Database& db, Team& team) {
  auto statement = db.Prepare(
      "INSERT INTO teams(city_id, program_id, name, description, status, created_at, "
      "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  BindWritable(statement, team)
      .Bind(6, Millis(team.created_at))
      .Bind(7, Millis(team.updated_at))
      .Run();
  team.id = db.LastInsertRowid();
}

void Teams::Update(sqlite::Database& db, const Team& team) {
  auto statement = db.Prepare(
      "UPDATE teams SET city_id = ?, program_id = ?, name = ?, description = ?, status = ?, "
      "updated_at = ? WHERE id = ?");
  BindWritable(statement, team).Bind(6, Millis(team.updated_at)).Bind(7, team.id).Run();
}

std::optional<std::string> Teams::DeleteConflict(sqlite::Database& db, int64_t id) {
  return FindReferences(db, "teams", "team", id);
}

void Teams::Delete(sqlite::Database& db, int64_t id) {
  db.Prepare("DELETE FROM teams WHERE id = ?").Bind(1, id).Run();
}

const rest::ListSpec& Teams::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "teams",
      .columns = kColumns,
      .filters =
          {
              rest::SearchFilter("teams"),
              Filter{"city_id", "city_id = ?", Filter::Kind::kId, {}},
              Filter{"program_id", "program_id = ?", Filter::Kind::kId, {}},
              Filter{"status", "status = ?", Filter::Kind::kEnum, TeamStatuses()},
          },
      .sorts = {{"id", "id", false},
                {"name", "name_key", true},
                {"created_at", "created_at", false}},
      .access = {},  // every row is public
  };
  return kSpec;
}

std::optional<TeamRules> ProgramTeamRules(sqlite::Database& db, int64_t program_id) {
  auto statement = db.Prepare("SELECT team_rules FROM programs WHERE id = ?");
  statement.Bind(1, program_id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  if (auto rules = statement.ColumnOptionalText(0)) {
    return TeamRulesFromJson(nlohmann::json::parse(*rules));
  }
  return std::nullopt;
}

void AddTeamCompositionRoute(http::Router& router, Store& store) {
  router.Get("/v1/teams/{id}/composition",
             [&store](const http::Request& request) {
               const auto id = rest::PathId(request);
               if (!id) {
                 return rest::NotFound(Teams::kName, request.Param("id"));
               }
               if (auto rejected = rest::RejectQuery(request)) {
                 return std::move(*rejected);
               }
               return rest::Guarded([&] {
                 auto body = store.Read([&](sqlite::Database& db) -> std::optional<nlohmann::json> {
                   auto team = Teams::Get(db, *id);
                   if (!team) {
                     return std::nullopt;
                   }
                   std::optional<TeamRules> rules;
                   if (team->program_id) {
                     rules = ProgramTeamRules(db, *team->program_id);
                   }
                   const Composition composition = AssessComposition(rules, MembersOfTeam(db, *id));
                   nlohmann::json by_sector = nlohmann::json::object();
                   for (const auto& [sector, count] : composition.members_by_sector) {
                     by_sector[sector] = count;
                   }
                   return nlohmann::json{
                       {"team_id", team->id},
                       {"program_id", OrNull(team->program_id)},
                       {"rules", rules ? TeamRulesToJson(*rules) : nlohmann::json(nullptr)},
                       {"size", composition.size},
                       {"mentors", composition.mentors},
                       {"members_by_sector", std::move(by_sector)},
                       {"complete", composition.complete},
                       {"gaps", composition.gaps}};
                 });
                 if (!body) {
                   return rest::NotFound(Teams::kName, request.Param("id"));
                 }
                 return rest::Conditional(request, http::Response::Json(200, *body));
               });
             },
             {.offload = true});
}

std::optional<int64_t> Teams::ProgramOf(sqlite::Database& /*db*/, const Team& team) {
  return team.program_id;
}
}  // namespace civic::events::resources
