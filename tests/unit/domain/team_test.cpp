#include <catch2/catch.hpp>

#include "civic/domain/team.hpp"

namespace {

civic::TeamMember Member(int64_t id, int64_t person_id, const std::string& sector,
                         const std::string& role = "member") {
  civic::TeamMember member;
  member.id = id;
  member.team_id = 1;
  member.person_id = person_id;
  member.sector = sector;
  member.role = role;
  return member;
}

civic::TeamRules DobryeGoroda() {
  civic::TeamRules rules;
  rules.required_sectors = {"government", "ngo", "business", "volunteer"};
  rules.min_size = 4;
  rules.max_size = 5;
  return rules;
}

bool HasField(const civic::Violations& violations, const std::string& field) {
  for (const auto& error : violations.errors()) {
    if (error.field == field) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("Team: name, description and status are validated", "[domain][teams]") {
  civic::Team team;
  team.city_id = 1;
  team.name = "Команда Сарова";
  civic::Violations ok;
  civic::Validate(team, ok);
  CHECK(ok.empty());
  CHECK(team.status == "forming");

  team.name = "";
  team.status = "dissolved";
  team.description = std::string(5001, 'x');
  civic::Violations bad;
  civic::Validate(team, bad);
  CHECK(HasField(bad, "name"));
  CHECK(HasField(bad, "status"));
  CHECK(HasField(bad, "description"));
}

TEST_CASE("Team member: sector and role are enums", "[domain][teams]") {
  civic::Violations ok;
  civic::Validate(Member(0, 1, "business", "lead"), ok);
  CHECK(ok.empty());
  civic::Violations bad;
  civic::Validate(Member(0, 1, "church", "captain"), bad);
  CHECK(HasField(bad, "sector"));
  CHECK(HasField(bad, "role"));
}

TEST_CASE("Team member: the same person at most once, at most one lead", "[domain][teams]") {
  const std::vector<civic::TeamMember> team = {Member(1, 10, "government", "lead"),
                                               Member(2, 11, "ngo")};
  civic::Violations repeat;
  civic::ValidateMembership(Member(0, 11, "business"), team, std::nullopt, repeat);
  CHECK(HasField(repeat, "person_id"));

  civic::Violations second_lead;
  civic::ValidateMembership(Member(0, 12, "business", "lead"), team, std::nullopt, second_lead);
  CHECK(HasField(second_lead, "role"));
  CHECK_FALSE(HasField(second_lead, "person_id"));

  // The stored version of the member being changed is not "another" member.
  civic::Violations same_lead;
  civic::ValidateMembership(Member(1, 10, "ngo", "lead"), team, std::nullopt, same_lead);
  CHECK(same_lead.empty());
}

TEST_CASE("Team member: past the program's max_size is refused, mentors do not count",
          "[domain][teams]") {
  const civic::TeamRules rules = DobryeGoroda();
  std::vector<civic::TeamMember> team;
  for (int64_t i = 1; i <= 5; ++i) {
    team.push_back(Member(i, 100 + i, "volunteer"));
  }
  team.push_back(Member(6, 106, "business", "mentor"));

  civic::Violations full;
  civic::ValidateMembership(Member(0, 200, "business"), team, rules, full);
  CHECK(HasField(full, "team_id"));

  civic::Violations mentor;
  civic::ValidateMembership(Member(0, 200, "business", "mentor"), team, rules, mentor);
  CHECK(mentor.empty());

  // A mentor who becomes a member of a full team is refused too; a member who changes sector
  // is not.
  civic::Violations promoted;
  civic::ValidateMembership(Member(6, 106, "business", "member"), team, rules, promoted);
  CHECK(HasField(promoted, "team_id"));
  civic::Violations resector;
  civic::ValidateMembership(Member(5, 105, "business", "member"), team, rules, resector);
  CHECK(resector.empty());

  civic::Violations no_rules;
  civic::ValidateMembership(Member(0, 200, "business"), team, std::nullopt, no_rules);
  CHECK(no_rules.empty());
}

TEST_CASE("Composition: a full mixed team is complete", "[domain][teams][composition]") {
  const auto composition = civic::AssessComposition(
      DobryeGoroda(), {Member(1, 1, "government", "lead"), Member(2, 2, "ngo"),
                       Member(3, 3, "business"), Member(4, 4, "volunteer")});
  CHECK(composition.complete);
  CHECK(composition.gaps.empty());
  CHECK(composition.size == 4);
  CHECK(composition.members_by_sector.at("business") == 1);
}

TEST_CASE("Composition: mentors count toward neither size nor sectors",
          "[domain][teams][composition]") {
  const auto composition = civic::AssessComposition(
      DobryeGoroda(), {Member(1, 1, "government", "lead"), Member(2, 2, "ngo"),
                       Member(3, 3, "volunteer"), Member(4, 4, "business", "mentor")});
  CHECK_FALSE(composition.complete);
  CHECK(composition.gaps == std::vector<std::string>{"no business member", "size 3 < 4"});
  CHECK(composition.size == 3);
  CHECK(composition.mentors == 1);
  CHECK(composition.members_by_sector.at("business") == 0);
}

TEST_CASE("Composition: without rules a team is complete", "[domain][teams][composition]") {
  const auto composition = civic::AssessComposition(std::nullopt, {Member(1, 1, "media")});
  CHECK(composition.complete);
  CHECK(composition.gaps.empty());
  CHECK(composition.size == 1);
  CHECK(composition.members_by_sector.size() == 1);
}
