#include "resources/sessions.hpp"

#include "access/audit.hpp"
#include "resources/events.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"
#include "resources/registration_flow.hpp"
#include "resources/session_registrations.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, event_id, kind, title, description, starts_at, ends_at, room, capacity, created_at, "
    "updated_at, "
    "(SELECT c.time_zone FROM events e JOIN cities c ON c.id = e.city_id "
    "WHERE e.id = sessions.event_id), "
    "(SELECT json_group_array(person_id) FROM (SELECT person_id FROM session_people "
    "WHERE session_id = sessions.id AND role = 'speaker' ORDER BY position)), "
    "(SELECT json_group_array(person_id) FROM (SELECT person_id FROM session_people "
    "WHERE session_id = sessions.id AND role = 'moderator' ORDER BY position))";

void WritePeople(sqlite::Database& db, const Session& session) {
  db.Prepare("DELETE FROM session_people WHERE session_id = ?").Bind(1, session.id).Run();
  auto insert = db.Prepare(
      "INSERT INTO session_people(session_id, person_id, role, position) VALUES (?, ?, ?, ?)");
  auto write = [&](const std::vector<int64_t>& ids, const char* role) {
    for (size_t i = 0; i < ids.size(); ++i) {
      insert.Bind(1, session.id).Bind(2, ids[i]).Bind(3, role).Bind(4, static_cast<int64_t>(i));
      insert.Run();
      insert.Reset();
    }
  };
  write(session.speaker_ids, "speaker");
  write(session.moderator_ids, "moderator");
}

}  // namespace

Result<Session> Sessions::FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode) {
  Violations violations;
  const nlohmann::json document =
      WithoutTimeZone(body, mode, "the event's city sets it", violations);
  rest::JsonReader reader(document, violations, mode);
  Session session;
  session.event_id = reader.Id("event_id", true).value_or(0);
  session.kind = reader.Enum("kind", SessionKinds(), true).value_or("section");
  session.title = reader.String("title", true).value_or("");
  session.description = reader.String("description", false).value_or("");
  const auto starts_at = reader.Time("starts_at", true);
  const auto ends_at = reader.Time("ends_at", true);
  session.room = reader.String("room", false).value_or("");
  session.capacity = reader.Integer("capacity", false);
  session.speaker_ids = reader.IdArray("speaker_ids", false, 50).value_or(std::vector<int64_t>{});
  session.moderator_ids =
      reader.IdArray("moderator_ids", false, 20).value_or(std::vector<int64_t>{});
  reader.RejectUnknown();
  if (starts_at && ends_at) {
    session.starts_at = *starts_at;
    session.ends_at = *ends_at;
  } else {
    session.ends_at = session.starts_at + std::chrono::milliseconds(1);  // reported above
  }
  Validate(session, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return session;
}

nlohmann::json Sessions::ToJson(const Session& session) {
  const std::string& zone = session.time_zone;
  return {{"id", session.id},
          {"event_id", session.event_id},
          {"kind", session.kind},
          {"title", session.title},
          {"description", session.description},
          {"starts_at", LocalTime(session.starts_at, zone)},
          {"ends_at", LocalTime(session.ends_at, zone)},
          {"time_zone", zone},
          {"room", session.room},
          {"capacity", OrNull(session.capacity)},
          {"speaker_ids", session.speaker_ids},
          {"moderator_ids", session.moderator_ids},
          {"created_at", FormatUtc(session.created_at)},
          {"updated_at", FormatUtc(session.updated_at)}};
}

void Sessions::Resolve(sqlite::Database& db, Session& session) {
  auto statement = db.Prepare(
      "SELECT c.time_zone FROM events e JOIN cities c ON c.id = e.city_id WHERE e.id = ?");
  statement.Bind(1, session.event_id);
  session.time_zone = statement.Step() ? statement.ColumnText(0) : "";
}

void Sessions::CheckReferences(sqlite::Database& db, const Session& session,
                               Violations& violations) {
  bool moved = false;
  if (session.id != 0) {
    auto stored = db.Prepare("SELECT event_id FROM sessions WHERE id = ?");
    stored.Bind(1, session.id);
    if (stored.Step() && stored.ColumnInt64(0) != session.event_id) {
      moved = true;
      violations.Add("event_id", "cannot change: a session stays in its event (" +
                                     std::to_string(stored.ColumnInt64(0)) +
                                     "); create it in the other event and delete this one");
    }
  }
  if (!moved) {
    if (auto event = Events::Get(db, session.event_id)) {
      ValidateInEvent(session, *event, violations);
    } else {
      violations.Add("event_id", "no event with id " + std::to_string(session.event_id));
    }
  }
  if (session.id != 0) {
    // People signed up keep their places: not fewer places than they hold, and no overlap with
    // another session one of them holds.
    const int64_t confirmed = ConfirmedAtSession(db, session.id);
    if (session.capacity && *session.capacity < confirmed) {
      violations.Add("capacity", "must be at least " + std::to_string(confirmed) +
                                     ", the confirmed sign-ups (cancel some first)");
    }
    if (auto overlap = OverlapForHolders(db, session.id, session.starts_at, session.ends_at)) {
      violations.Add("starts_at", *overlap);
    }
  }
  for (size_t i = 0; i < session.speaker_ids.size(); ++i) {
    RequireExists(db, "people", "person", "speaker_ids[" + std::to_string(i) + "]",
                  session.speaker_ids[i], violations);
  }
  for (size_t i = 0; i < session.moderator_ids.size(); ++i) {
    RequireExists(db, "people", "person", "moderator_ids[" + std::to_string(i) + "]",
                  session.moderator_ids[i], violations);
  }
}

Session Sessions::FromRow(sqlite::Statement& row) {
  Session session;
  session.id = row.ColumnInt64(0);
  session.event_id = row.ColumnInt64(1);
  session.kind = row.ColumnText(2);
  session.title = row.ColumnText(3);
  session.description = row.ColumnText(4);
  session.starts_at = FromMillis(row.ColumnInt64(5));
  session.ends_at = FromMillis(row.ColumnInt64(6));
  session.room = row.ColumnText(7);
  session.capacity = row.ColumnOptionalInt64(8);
  session.created_at = FromMillis(row.ColumnInt64(9));
  session.updated_at = FromMillis(row.ColumnInt64(10));
  session.time_zone = row.ColumnText(11);
  session.speaker_ids = IdsFromJsonText(row.ColumnText(12));
  session.moderator_ids = IdsFromJsonText(row.ColumnText(13));
  return session;
}

std::optional<Session> Sessions::Get(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM sessions WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

namespace {

// The columns insert and update both write, as parameters 1-7.
sqlite::Statement& BindWritable(sqlite::Statement& statement, const Session& session) {
  return statement.Bind(1, session.kind)
      .Bind(2, session.title)
      .Bind(3, session.description)
      .Bind(4, Millis(session.starts_at))
      .Bind(5, Millis(session.ends_at))
      .Bind(6, session.room)
      .Bind(7, session.capacity);
}

}  // namespace

void Sessions::Insert(sqlite::Database& db, Session& session) {
  auto statement = db.Prepare(
      "INSERT INTO sessions(kind, title, description, starts_at, ends_at, room, capacity, "
      "event_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  BindWritable(statement, session)
      .Bind(8, session.event_id)
      .Bind(9, Millis(session.created_at))
      .Bind(10, Millis(session.updated_at))
      .Run();
  session.id = db.LastInsertRowid();
  WritePeople(db, session);
}

void Sessions::Update(sqlite::Database& db, const Session& session) {
  // event_id is left as stored: CheckReferences refuses a change.
  auto statement = db.Prepare(
      "UPDATE sessions SET kind = ?, title = ?, description = ?, starts_at = ?, ends_at = ?, "
      "room = ?, capacity = ?, updated_at = ? WHERE id = ?");
  BindWritable(statement, session).Bind(8, Millis(session.updated_at)).Bind(9, session.id).Run();
  WritePeople(db, session);
  // More places (or none to count): the waitlist moves up, in order.
  PromoteSessionWaitlist(db, session.id, session.updated_at);
}

std::optional<std::string> Sessions::DeleteConflict(sqlite::Database& db, int64_t id) {
  auto active = db.Prepare(
      "SELECT count(*) FROM session_registrations WHERE session_id = ? AND status <> 'cancelled'");
  active.Bind(1, id);
  if (active.Step() && active.ColumnInt64(0) > 0) {
    return "The session is referenced by " + std::to_string(active.ColumnInt64(0)) +
           " active session registration(s) (confirmed or waitlisted); cancel them first "
           "(DELETE /v1/session-registrations/{id}), and the cancelled ones are deleted with the "
           "session.";
  }
  return FindReferences(db, "sessions", "session", id, {{"session_registrations", "session_id"}});
}

void Sessions::Delete(sqlite::Database& db, int64_t id) {
  // Its sign-ups, all cancelled (DeleteConflict), go with it, each in the audit trail.
  auto cancelled =
      db.Prepare("SELECT id FROM session_registrations WHERE session_id = ? ORDER BY id");
  cancelled.Bind(1, id);
  std::vector<int64_t> ids;
  while (cancelled.Step()) {
    ids.push_back(cancelled.ColumnInt64(0));
  }
  cancelled.Reset();
  for (const int64_t registration_id : ids) {
    const auto registration = SessionRegistrations::Get(db, registration_id);
    db.Prepare("DELETE FROM session_registrations WHERE id = ?").Bind(1, registration_id).Run();
    if (registration) {
      audit::Record(db, SessionRegistrations::kName, registration_id,
                    SessionRegistrations::ToJson(*registration), nullptr, 204);
    }
  }
  db.Prepare("DELETE FROM sessions WHERE id = ?").Bind(1, id).Run();
}

const rest::ListSpec& Sessions::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "sessions",
      .columns = kColumns,
      .filters =
          {
              rest::SearchFilter("sessions"),
              Filter{"event_id", "event_id = ?", Filter::Kind::kId, {}},
              Filter{"kind", "kind = ?", Filter::Kind::kEnum, SessionKinds()},
              Filter{"person_id",
                     "EXISTS (SELECT 1 FROM session_people sp WHERE sp.session_id = "
                     "sessions.id AND sp.person_id = ?)",
                     Filter::Kind::kId,
                     {}},
          },
      .sorts = {{"starts_at", "starts_at", false},
                {"id", "id", false},
                {"title", "title", true},
                {"created_at", "created_at", false}},
      .access = {.program_sql =
                     "(SELECT program_id FROM events WHERE events.id = sessions.event_id)",
                 .public_sql = "(SELECT status FROM events WHERE events.id = sessions.event_id) "
                               "<> 'draft'",
                 .expert_sql = "",
                 .frontend_reads = false,
                 .frontend_own_sql = ""},
  };
  return kSpec;
}

std::optional<int64_t> Sessions::ProgramOf(sqlite::Database& db, const Session& session) {
  return ProgramOfRow(db, "SELECT program_id FROM events WHERE id = ?", session.event_id);
}
}  // namespace civic::events::resources
