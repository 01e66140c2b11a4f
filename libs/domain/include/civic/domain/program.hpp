#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "civic/domain/time.hpp"
#include "civic/domain/validation.hpp"

namespace civic {

const std::vector<std::string>& ProgramKinds();  // education, accelerator, contest, forum,
                                                 // grant, award, other

// What a program asks of its teams.
struct TeamRules {
  std::vector<std::string> required_sectors;  // each one of Sectors(), no repeats
  int min_size = 1;                           // 1..100
  int max_size = 100;                         // min_size..100
};

struct ReviewCriterion {
  std::string name;  // 1..200 characters, unique within the program
  int weight = 1;    // 1..100
};

// An education program, accelerator, contest or forum series ("Добрые города").
struct Program {
  int64_t id = 0;
  std::string title;                   // 1..300 characters
  std::string kind;                    // one of ProgramKinds()
  std::string description;             // 0..5000 characters
  std::string starts_on;               // calendar date YYYY-MM-DD
  std::string ends_on;                 // empty, or a date not before starts_on
  std::vector<int64_t> organizer_ids;  // organizations, no repeats
  std::vector<int64_t> partner_ids;    // organizations, no repeats, none also an organizer
  std::optional<int64_t> parent_program_id;
  std::optional<TeamRules> team_rules;
  std::vector<ReviewCriterion> review_criteria;  // at most 20
  Instant created_at{};
  Instant updated_at{};
};

void Validate(const Program& program, Violations& violations);
void Validate(const TeamRules& rules, const std::string& prefix, Violations& violations);

// What a team lacks against the rules, in words a person reads ("no business member",
// "size 3 < 4"). `member_sectors` has one entry per member (the sector the member represents).
std::vector<std::string> CompositionGaps(const TeamRules& rules,
                                         const std::vector<std::string>& member_sectors);

}  // namespace civic
