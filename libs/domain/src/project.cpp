#include "civic/domain/project.hpp"

#include <algorithm>

namespace civic {

const std::vector<std::string>& ProjectStatuses() {
  static const std::vector<std::string> kStatuses = {"draft", "submitted", "selected",
                                                     "not_selected", "withdrawn"};
  return kStatuses;
}

void Validate(const Project& project, Violations& violations) {
  violations.Text("title", project.title, 1, 200);
  violations.Text("summary", project.summary, 0, 5000);
  const auto& statuses = ProjectStatuses();
  if (std::find(statuses.begin(), statuses.end(), project.status) == statuses.end()) {
    violations.Add("status", "must be one of: draft, submitted, selected, not_selected, withdrawn");
  }
}

void Validate(const Review& review, Violations& violations) {
  violations.Text("comment", review.comment, 0, 5000);
}

void ValidateScores(const Review& review, const std::vector<ReviewCriterion>& criteria,
                    Violations& violations) {
  for (const auto& criterion : criteria) {
    const auto found = review.scores.find(criterion.name);
    if (found == review.scores.end()) {
      violations.Add("scores." + criterion.name, "is required: a criterion of the program");
    } else {
      violations.Range("scores." + criterion.name, found->second, kMinScore, kMaxScore);
    }
  }
  for (const auto& [name, score] : review.scores) {
    const bool known = std::any_of(criteria.begin(), criteria.end(),
                                   [&](const ReviewCriterion& c) { return c.name == name; });
    if (!known) {
      std::string names;
      for (const auto& criterion : criteria) {
        names += (names.empty() ? "" : ", ") + criterion.name;
      }
      violations.Add("scores." + name,
                     "is not a review criterion of the project's program (" + names + ")");
    }
  }
}

double Score::value() const { return static_cast<double>(points) / static_cast<double>(weight); }

double Score::Rounded() const {
  // Hundredths, rounded half up in integers: (100·P/W + 1/2) = (200·P + W) / (2·W).
  const int64_t hundredths = (200 * points + weight) / (2 * weight);
  return static_cast<double>(hundredths) / 100.0;
}

Score ReviewScore(const Review& review, const std::vector<ReviewCriterion>& criteria) {
  Score score;
  for (const auto& criterion : criteria) {
    const auto found = review.scores.find(criterion.name);
    if (found != review.scores.end() && found->second >= kMinScore && found->second <= kMaxScore) {
      score.points += criterion.weight * found->second;
      score.weight += criterion.weight;
    }
  }
  return score;
}

std::optional<std::string> ReviewsClosedReason(const Project& project) {
  if (project.status == "submitted") {
    return std::nullopt;
  }
  if (project.status == "draft") {
    return "Project " + std::to_string(project.id) +
           " is a draft: experts review a project once its team submits it.";
  }
  return "Project " + std::to_string(project.id) + " is " + project.status +
         ": its reviews are its record now (they change only while it is submitted).";
}

std::optional<std::string> ExpertConflict(int64_t expert_id,
                                          const std::vector<TeamMember>& team_members) {
  for (const auto& member : team_members) {
    if (member.person_id == expert_id) {
      return "is a " + member.role + " of the project's team (team member " +
             std::to_string(member.id) + "): an expert does not review their own team's project";
    }
  }
  return std::nullopt;
}

std::optional<std::string> DecisionError(const std::string& status, int64_t reviews) {
  if ((status == "selected" || status == "not_selected") && reviews == 0) {
    return "cannot be " + status + " before at least one expert has reviewed the project";
  }
  return std::nullopt;
}

std::optional<std::string> TransitionError(const std::string& from, const std::string& to,
                                           int64_t reviews) {
  if (from == to) {
    return std::nullopt;
  }
  const auto allowed = [&]() -> std::vector<std::string> {
    if (from == "draft") {
      return {"submitted", "withdrawn"};
    }
    if (from == "submitted") {
      if (reviews > 0) {
        return {"selected", "not_selected", "withdrawn"};
      }
      return {"draft", "selected", "not_selected", "withdrawn"};
    }
    if (from == "selected") {
      return {"not_selected", "withdrawn"};
    }
    if (from == "not_selected") {
      return {"selected", "withdrawn"};
    }
    return {};
  }();
  if (std::find(allowed.begin(), allowed.end(), to) != allowed.end()) {
    return std::nullopt;
  }
  if (from == "withdrawn") {
    return "cannot change: the project was withdrawn";
  }
  if (from == "submitted" && to == "draft") {
    return "cannot go back to draft: experts have reviewed the project (" +
           std::to_string(reviews) + " review(s))";
  }
  std::string list;
  for (const auto& status : allowed) {
    list += (list.empty() ? "" : ", ") + status;
  }
  return "cannot go from " + from + " to " + to + " (from " + from + ": " + list + ")";
}

Assessment Assess(const std::vector<Review>& reviews,
                  const std::vector<ReviewCriterion>& criteria) {
  Assessment assessment;
  assessment.reviews = static_cast<int64_t>(reviews.size());
  assessment.criteria.resize(criteria.size());
  // The mean of the reviews' scores, exactly: Σ_r (P_r / W_r) over n, where every complete
  // review has the same W (the program's total weight); reviews are complete (ValidateScores).
  for (const auto& review : reviews) {
    for (size_t i = 0; i < criteria.size(); ++i) {
      const auto found = review.scores.find(criteria[i].name);
      if (found != review.scores.end()) {
        assessment.criteria[i].points += found->second;
        assessment.criteria[i].weight += 1;
      }
    }
    const Score score = ReviewScore(review, criteria);
    assessment.score.points += score.points;
    assessment.score.weight += score.weight;
  }
  return assessment;
}

namespace {

// -1 when a ranks before b, 1 when after, 0 when they share a rank.
int Compare(const Standing& a, const Standing& b) {
  if (a.score.empty() != b.score.empty()) {
    return a.score.empty() ? 1 : -1;
  }
  if (!a.score.empty()) {
    // a.points / a.weight against b.points / b.weight, exactly (the weights are positive).
    const int64_t left = a.score.points * b.score.weight;
    const int64_t right = b.score.points * a.score.weight;
    if (left != right) {
      return left > right ? -1 : 1;
    }
  }
  if (a.reviews != b.reviews) {
    return a.reviews > b.reviews ? -1 : 1;
  }
  return 0;
}

}  // namespace

void Rank(std::vector<Standing>& standings) {
  std::sort(standings.begin(), standings.end(), [](const Standing& a, const Standing& b) {
    const int order = Compare(a, b);
    return order != 0 ? order < 0 : a.project_id < b.project_id;
  });
  for (size_t i = 0; i < standings.size(); ++i) {
    Standing& standing = standings[i];
    if (standing.score.empty()) {
      standing.rank.reset();
    } else if (i > 0 && Compare(standings[i - 1], standing) == 0) {
      standing.rank = standings[i - 1].rank;
    } else {
      standing.rank = static_cast<int64_t>(i) + 1;
    }
  }
}

}  // namespace civic
