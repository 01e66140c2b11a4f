#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "civic/domain/event.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"

namespace civic::events::resources {

// /v1/events: times are stored as UTC milliseconds and shown in the city's zone (`time_zone`,
// read-only, from the city). Organisers and partners are organizations (join table). Status
// changes follow StatusChangeError; only drafts are deleted (with their sessions), anything
// else is cancelled instead. Moving the times or lowering the capacity may not leave a session
// out.
// Events nest: `parent_event_id` puts an event inside another (a school inside a forum) of the
// same program, within its time, at most this many levels deep (counting the events inside a
// moved one); only a key that may change the parent's program puts an event inside it.
inline constexpr int kMaxEventNesting = 5;

struct Events {
  using Model = Event;
  static constexpr const char* kName = "event";
  static constexpr const char* kPath = "/v1/events";

  static Result<Event> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const Event& event);
  // Sets the time zone from the city (empty when there is no such city).
  static void Resolve(sqlite::Database& db, Event& event);
  // The city, program and organisations exist; the parent is one the caller may nest in (see
  // kMaxEventNesting); the status may change from the stored one (or may be the first); the
  // event's sessions and the events inside it still fit, and keep its program.
  static void CheckReferences(sqlite::Database& db, const Event& event, Violations& violations);
  // The program the event belongs to (organizers write what belongs to theirs).
  static std::optional<int64_t> ProgramOf(sqlite::Database& db, const Event& event);
  static std::optional<Event> Get(sqlite::Database& db, int64_t id);
  static void Insert(sqlite::Database& db, Event& event);
  static void Update(sqlite::Database& db, const Event& event);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static Event FromRow(sqlite::Statement& row);
};

// `body` without its read-only `time_zone` member (derived from the city); records
// "is read-only: <why>" on `time_zone` when a POST body sets it.
nlohmann::json WithoutTimeZone(const nlohmann::json& body, rest::JsonReader::Mode mode,
                               const std::string& why, Violations& violations);

}  // namespace civic::events::resources
