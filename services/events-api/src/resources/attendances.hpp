#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "civic/domain/registration.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "storage/store.hpp"

namespace civic::events::resources {

// Attendance: one check-in of a person with a confirmed registration, for a day of the event
// (its local date in the event's zone) or for one of its sessions; at most one per person and
// day and one per person and session (a repeat answers the one stored). The registration's
// `checked_in_at` is the first check-in of any kind. A day is checked against the event's days,
// not against today (a day still to come is taken). The event's days may not then shrink past a
// day someone checked in for (Events::CheckReferences, Cities::CheckReferences).
//   POST   /v1/registrations/{id}/check-in [{day} | {session_id}]  200: the registration with
//          the check-in as `attendance`. Without a body: the event's only day, or today (local)
//          for an event of several days when today is one of them, else 422 on `day`.
//   GET    /v1/attendances/{id}  (ETag)
//   DELETE /v1/attendances/{id}  (If-Match) 204: an organiser undoes a check-in (audited).
//   GET    /v1/events/{id}/attendance  the counts per day and per session, from counters.
//   GET    /v1/events/{id}/attendances?day=&session_id=&person_id=&expand=person,
//   GET    /v1/sessions/{id}/attendances  the attendees, cursor pages.
struct Attendance {
  int64_t id = 0;
  int64_t registration_id = 0;
  int64_t event_id = 0;
  int64_t person_id = 0;
  std::optional<std::string> day;     // "YYYY-MM-DD", for a day's check-in
  std::optional<int64_t> session_id;  // for a session's check-in
  Instant checked_in_at{};
};

struct Attendances {
  using Model = Attendance;
  static constexpr const char* kName = "attendance";

  static nlohmann::json ToJson(const Attendance& attendance);
  static std::optional<Attendance> Get(sqlite::Database& db, int64_t id);
  // The program of the check-in's event.
  static std::optional<int64_t> ProgramOf(sqlite::Database& db, const Attendance& attendance);
  static const rest::ListSpec& List();
  static Attendance FromRow(sqlite::Statement& row);
  // ?expand=person, as registrations embed theirs.
  static void Expand(sqlite::Database& db, const Attendance& attendance,
                     const rest::ListQuery& query, nlohmann::json& item);
};

// The check-ins for a day (not a session) of event `event_id` that `days` would leave out: how
// many fall before days.first (and the earliest of their days), and how many after days.last
// (and the latest).
struct CheckInsOutside {
  int64_t before = 0;
  std::string earliest;
  int64_t after = 0;
  std::string latest;
};
CheckInsOutside CheckInsOutsideDays(sqlite::Database& db, int64_t event_id, const EventDays& days);

// Attendance counters of the events `events_sql` selects (an SQL subquery with one ? bound to
// `id`): {"attended_by_day": [{day, attended}], "attended_by_session": [{session_id, event_id,
// title, attended}]}, from attendance_counts (one row per event and day or session).
nlohmann::json AttendanceStatistics(sqlite::Database& db, const char* events_sql, int64_t id);

void AddAttendanceRoutes(http::Router& router, Store& store, const Clock& clock);

}  // namespace civic::events::resources
