#include "civic/domain/program.hpp"

#include <algorithm>
#include <set>

#include "civic/domain/organization.hpp"

namespace civic {

const std::vector<std::string>& ProgramKinds() {
  static const std::vector<std::string> kKinds = {"education", "accelerator", "contest", "forum",
                                                  "grant",     "award",       "other"};
  return kKinds;
}

void Validate(const TeamRules& rules, const std::string& prefix, Violations& violations) {
  std::set<std::string> seen;
  const auto& sectors = Sectors();
  for (size_t i = 0; i < rules.required_sectors.size(); ++i) {
    const std::string field = prefix + "required_sectors[" + std::to_string(i) + "]";
    const std::string& sector = rules.required_sectors[i];
    if (std::find(sectors.begin(), sectors.end(), sector) == sectors.end()) {
      violations.Add(field, "must be one of the sectors");
    } else if (!seen.insert(sector).second) {
      violations.Add(field, "is repeated");
    }
  }
  violations.Range(prefix + "min_size", rules.min_size, 1, 100);
  violations.Range(prefix + "max_size", rules.max_size, 1, 100);
  if (rules.max_size < rules.min_size) {
    violations.Add(prefix + "max_size", "must not be less than min_size");
  }
  if (static_cast<int>(rules.required_sectors.size()) > rules.max_size) {
    violations.Add(prefix + "required_sectors", "needs more members than max_size allows");
  }
}

void Validate(const Program& program, Violations& violations) {
  violations.Text("title", program.title, 1, 300);
  const auto& kinds = ProgramKinds();
  if (std::find(kinds.begin(), kinds.end(), program.kind) == kinds.end()) {
    violations.Add("kind", "must be one of the program kinds");
  }
  violations.Text("description", program.description, 0, 5000);
  if (!IsIsoDate(program.starts_on)) {
    violations.Add("starts_on", "must be a date YYYY-MM-DD");
  }
  if (!program.ends_on.empty()) {
    if (!IsIsoDate(program.ends_on)) {
      violations.Add("ends_on", "must be a date YYYY-MM-DD");
    } else if (IsIsoDate(program.starts_on) && program.ends_on < program.starts_on) {
      violations.Add("ends_on", "must not be before starts_on");
    }
  }
  std::set<int64_t> organizers;
  for (size_t i = 0; i < program.organizer_ids.size(); ++i) {
    if (!organizers.insert(program.organizer_ids[i]).second) {
      violations.Add("organizer_ids[" + std::to_string(i) + "]", "is repeated");
    }
  }
  std::set<int64_t> partners;
  for (size_t i = 0; i < program.partner_ids.size(); ++i) {
    const std::string field = "partner_ids[" + std::to_string(i) + "]";
    if (!partners.insert(program.partner_ids[i]).second) {
      violations.Add(field, "is repeated");
    } else if (organizers.count(program.partner_ids[i]) != 0) {
      violations.Add(field, "is already an organizer");
    }
  }
  if (program.parent_program_id && program.id != 0 && *program.parent_program_id == program.id) {
    violations.Add("parent_program_id", "must not be the program itself");
  }
  if (program.team_rules) {
    Validate(*program.team_rules, "team_rules.", violations);
  }
  if (program.review_criteria.size() > 20) {
    violations.Add("review_criteria", "must have at most 20 items");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < program.review_criteria.size(); ++i) {
    const std::string prefix = "review_criteria[" + std::to_string(i) + "].";
    const auto& criterion = program.review_criteria[i];
    violations.Text(prefix + "name", criterion.name, 1, 200);
    if (!names.insert(criterion.name).second) {
      violations.Add(prefix + "name", "is repeated");
    }
    violations.Range(prefix + "weight", criterion.weight, 1, 100);
  }
}

std::vector<std::string> CompositionGaps(const TeamRules& rules,
                                         const std::vector<std::string>& member_sectors) {
  std::vector<std::string> gaps;
  for (const auto& sector : rules.required_sectors) {
    if (std::find(member_sectors.begin(), member_sectors.end(), sector) == member_sectors.end()) {
      gaps.push_back("no " + sector + " member");
    }
  }
  const int size = static_cast<int>(member_sectors.size());
  if (size < rules.min_size) {
    gaps.push_back("size " + std::to_string(size) + " < " + std::to_string(rules.min_size));
  }
  if (size > rules.max_size) {
    gaps.push_back("size " + std::to_string(size) + " > " + std::to_string(rules.max_size));
  }
  return gaps;
}

}  // namespace civic
