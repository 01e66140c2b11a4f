#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "civic/domain/session.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"

namespace civic::events::resources {

// /v1/sessions (and GET /v1/events/{id}/sessions): parts of an event's programme, inside the
// event's times, shown in the event city's zone. Speakers and moderators are people (join
// table). `event_id` is set on create and never changes. A session is deleted once none of its
// sign-ups holds a place (the cancelled ones are deleted with it, audited) and nothing else
// references it (check-ins at it).
struct Sessions {
  using Model = Session;
  static constexpr const char* kName = "session";
  static constexpr const char* kPath = "/v1/sessions";

  static Result<Session> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const Session& session);
  // Sets the time zone from the event's city (empty when there is no such event).
  static void Resolve(sqlite::Database& db, Session& session);
  // The event exists (and is the stored one on PATCH), the session fits in it, the people exist.
  static void CheckReferences(sqlite::Database& db, const Session& session, Violations& violations);
  // The program the session belongs to (organizers write what belongs to theirs).
  static std::optional<int64_t> ProgramOf(sqlite::Database& db, const Session& session);
  static std::optional<Session> Get(sqlite::Database& db, int64_t id);
  static void Insert(sqlite::Database& db, Session& session);
  static void Update(sqlite::Database& db, const Session& session);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static Session FromRow(sqlite::Statement& row);
};

}  // namespace civic::events::resources
