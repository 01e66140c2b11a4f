#include "civic/domain/team.hpp"

#include <algorithm>

#include "civic/domain/organization.hpp"

namespace civic {

namespace {

bool OneOf(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

const std::vector<std::string>& TeamStatuses() {
  static const std::vector<std::string> kStatuses = {"forming", "active", "completed", "archived"};
  return kStatuses;
}

const std::vector<std::string>& TeamRoles() {
  static const std::vector<std::string> kRoles = {"lead", "member", "mentor"};
  return kRoles;
}

void Validate(const Team& team, Violations& violations) {
  violations.Text("name", team.name, 1, 200);
  violations.Text("description", team.description, 0, 5000);
  if (!OneOf(TeamStatuses(), team.status)) {
    violations.Add("status", "must be one of: forming, active, completed, archived");
  }
}

void Validate(const TeamMember& member, Violations& violations) {
  if (!OneOf(Sectors(), member.sector)) {
    violations.Add("sector", "must be one of the sectors");
  }
  if (!OneOf(TeamRoles(), member.role)) {
    violations.Add("role", "must be one of: lead, member, mentor");
  }
}

bool CountsTowardComposition(const TeamMember& member) { return member.role != "mentor"; }

void ValidateMembership(const TeamMember& candidate, const std::vector<TeamMember>& team_members,
                        const std::optional<TeamRules>& rules, Violations& violations) {
  int counted_others = 0;
  for (const auto& other : team_members) {
    if (other.id == candidate.id && candidate.id != 0) {
      continue;
    }
    if (other.person_id == candidate.person_id) {
      violations.Add("person_id", "is already in this team (member " + std::to_string(other.id) +
                                      "); change that membership instead");
    }
    if (candidate.role == "lead" && other.role == "lead") {
      violations.Add("role", "the team already has a lead (member " + std::to_string(other.id) +
                                 "); a team has at most one");
    }
    if (CountsTowardComposition(other)) {
      ++counted_others;
    }
  }
  if (rules && CountsTowardComposition(candidate) && counted_others >= rules->max_size) {
    violations.Add("team_id", "the team is full: it has " + std::to_string(counted_others) +
                                  " members and its program allows at most " +
                                  std::to_string(rules->max_size) + " (mentors do not count)");
  }
}

Composition AssessComposition(const std::optional<TeamRules>& rules,
                              const std::vector<TeamMember>& members) {
  Composition composition;
  std::vector<std::string> sectors;
  if (rules) {
    for (const auto& sector : rules->required_sectors) {
      composition.members_by_sector[sector] = 0;
    }
  }
  for (const auto& member : members) {
    if (!CountsTowardComposition(member)) {
      ++composition.mentors;
      continue;
    }
    sectors.push_back(member.sector);
    ++composition.members_by_sector[member.sector];
  }
  composition.size = static_cast<int>(sectors.size());
  if (rules) {
    composition.gaps = CompositionGaps(*rules, sectors);
  }
  composition.complete = composition.gaps.empty();
  return composition;
}

}  // namespace civic
