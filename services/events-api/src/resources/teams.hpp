#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "civic/domain/team.hpp"
#include "civic/http/router.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"
#include "storage/store.hpp"

namespace civic::events::resources {

// /v1/teams: a city team, in a program or not. Its memberships are its parts (ON DELETE
// CASCADE): deleting a team deletes them.
struct Teams {
  using Model = Team;
  static constexpr const char* kName = "team";
  static constexpr const char* kPath = "/v1/teams";

  static Result<Team> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const Team& team);
  static void CheckReferences(sqlite::Database& db, const Team& team, Violations& violations);
  // The program the team belongs to (organizers write what belongs to theirs).
  static std::optional<int64_t> ProgramOf(sqlite::Database& db, const Team& team);
  static std::optional<Team> Get(sqlite::Database& db, int64_t id);
  static void Insert(sqlite::Database& db, Team& team);
  static void Update(sqlite::Database& db, const Team& team);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static Team FromRow(sqlite::Statement& row);
};

// The team rules of a program; nothing when the program has none or does not exist.
std::optional<TeamRules> ProgramTeamRules(sqlite::Database& db, int64_t program_id);

// GET /v1/teams/{id}/composition: the team against its program's team rules (ETag/304; 404 for
// an unknown team).
void AddTeamCompositionRoute(http::Router& router, Store& store);

}  // namespace civic::events::resources
