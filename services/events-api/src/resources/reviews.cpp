#include "resources/reviews.hpp"

#include "access/scope.hpp"
#include "resources/json_util.hpp"
#include "resources/projects.hpp"
#include "resources/references.hpp"
#include "resources/team_members.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, project_id, expert_id, scores, score_points, score_weight, comment, created_at, "
    "updated_at";

// At most as many scores as a program has criteria.
constexpr size_t kMaxScores = 20;

std::string ScoresText(const std::map<std::string, int64_t>& scores) {
  return nlohmann::json(scores).dump();
}

}  // namespace

Result<Review> Reviews::FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode) {
  Violations violations;
  rest::JsonReader reader(body, violations, mode);
  Review review;
  review.project_id = reader.Id("project_id", true).value_or(0);
  review.expert_id = reader.Id("expert_id", true).value_or(0);
  if (const auto* scores = reader.Object("scores", true)) {
    if (scores->size() > kMaxScores) {
      violations.Add("scores", "must have at most " + std::to_string(kMaxScores) + " members");
    } else {
      rest::JsonReader score_reader(*scores, violations, mode, "scores.");
      for (const auto& [name, value] : scores->items()) {
        if (auto score = score_reader.Integer(name, false)) {
          review.scores[name] = *score;
        }
      }
    }
  }
  review.comment = reader.String("comment", false).value_or("");
  reader.ReadOnly("score");
  reader.RejectUnknown();
  Validate(review, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return review;
}

nlohmann::json Reviews::ToJson(const Review& review) {
  return {{"id", review.id},
          {"project_id", review.project_id},
          {"expert_id", review.expert_id},
          {"scores", review.scores},
          {"comment", review.comment},
          {"created_at", FormatUtc(review.created_at)},
          {"updated_at", FormatUtc(review.updated_at)}};
}

nlohmann::json Reviews::Present(const Review& review) {
  nlohmann::json json = ToJson(review);
  const Score score{review.score_points, review.score_weight};
  json["score"] = score.empty() ? nlohmann::json(nullptr) : nlohmann::json(score.Rounded());
  return json;
}

void Reviews::Resolve(sqlite::Database& db, Review& review) {
  const Score score = [&] {
    if (auto project = Projects::Get(db, review.project_id)) {
      return ReviewScore(review, CriteriaOfProject(db, *project));
    }
    return Score{};
  }();
  review.score_points = score.points;
  review.score_weight = score.weight;
}

void Reviews::CheckReferences(sqlite::Database& db, const Review& review, Violations& violations) {
  if (review.id != 0) {
    // A PATCH: the review stays the same expert's review of the same project.
    if (auto stored = Get(db, review.id)) {
      if (stored->project_id != review.project_id) {
        violations.Add("project_id",
                       "cannot be changed (it is " + std::to_string(stored->project_id) + ")");
      }
      if (stored->expert_id != review.expert_id) {
        violations.Add("expert_id",
                       "cannot be changed (it is " + std::to_string(stored->expert_id) + ")");
      }
      if (!violations.empty()) {
        return;
      }
    }
  }
  RequireExists(db, "people", "person", "expert_id", review.expert_id, violations);
  auto project = Projects::Get(db, review.project_id);
  if (!project) {
    violations.Add("project_id", "no project with id " + std::to_string(review.project_id));
    return;
  }
  if (auto reason = ReviewsClosedReason(*project)) {
    violations.Add("project_id", *reason);
    return;
  }
  const auto criteria = CriteriaOfProject(db, *project);
  if (criteria.empty()) {
    violations.Add("project_id",
                   project->program_id
                       ? "the project's program " + std::to_string(*project->program_id) +
                             " has no review criteria to score: give it review_criteria first"
                       : std::string("the project is in no program, so there are no review "
                                     "criteria to score: give it a program_id first"));
    return;
  }
  ValidateScores(review, criteria, violations);
  if (auto conflict = ExpertConflict(review.expert_id, MembersOfTeam(db, project->team_id))) {
    violations.Add("expert_id", *conflict);
  }
  auto other =
      db.Prepare("SELECT id FROM reviews WHERE project_id = ? AND expert_id = ? AND id <> ?");
  other.Bind(1, review.project_id).Bind(2, review.expert_id).Bind(3, review.id);
  if (other.Step()) {
    violations.Add("expert_id", "has already reviewed this project (review " +
                                    std::to_string(other.ColumnInt64(0)) +
                                    "); change that review instead");
  }
}

Review Reviews::FromRow(sqlite::Statement& row) {
  Review review;
  review.id = row.ColumnInt64(0);
  review.project_id = row.ColumnInt64(1);
  review.expert_id = row.ColumnInt64(2);
  review.scores = nlohmann::json::parse(row.ColumnText(3)).get<std::map<std::string, int64_t>>();
  review.score_points = row.ColumnInt64(4);
  review.score_weight = row.ColumnInt64(5);
  review.comment = row.ColumnText(6);
  review.created_at = FromMillis(row.ColumnInt64(7));
  review.updated_at = FromMillis(row.ColumnInt64(8));
  return review;
}

std::optional<Review> Reviews::Get(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM reviews WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

std::vector<Review> ReviewsOfProject(sqlite::Database& db, int64_t project_id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns +
                              " FROM reviews WHERE project_id = ? ORDER BY id");
  statement.Bind(1, project_id);
  std::vector<Review> reviews;
  while (statement.Step()) {
    reviews.push_back(Reviews::FromRow(statement));
  }
  return reviews;
}

void Reviews::Insert(sqlite::Database& db, Review& review) {
  db.Prepare(
        "INSERT INTO reviews(project_id, expert_id, scores, score_points, score_weight, comment, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .Bind(1, review.project_id)
      .Bind(2, review.expert_id)
      .Bind(3, ScoresText(review.scores))
      .Bind(4, review.score_points)
      .Bind(5, review.score_weight)
      .Bind(6, review.comment)
      .Bind(7, Millis(review.created_at))
      .Bind(8, Millis(review.updated_at))
      .Run();
  review.id = db.LastInsertRowid();
}

void Reviews::Update(sqlite::Database& db, const Review& review) {
  db.Prepare(
        "UPDATE reviews SET scores = ?, score_points = ?, score_weight = ?, comment = ?, "
        "updated_at = ? WHERE id = ?")
      .Bind(1, ScoresText(review.scores))
      .Bind(2, review.score_points)
      .Bind(3, review.score_weight)
      .Bind(4, review.comment)
      .Bind(5, Millis(review.updated_at))
      .Bind(6, review.id)
      .Run();
}

std::optional<std::string> Reviews::DeleteConflict(sqlite::Database& db, int64_t id) {
  const auto review = Get(db, id);
  if (review) {
    if (const auto project = Projects::Get(db, review->project_id)) {
      if (auto reason = ReviewsClosedReason(*project)) {
        return *reason;
      }
    }
  }
  return FindReferences(db, "reviews", "review", id);
}

void Reviews::Delete(sqlite::Database& db, int64_t id) {
  db.Prepare("DELETE FROM reviews WHERE id = ?").Bind(1, id).Run();
}

const rest::ListSpec& Reviews::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "reviews",
      .columns = kColumns,
      .filters =
          {
              Filter{"project_id", "project_id = ?", Filter::Kind::kId, {}},
              Filter{"expert_id", "expert_id = ?", Filter::Kind::kId, {}},
          },
      .sorts = {{"id", "id", false}, {"created_at", "created_at", false}},
      .access = {.program_sql =
                     "(SELECT program_id FROM projects WHERE projects.id = reviews.project_id)",
                 .public_sql = "0",
                 .expert_sql = "expert_id = ?",
                 .frontend_reads = false,
                 .frontend_own_sql = ""},
  };
  return kSpec;
}

bool Reviews::MayWrite(sqlite::Database& db, const Review& review, const access::Caller& caller) {
  if (caller.is_admin()) {
    return true;
  }
  if (caller.role == access::Role::kExpert) {
    if (!caller.person_id || review.expert_id != *caller.person_id) {
      return false;
    }
    auto assigned =
        db.Prepare("SELECT 1 FROM project_experts WHERE project_id = ? AND person_id = ?");
    assigned.Bind(1, review.project_id).Bind(2, review.expert_id);
    return assigned.Step();
  }
  return access::MayWriteIn(
      caller, ProgramOfRow(db, "SELECT program_id FROM projects WHERE id = ?", review.project_id));
}
}  // namespace civic::events::resources
