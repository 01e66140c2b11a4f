#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "civic/domain/program.hpp"
#include "civic/domain/team.hpp"
#include "civic/domain/time.hpp"
#include "civic/domain/validation.hpp"

namespace civic {

// draft, submitted, selected, not_selected, withdrawn
const std::vector<std::string>& ProjectStatuses();

// A social project a team develops ("Добрые города": the teams develop projects, experts review
// them, and the best are presented at the "Мы вместе" forum). The team drafts it and submits it
// for expert review; the program's organisers then decide: selected or not_selected. A team may
// withdraw it; a reviewed project is withdrawn, not deleted.
struct Project {
  int64_t id = 0;
  int64_t team_id = 0;                // required; cannot change
  std::optional<int64_t> program_id;  // whose review criteria apply; defaults to the team's
  std::string title;                  // 1..200 characters
  std::string summary;                // 0..5000 characters
  std::string status = "draft";       // one of ProjectStatuses()
  Instant created_at{};
  Instant updated_at{};
};

void Validate(const Project& project, Violations& violations);

// Each criterion of a review is scored from kMinScore to kMaxScore.
inline constexpr int kMinScore = 1;
inline constexpr int kMaxScore = 10;

// One expert's review of one project: a score for every review criterion of the project's
// program (by the criterion's name) and a comment for the team.
struct Review {
  int64_t id = 0;
  int64_t project_id = 0;  // required; cannot change
  int64_t expert_id = 0;   // a person; required; cannot change
  std::map<std::string, int64_t> scores;
  std::string comment;  // 0..5000 characters
  Instant created_at{};
  Instant updated_at{};
  // Derived: the weighted mean of `scores` (ReviewScore), kept with the review.
  int64_t score_points = 0;
  int64_t score_weight = 0;
};

// The comment's length.
void Validate(const Review& review, Violations& violations);

// The scores against the program's criteria: every criterion scored, from kMinScore to
// kMaxScore, and nothing else ("scores.<name>").
void ValidateScores(const Review& review, const std::vector<ReviewCriterion>& criteria,
                    Violations& violations);

// A weighted mean as an exact fraction (sum of weight × score over the sum of weights), so that
// rankings compare exactly.
struct Score {
  int64_t points = 0;  // Σ weight × score
  int64_t weight = 0;  // Σ weight; 0: nothing scored
  bool empty() const { return weight == 0; }
  double value() const;    // points / weight; REQUIRES: !empty()
  double Rounded() const;  // value() to two decimals, halves up (1.015 is 1.02); REQUIRES: !empty()
};

// The review's score: the mean of its criteria, weighted by the program's weights (scores out of
// range, which ValidateScores refuses, are left out).
Score ReviewScore(const Review& review, const std::vector<ReviewCriterion>& criteria);

// Why experts may not add, change or remove reviews of `project` now, or nothing: reviews are
// taken while the project is submitted; afterwards they are its record.
std::optional<std::string> ReviewsClosedReason(const Project& project);

// Why `expert_id` may not review a project of the team with `team_members`, or nothing: an
// expert is not a member (of any role, mentors included) of the team whose project it is.
std::optional<std::string> ExpertConflict(int64_t expert_id,
                                          const std::vector<TeamMember>& team_members);

// Why the project may not take `status` with `reviews` reviews, or nothing: organisers decide
// (selected, not_selected) on a project at least one expert has reviewed.
std::optional<std::string> DecisionError(const std::string& status, int64_t reviews);

// Why a project with `reviews` reviews may not go from status `from` to `to`, or nothing. A
// draft is submitted or withdrawn; a submitted project goes back to draft only while nobody has
// reviewed it, or is decided (selected, not_selected) or withdrawn; a decision may be revised
// (selected <-> not_selected) or the project withdrawn; a withdrawn project stays withdrawn.
// Staying in the same status is always allowed.
std::optional<std::string> TransitionError(const std::string& from, const std::string& to,
                                           int64_t reviews);

// A project's reviews summed up: the mean score of every criterion over the reviews, and the
// overall score: the mean of the reviews' weighted scores (every review weighs the same).
struct Assessment {
  int64_t reviews = 0;
  std::vector<Score> criteria;  // one per criterion, in the program's order (weight 1 each)
  Score score;
};

Assessment Assess(const std::vector<Review>& reviews, const std::vector<ReviewCriterion>& criteria);

// A project's place in its program: ranked by score (highest first; projects nobody reviewed
// come last, unranked), then by the number of reviews (more first). Equal scores and counts
// share a rank ("1, 1, 3"); ties are listed by project id.
struct Standing {
  int64_t project_id = 0;
  int64_t reviews = 0;
  Score score;
  std::optional<int64_t> rank;  // none without reviews
};

void Rank(std::vector<Standing>& standings);

}  // namespace civic
