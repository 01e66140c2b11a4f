#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "access/caller.hpp"
#include "civic/domain/person.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"

namespace civic::events::resources {

// /v1/people. `email` and `phone` are accepted and stored but are not part of the public
// representation (Present); ToJson is the full document a PATCH merges into.
struct People {
  using Model = Person;
  static constexpr const char* kName = "person";
  static constexpr const char* kPath = "/v1/people";

  static Result<Person> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const Person& person);
  static nlohmann::json Present(const Person& person);
  // Present, with `email` and `phone` for a caller who may see them (access::MaySeeContacts).
  static nlohmann::json PresentFor(sqlite::Database& db, const Person& person);
  // A new person anyone the route admits may create; an existing one admins change, and
  // organizers when the person takes part in one of their programs.
  static bool MayWrite(sqlite::Database& db, const Person& person, const access::Caller& caller);
  static void CheckReferences(sqlite::Database& db, const Person& person, Violations& violations);
  static std::optional<Person> Get(sqlite::Database& db, int64_t id);
  static void Insert(sqlite::Database& db, Person& person);
  static void Update(sqlite::Database& db, const Person& person);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static Person FromRow(sqlite::Statement& row);
};

}  // namespace civic::events::resources
