#include "resources/statistics.hpp"

#include <functional>
#include <map>
#include <string>

#include "access/scope.hpp"
#include "civic/http/problem.hpp"
#include "resources/attendances.hpp"
#include "resources/events.hpp"
#include "resources/programs.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kStatuses[] = {"confirmed", "waitlisted", "cancelled", "attended"};

nlohmann::json Zeros() {
  nlohmann::json counts = nlohmann::json::object();
  for (const char* status : kStatuses) {
    counts[status] = 0;
  }
  return counts;
}

// The name of row `key` (an id as text) of `table`, or null.
nlohmann::json NameOf(sqlite::Database& db, const char* table, const std::string& key) {
  if (key.empty()) {
    return nullptr;
  }
  auto statement = db.Prepare(std::string("SELECT name FROM ") + table + " WHERE id = ?");
  statement.Bind(1, static_cast<int64_t>(std::stoll(key)));
  return statement.Step() ? nlohmann::json(statement.ColumnText(0)) : nlohmann::json(nullptr);
}

// Answers the statistics of `what` `id` for a caller who may read it and write in its program.
http::Response Answer(
    Store& store, const http::Request& request, const char* what,
    const std::function<std::optional<std::optional<int64_t>>(sqlite::Database&, int64_t)>&
        program_of,
    const char* events_sql, const char* member) {
  const auto id = rest::PathId(request);
  if (!id) {
    return rest::NotFound(what, request.Param("id"));
  }
  if (auto rejected = rest::RejectQuery(request)) {
    return std::move(*rejected);
  }
  return rest::Guarded([&] {
    return store.Read([&](sqlite::Database& db) {
      const auto program = program_of(db, *id);
      if (!program) {
        return rest::NotFound(what, request.Param("id"));
      }
      if (!access::MayWriteIn(access::Current(), *program)) {
        return access::Forbidden(std::string("Statistics of this ") + what +
                                 " are for the organisers of its program and admins.");
      }
      nlohmann::json body = RegistrationStatistics(db, events_sql, *id);
      body[member] = *id;
      return rest::Conditional(request, http::Response::Json(200, body));
    });
  });
}

}  // namespace

nlohmann::json RegistrationStatistics(sqlite::Database& db, const char* events_sql, int64_t id) {
  auto statement =
      db.Prepare(std::string("SELECT dimension, key, status, sum(count) FROM registration_counts "
                             "WHERE event_id IN (") +
                 events_sql + ") GROUP BY dimension, key, status ORDER BY dimension, key, status");
  statement.Bind(1, id);
  nlohmann::json totals = Zeros();
  std::map<std::string, std::map<std::string, nlohmann::json>> by;  // dimension -> key -> counts
  while (statement.Step()) {
    const std::string dimension = statement.ColumnText(0);
    const std::string key = statement.ColumnText(1);
    const std::string status = statement.ColumnText(2);
    const int64_t count = statement.ColumnInt64(3);
    if (dimension == "all") {
      totals[status] = count;
      continue;
    }
    auto& counts = by[dimension][key];
    if (counts.is_null()) {
      counts = Zeros();
    }
    counts[status] = count;
  }
  statement.Reset();
  nlohmann::json body = {{"totals", totals},
                         {"by_city", nlohmann::json::array()},
                         {"by_sector", nlohmann::json::array()},
                         {"by_team", nlohmann::json::array()}};
  for (auto& [key, counts] : by["city"]) {
    nlohmann::json row = {
        {"city_id", key.empty() ? nlohmann::json(nullptr) : nlohmann::json(std::stoll(key))},
        {"name", NameOf(db, "cities", key)}};
    row.update(counts);
    body["by_city"].push_back(std::move(row));
  }
  for (auto& [key, counts] : by["sector"]) {
    nlohmann::json row = {{"sector", key.empty() ? nlohmann::json(nullptr) : nlohmann::json(key)}};
    row.update(counts);
    body["by_sector"].push_back(std::move(row));
  }
  for (auto& [key, counts] : by["team"]) {
    nlohmann::json row = {
        {"team_id", key.empty() ? nlohmann::json(nullptr) : nlohmann::json(std::stoll(key))},
        {"name", NameOf(db, "teams", key)}};
    row.update(counts);
    body["by_team"].push_back(std::move(row));
  }
  body.update(AttendanceStatistics(db, events_sql, id));
  return body;
}

void AddStatisticsRoutes(http::Router& router, Store& store) {
  const http::RouteOptions plain_route{.offload = true};
  router.Get(
      "/v1/events/{id}/statistics",
      [&store](const http::Request& request) {
        return Answer(
            store, request, "event",
            [](sqlite::Database& db, int64_t id) -> std::optional<std::optional<int64_t>> {
              const auto event = Events::Get(db, id);
              if (!event || !rest::MayRead<Events>(db, id)) {
                return std::nullopt;
              }
              return event->program_id;
            },
            "?", "event_id");
      },
      plain_route);
  router.Get(
      "/v1/programs/{id}/statistics",
      [&store](const http::Request& request) {
        return Answer(
            store, request, "program",
            [](sqlite::Database& db, int64_t id) -> std::optional<std::optional<int64_t>> {
              if (!Programs::Get(db, id) || !rest::MayRead<Programs>(db, id)) {
                return std::nullopt;
              }
              return id;
            },
            "SELECT id FROM events WHERE program_id = ?", "program_id");
      },
      plain_route);
}

}  // namespace civic::events::resources
