#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "civic/domain/organization.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"

namespace civic::events::resources {

// /v1/organizations: the resource definition for rest::AddCrudRoutes (see rest/crud.hpp).
struct Organizations {
  using Model = Organization;
  static constexpr const char* kName = "organization";
  static constexpr const char* kPath = "/v1/organizations";

  static Result<Organization> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const Organization& organization);
  static void CheckReferences(sqlite::Database& db, const Organization& organization,
                              Violations& violations);
  static std::optional<Organization> Get(sqlite::Database& db, int64_t id);
  static void Insert(sqlite::Database& db, Organization& organization);
  static void Update(sqlite::Database& db, const Organization& organization);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static Organization FromRow(sqlite::Statement& row);
};

}  // namespace civic::events::resources
