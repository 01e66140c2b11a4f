#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "civic/domain/project.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"
#include "storage/store.hpp"

namespace civic::events::resources {

// /v1/projects: a team's social project. program_id defaults to the team's program (whose review
// criteria the experts score); team_id cannot change. Organisers decide (selected, not_selected)
// only on a reviewed project; a reviewed project is withdrawn, not deleted.
struct Projects {
  using Model = Project;
  static constexpr const char* kName = "project";
  static constexpr const char* kPath = "/v1/projects";

  static Result<Project> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const Project& project);
  static void Resolve(sqlite::Database& db, Project& project);
  static void CheckReferences(sqlite::Database& db, const Project& project, Violations& violations);
  // The program the project belongs to (organizers write what belongs to theirs).
  static std::optional<int64_t> ProgramOf(sqlite::Database& db, const Project& project);
  static std::optional<Project> Get(sqlite::Database& db, int64_t id);
  static void Insert(sqlite::Database& db, Project& project);
  static void Update(sqlite::Database& db, const Project& project);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static Project FromRow(sqlite::Statement& row);
};

// The review criteria of the project's program (none without a program).
std::vector<ReviewCriterion> CriteriaOfProject(sqlite::Database& db, const Project& project);

// The number of reviews of the project.
int64_t ReviewCount(sqlite::Database& db, int64_t project_id);

// GET /v1/projects/{id}/assessment: the reviews summed up per criterion and overall (ETag/304).
// GET /v1/programs/{id}/project-ranking?limit=N: the program's submitted and decided projects
//     ranked by their experts' score (ETag/304).
void AddProjectAssessmentRoutes(http::Router& router, Store& store);

// The experts assigned to review a project (organizers of the project's program):
// GET /v1/projects/{id}/experts, PUT and DELETE /v1/projects/{id}/experts/{person_id}.
// An expert's key reads the projects it is assigned to and reviews only those.
void AddProjectExpertRoutes(http::Router& router, Store& store, const Clock& clock);

}  // namespace civic::events::resources
