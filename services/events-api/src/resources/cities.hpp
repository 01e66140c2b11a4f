#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "civic/domain/city.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"

namespace civic::events::resources {

// /v1/cities: the resource definition for rest::AddCrudRoutes (see rest/crud.hpp).
struct Cities {
  using Model = City;
  static constexpr const char* kName = "city";
  static constexpr const char* kPath = "/v1/cities";

  static Result<City> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const City& city);
  // A new time_zone leaves every check-in for a day inside its event's days in that zone.
  static void CheckReferences(sqlite::Database& db, const City& city, Violations& violations);
  static std::optional<City> Get(sqlite::Database& db, int64_t id);
  static void Insert(sqlite::Database& db, City& city);
  static void Update(sqlite::Database& db, const City& city);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static City FromRow(sqlite::Statement& row);
};

}  // namespace civic::events::resources
