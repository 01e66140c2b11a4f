#include "resources/attendances.hpp"

#include <map>
#include <string>
#include <vector>

#include "civic/domain/registration.hpp"
#include "civic/http/problem.hpp"
#include "resources/events.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"
#include "resources/registrations.hpp"
#include "resources/sessions.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, registration_id, event_id, person_id, day, session_id, checked_in_at";

// An event of more days than this lists only the days someone checked in on in its report.
constexpr int kMaxListedDays = 366;

// What a check-in names: a day (or nothing: the default day) or a session.
struct CheckInRequest {
  std::optional<std::string> day;
  std::optional<int64_t> session_id;
};

// The optional body of POST /v1/registrations/{id}/check-in: {"day": "YYYY-MM-DD"} or
// {"session_id": N}; none or {} for the default day.
Result<CheckInRequest> CheckInRequestOf(const http::Request& request) {
  CheckInRequest asked;
  if (request.body.empty()) {
    return asked;
  }
  if (!http::IsJsonMediaType(request.Header("content-type"))) {
    return Error::UnsupportedMediaType("The body must be JSON (Content-Type: application/json).");
  }
  const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return Error::Invalid("body",
                          "must be a JSON object: {\"day\": \"YYYY-MM-DD\"} or "
                          "{\"session_id\": N}, or no body");
  }
  Violations violations;
  rest::JsonReader reader(body, violations, rest::JsonReader::Mode::kCreate);
  asked.day = reader.String("day", false);
  asked.session_id = reader.Id("session_id", false);
  reader.RejectUnknown();
  if (asked.day && asked.session_id) {
    violations.Add("session_id",
                   "names a session; leave out day (a check-in is for a day or a "
                   "session, not both)");
  }
  if (asked.day && !IsIsoDate(*asked.day)) {
    violations.Add("day", "must be a date YYYY-MM-DD");
  }
  if (!violations.empty()) {
    return violations.ToError();
  }
  return asked;
}

// The stored check-in of the person for the day or session, if any.
std::optional<Attendance> Existing(sqlite::Database& db, const Registration& registration,
                                   const std::optional<std::string>& day,
                                   const std::optional<int64_t>& session_id) {
  auto statement =
      session_id ? db.Prepare(std::string("SELECT ") + kColumns +
                              " FROM attendances WHERE session_id = ? AND person_id = ?")
                 : db.Prepare(std::string("SELECT ") + kColumns +
                              " FROM attendances WHERE event_id = ? AND day = ? AND person_id = ?");
  if (session_id) {
    statement.Bind(1, *session_id).Bind(2, registration.person_id);
  } else {
    statement.Bind(1, registration.event_id).Bind(2, *day).Bind(3, registration.person_id);
  }
  if (!statement.Step()) {
    return std::nullopt;
  }
  return Attendances::FromRow(statement);
}

// Why the person may not check in at `session`, or nothing. A session with a capacity takes
// those signed up (a confirmed session registration); one without takes every confirmed
// participant of its event, signed up or not (walk-ins).
std::optional<std::string> SessionCheckInError(sqlite::Database& db, const Session& session,
                                               const Registration& registration) {
  if (!session.capacity) {
    return std::nullopt;
  }
  auto signed_up = db.Prepare(
      "SELECT status FROM session_registrations WHERE session_id = ? AND person_id = ? AND "
      "status <> 'cancelled'");
  signed_up.Bind(1, session.id).Bind(2, registration.person_id);
  if (!signed_up.Step()) {
    return "Session " + std::to_string(session.id) +
           " has limited places and takes those signed up for it; person " +
           std::to_string(registration.person_id) + " is not (POST /v1/sessions/" +
           std::to_string(session.id) + "/registrations).";
  }
  if (signed_up.ColumnText(0) != "confirmed") {
    return "Person " + std::to_string(registration.person_id) + " waits for a place at session " +
           std::to_string(session.id) + " (waitlisted); only a confirmed sign-up checks in.";
  }
  return std::nullopt;
}

// Checks the person of `registration` in, as `asked` says, in the write transaction `db`.
http::Response CheckIn(sqlite::Database& db, Registration& r, const CheckInRequest& asked,
                       Instant now) {
  const auto event = Events::Get(db, r.event_id);
  if (!event) {
    return rest::NotFound("event", std::to_string(r.event_id));
  }
  if (auto error = CheckInError(r, *event)) {
    return http::ErrorResponse(Error::Conflict(*error).WithKind("check-in-refused"));
  }
  std::optional<std::string> day;
  if (asked.session_id) {
    const auto session = Sessions::Get(db, *asked.session_id);
    if (!session || session->event_id != r.event_id) {
      return http::ErrorResponse(Error::Invalid(
          "session_id", "no session " + std::to_string(*asked.session_id) + " of event " +
                            std::to_string(r.event_id) + " (the registration's event)"));
    }
    if (auto error = SessionCheckInError(db, *session, r)) {
      return http::ErrorResponse(Error::Conflict(*error).WithKind("check-in-refused"));
    }
  } else {
    auto chosen = CheckInDay(*event, asked.day, now);
    if (!chosen.ok()) {
      return http::ErrorResponse(chosen.error());
    }
    day = chosen.value();
  }
  std::optional<Attendance> attendance = Existing(db, r, day, asked.session_id);
  if (!attendance) {
    Attendance made;
    made.registration_id = r.id;
    made.event_id = r.event_id;
    made.person_id = r.person_id;
    made.day = day;
    made.session_id = asked.session_id;
    made.checked_in_at = now;
    db.Prepare(
          "INSERT INTO attendances(registration_id, event_id, person_id, day, session_id, "
          "checked_in_at) VALUES (?, ?, ?, ?, ?, ?)")
        .Bind(1, made.registration_id)
        .Bind(2, made.event_id)
        .Bind(3, made.person_id)
        .Bind(4, made.day)
        .Bind(5, made.session_id)
        .Bind(6, Millis(now))
        .Run();
    made.id = db.LastInsertRowid();
    if (!r.checked_in_at) {
      r.checked_in_at = now;
      r.updated_at = now;
      db.Prepare("UPDATE registrations SET checked_in_at = ?, updated_at = ? WHERE id = ?")
          .Bind(1, Millis(now))
          .Bind(2, Millis(now))
          .Bind(3, r.id)
          .Run();
    }
    // The audit record, and registration.checked_in for subscribers (outbox/), with the day or
    // session: in this transaction.
    audit::Record(db, Attendances::kName, made.id, nullptr, Attendances::ToJson(made), 200);
    attendance = made;
  }
  nlohmann::json body = Registrations::ToJson(r);
  body["attendance"] = Attendances::ToJson(*attendance);
  return rest::Ok(body);
}

// Undoes check-in `a`: the registration's checked_in_at becomes its earliest remaining
// check-in (none: null, and it no longer counts as attended).
void Undo(sqlite::Database& db, const Attendance& a, Instant now) {
  db.Prepare("DELETE FROM attendances WHERE id = ?").Bind(1, a.id).Run();
  auto first = db.Prepare("SELECT min(checked_in_at) FROM attendances WHERE registration_id = ?");
  first.Bind(1, a.registration_id);
  first.Step();
  const std::optional<int64_t> earliest = first.ColumnOptionalInt64(0);
  first.Reset();
  db.Prepare(
        "UPDATE registrations SET checked_in_at = ?1, updated_at = ?2 WHERE id = ?3 AND "
        "checked_in_at IS NOT ?1")
      .Bind(1, earliest)
      .Bind(2, Millis(now))
      .Bind(3, a.registration_id)
      .Run();
}

// The list of the days from `first` to `last`, or nothing when there are more than
// kMaxListedDays.
std::optional<std::vector<std::string>> DayList(const EventDays& days) {
  std::vector<std::string> list;
  for (std::string day = days.first; day <= days.last; day = NextDate(day)) {
    if (list.size() == static_cast<size_t>(kMaxListedDays)) {
      return std::nullopt;
    }
    list.push_back(day);
  }
  return list;
}

// GET /v1/events/{id}/attendance for event `event`.
nlohmann::json AttendanceReport(sqlite::Database& db, const Event& event) {
  const EventDays days = DaysOf(event);
  std::map<std::string, int64_t> by_day;
  std::map<int64_t, int64_t> by_session;
  auto counts = db.Prepare(
      "SELECT day, session_id, count FROM attendance_counts WHERE event_id = ? AND count > 0");
  counts.Bind(1, event.id);
  while (counts.Step()) {
    const int64_t session = counts.ColumnInt64(1);
    if (session == 0) {
      by_day[counts.ColumnText(0)] = counts.ColumnInt64(2);
    } else {
      by_session[session] = counts.ColumnInt64(2);
    }
  }
  counts.Reset();
  nlohmann::json day_rows = nlohmann::json::array();
  if (auto listed = DayList(days)) {
    for (const std::string& day : *listed) {
      const auto it = by_day.find(day);
      day_rows.push_back({{"day", day}, {"attended", it == by_day.end() ? 0 : it->second}});
    }
  } else {
    for (const auto& [day, count] : by_day) {
      day_rows.push_back({{"day", day}, {"attended", count}});
    }
  }
  nlohmann::json session_rows = nlohmann::json::array();
  auto sessions = db.Prepare(
      "SELECT id, title, starts_at, ends_at, capacity FROM sessions WHERE event_id = ? "
      "ORDER BY starts_at, id");
  sessions.Bind(1, event.id);
  while (sessions.Step()) {
    const int64_t id = sessions.ColumnInt64(0);
    const auto it = by_session.find(id);
    session_rows.push_back(
        {{"session_id", id},
         {"title", sessions.ColumnText(1)},
         {"starts_at", LocalTime(FromMillis(sessions.ColumnInt64(2)), event.time_zone)},
         {"ends_at", LocalTime(FromMillis(sessions.ColumnInt64(3)), event.time_zone)},
         {"capacity", OrNull(sessions.ColumnOptionalInt64(4))},
         {"attended", it == by_session.end() ? 0 : it->second}});
  }
  sessions.Reset();
  auto attended = db.Prepare(
      "SELECT count FROM registration_counts WHERE event_id = ? AND dimension = 'all' AND "
      "key = '' AND status = 'attended'");
  attended.Bind(1, event.id);
  const int64_t people = attended.Step() ? attended.ColumnInt64(0) : 0;
  return {{"event_id", event.id},    {"time_zone", event.time_zone}, {"first_day", days.first},
          {"last_day", days.last},   {"attended", people},           {"days", day_rows},
          {"sessions", session_rows}};
}

}  // namespace

nlohmann::json Attendances::ToJson(const Attendance& a) {
  return {{"id", a.id},
          {"registration_id", a.registration_id},
          {"event_id", a.event_id},
          {"person_id", a.person_id},
          {"day", OrNull(a.day)},
          {"session_id", OrNull(a.session_id)},
          {"checked_in_at", FormatUtc(a.checked_in_at)}};
}

Attendance Attendances::FromRow(sqlite::Statement& row) {
  Attendance a;
  a.id = row.ColumnInt64(0);
  a.registration_id = row.ColumnInt64(1);
  a.event_id = row.ColumnInt64(2);
  a.person_id = row.ColumnInt64(3);
  a.day = row.ColumnOptionalText(4);
  a.session_id = row.ColumnOptionalInt64(5);
  a.checked_in_at = FromMillis(row.ColumnInt64(6));
  return a;
}

std::optional<Attendance> Attendances::Get(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM attendances WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

std::optional<int64_t> Attendances::ProgramOf(sqlite::Database& db, const Attendance& a) {
  return ProgramOfRow(db, "SELECT program_id FROM events WHERE id = ?", a.event_id);
}

void Attendances::Expand(sqlite::Database& db, const Attendance& attendance,
                         const rest::ListQuery& query, nlohmann::json& item) {
  if (query.Expands("person")) {
    EmbedPerson(db, attendance.person_id, item);
  }
}

const rest::ListSpec& Attendances::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "attendances",
      .columns = kColumns,
      .filters =
          {
              Filter{"event_id", "event_id = ?", Filter::Kind::kId, {}},
              Filter{"day", "day = ?", Filter::Kind::kDate, {}},
              Filter{"session_id", "session_id = ?", Filter::Kind::kId, {}},
              Filter{"person_id", "person_id = ?", Filter::Kind::kId, {}},
              Filter{"expand", "", Filter::Kind::kExpand, {"person"}},
          },
      .sorts = {{"id", "id", false}},
      .access = {.program_sql =
                     "(SELECT program_id FROM events WHERE events.id = attendances.event_id)",
                 .public_sql = "0",
                 .expert_sql = "",
                 .frontend_reads = false,
                 .frontend_own_sql = ""},
  };
  return kSpec;
}

CheckInsOutside CheckInsOutsideDays(sqlite::Database& db, int64_t event_id, const EventDays& days) {
  CheckInsOutside outside;
  auto before =
      db.Prepare("SELECT count(*), min(day) FROM attendances WHERE event_id = ? AND day < ?");
  before.Bind(1, event_id).Bind(2, days.first);
  if (before.Step() && before.ColumnInt64(0) > 0) {
    outside.before = before.ColumnInt64(0);
    outside.earliest = before.ColumnText(1);
  }
  auto after =
      db.Prepare("SELECT count(*), max(day) FROM attendances WHERE event_id = ? AND day > ?");
  after.Bind(1, event_id).Bind(2, days.last);
  if (after.Step() && after.ColumnInt64(0) > 0) {
    outside.after = after.ColumnInt64(0);
    outside.latest = after.ColumnText(1);
  }
  return outside;
}

nlohmann::json AttendanceStatistics(sqlite::Database& db, const char* events_sql, int64_t id) {
  nlohmann::json by_day = nlohmann::json::array();
  auto days =
      db.Prepare(std::string("SELECT day, sum(count) FROM attendance_counts WHERE event_id IN (") +
                 events_sql + ") AND session_id = 0 AND count > 0 GROUP BY day ORDER BY day");
  days.Bind(1, id);
  while (days.Step()) {
    by_day.push_back({{"day", days.ColumnText(0)}, {"attended", days.ColumnInt64(1)}});
  }
  days.Reset();
  nlohmann::json by_session = nlohmann::json::array();
  auto sessions = db.Prepare(
      std::string("SELECT c.session_id, c.event_id, s.title, c.count FROM attendance_counts AS c "
                  "JOIN sessions AS s ON s.id = c.session_id WHERE c.event_id IN (") +
      events_sql + ") AND c.session_id <> 0 AND c.count > 0 ORDER BY s.starts_at, s.id");
  sessions.Bind(1, id);
  while (sessions.Step()) {
    by_session.push_back({{"session_id", sessions.ColumnInt64(0)},
                          {"event_id", sessions.ColumnInt64(1)},
                          {"title", sessions.ColumnText(2)},
                          {"attended", sessions.ColumnInt64(3)}});
  }
  sessions.Reset();
  return {{"attended_by_day", by_day}, {"attended_by_session", by_session}};
}

void AddAttendanceRoutes(http::Router& router, Store& store, const Clock& clock) {
  const http::RouteOptions plain_route{.offload = true};

  router.Post(
      "/v1/registrations/{id}/check-in",
      [&store, &clock](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(Registrations::kName, request.Param("id"));
        }
        auto asked = CheckInRequestOf(request);
        if (!asked.ok()) {
          return http::ErrorResponse(asked.error());
        }
        return rest::Guarded([&] {
          return store.Write([&](sqlite::Database& db) {
            auto registration = Registrations::Get(db, *id);
            if (!registration || !rest::MayRead<Registrations>(db, *id)) {
              return rest::NotFound(Registrations::kName, request.Param("id"));
            }
            if (!rest::MayWrite<Registrations>(db, *registration)) {
              return access::WriteDenied(access::Current(), true, Registrations::kName,
                                         request.Param("id"));
            }
            return CheckIn(db, *registration, asked.value(), clock.Now());
          });
        });
      },
      plain_route);

  rest::AddItemRoute<Attendances>(router, store, "/v1/attendances/{id}");

  router.Delete(
      "/v1/attendances/{id}",
      [&store, &clock](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(Attendances::kName, request.Param("id"));
        }
        return rest::Guarded([&] {
          return store.Write([&](sqlite::Database& db) {
            auto attendance = Attendances::Get(db, *id);
            if (!attendance || !rest::MayRead<Attendances>(db, *id)) {
              return rest::NotFound(Attendances::kName, request.Param("id"));
            }
            if (!rest::MayWrite<Attendances>(db, *attendance)) {
              return access::WriteDenied(access::Current(), true, Attendances::kName,
                                         request.Param("id"));
            }
            if (auto failed =
                    rest::CheckIfMatch(request, rest::CurrentETag<Attendances>(db, *attendance))) {
              return http::ErrorResponse(*failed);
            }
            Undo(db, *attendance, clock.Now());
            audit::Record(db, Attendances::kName, *id, Attendances::ToJson(*attendance), nullptr,
                          204);
            return http::Response::Empty(204);
          });
        });
      },
      plain_route);

  router.Get(
      "/v1/events/{id}/attendance",
      [&store](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound("event", request.Param("id"));
        }
        if (auto rejected = rest::RejectQuery(request)) {
          return std::move(*rejected);
        }
        return rest::Guarded([&] {
          return store.Read([&](sqlite::Database& db) {
            const auto event = Events::Get(db, *id);
            if (!event || !rest::MayRead<Events>(db, *id)) {
              return rest::NotFound("event", request.Param("id"));
            }
            if (!access::MayWriteIn(access::Current(), event->program_id)) {
              return access::Forbidden(
                  "Attendance of this event is for the organisers of its program and admins.");
            }
            return rest::Conditional(request,
                                     http::Response::Json(200, AttendanceReport(db, *event)));
          });
        });
      },
      plain_route);

  rest::AddNestedList<Attendances, Events>(router, store, "/v1/events/{id}/attendances",
                                           "event_id");
  rest::AddNestedList<Attendances, Sessions>(router, store, "/v1/sessions/{id}/attendances",
                                             "session_id");
}

}  // namespace civic::events::resources
