#include "resources/team_members.hpp"

#include "civic/domain/organization.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"
#include "resources/teams.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns = "id, team_id, person_id, sector, role, created_at, updated_at";

}  // namespace

Result<TeamMember> TeamMembers::FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode) {
  Violations violations;
  rest::JsonReader reader(body, violations, mode);
  TeamMember member;
  member.team_id = reader.Id("team_id", true).value_or(0);
  member.person_id = reader.Id("person_id", true).value_or(0);
  member.sector = reader.Enum("sector", Sectors(), true).value_or("other");
  member.role = reader.Enum("role", TeamRoles(), false).value_or("member");
  reader.RejectUnknown();
  Validate(member, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return member;
}

nlohmann::json TeamMembers::ToJson(const TeamMember& member) {
  return {{"id", member.id},
          {"team_id", member.team_id},
          {"person_id", member.person_id},
          {"sector", member.sector},
          {"role", member.role},
          {"created_at", FormatUtc(member.created_at)},
          {"updated_at", FormatUtc(member.updated_at)}};
}

void TeamMembers::CheckReferences(sqlite::Database& db, const TeamMember& member,
                                  Violations& violations) {
  if (member.id != 0) {
    // A PATCH: a membership stays in its team (move a person by removing and adding).
    auto stored = Get(db, member.id);
    if (stored && stored->team_id != member.team_id) {
      violations.Add("team_id", "cannot be changed (it is " + std::to_string(stored->team_id) +
                                    "); remove the member and add the person to the other team");
      return;
    }
  }
  RequireExists(db, "people", "person", "person_id", member.person_id, violations);
  auto team = Teams::Get(db, member.team_id);
  if (!team) {
    violations.Add("team_id", "no team with id " + std::to_string(member.team_id));
    return;
  }
  std::optional<TeamRules> rules;
  if (team->program_id) {
    rules = ProgramTeamRules(db, *team->program_id);
  }
  ValidateMembership(member, MembersOfTeam(db, member.team_id), rules, violations);
  // An expert does not review their own team's project, so a reviewer does not join the team.
  auto reviewed = db.Prepare(
      "SELECT reviews.id FROM reviews JOIN projects ON projects.id = reviews.project_id "
      "WHERE projects.team_id = ? AND reviews.expert_id = ? LIMIT 1");
  reviewed.Bind(1, member.team_id).Bind(2, member.person_id);
  if (reviewed.Step()) {
    violations.Add("person_id", "reviewed a project of this team as an expert (review " +
                                    std::to_string(reviewed.ColumnInt64(0)) +
                                    "), so the person cannot join it");
  }
}

TeamMember TeamMembers::FromRow(sqlite::Statement& row) {
  TeamMember member;
  member.id = row.ColumnInt64(0);
  member.team_id = row.ColumnInt64(1);
  member.person_id = row.ColumnInt64(2);
  member.sector = row.ColumnText(3);
  member.role = row.ColumnText(4);
  member.created_at = FromMillis(row.ColumnInt64(5));
  member.updated_at = FromMillis(row.ColumnInt64(6));
  return member;
}

std::optional<TeamMember> TeamMembers::Get(sqlite::Database& db, int64_t id) {
  auto statement =
      db.Prepare(std::string("SELECT ") + kColumns + " FROM team_members WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

std::vector<TeamMember> MembersOfTeam(sqlite::Database& db, int64_t team_id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns +
                              " FROM team_members WHERE team_id = ? ORDER BY id");
  statement.Bind(1, team_id);
  std::vector<TeamMember> members;
  while (statement.Step()) {
    members.push_back(TeamMembers::FromRow(statement));
  }
  return members;
}

void TeamMembers::Insert(sqlite::Database& db, TeamMember& member) {
  db.Prepare(
        "INSERT INTO team_members(team_id, person_id, sector, role, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)")
      .Bind(1, member.team_id)
      .Bind(2, member.person_id)
      .Bind(3, member.sector)
      .Bind(4, member.role)
      .Bind(5, Millis(member.created_at))
      .Bind(6, Millis(member.updated_at))
      .Run();
  member.id = db.LastInsertRowid();
}

void TeamMembers::Update(sqlite::Database& db, const TeamMember& member) {
  db.Prepare(
        "UPDATE team_members SET person_id = ?, sector = ?, role = ?, updated_at = ? "
        "WHERE id = ?")
      .Bind(1, member.person_id)
      .Bind(2, member.sector)
      .Bind(3, member.role)
      .Bind(4, Millis(member.updated_at))
      .Bind(5, member.id)
      .Run();
}

std::optional<std::string> TeamMembers::DeleteConflict(sqlite::Database& db, int64_t id) {
  return FindReferences(db, "team_members", "team member", id);
}

void TeamMembers::Delete(sqlite::Database& db, int64_t id) {
  db.Prepare("DELETE FROM team_members WHERE id = ?").Bind(1, id).Run();
}

const rest::ListSpec& TeamMembers::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "team_members",
      .columns = kColumns,
      .filters =
          {
              Filter{"team_id", "team_id = ?", Filter::Kind::kId, {}},
              Filter{"person_id", "person_id = ?", Filter::Kind::kId, {}},
              Filter{"sector", "sector = ?", Filter::Kind::kEnum, Sectors()},
              Filter{"role", "role = ?", Filter::Kind::kEnum, TeamRoles()},
          },
      .sorts = {{"id", "id", false}, {"created_at", "created_at", false}},
      .access = {},  // every row is public
  };
  return kSpec;
}

std::optional<int64_t> TeamMembers::ProgramOf(sqlite::Database& db, const TeamMember& member) {
  return ProgramOfRow(db, "SELECT program_id FROM teams WHERE id = ?", member.team_id);
}
}  // namespace civic::events::resources
