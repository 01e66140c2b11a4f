// The rules of social projects and their expert reviews: what a review must score, how scores
// are weighted and summed up, and how a program's projects are ranked.
#include <catch2/catch.hpp>

#include "civic/domain/project.hpp"

namespace {

// «Добрые города»'s criteria in the tests: weights 3, 2, 3, 2 (total 10).
std::vector<civic::ReviewCriterion> Criteria() {
  return {{"Актуальность", 3}, {"Реализуемость", 2}, {"Социальный эффект", 3}, {"Устойчивость", 2}};
}

civic::Review ReviewOf(int64_t a, int64_t b, int64_t c, int64_t d) {
  civic::Review review;
  review.project_id = 1;
  review.expert_id = 7;
  review.scores = {
      {"Актуальность", a}, {"Реализуемость", b}, {"Социальный эффект", c}, {"Устойчивость", d}};
  return review;
}

std::vector<std::string> Fields(const civic::Violations& violations) {
  std::vector<std::string> fields;
  for (const auto& error : violations.errors()) {
    fields.push_back(error.field);
  }
  return fields;
}

civic::Standing Standing(int64_t project, int64_t reviews, int64_t points, int64_t weight) {
  civic::Standing standing;
  standing.project_id = project;
  standing.reviews = reviews;
  standing.score = {points, weight};
  return standing;
}

}  // namespace

TEST_CASE("Review: every criterion of the program is scored from 1 to 10, and nothing else",
          "[project]") {
  civic::Violations ok;
  civic::ValidateScores(ReviewOf(1, 10, 5, 7), Criteria(), ok);
  CHECK(ok.empty());

  civic::Review review = ReviewOf(0, 11, 5, 7);
  review.scores.erase("Устойчивость");
  review.scores["Красота"] = 5;
  civic::Violations bad;
  civic::ValidateScores(review, Criteria(), bad);
  CHECK(Fields(bad) == std::vector<std::string>{"scores.Актуальность", "scores.Реализуемость",
                                                "scores.Устойчивость", "scores.Красота"});
  CHECK(bad.errors()[2].reason.find("required") != std::string::npos);
  CHECK(bad.errors()[3].reason.find("Актуальность, Реализуемость") != std::string::npos);
}

TEST_CASE("Review: the score is the mean of the criteria weighted by the program", "[project]") {
  const civic::Score score = civic::ReviewScore(ReviewOf(8, 7, 9, 6), Criteria());
  CHECK(score.points == 3 * 8 + 2 * 7 + 3 * 9 + 2 * 6);
  CHECK(score.weight == 10);
  CHECK(score.value() == Approx(7.7));
  CHECK(civic::ReviewScore(ReviewOf(8, 7, 9, 6), {}).empty());
}

TEST_CASE("Review: experts review a submitted project, never their own team's", "[project]") {
  civic::Project project;
  project.id = 5;
  project.status = "draft";
  CHECK(civic::ReviewsClosedReason(project)->find("draft") != std::string::npos);
  project.status = "submitted";
  CHECK_FALSE(civic::ReviewsClosedReason(project));
  for (const char* decided : {"selected", "not_selected", "withdrawn"}) {
    project.status = decided;
    CHECK(civic::ReviewsClosedReason(project)->find(decided) != std::string::npos);
  }

  civic::TeamMember mentor;
  mentor.id = 12;
  mentor.person_id = 40;
  mentor.role = "mentor";
  CHECK(civic::ExpertConflict(40, {mentor})->find("mentor") != std::string::npos);
  CHECK_FALSE(civic::ExpertConflict(41, {mentor}));

  CHECK(civic::DecisionError("selected", 0));
  CHECK(civic::DecisionError("not_selected", 0));
  CHECK_FALSE(civic::DecisionError("selected", 1));
  CHECK_FALSE(civic::DecisionError("withdrawn", 0));
  CHECK_FALSE(civic::DecisionError("submitted", 0));
}

TEST_CASE("Assessment: criterion means and the overall score over the reviews", "[project]") {
  const auto none = civic::Assess({}, Criteria());
  CHECK(none.reviews == 0);
  CHECK(none.score.empty());
  REQUIRE(none.criteria.size() == 4);
  CHECK(none.criteria[0].empty());

  const auto two = civic::Assess({ReviewOf(8, 7, 9, 6), ReviewOf(6, 5, 7, 4)}, Criteria());
  CHECK(two.reviews == 2);
  CHECK(two.criteria[0].value() == 7);
  CHECK(two.criteria[1].value() == 6);
  CHECK(two.criteria[2].value() == 8);
  CHECK(two.criteria[3].value() == 5);
  CHECK(two.score.value() == Approx((7.7 + 5.7) / 2));
}

TEST_CASE("Ranking: by score, then by reviews, equal ones share a rank, unreviewed come last",
          "[project]") {
  // 7.7 by one expert, 7.7 by two (77/10 and 154/20: equal, exactly), 5.0, 5.0, and none.
  std::vector<civic::Standing> standings = {Standing(1, 1, 77, 10), Standing(2, 0, 0, 0),
                                            Standing(3, 1, 50, 10), Standing(4, 2, 154, 20),
                                            Standing(5, 1, 50, 10)};
  civic::Rank(standings);
  std::vector<int64_t> order;
  std::vector<std::optional<int64_t>> ranks;
  for (const auto& s : standings) {
    order.push_back(s.project_id);
    ranks.push_back(s.rank);
  }
  CHECK(order == std::vector<int64_t>{4, 1, 3, 5, 2});
  CHECK(ranks == std::vector<std::optional<int64_t>>{1, 2, 3, 3, std::nullopt});

  // Scores that differ past the second decimal are not a tie: 2/3 against 67/100.
  std::vector<civic::Standing> close = {Standing(1, 1, 2, 3), Standing(2, 1, 67, 100)};
  civic::Rank(close);
  CHECK(close[0].project_id == 2);
  CHECK(close[1].rank == 2);
}

TEST_CASE("Project: status moves forward, a decision may be revised, withdrawn is final",
          "[project]") {
  CHECK_FALSE(civic::TransitionError("draft", "submitted", 0));
  CHECK_FALSE(civic::TransitionError("draft", "withdrawn", 0));
  CHECK(civic::TransitionError("draft", "selected", 0));
  CHECK_FALSE(civic::TransitionError("submitted", "draft", 0));
  CHECK(civic::TransitionError("submitted", "draft", 2)->find("2 review") != std::string::npos);
  CHECK_FALSE(civic::TransitionError("submitted", "selected", 1));
  CHECK_FALSE(civic::TransitionError("selected", "not_selected", 1));
  CHECK_FALSE(civic::TransitionError("not_selected", "selected", 1));
  CHECK(civic::TransitionError("selected", "submitted", 1)->find("not_selected, withdrawn") !=
        std::string::npos);
  CHECK(civic::TransitionError("withdrawn", "submitted", 1)->find("withdrawn") !=
        std::string::npos);
  CHECK_FALSE(civic::TransitionError("withdrawn", "withdrawn", 1));
}

TEST_CASE("Score: shown to two decimals with halves rounded up, exactly", "[project]") {
  CHECK(civic::Score{203, 200}.Rounded() == 1.02);  // 1.015: a double would round it down
  CHECK(civic::Score{77, 10}.Rounded() == 7.7);
  CHECK(civic::Score{2, 3}.Rounded() == 0.67);
  CHECK(civic::Score{10, 1}.Rounded() == 10.0);
  // Out-of-range scores (refused by ValidateScores) do not reach the weighted sum.
  civic::Review review = ReviewOf(9223372036854775807LL, 7, 9, 6);
  const civic::Score score = civic::ReviewScore(review, Criteria());
  CHECK(score.weight == 7);
  CHECK(score.points == 2 * 7 + 3 * 9 + 2 * 6);
}
