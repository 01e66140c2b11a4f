#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "civic/domain/team.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"

namespace civic::events::resources {

// /v1/team-members (and GET /v1/teams/{id}/members): a person in a team, with the sector the
// person represents and a role. CheckReferences keeps the membership rules (ValidateMembership)
// and refuses a change of team_id.
struct TeamMembers {
  using Model = TeamMember;
  static constexpr const char* kName = "team member";
  static constexpr const char* kPath = "/v1/team-members";

  static Result<TeamMember> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const TeamMember& member);
  static void CheckReferences(sqlite::Database& db, const TeamMember& member,
                              Violations& violations);
  // The program the member belongs to (organizers write what belongs to theirs).
  static std::optional<int64_t> ProgramOf(sqlite::Database& db, const TeamMember& member);
  static std::optional<TeamMember> Get(sqlite::Database& db, int64_t id);
  static void Insert(sqlite::Database& db, TeamMember& member);
  static void Update(sqlite::Database& db, const TeamMember& member);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static TeamMember FromRow(sqlite::Statement& row);
};

// Every member of a team, in id order.
std::vector<TeamMember> MembersOfTeam(sqlite::Database& db, int64_t team_id);

}  // namespace civic::events::resources
