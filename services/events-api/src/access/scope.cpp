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

bool PersonInPrograms(sqlite::Database& db, int64_t person_id,
                      const std::vector<int64_t>& programs) {
  if (programs.empty()) {
    return false;
  }
  const std::string in = " IN (" + IdList(programs) + ")";
  auto statement = db.Prepare(
      "SELECT EXISTS (SELECT 1 FROM team_members m JOIN teams t ON t.id = m.team_id "
      "WHERE m.person_id = ?1 AND t.program_id" +
      in +
      ") "
      "OR EXISTS (SELECT 1 FROM registrations r JOIN events e ON e.id = r.event_id "
      "WHERE r.person_id = ?1 AND e.program_id" +
      in +
      ") "
      "OR EXISTS (SELECT 1 FROM session_people sp JOIN sessions s ON s.id = sp.session_id "
      "JOIN events e ON e.id = s.event_id WHERE sp.person_id = ?1 AND e.program_id" +
      in +
      ") "
      "OR EXISTS (SELECT 1 FROM nominees n JOIN nominations nn ON nn.id = n.nomination_id "
      "JOIN awards a ON a.id = nn.award_id WHERE n.person_id = ?1 AND a.program_id" +
      in +
      ") "
      "OR EXISTS (SELECT 1 FROM reviews v JOIN projects p ON p.id = v.project_id "
      "WHERE v.expert_id = ?1 AND p.program_id" +
      in +
      ") "
      "OR EXISTS (SELECT 1 FROM project_experts x JOIN projects p ON p.id = x.project_id "
      "WHERE x.person_id = ?1 AND p.program_id" +
      in + ")");
  statement.Bind(1, person_id);
  return statement.Step() && statement.ColumnInt64(0) != 0;
}

bool MaySeeContacts(sqlite::Database& db, const Caller& caller, int64_t person_id) {
  if (caller.is_admin()) {
    return true;
  }
  return caller.role == Role::kOrganizer && PersonInPrograms(db, person_id, caller.programs);
}

}  // namespace civic::events::access
