#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "civic/domain/program.hpp"
#include "civic/domain/time.hpp"
#include "civic/domain/validation.hpp"

namespace civic {

const std::vector<std::string>& TeamStatuses();  // forming, active, completed, archived
const std::vector<std::string>& TeamRoles();     // lead, member, mentor

// A city team: officials, NGOs, business and volunteers of one city working together, usually
// within a program ("Добрые города") whose team rules it is measured against.
struct Team {
  int64_t id = 0;
  int64_t city_id = 0;                // required
  std::optional<int64_t> program_id;  // the program the team takes part in
  std::string name;                   // 1..200 characters
  std::string description;            // 0..5000 characters
  std::string status = "forming";     // one of TeamStatuses()
  Instant created_at{};
  Instant updated_at{};
};

void Validate(const Team& team, Violations& violations);

// A person's membership in a team: the sector the person represents there and the role.
// Mentors accompany a team but are not part of its composition (they count toward neither its
// size nor its sectors).
struct TeamMember {
  int64_t id = 0;
  int64_t team_id = 0;
  int64_t person_id = 0;
  std::string sector;           // one of Sectors()
  std::string role = "member";  // one of TeamRoles()
  Instant created_at{};
  Instant updated_at{};
};

void Validate(const TeamMember& member, Violations& violations);

// Whether the member counts toward the team's size and sectors (leads and members; not mentors).
bool CountsTowardComposition(const TeamMember& member);

// The rules a membership must keep against the other members of its team: a person at most once
// per team ("person_id"), at most one lead ("role"), and no more counted members than the
// program's `max_size` ("team_id"). `team_members` are the team's stored members; an entry with
// the candidate's id (the stored version of a member being changed) is ignored. `rules` are the
// team's program's team rules, if any.
void ValidateMembership(const TeamMember& candidate, const std::vector<TeamMember>& team_members,
                        const std::optional<TeamRules>& rules, Violations& violations);

// A team measured against its program's team rules.
struct Composition {
  int size = 0;                                  // counted members (mentors excluded)
  int mentors = 0;                               // mentors (not counted)
  std::map<std::string, int> members_by_sector;  // counted members per sector; every required
                                                 // sector is present (0 when missing)
  std::vector<std::string> gaps;                 // CompositionGaps; empty without rules
  bool complete = true;                          // no gaps
};

Composition AssessComposition(const std::optional<TeamRules>& rules,
                              const std::vector<TeamMember>& members);

}  // namespace civic
