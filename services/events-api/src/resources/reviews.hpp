#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "access/caller.hpp"
#include "civic/domain/project.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"

namespace civic::events::resources {

// /v1/reviews (and GET /v1/projects/{id}/reviews): one expert's review of one project, a score
// from 1 to 10 for every review criterion of the project's program. Reviews are written, changed
// and removed only while the project is submitted; an expert reviews a project once, and never
// one of a team the expert belongs to. project_id and expert_id cannot change. The public form
// adds `score`, the review's weighted mean.
struct Reviews {
  using Model = Review;
  static constexpr const char* kName = "review";
  static constexpr const char* kPath = "/v1/reviews";

  static Result<Review> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const Review& review);
  static nlohmann::json Present(const Review& review);
  // Admins; organizers of the project's program; the expert who writes it, on a project the
  // expert is assigned to.
  static bool MayWrite(sqlite::Database& db, const Review& review, const access::Caller& caller);
  static void Resolve(sqlite::Database& db, Review& review);
  static void CheckReferences(sqlite::Database& db, const Review& review, Violations& violations);
  static std::optional<Review> Get(sqlite::Database& db, int64_t id);
  static void Insert(sqlite::Database& db, Review& review);
  static void Update(sqlite::Database& db, const Review& review);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static Review FromRow(sqlite::Statement& row);
};

// Every review of a project, in id order.
std::vector<Review> ReviewsOfProject(sqlite::Database& db, int64_t project_id);

}  // namespace civic::events::resources
