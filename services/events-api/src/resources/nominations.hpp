#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "civic/domain/award.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"

namespace civic::events::resources {

// /v1/nominations (and GET /v1/awards/{id}/nominations): the categories of an award. A
// nomination stays with its award; once voting opened it cannot be deleted; once the award is
// closed it is final. Every write bumps the award's sync version.
struct Nominations {
  using Model = Nomination;
  static constexpr const char* kName = "nomination";
  static constexpr const char* kPath = "/v1/nominations";

  static Result<Nomination> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const Nomination& nomination);
  static void CheckReferences(sqlite::Database& db, const Nomination& nomination,
                              Violations& violations);
  // The program the nomination belongs to (organizers write what belongs to theirs).
  static std::optional<int64_t> ProgramOf(sqlite::Database& db, const Nomination& nomination);
  static std::optional<Nomination> Get(sqlite::Database& db, int64_t id);
  static void Insert(sqlite::Database& db, Nomination& nomination);
  static void Update(sqlite::Database& db, const Nomination& nomination);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id, Instant now);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static Nomination FromRow(sqlite::Statement& row);
};

}  // namespace civic::events::resources
