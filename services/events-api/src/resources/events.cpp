#include "resources/events.hpp"

#include "access/scope.hpp"
#include "civic/domain/registration.hpp"
#include "civic/domain/session.hpp"
#include "resources/attendances.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"
#include "resources/registration_flow.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, kind, title, description, program_id, city_id, venue, format, starts_at, ends_at, "
    "capacity, registration_opens_at, registration_closes_at, status, created_at, updated_at, "
    "(SELECT time_zone FROM cities WHERE cities.id = events.city_id), "
    "(SELECT json_group_array(organization_id) FROM (SELECT organization_id FROM "
    "event_organizations WHERE event_id = events.id AND role = 'organizer' ORDER BY position)), "
    "(SELECT json_group_array(organization_id) FROM (SELECT organization_id FROM "
    "event_organizations WHERE event_id = events.id AND role = 'partner' ORDER BY position)), "
    "parent_event_id";

nlohmann::json LocalOrNull(const std::optional<Instant>& instant, const std::string& zone) {
  return instant ? nlohmann::json(LocalTime(*instant, zone)) : nlohmann::json(nullptr);
}

void WriteOrganizations(sqlite::Database& db, const Event& event) {
  db.Prepare("DELETE FROM event_organizations WHERE event_id = ?").Bind(1, event.id).Run();
  auto insert = db.Prepare(
      "INSERT INTO event_organizations(event_id, organization_id, role, position) "
      "VALUES (?, ?, ?, ?)");
  auto write = [&](const std::vector<int64_t>& ids, const char* role) {
    for (size_t i = 0; i < ids.size(); ++i) {
      insert.Bind(1, event.id).Bind(2, ids[i]).Bind(3, role).Bind(4, static_cast<int64_t>(i));
      insert.Run();
      insert.Reset();
    }
  };
  write(event.organizer_ids, "organizer");
  write(event.partner_ids, "partner");
}

// The event's sessions as far as fitting them goes: id, title, times, capacity.
std::vector<Session> SessionsOf(sqlite::Database& db, int64_t event_id) {
  auto statement = db.Prepare(
      "SELECT id, title, starts_at, ends_at, capacity FROM sessions WHERE event_id = ? "
      "ORDER BY starts_at, id");
  statement.Bind(1, event_id);
  std::vector<Session> sessions;
  while (statement.Step()) {
    Session session;
    session.id = statement.ColumnInt64(0);
    session.event_id = event_id;
    session.title = statement.ColumnText(1);
    session.starts_at = FromMillis(statement.ColumnInt64(2));
    session.ends_at = FromMillis(statement.ColumnInt64(3));
    session.capacity = statement.ColumnOptionalInt64(4);
    sessions.push_back(std::move(session));
  }
  return sessions;
}

// The events inside event `id`.
std::vector<Event> ChildrenOf(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns +
                              " FROM events WHERE parent_event_id = ? ORDER BY starts_at, id");
  statement.Bind(1, id);
  std::vector<Event> children;
  while (statement.Step()) {
    children.push_back(Events::FromRow(statement));
  }
  return children;
}

std::string ProgramName(const std::optional<int64_t>& program) {
  return program ? "program " + std::to_string(*program) : "no program";
}

// How many levels of events lie inside event `id` (0: none). Counts at most
// kMaxEventNesting + 1 levels: enough to tell a move that goes too deep.
int HeightOf(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(
      "WITH RECURSIVE below(id, level) AS (SELECT id, 1 FROM events WHERE parent_event_id = ?1 "
      "UNION ALL SELECT events.id, below.level + 1 FROM events JOIN below ON "
      "events.parent_event_id = below.id WHERE below.level <= ?2) SELECT max(level) FROM below");
  statement.Bind(1, id).Bind(2, static_cast<int64_t>(kMaxEventNesting));
  return statement.Step() ? static_cast<int>(statement.ColumnOptionalInt64(0).value_or(0)) : 0;
}

// The parent exists and the caller may read it, and the event lies within its time. When the
// event is new or its parent or program changes, also: the caller may change the parent's
// program (access::MayWriteIn: an admin any), and the parent is of the event's own program
// (whoever changes the parent may then change what is inside it). When it is new or its parent
// changes: the parent is not the event itself nor inside it, and the deepest event of the moved
// subtree stays within kMaxEventNesting levels. `stored` is the event before the change (none
// for a new one).
void CheckParent(sqlite::Database& db, const Event& event, const std::optional<Event>& stored,
                 Violations& violations) {
  if (!event.parent_event_id) {
    return;
  }
  const int64_t parent_id = *event.parent_event_id;
  const auto parent = Events::Get(db, parent_id);
  if (!parent || !rest::MayRead<Events>(db, parent_id)) {
    violations.Add("parent_event_id", "no event with id " + std::to_string(parent_id));
    return;
  }
  const bool moved = !stored || stored->parent_event_id != event.parent_event_id;
  const bool reprogrammed = stored && stored->program_id != event.program_id;
  const std::string parent_name = "event " + std::to_string(parent_id);
  if (moved && !access::MayWriteIn(access::Current(), parent->program_id)) {
    violations.Add("parent_event_id",
                   parent_name + " belongs to " + ProgramName(parent->program_id) +
                       ", which this key may not change: an event goes only inside an event of "
                       "a program of the key's");
    return;
  }
  if ((moved || reprogrammed) && parent->program_id != event.program_id) {
    if (moved) {
      violations.Add("parent_event_id",
                     parent_name + " belongs to " + ProgramName(parent->program_id) +
                         " and this event to " + ProgramName(event.program_id) +
                         ": an event goes only inside an event of its own program");
    } else {
      violations.Add("program_id", "must stay " + ProgramName(parent->program_id) + ", that of " +
                                       parent_name +
                                       " it lies inside: take it out first (parent_event_id null)");
    }
    return;
  }
  if (moved) {
    // Up the parent's chain: the event may not be its own ancestor; the parent's depth is the
    // number of events above it.
    int parent_depth = 0;
    int64_t ancestor = parent_id;
    auto up = db.Prepare("SELECT parent_event_id FROM events WHERE id = ?");
    while (parent_depth <= kMaxEventNesting) {
      if (event.id != 0 && ancestor == event.id) {
        violations.Add("parent_event_id",
                       "would put the event inside itself (" + parent_name + " is inside it)");
        return;
      }
      up.Bind(1, ancestor);
      const std::optional<int64_t> above = up.Step() ? up.ColumnOptionalInt64(0) : std::nullopt;
      up.Reset();
      if (!above) {
        break;
      }
      ancestor = *above;
      ++parent_depth;
    }
    const int height = event.id != 0 ? HeightOf(db, event.id) : 0;
    const int deepest = parent_depth + 1 + height;
    if (deepest > kMaxEventNesting) {
      std::string why = parent_name + " is " + std::to_string(parent_depth) + " level(s) deep";
      if (height > 0) {
        why += " and the events inside this one go " + std::to_string(height) + " level(s) further";
      }
      violations.Add("parent_event_id", "events nest at most " + std::to_string(kMaxEventNesting) +
                                            " levels deep: " + why + ", so the deepest would be " +
                                            std::to_string(deepest));
      return;
    }
  }
  ValidateInParent(event, *parent, violations);
}

// When the event's program changes, the events inside it (which share its program) would be
// left in another: refused on `program_id`.
void CheckChildrenProgram(const Event& event, const std::optional<Event>& stored,
                          const std::vector<Event>& children, Violations& violations) {
  if (!stored || stored->program_id == event.program_id) {
    return;
  }
  for (const Event& child : children) {
    if (child.program_id != event.program_id) {
      violations.Add("program_id", "event " + std::to_string(child.id) + " «" + child.title +
                                       "» inside this one belongs to " +
                                       ProgramName(child.program_id) +
                                       ", and the events inside an event share its program: "
                                       "take them out first");
      return;
    }
  }
}

// Check-ins for a day keep their days inside the event's: a change of its times or city that
// moves its first day later or its last day earlier past a check-in is refused, on the field
// that moved that end (starts_at or ends_at, else city_id when only the zone changed).
void CheckAttendancesFit(sqlite::Database& db, const Event& event, const Event& stored,
                         Violations& violations) {
  if (event.time_zone.empty()) {
    return;  // no such city: reported on city_id
  }
  const EventDays days = DaysOf(event);
  const EventDays stored_days = DaysOf(stored);
  if (days.first <= stored_days.first && days.last >= stored_days.last) {
    return;
  }
  const CheckInsOutside outside = CheckInsOutsideDays(db, event.id, days);
  const std::string zone = " (local dates in " + event.time_zone + ")";
  const auto undo = [&](const std::string& day) {
    return ": undo them first (DELETE /v1/attendances/{id}; GET /v1/events/" +
           std::to_string(event.id) + "/attendances?day=" + day + " lists them)";
  };
  if (days.first > stored_days.first && outside.before > 0) {
    violations.Add(event.starts_at != stored.starts_at ? "starts_at" : "city_id",
                   std::to_string(outside.before) +
                       " check-in(s) fall on days before the event's new first day, " + days.first +
                       zone + ", the earliest on " + outside.earliest + undo(outside.earliest));
  }
  if (days.last < stored_days.last && outside.after > 0) {
    violations.Add(event.ends_at != stored.ends_at ? "ends_at" : "city_id",
                   std::to_string(outside.after) +
                       " check-in(s) fall on days after the event's new last day, " + days.last +
                       zone + ", the latest on " + outside.latest + undo(outside.latest));
  }
}

}  // namespace

nlohmann::json WithoutTimeZone(const nlohmann::json& body, rest::JsonReader::Mode mode,
                               const std::string& why, Violations& violations) {
  nlohmann::json copy = body;
  if (!copy.is_object()) {
    return copy;
  }
  auto it = copy.find("time_zone");
  if (it == copy.end()) {
    return copy;
  }
  if (mode == rest::JsonReader::Mode::kCreate && !it->is_null()) {
    violations.Add("time_zone", "is read-only: " + why);
  }
  copy.erase(it);
  return copy;
}

Result<Event> Events::FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode) {
  Violations violations;
  const nlohmann::json document =
      WithoutTimeZone(body, mode, "the event's city sets it", violations);
  rest::JsonReader reader(document, violations, mode);
  Event event;
  event.kind = reader.Enum("kind", EventKinds(), true).value_or("forum");
  event.title = reader.String("title", true).value_or("");
  event.description = reader.String("description", false).value_or("");
  event.program_id = reader.Id("program_id", false);
  event.parent_event_id = reader.Id("parent_event_id", false);
  event.city_id = reader.Id("city_id", true).value_or(0);
  event.venue = reader.String("venue", false).value_or("");
  event.format = reader.Enum("format", EventFormats(), false).value_or("offline");
  const auto starts_at = reader.Time("starts_at", true);
  const auto ends_at = reader.Time("ends_at", true);
  event.capacity = reader.Integer("capacity", false);
  event.registration_opens_at = reader.Time("registration_opens_at", false);
  event.registration_closes_at = reader.Time("registration_closes_at", false);
  event.status = reader.Enum("status", EventStatuses(), false).value_or("draft");
  event.organizer_ids = reader.IdArray("organizer_ids", false, 50).value_or(std::vector<int64_t>{});
  event.partner_ids = reader.IdArray("partner_ids", false, 100).value_or(std::vector<int64_t>{});
  reader.RejectUnknown();
  ValidateFields(event, violations);
  if (starts_at && ends_at) {
    event.starts_at = *starts_at;
    event.ends_at = *ends_at;
    ValidateSchedule(event, violations);
  }
  if (!violations.empty()) {
    return violations.ToError();
  }
  return event;
}

nlohmann::json Events::ToJson(const Event& event) {
  const std::string& zone = event.time_zone;
  return {{"id", event.id},
          {"kind", event.kind},
          {"title", event.title},
          {"description", event.description},
          {"program_id", OrNull(event.program_id)},
          {"parent_event_id", OrNull(event.parent_event_id)},
          {"city_id", event.city_id},
          {"time_zone", zone},
          {"venue", event.venue},
          {"format", event.format},
          {"starts_at", LocalTime(event.starts_at, zone)},
          {"ends_at", LocalTime(event.ends_at, zone)},
          {"capacity", OrNull(event.capacity)},
          {"registration_opens_at", LocalOrNull(event.registration_opens_at, zone)},
          {"registration_closes_at", LocalOrNull(event.registration_closes_at, zone)},
          {"status", event.status},
          {"organizer_ids", event.organizer_ids},
          {"partner_ids", event.partner_ids},
          {"created_at", FormatUtc(event.created_at)},
          {"updated_at", FormatUtc(event.updated_at)}};
}

void Events::Resolve(sqlite::Database& db, Event& event) {
  auto statement = db.Prepare("SELECT time_zone FROM cities WHERE id = ?");
  statement.Bind(1, event.city_id);
  event.time_zone = statement.Step() ? statement.ColumnText(0) : "";
}

void Events::CheckReferences(sqlite::Database& db, const Event& event, Violations& violations) {
  RequireExists(db, "cities", "city", "city_id", event.city_id, violations);
  RequireExists(db, "programs", "program", "program_id", event.program_id, violations);
  for (size_t i = 0; i < event.organizer_ids.size(); ++i) {
    RequireExists(db, "organizations", "organization", "organizer_ids[" + std::to_string(i) + "]",
                  event.organizer_ids[i], violations);
  }
  for (size_t i = 0; i < event.partner_ids.size(); ++i) {
    RequireExists(db, "organizations", "organization", "partner_ids[" + std::to_string(i) + "]",
                  event.partner_ids[i], violations);
  }
  const std::optional<Event> stored = event.id != 0 ? Get(db, event.id) : std::nullopt;
  CheckParent(db, event, stored, violations);
  if (event.id == 0) {
    if (auto error = InitialStatusError(event.status)) {
      violations.Add("status", *error);
    }
    return;
  }
  if (stored) {
    if (auto error = StatusChangeError(stored->status, event.status)) {
      violations.Add("status", *error);
    }
  }
  ValidateSessionsFit(event, SessionsOf(db, event.id), violations);
  const std::vector<Event> children = ChildrenOf(db, event.id);
  ValidateChildrenFit(event, children, violations);
  CheckChildrenProgram(event, stored, children, violations);
  if (stored) {
    CheckAttendancesFit(db, event, *stored, violations);
  }
  if (event.capacity) {
    const int64_t confirmed = ConfirmedAtEvent(db, event.id);
    if (*event.capacity < confirmed) {
      violations.Add("capacity",
                     "must be at least " + std::to_string(confirmed) +
                         ", the confirmed registrations (cancel some first; checked-in ones stay)");
    }
  }
}

Event Events::FromRow(sqlite::Statement& row) {
  Event event;
  event.id = row.ColumnInt64(0);
  event.kind = row.ColumnText(1);
  event.title = row.ColumnText(2);
  event.description = row.ColumnText(3);
  event.program_id = row.ColumnOptionalInt64(4);
  event.city_id = row.ColumnInt64(5);
  event.venue = row.ColumnText(6);
  event.format = row.ColumnText(7);
  event.starts_at = FromMillis(row.ColumnInt64(8));
  event.ends_at = FromMillis(row.ColumnInt64(9));
  event.capacity = row.ColumnOptionalInt64(10);
  event.registration_opens_at = OptionalInstant(row.ColumnOptionalInt64(11));
  event.registration_closes_at = OptionalInstant(row.ColumnOptionalInt64(12));
  event.status = row.ColumnText(13);
  event.created_at = FromMillis(row.ColumnInt64(14));
  event.updated_at = FromMillis(row.ColumnInt64(15));
  event.time_zone = row.ColumnText(16);
  event.organizer_ids = IdsFromJsonText(row.ColumnText(17));
  event.partner_ids = IdsFromJsonText(row.ColumnText(18));
  event.parent_event_id = row.ColumnOptionalInt64(19);
  return event;
}

std::optional<Event> Events::Get(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM events WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

namespace {

// Binds the columns an insert and an update both write, as parameters 1 to 14.
sqlite::Statement& BindWritable(sqlite::Statement& statement, const Event& event) {
  return statement.Bind(1, event.kind)
      .Bind(2, event.title)
      .Bind(3, event.description)
      .Bind(4, event.program_id)
      .Bind(5, event.city_id)
      .Bind(6, event.venue)
      .Bind(7, event.format)
      .Bind(8, Millis(event.starts_at))
      .Bind(9, Millis(event.ends_at))
      .Bind(10, event.capacity)
      .Bind(11, OptionalMillis(event.registration_opens_at))
      .Bind(12, OptionalMillis(event.registration_closes_at))
      .Bind(13, event.status)
      .Bind(14, event.parent_event_id);
}

}  // namespace

void Events::Insert(sqlite::Database& db, Event& event) {
  auto statement = db.Prepare(
      "INSERT INTO events(kind, title, description, program_id, city_id, venue, format, "
      "starts_at, ends_at, capacity, registration_opens_at, registration_closes_at, status, "
      "parent_event_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?, ?)");
  BindWritable(statement, event)
      .Bind(15, Millis(event.created_at))
      .Bind(16, Millis(event.updated_at))
      .Run();
  event.id = db.LastInsertRowid();
  WriteOrganizations(db, event);
}

void Events::Update(sqlite::Database& db, const Event& event) {
  auto statement = db.Prepare(
      "UPDATE events SET kind = ?, title = ?, description = ?, program_id = ?, city_id = ?, "
      "venue = ?, format = ?, starts_at = ?, ends_at = ?, capacity = ?, "
      "registration_opens_at = ?, registration_closes_at = ?, status = ?, parent_event_id = ?, "
      "updated_at = ? WHERE id = ?");
  BindWritable(statement, event).Bind(15, Millis(event.updated_at)).Bind(16, event.id).Run();
  WriteOrganizations(db, event);
  // More places (or none to count): the waitlist moves up, in order.
  PromoteEventWaitlist(db, event, event.updated_at);
}

std::optional<std::string> Events::DeleteConflict(sqlite::Database& db, int64_t id) {
  if (auto event = Get(db, id)) {
    if (auto error = DeleteError(*event)) {
      return error;
    }
  }
  return FindReferences(db, "events", "event", id);
}

void Events::Delete(sqlite::Database& db, int64_t id) {
  db.Prepare("DELETE FROM events WHERE id = ?").Bind(1, id).Run();
}

const rest::ListSpec& Events::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "events",
      .columns = kColumns,
      .filters =
          {
              rest::SearchFilter("events"),
              Filter{"city_id", "city_id = ?", Filter::Kind::kId, {}},
              Filter{"program_id", "program_id = ?", Filter::Kind::kId, {}},
              Filter{"parent_event_id", "parent_event_id = ?", Filter::Kind::kId, {}},
              Filter{"kind", "kind = ?", Filter::Kind::kEnum, EventKinds()},
              Filter{"status", "status = ?", Filter::Kind::kEnum, EventStatuses()},
              Filter{"format", "format = ?", Filter::Kind::kEnum, EventFormats()},
              Filter{"starts_from", "starts_at >= ?", Filter::Kind::kInstant, {}},
              Filter{"starts_before", "starts_at < ?", Filter::Kind::kInstant, {}},
              Filter{"organization_id",
                     "EXISTS (SELECT 1 FROM event_organizations eo WHERE eo.event_id = "
                     "events.id AND eo.organization_id = ?)",
                     Filter::Kind::kId,
                     {}},
          },
      .sorts = {{"starts_at", "starts_at", false},
                {"id", "id", false},
                {"title", "title", true},
                {"created_at", "created_at", false}},
      .access = {.program_sql = "program_id",
                 .public_sql = "status <> 'draft'",
                 .expert_sql = "",
                 .frontend_reads = false,
                 .frontend_own_sql = ""},
  };
  return kSpec;
}

std::optional<int64_t> Events::ProgramOf(sqlite::Database& /*db*/, const Event& event) {
  return event.program_id;
}
}  // namespace civic::events::resources
