#include "exports/routes.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "access/caller.hpp"
#include "access/scope.hpp"
#include "civic/http/problem.hpp"
#include "civic/http/server.hpp"
#include "exports/csv.hpp"
#include "resources/award_close.hpp"
#include "resources/awards.hpp"
#include "resources/events.hpp"
#include "resources/programs.hpp"
#include "rest/crud.hpp"

namespace civic::events::exports {

namespace {

constexpr int kPageRows = 500;
constexpr size_t kChunkBytes = 64 * 1024;
// While more than this waits for the client, the writer waits too.
constexpr size_t kMaxBuffered = 1024 * 1024;

// How many exports stream at once. Thread-safe.
class ExportSlots {
 public:
  explicit ExportSlots(int max) : max_(max) {}
  // A slot held until the returned token is destroyed; null when all are taken.
  std::shared_ptr<void> TryAcquire() {
    int active = active_.load();
    do {
      if (active >= max_) {
        return nullptr;
      }
    } while (!active_.compare_exchange_weak(active, active + 1));
    return std::shared_ptr<void>(static_cast<void*>(this), [this](void*) { active_.fetch_sub(1); });
  }

 private:
  const int max_;
  std::atomic<int> active_{0};
};

enum class Kind { kText, kNumber, kInstant };

// One column of an export: its header and the SQL expression of its value.
struct Column {
  std::string header;
  std::string sql;
  Kind kind = Kind::kText;
};

// An export read in pages: the rows of `from` (which ends in a WHERE clause, its parameters
// numbered from ?3), in the order of the integer keys (key1, key2), each page continuing after
// the last row of the one before. Adding a column is adding one Column (and a join to `from`).
struct Table {
  std::vector<Column> columns;
  std::string from;
  std::vector<int64_t> params;
  std::string key1;
  std::string key2;  // "": key1 alone orders the rows
  std::string zone;  // instants in this IANA zone; "": UTC
};

std::string PageSql(const Table& table) {
  std::string sql = "SELECT " + table.key1 + ", " + (table.key2.empty() ? "0" : table.key2);
  for (const Column& column : table.columns) {
    sql += ", " + column.sql;
  }
  sql += " " + table.from;
  if (table.key2.empty()) {
    sql += " AND " + table.key1 + " > ?1 ORDER BY " + table.key1;
  } else {
    sql += " AND (" + table.key1 + ", " + table.key2 + ") > (?1, ?2) ORDER BY " + table.key1 +
           ", " + table.key2;
  }
  return sql + " LIMIT " + std::to_string(kPageRows);
}

void WriteHeader(std::string& buffer, const std::vector<std::string>& headers) {
  CsvWriter row(buffer);
  for (const std::string& header : headers) {
    row.Text(header);
  }
  row.EndRow();
}

// Sends `buffer` and clears it, then waits while the client is far behind. False when the
// stream closed (the client went away, the server stops).
bool Flush(http::ResponseStream& stream, std::string& buffer) {
  if (!stream.Write(buffer)) {
    return false;
  }
  buffer.clear();
  while (stream.buffered() > kMaxBuffered) {
    if (!stream.open()) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return stream.open();
}

void StreamTable(Store& store, const Table& table, http::ResponseStream& stream) {
  std::string buffer;
  buffer.reserve(kChunkBytes + 64 * 1024);
  buffer += kUtf8Bom;
  std::vector<std::string> headers;
  for (const Column& column : table.columns) {
    headers.push_back(column.header);
  }
  WriteHeader(buffer, headers);
  const std::string sql = PageSql(table);
  int64_t after1 = 0;
  int64_t after2 = 0;
  for (;;) {
    const int rows = store.Read([&](sqlite::Database& db) {
      auto statement = db.Prepare(sql);
      statement.Bind(1, after1);
      if (!table.key2.empty()) {
        statement.Bind(2, after2);
      }
      for (size_t i = 0; i < table.params.size(); ++i) {
        statement.Bind(static_cast<int>(3 + i), table.params[i]);
      }
      int count = 0;
      CsvWriter row(buffer);
      while (statement.Step()) {
        after1 = statement.ColumnInt64(0);
        after2 = statement.ColumnInt64(1);
        for (size_t i = 0; i < table.columns.size(); ++i) {
          const int col = static_cast<int>(2 + i);
          switch (table.columns[i].kind) {
            case Kind::kText:
              row.Text(statement.ColumnText(col));
              break;
            case Kind::kNumber:
              if (const auto value = statement.ColumnOptionalInt64(col)) {
                row.Number(*value);
              } else {
                row.Empty();
              }
              break;
            case Kind::kInstant:
              if (const auto ms = statement.ColumnOptionalInt64(col)) {
                const Instant instant{std::chrono::milliseconds(*ms)};
                row.Text(table.zone.empty() ? FormatUtc(instant)
                                            : FormatInZone(instant, table.zone));
              } else {
                row.Empty();
              }
              break;
          }
        }
        row.EndRow();
        ++count;
      }
      return count;
    });
    if (rows < kPageRows) {
      break;
    }
    if (buffer.size() >= kChunkBytes && !Flush(stream, buffer)) {
      return;
    }
  }
  Flush(stream, buffer);
}

// Whether `caller` may export what belongs to `program`: admins anything, organizers their
// programs' (the route's policy admits no other role to an organizers' export).
bool MayExport(const access::Caller& caller, std::optional<int64_t> program) {
  if (caller.is_admin()) {
    return true;
  }
  return caller.role == access::Role::kOrganizer && program && caller.InProgram(*program);
}

http::Response NotYours(std::string_view what, int64_t id) {
  const access::Caller& caller = access::Current();
  return access::Forbidden("This key (" + std::string(access::ToString(caller.role)) +
                           ") may not export " + std::string(what) + " " + std::to_string(id) +
                           ": it belongs to no program of the key's (" +
                           access::IdList(caller.programs) + ").");
}

// The answer whose body `write` streams, or a 503 when every export slot is taken.
http::Response Streamed(ExportSlots& slots, const std::string& ascii_name,
                        const std::string& utf8_name,
                        std::function<void(http::ResponseStream&)> write) {
  std::shared_ptr<void> slot = slots.TryAcquire();
  if (slot == nullptr) {
    return http::ErrorResponse(
        Error::Unavailable("Too many exports are being sent now; retry shortly.", 5));
  }
  http::Response response;
  response.status = 200;
  response.content_type = std::string(kCsvMediaType);
  response.WithHeader("Content-Disposition", ContentDisposition(ascii_name, utf8_name));
  response.WithHeader("Cache-Control", "no-store");
  response.WithHeader("X-Content-Type-Options", "nosniff");
  // The slot is given back before the stream's end is sent, so that a client that asks again as
  // soon as it has the whole export finds it free.
  response.stream = [write = std::move(write), slot](http::ResponseStream& stream) mutable {
    write(stream);
    slot.reset();
  };
  return response;
}

http::Response StreamedTable(Store& store, ExportSlots& slots, const std::string& ascii_name,
                             const std::string& utf8_name, Table table) {
  return Streamed(slots, ascii_name, utf8_name,
                  [&store, table = std::move(table)](http::ResponseStream& stream) {
                    StreamTable(store, table, stream);
                  });
}

// The contact columns of the person `person` (an SQL column), filled for the rows whose person
// the current caller may see the contacts of.
std::vector<Column> ContactColumns(std::string_view person, std::string_view people_alias) {
  const std::string visible = access::ContactsVisibleSql(access::Current(), person);
  const std::string p(people_alias);
  return {{"email", "CASE WHEN " + visible + " THEN " + p + ".email ELSE '' END", Kind::kText},
          {"phone", "CASE WHEN " + visible + " THEN " + p + ".phone ELSE '' END", Kind::kText}};
}

void Append(std::vector<Column>& columns, std::vector<Column> more) {
  for (Column& column : more) {
    columns.push_back(std::move(column));
  }
}

// The person columns every export of participants has, for people `p`, organisations `o`,
// cities `pc` and teams `tm` joined by ParticipantJoins().
std::vector<Column> ParticipantColumns() {
  return {{"person_id", "p.id", Kind::kNumber},    {"name", "p.name", Kind::kText},
          {"position", "p.position", Kind::kText}, {"city", "pc.name", Kind::kText},
          {"organization", "o.name", Kind::kText}, {"sector", "o.sector", Kind::kText},
          {"team", "tm.name", Kind::kText}};
}

constexpr const char* kParticipantJoins =
    "FROM registrations r JOIN people p ON p.id = r.person_id "
    "LEFT JOIN cities pc ON pc.id = p.city_id "
    "LEFT JOIN organizations o ON o.id = p.organization_id "
    "LEFT JOIN teams tm ON tm.id = r.team_id ";

// The event of the path that the caller may read, with its time zone; or the answer.
struct EventFound {
  Event event;
  std::string zone;
};

std::optional<EventFound> FindEvent(sqlite::Database& db, int64_t id) {
  auto event = resources::Events::Get(db, id);
  if (!event || !rest::MayRead<resources::Events>(db, id)) {
    return std::nullopt;
  }
  auto statement = db.Prepare("SELECT time_zone FROM cities WHERE id = ?");
  statement.Bind(1, event->city_id);
  std::string zone = statement.Step() ? statement.ColumnText(0) : "";
  return EventFound{std::move(*event), IsValidTimeZone(zone) ? zone : ""};
}

enum class EventExport { kRegistrations, kAttendance };

// The registrations (or the attendance) of event `event`.
Table EventTable(const EventFound& found, EventExport what) {
  Table table;
  table.key1 = "r.id";
  table.zone = found.zone;
  table.params = {found.event.id};
  table.columns = {{"registration_id", "r.id", Kind::kNumber}};
  if (what == EventExport::kRegistrations) {
    Append(table.columns, {{"status", "r.status", Kind::kText},
                           {"registered_at", "r.created_at", Kind::kInstant},
                           {"checked_in_at", "r.checked_in_at", Kind::kInstant},
                           {"cancelled_at", "r.cancelled_at", Kind::kInstant}});
    table.from = std::string(kParticipantJoins) + "WHERE r.event_id = ?3";
  } else {
    // One row per check-in: a day of the event (its local date) or one of its sessions.
    table.key1 = "a.id";
    table.columns = {{"attendance_id", "a.id", Kind::kNumber},
                     {"registration_id", "r.id", Kind::kNumber},
                     {"day", "a.day", Kind::kText},
                     {"session_id", "a.session_id", Kind::kNumber},
                     {"session", "s.title", Kind::kText},
                     {"checked_in_at", "a.checked_in_at", Kind::kInstant}};
    table.from =
        "FROM attendances a JOIN registrations r ON r.id = a.registration_id "
        "JOIN people p ON p.id = r.person_id "
        "LEFT JOIN cities pc ON pc.id = p.city_id "
        "LEFT JOIN organizations o ON o.id = p.organization_id "
        "LEFT JOIN teams tm ON tm.id = r.team_id "
        "LEFT JOIN sessions s ON s.id = a.session_id WHERE a.event_id = ?3";
  }
  Append(table.columns, ParticipantColumns());
  Append(table.columns, ContactColumns("p.id", "p"));
  return table;
}

http::Response ExportEvent(Store& store, ExportSlots& slots, const http::Request& request,
                           EventExport what) {
  const auto id = rest::PathId(request);
  if (!id) {
    return rest::NotFound("event", request.Param("id"));
  }
  if (auto rejected = rest::RejectQuery(request)) {
    return std::move(*rejected);
  }
  return rest::Guarded([&] {
    const auto found = store.Read([&](sqlite::Database& db) { return FindEvent(db, *id); });
    if (!found) {
      return rest::NotFound("event", request.Param("id"));
    }
    if (!MayExport(access::Current(), found->event.program_id)) {
      return NotYours("event", *id);
    }
    const bool registrations = what == EventExport::kRegistrations;
    const std::string ascii =
        "event-" + std::to_string(*id) + (registrations ? "-registrations.csv" : "-attendance.csv");
    const std::string utf8 =
        found->event.title + (registrations ? " — регистрации.csv" : " — посещаемость.csv");
    return StreamedTable(store, slots, ascii, utf8, EventTable(*found, what));
  });
}

http::Response ExportTeams(Store& store, ExportSlots& slots, const http::Request& request) {
  const auto id = rest::PathId(request);
  if (!id) {
    return rest::NotFound("program", request.Param("id"));
  }
  if (auto rejected = rest::RejectQuery(request)) {
    return std::move(*rejected);
  }
  return rest::Guarded([&] {
    const auto program =
        store.Read([&](sqlite::Database& db) { return resources::Programs::Get(db, *id); });
    if (!program) {
      return rest::NotFound("program", request.Param("id"));
    }
    if (!MayExport(access::Current(), program->id)) {
      return NotYours("program", *id);
    }
    Table table;
    table.key1 = "t.id";
    table.key2 = "COALESCE(m.id, 0)";
    table.params = {*id};
    table.columns = {
        {"team_id", "t.id", Kind::kNumber},       {"team", "t.name", Kind::kText},
        {"team_status", "t.status", Kind::kText}, {"team_city", "tc.name", Kind::kText},
        {"person_id", "p.id", Kind::kNumber},     {"name", "p.name", Kind::kText},
        {"role", "m.role", Kind::kText},          {"member_sector", "m.sector", Kind::kText},
        {"organization", "o.name", Kind::kText},  {"organization_sector", "o.sector", Kind::kText},
        {"position", "p.position", Kind::kText}};
    Append(table.columns, ContactColumns("p.id", "p"));
    table.from =
        "FROM teams t JOIN cities tc ON tc.id = t.city_id "
        "LEFT JOIN team_members m ON m.team_id = t.id "
        "LEFT JOIN people p ON p.id = m.person_id "
        "LEFT JOIN organizations o ON o.id = p.organization_id "
        "WHERE t.program_id = ?3";
    return StreamedTable(store, slots, "program-" + std::to_string(*id) + "-teams.csv",
                         program->title + " — команды.csv", std::move(table));
  });
}

enum class AwardExport { kNominees, kLaureates };

http::Response ExportAward(Store& store, ExportSlots& slots, const http::Request& request,
                           AwardExport what) {
  const auto id = rest::PathId(request);
  if (!id) {
    return rest::NotFound("award", request.Param("id"));
  }
  if (auto rejected = rest::RejectQuery(request)) {
    return std::move(*rejected);
  }
  return rest::Guarded([&] {
    const auto award = store.Read([&](sqlite::Database& db) -> std::optional<Award> {
      auto found = resources::Awards::Get(db, *id);
      if (!found || !rest::MayRead<resources::Awards>(db, *id)) {
        return std::nullopt;
      }
      return found;
    });
    if (!award) {
      return rest::NotFound("award", request.Param("id"));
    }
    // Public data (what the award's JSON lists show) for whoever may read the award; contacts
    // only for those who may see them.
    const bool contacts = MayExport(access::Current(), award->program_id);
    Table table;
    table.params = {*id};
    table.key1 = "nn.id";
    if (what == AwardExport::kNominees) {
      table.key2 = "n.id";
      table.columns = {{"nomination_id", "nn.id", Kind::kNumber},
                       {"nomination", "nn.title", Kind::kText},
                       {"nominee_id", "n.id", Kind::kNumber},
                       {"kind", "n.kind", Kind::kText},
                       {"name", "n.name", Kind::kText},
                       {"project_title", "n.project_title", Kind::kText},
                       {"city", "c.name", Kind::kText},
                       {"status", "n.status", Kind::kText},
                       {"person_id", "n.person_id", Kind::kNumber}};
      table.from =
          "FROM nominees n JOIN nominations nn ON nn.id = n.nomination_id "
          "JOIN cities c ON c.id = n.city_id LEFT JOIN people p ON p.id = n.person_id "
          "WHERE nn.award_id = ?3";
    } else {
      table.key2 = "l.id";
      table.columns = {{"nomination_id", "nn.id", Kind::kNumber},
                       {"nomination", "nn.title", Kind::kText},
                       {"rank", "l.rank", Kind::kNumber},
                       {"nominee_id", "n.id", Kind::kNumber},
                       {"name", "n.name", Kind::kText},
                       {"project_title", "n.project_title", Kind::kText},
                       {"city", "c.name", Kind::kText},
                       {"votes", "l.votes", Kind::kNumber},
                       {"person_id", "n.person_id", Kind::kNumber}};
      table.from =
          "FROM laureates l JOIN nominations nn ON nn.id = l.nomination_id "
          "JOIN nominees n ON n.id = l.nominee_id JOIN cities c ON c.id = n.city_id "
          "LEFT JOIN people p ON p.id = n.person_id WHERE l.award_id = ?3";
    }
    if (contacts) {
      Append(table.columns, ContactColumns("p.id", "p"));
    }
    const bool nominees = what == AwardExport::kNominees;
    return StreamedTable(
        store, slots,
        "award-" + std::to_string(*id) + (nominees ? "-nominees.csv" : "-laureates.csv"),
        award->title + (nominees ? " — номинанты.csv" : " — лауреаты.csv"), std::move(table));
  });
}

// What the results export shows of a nominee besides its votes.
struct NomineeInfo {
  std::string name;
  std::string city;
  std::string status;
};

// "12.34": `part` of `whole` in percent, two decimals; "" when whole is 0.
std::string Percent(int64_t part, int64_t whole) {
  if (whole <= 0) {
    return "";
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return text;
}

http::Response ExportResults(Store& store, ExportSlots& slots, const Clock& clock,
                             const BallotClient& ballot, const http::Request& request) {
  const auto id = rest::PathId(request);
  if (!id) {
    return rest::NotFound("award", request.Param("id"));
  }
  if (auto rejected = rest::RejectQuery(request)) {
    return std::move(*rejected);
  }
  return rest::Guarded([&]() -> http::Response {
    const auto award = store.Read([&](sqlite::Database& db) -> std::optional<Award> {
      auto found = resources::Awards::Get(db, *id);
      if (!found || !rest::MayRead<resources::Awards>(db, *id)) {
        return std::nullopt;
      }
      return found;
    });
    if (!award) {
      return rest::NotFound("award", request.Param("id"));
    }
    if (!MayExport(access::Current(), award->program_id)) {
      return NotYours("award", *id);
    }
    if (award->status == "draft" || clock.Now() < award->voting_closes_at) {
      return http::ErrorResponse(
          Error::Conflict("The final results of award " + std::to_string(*id) +
                          " exist once voting is over (voting_closes_at " +
                          FormatUtc(award->voting_closes_at) +
                          "); until then the ballot serves the live results.")
              .WithKind("results-not-final"));
    }
    // Outside any transaction: the ballot's answer may take seconds.
    http::Response problem;
    auto results = resources::FetchFinalResults(ballot, *id, http::CorrelationOf(request), problem);
    if (!results.ok()) {
      return problem;
    }
    std::map<int64_t, std::string> nominations;
    std::map<int64_t, NomineeInfo> nominees;
    store.Read([&](sqlite::Database& db) {
      auto statement = db.Prepare("SELECT id, title FROM nominations WHERE award_id = ?");
      statement.Bind(1, *id);
      while (statement.Step()) {
        nominations[statement.ColumnInt64(0)] = statement.ColumnText(1);
      }
      auto people = db.Prepare(
          "SELECT n.id, n.name, c.name, n.status FROM nominees n "
          "JOIN nominations nn ON nn.id = n.nomination_id JOIN cities c ON c.id = n.city_id "
          "WHERE nn.award_id = ?");
      people.Bind(1, *id);
      while (people.Step()) {
        nominees[people.ColumnInt64(0)] =
            NomineeInfo{people.ColumnText(1), people.ColumnText(2), people.ColumnText(3)};
      }
      return 0;
    });
    return Streamed(
        slots, "award-" + std::to_string(*id) + "-results.csv",
        award->title + " — итоги голосования.csv",
        [tallies = std::move(results.value()), nominations = std::move(nominations),
         nominees = std::move(nominees)](http::ResponseStream& stream) {
          std::string buffer(kUtf8Bom);
          WriteHeader(buffer, {"nomination_id", "nomination", "rank", "nominee_id", "name", "city",
                               "status", "votes", "share_percent", "nomination_total_votes"});
          for (const NominationTally& tally : tallies) {
            const auto nomination = nominations.find(tally.nomination_id);
            for (const NomineeTally& nominee : tally.nominees) {
              int64_t ahead = 0;
              for (const NomineeTally& other : tally.nominees) {
                ahead += other.votes > nominee.votes ? 1 : 0;
              }
              const auto info = nominees.find(nominee.nominee_id);
              CsvWriter row(buffer);
              row.Number(tally.nomination_id)
                  .Text(nomination != nominations.end() ? nomination->second : "")
                  .Number(1 + ahead)
                  .Number(nominee.nominee_id)
                  .Text(info != nominees.end() ? info->second.name : "")
                  .Text(info != nominees.end() ? info->second.city : "")
                  .Text(nominee.removed          ? "removed"
                        : info != nominees.end() ? info->second.status
                                                 : "deleted")
                  .Number(nominee.votes)
                  .Text(Percent(nominee.votes, tally.total_votes))
                  .Number(tally.total_votes);
              row.EndRow();
              if (buffer.size() >= kChunkBytes && !Flush(stream, buffer)) {
                return;
              }
            }
          }
          Flush(stream, buffer);
        });
  });
}

}  // namespace

void AddExportRoutes(http::Router& router, Store& store, const Clock& clock,
                     const BallotClient& ballot, int max_concurrent) {
  auto slots = std::make_shared<ExportSlots>(max_concurrent < 1 ? 1 : max_concurrent);
  const http::RouteOptions options{.offload = true, .rate_class = http::RateClass::kExport};
  router.Get(
      "/v1/events/{id}/registrations.csv",
      [&store, slots](const http::Request& request) {
        return ExportEvent(store, *slots, request, EventExport::kRegistrations);
      },
      options);
  router.Get(
      "/v1/events/{id}/attendance.csv",
      [&store, slots](const http::Request& request) {
        return ExportEvent(store, *slots, request, EventExport::kAttendance);
      },
      options);
  router.Get(
      "/v1/programs/{id}/teams.csv",
      [&store, slots](const http::Request& request) { return ExportTeams(store, *slots, request); },
      options);
  router.Get(
      "/v1/awards/{id}/nominees.csv",
      [&store, slots](const http::Request& request) {
        return ExportAward(store, *slots, request, AwardExport::kNominees);
      },
      options);
  router.Get(
      "/v1/awards/{id}/laureates.csv",
      [&store, slots](const http::Request& request) {
        return ExportAward(store, *slots, request, AwardExport::kLaureates);
      },
      options);
  router.Get(
      "/v1/awards/{id}/results.csv",
      [&store, slots, &clock, &ballot](const http::Request& request) {
        return ExportResults(store, *slots, clock, ballot, request);
      },
      options);
}

}  // namespace civic::events::exports
