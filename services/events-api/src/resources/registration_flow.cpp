#include "resources/registration_flow.hpp"

#include <algorithm>

#include "outbox/outbox.hpp"
#include "resources/registrations.hpp"

#include "resources/json_util.hpp"

namespace civic::events::resources {

namespace {

int64_t Count(sqlite::Database& db, const char* sql, int64_t id) {
  auto statement = db.Prepare(sql);
  statement.Bind(1, id);
  statement.Step();
  return statement.ColumnInt64(0);
}

// Confirms up to `places` of the oldest waitlisted rows of `table` whose `owner` column is `id`;
// returns their ids in order.
std::vector<int64_t> ConfirmOldest(sqlite::Database& db, const std::string& table,
                                   const std::string& owner, int64_t id, int64_t places,
                                   Instant now) {
  std::vector<int64_t> ids;
  if (places <= 0) {
    return ids;
  }
  auto select = db.Prepare("SELECT id FROM " + table + " WHERE " + owner +
                           " = ? AND status = 'waitlisted' ORDER BY id LIMIT ?");
  select.Bind(1, id).Bind(2, places);
  while (select.Step()) {
    ids.push_back(select.ColumnInt64(0));
  }
  auto confirm =
      db.Prepare("UPDATE " + table + " SET status = 'confirmed', updated_at = ? WHERE id = ?");
  for (const int64_t promoted : ids) {
    confirm.Bind(1, Millis(now)).Bind(2, promoted).Run();
    confirm.Reset();
  }
  return ids;
}

}  // namespace

// The event's registrations in `status`, from the counters (migration 17) the triggers keep in
// step: one row read, however many registrations there are.
int64_t CountedAtEvent(sqlite::Database& db, int64_t event_id, const char* status) {
  auto statement = db.Prepare(
      "SELECT count FROM registration_counts WHERE event_id = ? AND dimension = 'all' AND "
      "key = '' AND status = ?");
  statement.Bind(1, event_id).Bind(2, status);
  return statement.Step() ? statement.ColumnInt64(0) : 0;
}

int64_t ConfirmedAtEvent(sqlite::Database& db, int64_t event_id) {
  return CountedAtEvent(db, event_id, "confirmed");
}

int64_t ConfirmedAtSession(sqlite::Database& db, int64_t session_id) {
  return Count(
      db,
      "SELECT count(*) FROM session_registrations WHERE session_id = ? AND status = 'confirmed'",
      session_id);
}

Registration AdmitToEvent(sqlite::Database& db, const Event& event, int64_t person_id,
                          std::optional<int64_t> team_id, Instant now) {
  Registration registration;
  registration.event_id = event.id;
  registration.person_id = person_id;
  registration.team_id = team_id;
  registration.status =
      std::string(AdmissionStatus(event.capacity, ConfirmedAtEvent(db, event.id)));
  registration.created_at = registration.updated_at = now;
  db.Prepare(
        "INSERT INTO registrations(event_id, person_id, team_id, status, created_at, updated_at, "
        "city_id, sector) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
        "(SELECT city_id FROM people WHERE id = ?2), "
        "(SELECT o.sector FROM people p JOIN organizations o ON o.id = p.organization_id "
        "WHERE p.id = ?2))")
      .Bind(1, event.id)
      .Bind(2, person_id)
      .Bind(3, team_id)
      .Bind(4, registration.status)
      .Bind(5, Millis(now))
      .Bind(6, Millis(now))
      .Run();
  registration.id = db.LastInsertRowid();
  return registration;
}

std::vector<SessionRegistration> CancelEventRegistration(sqlite::Database& db,
                                                         Registration& registration, Instant now) {
  const bool held_place = registration.status == "confirmed";
  registration.status = "cancelled";
  registration.cancelled_at = now;
  registration.updated_at = now;
  db.Prepare(
        "UPDATE registrations SET status = 'cancelled', cancelled_at = ?, updated_at = ? "
        "WHERE id = ?")
      .Bind(1, Millis(now))
      .Bind(2, Millis(now))
      .Bind(3, registration.id)
      .Run();
  // Webhooks and e-mail: the cancellation is recorded here, before the promotions it causes, so
  // that subscribers hear of the place freed before the place taken (outbox::TypesOf leaves it
  // to this function).
  outbox::Record(db, "registration.cancelled", Registrations::kName, registration.id);
  // The session places rest on the event registration: they go with it.
  std::vector<SessionRegistration> cancelled;
  auto sessions = db.Prepare(
      "SELECT id, session_id, status, created_at FROM session_registrations "
      "WHERE registration_id = ? AND status <> 'cancelled' ORDER BY id");
  sessions.Bind(1, registration.id);
  while (sessions.Step()) {
    SessionRegistration r;
    r.id = sessions.ColumnInt64(0);
    r.session_id = sessions.ColumnInt64(1);
    r.registration_id = registration.id;
    r.person_id = registration.person_id;
    r.status = sessions.ColumnText(2);
    r.created_at = FromMillis(sessions.ColumnInt64(3));
    cancelled.push_back(std::move(r));
  }
  sessions.Reset();
  for (SessionRegistration& r : cancelled) {
    CancelSessionRegistration(db, r, now);
  }
  if (held_place) {
    auto event = db.Prepare("SELECT id, status, capacity FROM events WHERE id = ?");
    event.Bind(1, registration.event_id);
    if (event.Step()) {
      Event place;
      place.id = event.ColumnInt64(0);
      place.status = event.ColumnText(1);
      place.capacity = event.ColumnOptionalInt64(2);
      PromoteEventWaitlist(db, place, now);
    }
  }
  return cancelled;
}

std::vector<int64_t> PromoteEventWaitlist(sqlite::Database& db, const Event& event, Instant now) {
  if (event.status != "published") {
    return {};
  }
  const int64_t waiting = CountedAtEvent(db, event.id, "waitlisted");
  const int64_t places = PlacesToFill(event.capacity, ConfirmedAtEvent(db, event.id), waiting);
  std::vector<int64_t> promoted =
      ConfirmOldest(db, "registrations", "event_id", event.id, places, now);
  // Webhooks and e-mail, in this transaction (outbox/): each promotion is both.
  std::vector<int64_t> in_order = promoted;
  std::sort(in_order.begin(), in_order.end());
  for (const int64_t id : in_order) {
    outbox::Record(db, "registration.promoted", Registrations::kName, id);
    outbox::Record(db, "registration.confirmed", Registrations::kName, id);
  }
  return promoted;
}

SessionRegistration AdmitToSession(sqlite::Database& db, const Session& session,
                                   const Registration& registration, Instant now) {
  SessionRegistration r;
  r.session_id = session.id;
  r.registration_id = registration.id;
  r.person_id = registration.person_id;
  r.status = std::string(AdmissionStatus(session.capacity, ConfirmedAtSession(db, session.id)));
  r.created_at = r.updated_at = now;
  db.Prepare(
        "INSERT INTO session_registrations(session_id, registration_id, person_id, status, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
      .Bind(1, r.session_id)
      .Bind(2, r.registration_id)
      .Bind(3, r.person_id)
      .Bind(4, r.status)
      .Bind(5, Millis(now))
      .Bind(6, Millis(now))
      .Run();
  r.id = db.LastInsertRowid();
  return r;
}

std::vector<int64_t> CancelSessionRegistration(sqlite::Database& db,
                                               SessionRegistration& registration, Instant now) {
  const bool held_place = registration.status == "confirmed";
  registration.status = "cancelled";
  registration.cancelled_at = now;
  registration.updated_at = now;
  db.Prepare(
        "UPDATE session_registrations SET status = 'cancelled', cancelled_at = ?, updated_at = ? "
        "WHERE id = ?")
      .Bind(1, Millis(now))
      .Bind(2, Millis(now))
      .Bind(3, registration.id)
      .Run();
  if (!held_place) {
    return {};
  }
  return PromoteSessionWaitlist(db, registration.session_id, now);
}

std::vector<int64_t> PromoteSessionWaitlist(sqlite::Database& db, int64_t session_id, Instant now) {
  auto session = db.Prepare(
      "SELECT s.capacity, e.status FROM sessions s JOIN events e ON e.id = s.event_id "
      "WHERE s.id = ?");
  session.Bind(1, session_id);
  if (!session.Step() || session.ColumnText(1) != "published") {
    return {};
  }
  const std::optional<int64_t> capacity = session.ColumnOptionalInt64(0);
  session.Reset();
  const int64_t waiting = Count(
      db,
      "SELECT count(*) FROM session_registrations WHERE session_id = ? AND status = 'waitlisted'",
      session_id);
  const int64_t places = PlacesToFill(capacity, ConfirmedAtSession(db, session_id), waiting);
  return ConfirmOldest(db, "session_registrations", "session_id", session_id, places, now);
}

}  // namespace civic::events::resources
