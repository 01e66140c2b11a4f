#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "civic/domain/program.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"

namespace civic::events::resources {

// /v1/programs: organisers and partners are organizations (join table), the parent is another
// program (no cycles), team rules and review criteria are value objects.
struct Programs {
  using Model = Program;
  static constexpr const char* kName = "program";
  static constexpr const char* kPath = "/v1/programs";

  static Result<Program> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const Program& program);
  // The organisations and the parent exist; a new parent is one the caller may change (admins:
  // any) and makes no cycle; the review criteria stay while reviews were scored against them.
  static void CheckReferences(sqlite::Database& db, const Program& program, Violations& violations);
  // The program the program belongs to (organizers write what belongs to theirs).
  static std::optional<int64_t> ProgramOf(sqlite::Database& db, const Program& program);
  static std::optional<Program> Get(sqlite::Database& db, int64_t id);
  static void Insert(sqlite::Database& db, Program& program);
  static void Update(sqlite::Database& db, const Program& program);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static Program FromRow(sqlite::Statement& row);
};

nlohmann::json TeamRulesToJson(const TeamRules& rules);
TeamRules TeamRulesFromJson(const nlohmann::json& json);

}  // namespace civic::events::resources
