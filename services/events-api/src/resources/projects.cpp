#include "resources/projects.hpp"

#include <cctype>
#include <cstdlib>
#include <functional>
#include <map>

#include "civic/http/problem.hpp"
#include "resources/json_util.hpp"
#include "resources/programs.hpp"
#include "resources/references.hpp"
#include "resources/reviews.hpp"
#include "resources/teams.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, team_id, program_id, title, summary, status, created_at, updated_at";

// A score shown to two decimals (7.666… is 7.67); null when nothing was scored.
nlohmann::json Shown(const Score& score) {
  if (score.empty()) {
    return nullptr;
  }
  return score.Rounded();
}

}  // namespace

Result<Project> Projects::FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode) {
  Violations violations;
  rest::JsonReader reader(body, violations, mode);
  Project project;
  project.team_id = reader.Id("team_id", true).value_or(0);
  project.program_id = reader.Id("program_id", false);
  project.title = reader.String("title", true).value_or("");
  project.summary = reader.String("summary", false).value_or("");
  project.status = reader.Enum("status", ProjectStatuses(), false).value_or("draft");
  reader.RejectUnknown();
  Validate(project, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return project;
}

nlohmann::json Projects::ToJson(const Project& project) {
  return {{"id", project.id},
          {"team_id", project.team_id},
          {"program_id", OrNull(project.program_id)},
          {"title", project.title},
          {"summary", project.summary},
          {"status", project.status},
          {"created_at", FormatUtc(project.created_at)},
          {"updated_at", FormatUtc(project.updated_at)}};
}

void Projects::Resolve(sqlite::Database& db, Project& project) {
  if (!project.program_id) {
    if (auto team = Teams::Get(db, project.team_id)) {
      project.program_id = team->program_id;
    }
  }
}

void Projects::CheckReferences(sqlite::Database& db, const Project& project,
                               Violations& violations) {
  int64_t reviews = 0;
  std::string from = "draft";  // a new project starts as a draft
  if (project.id != 0) {
    auto stored = Get(db, project.id);
    if (stored) {
      from = stored->status;
    }
    if (stored && stored->team_id != project.team_id) {
      violations.Add("team_id", "cannot be changed (it is " + std::to_string(stored->team_id) +
                                    "): a project stays with the team that develops it");
      return;
    }
    reviews = ReviewCount(db, project.id);
    if (stored && reviews > 0 && stored->program_id != project.program_id) {
      violations.Add("program_id",
                     "cannot be changed once experts have reviewed the project against its "
                     "program's criteria (" +
                         std::to_string(reviews) + " review(s))");
    }
  }
  RequireExists(db, "teams", "team", "team_id", project.team_id, violations);
  RequireExists(db, "programs", "program", "program_id", project.program_id, violations);
  if (auto error = TransitionError(from, project.status, reviews)) {
    violations.Add("status", *error);
  } else if (auto decision = DecisionError(project.status, reviews)) {
    violations.Add("status", *decision);
  }
}

Project Projects::FromRow(sqlite::Statement& row) {
  Project project;
  project.id = row.ColumnInt64(0);
  project.team_id = row.ColumnInt64(1);
  project.program_id = row.ColumnOptionalInt64(2);
  project.title = row.ColumnText(3);
  project.summary = row.ColumnText(4);
  project.status = row.ColumnText(5);
  project.created_at = FromMillis(row.ColumnInt64(6));
  project.updated_at = FromMillis(row.ColumnInt64(7));
  return project;
}

std::optional<Project> Projects::Get(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM projects WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

void Projects::Insert(sqlite::Database& db, Project& project) {
  db.Prepare(
        "INSERT INTO projects(team_id, program_id, title, summary, status, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .Bind(1, project.team_id)
      .Bind(2, project.program_id)
      .Bind(3, project.title)
      .Bind(4, project.summary)
      .Bind(5, project.status)
      .Bind(6, Millis(project.created_at))
      .Bind(7, Millis(project.updated_at))
      .Run();
  project.id = db.LastInsertRowid();
}

void Projects::Update(sqlite::Database& db, const Project& project) {
  db.Prepare(
        "UPDATE projects SET program_id = ?, title = ?, summary = ?, status = ?, updated_at = ? "
        "WHERE id = ?")
      .Bind(1, project.program_id)
      .Bind(2, project.title)
      .Bind(3, project.summary)
      .Bind(4, project.status)
      .Bind(5, Millis(project.updated_at))
      .Bind(6, project.id)
      .Run();
}

std::optional<std::string> Projects::DeleteConflict(sqlite::Database& db, int64_t id) {
  if (const int64_t reviews = ReviewCount(db, id); reviews > 0) {
    return "The project has " + std::to_string(reviews) +
           " expert review(s), kept as its record: withdraw it instead (PATCH {\"status\": "
           "\"withdrawn\"}).";
  }
  return FindReferences(db, "projects", "project", id);
}

void Projects::Delete(sqlite::Database& db, int64_t id) {
  db.Prepare("DELETE FROM projects WHERE id = ?").Bind(1, id).Run();
}

const rest::ListSpec& Projects::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "projects",
      .columns = kColumns,
      .filters =
          {
              rest::SearchFilter("projects"),
              Filter{"team_id", "team_id = ?", Filter::Kind::kId, {}},
              Filter{"program_id", "program_id = ?", Filter::Kind::kId, {}},
              Filter{"status", "status = ?", Filter::Kind::kEnum, ProjectStatuses()},
          },
      .sorts = {{"id", "id", false}, {"title", "title", true}, {"created_at", "created_at", false}},
      .access = {.program_sql = "program_id",
                 .public_sql = "status <> 'draft'",
                 .expert_sql = "id IN (SELECT project_id FROM project_experts WHERE person_id = ?)",
                 .frontend_reads = false,
                 .frontend_own_sql = ""},
  };
  return kSpec;
}

std::vector<ReviewCriterion> CriteriaOfProject(sqlite::Database& db, const Project& project) {
  if (!project.program_id) {
    return {};
  }
  auto program = Programs::Get(db, *project.program_id);
  return program ? program->review_criteria : std::vector<ReviewCriterion>{};
}

int64_t ReviewCount(sqlite::Database& db, int64_t project_id) {
  auto statement = db.Prepare("SELECT count(*) FROM reviews WHERE project_id = ?");
  statement.Bind(1, project_id);
  statement.Step();
  return statement.ColumnInt64(0);
}

namespace {

nlohmann::json AssessmentJson(const Project& project, const std::vector<ReviewCriterion>& criteria,
                              const Assessment& assessment) {
  nlohmann::json by_criterion = nlohmann::json::array();
  for (size_t i = 0; i < criteria.size(); ++i) {
    by_criterion.push_back({{"name", criteria[i].name},
                            {"weight", criteria[i].weight},
                            {"mean", Shown(assessment.criteria[i])}});
  }
  return {{"project_id", project.id},
          {"program_id", OrNull(project.program_id)},
          {"status", project.status},
          {"reviews", assessment.reviews},
          {"criteria", std::move(by_criterion)},
          {"score", Shown(assessment.score)}};
}

// The `limit` of the ranking: 1..kMaxPageSize, kDefaultPageSize when absent; no other parameter.
Result<int> RankingLimit(const http::Request& request) {
  Violations violations;
  int limit = rest::kDefaultPageSize;
  bool seen = false;
  for (const auto& [name, value] : request.query) {
    if (name != "limit") {
      violations.Add(name, "is not a known query parameter (only limit)");
      continue;
    }
    if (seen) {
      violations.Add("limit", "is given more than once");
      continue;
    }
    seen = true;
    char* end = nullptr;
    const long long parsed = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || end == nullptr || *end != '\0' || !std::isdigit(value[0]) || parsed < 1 ||
        parsed > rest::kMaxPageSize) {
      violations.Add("limit", "must be an integer from 1 to " + std::to_string(rest::kMaxPageSize));
    } else {
      limit = static_cast<int>(parsed);
    }
  }
  if (!violations.empty()) {
    return violations.ToError();
  }
  return limit;
}

// 403: what the key may not read, outside its programs.
http::Response OutsidePrograms(const std::string& what, int64_t id) {
  return access::Forbidden("This key may not read " + what + " " + std::to_string(id) +
                           ": it belongs to no program of the key's.");
}

nlohmann::json ExpertJson(sqlite::Statement& row) {
  return {{"person_id", row.ColumnInt64(0)},
          {"name", row.ColumnText(1)},
          {"assigned_at", FormatUtc(FromMillis(row.ColumnInt64(2)))}};
}

// The assignment of `person_id` to `project_id`, as the API shows it; nothing when there is none.
std::optional<nlohmann::json> Assignment(sqlite::Database& db, int64_t project_id,
                                         int64_t person_id) {
  auto row = db.Prepare(
      "SELECT x.person_id, p.name, x.created_at FROM project_experts AS x "
      "JOIN people AS p ON p.id = x.person_id WHERE x.project_id = ? AND x.person_id = ?");
  row.Bind(1, project_id).Bind(2, person_id);
  if (!row.Step()) {
    return std::nullopt;
  }
  return ExpertJson(row);
}

// Runs `fn(db, project)` in a write transaction for the organizer of project {id}: 404 when
// there is no such project the caller may read, 403 when it is outside the caller's programs.
http::Response WithOwnProject(
    Store& store, const http::Request& request,
    const std::function<http::Response(sqlite::Database&, const Project&)>& fn) {
  const auto id = rest::PathId(request);
  if (!id) {
    return rest::NotFound(Projects::kName, request.Param("id"));
  }
  return rest::Guarded([&] {
    return store.Write([&](sqlite::Database& db) {
      auto project = Projects::Get(db, *id);
      if (!project || !rest::MayRead<Projects>(db, *id)) {
        return rest::NotFound(Projects::kName, request.Param("id"));
      }
      if (!rest::MayWrite<Projects>(db, *project)) {
        return access::WriteDenied(access::Current(), true, Projects::kName, request.Param("id"));
      }
      return fn(db, *project);
    });
  });
}

}  // namespace

void AddProjectExpertRoutes(http::Router& router, Store& store, const Clock& clock) {
  router.Get(
      "/v1/projects/{id}/experts",
      [&store](const http::Request& request) {
        if (auto rejected = rest::RejectQuery(request)) {
          return std::move(*rejected);
        }
        // A read, in a write transaction only to share the checks of the writes.
        return WithOwnProject(store, request, [&](sqlite::Database& db, const Project& project) {
          auto rows = db.Prepare(
              "SELECT x.person_id, p.name, x.created_at FROM project_experts AS x "
              "JOIN people AS p ON p.id = x.person_id WHERE x.project_id = ? "
              "ORDER BY x.person_id");
          rows.Bind(1, project.id);
          nlohmann::json items = nlohmann::json::array();
          while (rows.Step()) {
            items.push_back(ExpertJson(rows));
          }
          return rest::Conditional(
              request, http::Response::Json(200, {{"project_id", project.id}, {"items", items}}));
        });
      },
      {.offload = true});

  router.Put(
      "/v1/projects/{id}/experts/{person_id}",
      [&store, &clock](const http::Request& request) {
        const auto person_id = rest::PathId(request, "person_id");
        if (!person_id) {
          return rest::NotFound("person", request.Param("person_id"));
        }
        return WithOwnProject(store, request, [&](sqlite::Database& db, const Project& project) {
          if (!Exists(db, "people", *person_id)) {
            return rest::NotFound("person", request.Param("person_id"));
          }
          if (auto existing = Assignment(db, project.id, *person_id)) {
            return http::Response::Json(200, *existing);  // assigning twice changes nothing
          }
          db.Prepare(
                "INSERT INTO project_experts(project_id, person_id, created_at) VALUES (?, ?, ?)")
              .Bind(1, project.id)
              .Bind(2, *person_id)
              .Bind(3, Millis(clock.Now()))
              .Run();
          const nlohmann::json shown = *Assignment(db, project.id, *person_id);
          audit::Record(db, "project_expert", project.id, nullptr, shown, 201);
          http::Response created = http::Response::Json(201, shown);
          created.WithHeader("Location", "/v1/projects/" + std::to_string(project.id) +
                                             "/experts/" + std::to_string(*person_id));
          return created;
        });
      },
      {.offload = true});

  router.Delete(
      "/v1/projects/{id}/experts/{person_id}",
      [&store](const http::Request& request) {
        const auto person_id = rest::PathId(request, "person_id");
        if (!person_id) {
          return rest::NotFound("expert assignment", request.Param("person_id"));
        }
        return WithOwnProject(store, request, [&](sqlite::Database& db, const Project& project) {
          const auto before = Assignment(db, project.id, *person_id);
          if (!before) {
            return rest::NotFound("expert assignment", request.Param("person_id"));
          }
          db.Prepare("DELETE FROM project_experts WHERE project_id = ? AND person_id = ?")
              .Bind(1, project.id)
              .Bind(2, *person_id)
              .Run();
          audit::Record(db, "project_expert", project.id, *before, nullptr, 204);
          return http::Response::Empty(204);
        });
      },
      {.offload = true});
}

void AddProjectAssessmentRoutes(http::Router& router, Store& store) {
  router.Get("/v1/projects/{id}/assessment",
             [&store](const http::Request& request) {
               const auto id = rest::PathId(request);
               if (!id) {
                 return rest::NotFound(Projects::kName, request.Param("id"));
               }
               if (auto rejected = rest::RejectQuery(request)) {
                 return std::move(*rejected);
               }
               return rest::Guarded([&] {
                 std::optional<http::Response> denied;
                 auto body = store.Read([&](sqlite::Database& db) -> std::optional<nlohmann::json> {
                   auto project = Projects::Get(db, *id);
                   if (!project || !rest::MayRead<Projects>(db, *id)) {
                     return std::nullopt;
                   }
                   if (!rest::MayWrite<Projects>(db, *project)) {
                     denied = OutsidePrograms("the assessment of project", *id);
                     return std::nullopt;
                   }
                   const auto criteria = CriteriaOfProject(db, *project);
                   return AssessmentJson(*project, criteria,
                                         Assess(ReviewsOfProject(db, project->id), criteria));
                 });
                 if (denied) {
                   return std::move(*denied);
                 }
                 if (!body) {
                   return rest::NotFound(Projects::kName, request.Param("id"));
                 }
                 return rest::Conditional(request, http::Response::Json(200, *body));
               });
             },
             {.offload = true});

  router.Get(
      "/v1/programs/{id}/project-ranking",
      [&store](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound("program", request.Param("id"));
        }
        auto limit = RankingLimit(request);
        if (!limit.ok()) {
          return http::ErrorResponse(limit.error());
        }
        return rest::Guarded([&] {
          std::optional<http::Response> denied;
          auto body = store.Read([&](sqlite::Database& db) -> std::optional<nlohmann::json> {
            auto program = Programs::Get(db, *id);
            if (!program) {
              return std::nullopt;
            }
            if (!access::MayWriteIn(access::Current(), program->id)) {
              denied = OutsidePrograms("the project ranking of program", *id);
              return std::nullopt;
            }
            // Projects under review or decided (drafts and withdrawn ones are not in the
            // running), each with its reviews' stored weighted scores summed: one query.
            auto rows = db.Prepare(
                "SELECT p.id, p.team_id, p.title, p.status, count(r.id), "
                "coalesce(sum(r.score_points), 0), coalesce(sum(r.score_weight), 0) "
                "FROM projects AS p LEFT JOIN reviews AS r ON r.project_id = p.id "
                "WHERE p.program_id = ? AND p.status IN ('submitted', 'selected', 'not_selected') "
                "GROUP BY p.id ORDER BY p.id");
            rows.Bind(1, *id);
            struct Row {
              int64_t team_id;
              std::string title;
              std::string status;
            };
            std::map<int64_t, Row> projects;
            std::vector<Standing> standings;
            while (rows.Step()) {
              projects[rows.ColumnInt64(0)] = {rows.ColumnInt64(1), rows.ColumnText(2),
                                               rows.ColumnText(3)};
              Standing standing;
              standing.project_id = rows.ColumnInt64(0);
              standing.reviews = rows.ColumnInt64(4);
              standing.score = {rows.ColumnInt64(5), rows.ColumnInt64(6)};
              standings.push_back(standing);
            }
            Rank(standings);
            nlohmann::json items = nlohmann::json::array();
            for (const auto& standing : standings) {
              if (static_cast<int>(items.size()) == limit.value()) {
                break;
              }
              const Row& row = projects.at(standing.project_id);
              items.push_back({{"rank", OrNull(standing.rank)},
                               {"project_id", standing.project_id},
                               {"team_id", row.team_id},
                               {"title", row.title},
                               {"status", row.status},
                               {"reviews", standing.reviews},
                               {"score", Shown(standing.score)}});
            }
            nlohmann::json criteria = nlohmann::json::array();
            for (const auto& criterion : program->review_criteria) {
              criteria.push_back({{"name", criterion.name}, {"weight", criterion.weight}});
            }
            return nlohmann::json{{"program_id", program->id},
                                  {"criteria", std::move(criteria)},
                                  {"projects", standings.size()},
                                  {"limit", limit.value()},
                                  {"items", std::move(items)}};
          });
          if (denied) {
            return std::move(*denied);
          }
          if (!body) {
            return rest::NotFound("program", request.Param("id"));
          }
          return rest::Conditional(request, http::Response::Json(200, *body));
        });
      },
      {.offload = true});
}

std::optional<int64_t> Projects::ProgramOf(sqlite::Database& /*db*/, const Project& project) {
  return project.program_id;
}
}  // namespace civic::events::resources
