#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "civic/domain/award.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"

namespace civic::events::resources {

// GET /v1/awards/{id}/laureates: read-only, written once when the award closes
// (resources/award_close.hpp). Only what rest::AddNestedList needs.
struct Laureates {
  using Model = Laureate;
  static constexpr const char* kName = "laureate";

  static nlohmann::json ToJson(const Laureate& laureate);
  static const rest::ListSpec& List();
  static Laureate FromRow(sqlite::Statement& row);

  // Stores `laureates` (setting their ids). REQUIRES: inside a write transaction.
  static void InsertAll(sqlite::Database& db, std::vector<Laureate>& laureates);
};

}  // namespace civic::events::resources
