#include "access/scope.hpp"

#include "civic/http/problem.hpp"

namespace civic::events::access {

std::string IdList(const std::vector<int64_t>& ids) {
  std::string out;
  for (const int64_t id : ids) {
    if (!out.empty()) {
      out += ',';
    }
    out += std::to_string(id);
  }
  return out;
}

rest::SqlWithParams ReadCondition(const rest::RowAccess& access, const Caller& caller) {
  rest::SqlWithParams out;
  if (caller.is_admin() || access.public_sql.empty()) {
    return out;
  }
  std::vector<std::string> parts;
  if (access.public_sql != "0") {
    parts.push_back(access.public_sql);
  }
  const bool by_program =
      caller.role == Role::kOrganizer || (caller.role == Role::kFrontend && access.frontend_reads);
  if (by_program && !access.program_sql.empty() && !caller.programs.empty()) {
    std::string part = access.program_sql + " IN (" + IdList(caller.programs) + ")";
    if (caller.role == Role::kFrontend && !access.frontend_own_sql.empty()) {
      part += " AND " + access.frontend_own_sql;
      out.params.push_back({false, {"", caller.key_id}});
    }
    parts.push_back(std::move(part));
  }
  if (caller.role == Role::kExpert && !access.expert_sql.empty() && caller.person_id) {
    parts.push_back(access.expert_sql);
    out.params.push_back({false, {"", *caller.person_id}});
  }
  if (parts.empty()) {
    out.sql = "0";
    return out;
  }
  for (const auto& part : parts) {
    out.sql += (out.sql.empty() ? "(" : " OR (") + part + ")";
  }
  return out;
}

bool MayRead(sqlite::Database& db, const std::string& table, const rest::RowAccess& access,
             int64_t id, const Caller& caller) {
  const rest::SqlWithParams condition = ReadCondition(access, caller);
  if (condition.sql.empty()) {
    return true;
  }
  auto statement =
      db.Prepare("SELECT 1 FROM " + table + " WHERE id = ? AND (" + condition.sql + ")");
  statement.Bind(1, id);
  rest::BindParams(statement, condition, 2);
  return statement.Step();
}

bool MayWriteIn(const Caller& caller, std::optional<int64_t> program) {
  if (caller.is_admin()) {
    return true;
  }
  if (caller.role != Role::kOrganizer && caller.role != Role::kFrontend) {
    return false;
  }
  return program && caller.InProgram(*program);
}

http::Response Unauthorized(std::string detail, bool token_given) {
  return http::ErrorResponse(Error::Unauthenticated(std::move(detail), token_given));
}

http::Response Forbidden(std::string detail) {
  return http::ErrorResponse(Error::Forbidden(std::move(detail)));
}

http::Response WriteDenied(const Caller& caller, bool readable, std::string_view what,
                           std::string_view id) {
  if (!readable) {
    return http::ErrorResponse(
        Error::NotFound("No " + std::string(what) + " with id " + std::string(id) + "."));
  }
  std::string detail = "This key (" + std::string(ToString(caller.role)) + ") may not change " +
                       std::string(what) + " " + std::string(id);
  if (caller.role == Role::kOrganizer || caller.role == Role::kFrontend) {
    detail += ": it belongs to no program of the key's (" + IdList(caller.programs) + ")";
  }
  return Forbidden(detail + ".");
}

namespace {

// PersonInPrograms as an SQL condition on the person id `person` (a column or a parameter).
std::string PersonInProgramsSql(std::string_view person, const std::vector<int64_t>& programs) {
  if (programs.empty()) {
    return "0";
  }
  // The subqueries' aliases (pip_*) are their own, so that `person` may name a column of an
  // outer query whatever its alias.
  const std::string in = " IN (" + IdList(programs) + ")";
  const std::string p(person);
  return "(EXISTS (SELECT 1 FROM team_members pip_m JOIN teams pip_t ON pip_t.id = pip_m.team_id "
         "WHERE pip_m.person_id = " +
         p + " AND pip_t.program_id" + in +
         ") OR EXISTS (SELECT 1 FROM registrations pip_r JOIN events pip_e "
         "ON pip_e.id = pip_r.event_id WHERE pip_r.person_id = " +
         p + " AND pip_e.program_id" + in +
         ") OR EXISTS (SELECT 1 FROM session_people pip_sp JOIN sessions pip_s "
         "ON pip_s.id = pip_sp.session_id JOIN events pip_e ON pip_e.id = pip_s.event_id "
         "WHERE pip_sp.person_id = " +
         p + " AND pip_e.program_id" + in +
         ") OR EXISTS (SELECT 1 FROM nominees pip_n JOIN nominations pip_nn "
         "ON pip_nn.id = pip_n.nomination_id JOIN awards pip_a ON pip_a.id = pip_nn.award_id "
         "WHERE pip_n.person_id = " +
         p + " AND pip_a.program_id" + in +
         ") OR EXISTS (SELECT 1 FROM reviews pip_v JOIN projects pip_p "
         "ON pip_p.id = pip_v.project_id WHERE pip_v.expert_id = " +
         p + " AND pip_p.program_id" + in +
         ") OR EXISTS (SELECT 1 FROM project_experts pip_x JOIN projects pip_p "
         "ON pip_p.id = pip_x.project_id WHERE pip_x.person_id = " +
         p + " AND pip_p.program_id" + in + "))";
}

}  // namespace

bool PersonInPrograms(sqlite::Database& db, int64_t person_id,
                      const std::vector<int64_t>& programs) {
  if (programs.empty()) {
    return false;
  }
  auto statement = db.Prepare("SELECT " + PersonInProgramsSql("?1", programs));
  statement.Bind(1, person_id);
  return statement.Step() && statement.ColumnInt64(0) != 0;
}

namespace {

bool HoldsContacts(sqlite::Database& db, int64_t person_id, const std::vector<int64_t>& programs) {
  if (programs.empty()) {
    return false;
  }
  auto statement =
      db.Prepare("SELECT 1 FROM contact_holders WHERE person_id = ? AND program_id IN (" +
                 IdList(programs) + ")");
  statement.Bind(1, person_id);
  return statement.Step();
}

void Hold(sqlite::Database& db, int64_t person_id, int64_t program_id) {
  db.Prepare("INSERT OR IGNORE INTO contact_holders(person_id, program_id) VALUES (?, ?)")
      .Bind(1, person_id)
      .Bind(2, program_id)
      .Run();
}

std::optional<int64_t> IdMember(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) {
    return std::nullopt;
  }
  return it->get<int64_t>();
}

// The program of a linked object, from the id member of `after` that names its parent.
std::optional<int64_t> ProgramOfLink(sqlite::Database& db, std::string_view object_type,
                                     int64_t object_id, const nlohmann::json& after) {
  std::string sql;
  std::optional<int64_t> parent;
  if (object_type == "registration") {
    sql = "SELECT program_id FROM events WHERE id = ?";
    parent = IdMember(after, "event_id");
  } else if (object_type == "session") {
    sql = "SELECT program_id FROM events WHERE id = ?";
    parent = IdMember(after, "event_id");
  } else if (object_type == "team member") {
    sql = "SELECT program_id FROM teams WHERE id = ?";
    parent = IdMember(after, "team_id");
  } else if (object_type == "nominee") {
    sql =
        "SELECT a.program_id FROM nominations n JOIN awards a ON a.id = n.award_id WHERE n.id = ?";
    parent = IdMember(after, "nomination_id");
  } else if (object_type == "review") {
    sql = "SELECT program_id FROM projects WHERE id = ?";
    parent = IdMember(after, "project_id");
  } else if (object_type == "project_expert") {
    sql = "SELECT program_id FROM projects WHERE id = ?";
    parent = object_id;
  } else {
    return std::nullopt;
  }
  if (!parent) {
    return std::nullopt;
  }
  auto statement = db.Prepare(sql);
  statement.Bind(1, *parent);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return statement.ColumnOptionalInt64(0);
}

// The people a linked object names.
std::vector<int64_t> PeopleOfLink(std::string_view object_type, const nlohmann::json& after) {
  std::vector<int64_t> people;
  if (object_type == "review") {
    if (auto id = IdMember(after, "expert_id")) {
      people.push_back(*id);
    }
  } else if (object_type == "session") {
    for (const char* list : {"speaker_ids", "moderator_ids"}) {
      const auto it = after.find(list);
      if (it != after.end() && it->is_array()) {
        for (const auto& id : *it) {
          if (id.is_number_integer()) {
            people.push_back(id.get<int64_t>());
          }
        }
      }
    }
  } else if (auto id = IdMember(after, "person_id")) {
    people.push_back(*id);
  }
  return people;
}

}  // namespace

bool MaySeeContacts(sqlite::Database& db, const Caller& caller, int64_t person_id) {
  if (caller.is_admin()) {
    return true;
  }
  return caller.role == Role::kOrganizer && HoldsContacts(db, person_id, caller.programs);
}

void NoteContactHolders(sqlite::Database& db, const Caller& caller, std::string_view object_type,
                        int64_t object_id, const nlohmann::json& before,
                        const nlohmann::json& after) {
  if (!after.is_object()) {
    return;  // a deletion gives nothing (and takes nothing: what was given stays given)
  }
  if (object_type == "person") {
    if (before.is_null() && (caller.role == Role::kOrganizer || caller.role == Role::kFrontend)) {
      for (const int64_t program : caller.programs) {
        Hold(db, object_id, program);
      }
    }
    return;
  }
  const auto program = ProgramOfLink(db, object_type, object_id, after);
  if (!program) {
    return;
  }
  for (const int64_t person : PeopleOfLink(object_type, after)) {
    const bool gives =
        caller.is_admin() || (caller.person_id && *caller.person_id == person) ||
        (caller.role == Role::kOrganizer && HoldsContacts(db, person, caller.programs));
    if (gives) {
      Hold(db, person, *program);
    }
  }
}

std::string ContactsVisibleSql(const Caller& caller, std::string_view person) {
  if (caller.is_admin()) {
    return "1";
  }
  if (caller.role != Role::kOrganizer || caller.programs.empty()) {
    return "0";
  }
  return "EXISTS (SELECT 1 FROM contact_holders cv_h WHERE cv_h.person_id = " +
         std::string(person) + " AND cv_h.program_id IN (" + IdList(caller.programs) + "))";
}

}  // namespace civic::events::access
