#include "access/audit.hpp"

#include <spdlog/spdlog.h>

#include <map>

#include "civic/http/problem.hpp"
#include "outbox/outbox.hpp"
#include "resources/json_util.hpp"
#include "rest/crud.hpp"

namespace civic::events::audit {

struct RequestScope::State {
  const access::Caller* caller = nullptr;
  std::string method;
  std::string route;
  std::string path;
  Instant now{};
  bool recorded = false;
};

namespace {

thread_local RequestScope::State* current = nullptr;

constexpr const char* kColumns =
    "id, at, key_id, key_prefix, role, method, route, path, object_type, object_id, status, "
    "changes";

bool IsContact(const std::string& member) { return member == "email" || member == "phone"; }

nlohmann::json Redacted(const std::string& member, const nlohmann::json& value) {
  return IsContact(member) && !value.is_null() ? nlohmann::json("[redacted]") : value;
}

void Append(sqlite::Database& db, const RequestScope::State& state, std::string_view object_type,
            std::optional<int64_t> object_id, int status, const nlohmann::json& changes) {
  const access::Caller& caller = *state.caller;
  db.Prepare(
        "INSERT INTO audit_events(at, key_id, key_prefix, role, method, route, path, "
        "object_type, object_id, status, changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .Bind(1, resources::Millis(state.now))
      .Bind(2, caller.key_id)
      .Bind(3, caller.key_prefix)
      .Bind(4, access::ToString(caller.role))
      .Bind(5, state.method)
      .Bind(6, state.route)
      .Bind(7, state.path)
      .Bind(8, object_type)
      .Bind(9, object_id)
      .Bind(10, status)
      .Bind(11, changes.dump())
      .Run();
}

struct AuditEvents {
  struct Model {
    nlohmann::json json;
  };
  static nlohmann::json ToJson(const Model& model) { return model.json; }
  static Model FromRow(sqlite::Statement& row) {
    nlohmann::json json = {
        {"id", row.ColumnInt64(0)},
        {"at", FormatUtc(resources::FromMillis(row.ColumnInt64(1)))},
        {"key_id", row.ColumnInt64(2)},
        {"key_prefix", row.ColumnText(3)},
        {"role", row.ColumnText(4)},
        {"method", row.ColumnText(5)},
        {"route", row.ColumnText(6)},
        {"path", row.ColumnText(7)},
        {"object_type", row.ColumnText(8)},
        {"object_id", resources::OrNull(row.ColumnOptionalInt64(9))},
        {"status", row.ColumnInt64(10)},
        {"changes", nlohmann::json::parse(row.ColumnText(11), nullptr, false)},
    };
    return {std::move(json)};
  }
  static const rest::ListSpec& List() {
    using rest::Filter;
    static const rest::ListSpec kSpec = {
        .table = "audit_events",
        .columns = kColumns,
        .filters =
            {
                Filter{"object_type", "object_type = ?", Filter::Kind::kText, {}},
                Filter{"object_id", "object_id = ?", Filter::Kind::kId, {}},
                Filter{"key_id", "key_id = ?", Filter::Kind::kInteger, {}, 0, INT64_MAX},
                Filter{"since", "at >= ?", Filter::Kind::kInstant, {}},
                Filter{"until", "at < ?", Filter::Kind::kInstant, {}},
            },
        .sorts = {{"id", "id", false}, {"at", "at", false}},
        .access = {},  // admins only
    };
    return kSpec;
  }
};

}  // namespace

RequestScope::RequestScope(const access::Caller& caller, const http::Request& request, Instant now)
    : previous_(current), state_(std::make_unique<State>()) {
  state_->caller = &caller;
  state_->method = std::string(http::ToString(request.method));
  state_->route = request.route;
  state_->path = request.path;
  state_->now = now;
  current = state_.get();
}

RequestScope::~RequestScope() { current = previous_; }

void RequestScope::Finish(Store& store, const http::Response& response) {
  if (state_->recorded) {
    return;
  }
  try {
    http::Request request;
    request.path = state_->path;
    request.route = state_->route;
    const auto [type, id] = ObjectOf(request);
    store.Write([&](sqlite::Database& db) {
      Append(db, *state_, type, id, response.status, nlohmann::json::object());
      return 0;
    });
    state_->recorded = true;
  } catch (const std::exception& e) {
    spdlog::error("audit: the record of {} {} ({}) was not written: {}", state_->method,
                  state_->route, response.status, e.what());
  }
}

void Record(sqlite::Database& db, std::string_view object_type, int64_t object_id,
            const nlohmann::json& before, const nlohmann::json& after, int status) {
  // What the change means for subscribers is written in the same transaction, with or without a
  // key (outbox/outbox.hpp).
  outbox::RecordChange(db, object_type, object_id, before, after);
  access::NoteContactHolders(db, access::Current(), object_type, object_id, before, after);
  if (current == nullptr) {
    return;
  }
  Append(db, *current, object_type, object_id, status, Changes(before, after));
  current->recorded = true;
}

nlohmann::json Changes(const nlohmann::json& before, const nlohmann::json& after) {
  nlohmann::json changes = nlohmann::json::object();
  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json& old_doc = before.is_object() ? before : empty;
  const nlohmann::json& new_doc = after.is_object() ? after : empty;
  auto add = [&](const std::string& member) {
    if (member == "updated_at" || changes.contains(member)) {
      return;
    }
    const nlohmann::json old_value = old_doc.value(member, nlohmann::json(nullptr));
    const nlohmann::json new_value = new_doc.value(member, nlohmann::json(nullptr));
    if (old_value != new_value || (before.is_null() != after.is_null())) {
      changes[member] = {{"before", Redacted(member, old_value)},
                         {"after", Redacted(member, new_value)}};
    }
  };
  for (const auto& [member, value] : old_doc.items()) {
    add(member);
  }
  for (const auto& [member, value] : new_doc.items()) {
    add(member);
  }
  return changes;
}

std::pair<std::string, std::optional<int64_t>> ObjectOf(const http::Request& request) {
  static const std::map<std::string, std::string, std::less<>> kTypes = {
      {"api-keys", "api_key"},
      {"applications", "application"},
      {"attendances", "attendance"},
      {"awards", "award"},
      {"cities", "city"},
      {"events", "event"},
      {"experts", "project_expert"},
      {"nominations", "nomination"},
      {"nominees", "nominee"},
      {"organizations", "organization"},
      {"people", "person"},
      {"programs", "program"},
      {"projects", "project"},
      {"registrations", "registration"},
      {"reviews", "review"},
      {"sessions", "session"},
      {"team-members", "team_member"},
      {"teams", "team"},
  };
  std::string type;
  std::optional<int64_t> id;
  size_t start = 1;
  while (start <= request.path.size()) {
    size_t end = request.path.find('/', start);
    if (end == std::string::npos) {
      end = request.path.size();
    }
    const std::string_view segment(request.path.data() + start, end - start);
    if (auto it = kTypes.find(segment); it != kTypes.end()) {
      type = it->second;
      id.reset();
    } else if (!type.empty() && !id && !segment.empty() &&
               segment.find_first_not_of("0123456789") == std::string_view::npos &&
               segment.size() <= 18) {
      id = std::stoll(std::string(segment));
    }
    start = end + 1;
  }
  return {type.empty() ? "route" : type, id};
}

void Purge(sqlite::Database& db, Instant now, int days) {
  const int64_t cutoff = resources::Millis(now) - static_cast<int64_t>(days) * 86'400'000;
  db.Prepare("DELETE FROM audit_events WHERE at < ?").Bind(1, cutoff).Run();
}

void AddAuditRoutes(http::Router& router, Store& store) {
  rest::AddListRoute<AuditEvents>(router, store, "/v1/audit-events");
}

}  // namespace civic::events::audit
