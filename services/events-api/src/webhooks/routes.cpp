#include "webhooks/routes.hpp"

#include <set>

#include "access/audit.hpp"
#include "outbox/outbox.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"
#include "rest/crud.hpp"
#include "webhooks/signature.hpp"

namespace civic::events::webhooks {

namespace {

using resources::FromMillis;
using resources::Millis;
using resources::OrNull;

constexpr int64_t kDefaultOverlapSeconds = 86'400;
constexpr int64_t kMaxOverlapSeconds = 7 * 86'400;

nlohmann::json UtcOrNull(const std::optional<int64_t>& ms) {
  return ms ? nlohmann::json(FormatUtc(FromMillis(*ms))) : nlohmann::json(nullptr);
}

struct Subscription {
  int64_t id = 0;
  std::string url;
  std::vector<std::string> event_types;
  std::optional<int64_t> program_id;
  std::string description;
  bool enabled = true;
  std::optional<std::string> disabled_reason;
  std::optional<int64_t> disabled_at;
  std::optional<int64_t> previous_secret_expires_at;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct Subscriptions {
  using Model = Subscription;
  static constexpr const char* kName = "webhook";

  static nlohmann::json ToJson(const Subscription& s) {
    return {{"id", s.id},
            {"url", s.url},
            {"event_types", s.event_types},
            {"program_id", OrNull(s.program_id)},
            {"description", s.description},
            {"enabled", s.enabled},
            {"disabled_reason", OrNull(s.disabled_reason)},
            {"disabled_at", UtcOrNull(s.disabled_at)},
            {"previous_secret_expires_at", UtcOrNull(s.previous_secret_expires_at)},
            {"created_at", FormatUtc(FromMillis(s.created_at))},
            {"updated_at", FormatUtc(FromMillis(s.updated_at))}};
  }
  static Subscription FromRow(sqlite::Statement& row) {
    Subscription s;
    s.id = row.ColumnInt64(0);
    s.url = row.ColumnText(1);
    s.event_types = resources::StringsFromJsonText(row.ColumnText(2));
    s.program_id = row.ColumnOptionalInt64(3);
    s.description = row.ColumnText(4);
    s.enabled = row.ColumnInt64(5) != 0;
    s.disabled_reason = row.ColumnOptionalText(6);
    s.disabled_at = row.ColumnOptionalInt64(7);
    s.previous_secret_expires_at = row.ColumnOptionalInt64(8);
    s.created_at = row.ColumnInt64(9);
    s.updated_at = row.ColumnInt64(10);
    return s;
  }
  static std::optional<Subscription> Get(sqlite::Database& db, int64_t id) {
    auto statement =
        db.Prepare("SELECT " + List().columns + " FROM webhook_subscriptions WHERE id = ?");
    statement.Bind(1, id);
    if (!statement.Step()) {
      return std::nullopt;
    }
    return FromRow(statement);
  }
  static const rest::ListSpec& List() {
    using rest::Filter;
    static const rest::ListSpec kSpec = {
        .table = "webhook_subscriptions",
        .columns =
            "id, url, event_types, program_id, description, enabled, disabled_reason, "
            "disabled_at, previous_secret_expires_at, created_at, updated_at",
        .filters = {Filter{"program_id", "program_id = ?", Filter::Kind::kId, {}},
                    Filter{"enabled", "enabled = ?", Filter::Kind::kInteger, {}, 0, 1}},
        .sorts = {{"id", "id", false}, {"created_at", "created_at", false}},
        // A frontend sees only its own subscriptions: another key's are rendered for that key
        // (an organiser's payloads hold contacts), so taking them over would leak them.
        .access = {.program_sql = "program_id",
                   .public_sql = "0",
                   .expert_sql = "",
                   .frontend_reads = true,
                   .frontend_own_sql = "owner_key_id = ?"},
    };
    return kSpec;
  }
};

struct Delivery {
  nlohmann::json json;
};

struct Deliveries {
  using Model = Delivery;
  static constexpr const char* kName = "webhook delivery";

  static nlohmann::json ToJson(const Delivery& d) { return d.json; }
  static Delivery FromRow(sqlite::Statement& row) {
    const std::string state = row.ColumnText(5);
    return {{{"id", row.ColumnInt64(0)},
             {"subscription_id", row.ColumnInt64(1)},
             {"event_id", row.ColumnText(2)},
             {"event_type", row.ColumnText(3)},
             {"message_id", row.ColumnText(4)},
             {"state", state},
             {"attempt_count", row.ColumnInt64(6)},
             {"next_attempt_at",
              state == "pending" ? UtcOrNull(row.ColumnInt64(7)) : nlohmann::json(nullptr)},
             {"last_attempt_at", UtcOrNull(row.ColumnOptionalInt64(8))},
             {"last_outcome", OrNull(row.ColumnOptionalText(9))},
             {"last_status_code", OrNull(row.ColumnOptionalInt64(10))},
             {"delivered_at", UtcOrNull(row.ColumnOptionalInt64(11))},
             {"redelivery_of", OrNull(row.ColumnOptionalInt64(12))},
             {"created_at", FormatUtc(FromMillis(row.ColumnInt64(13)))}}};
  }
  static std::optional<Delivery> Get(sqlite::Database& db, int64_t id) {
    auto statement = db.Prepare("SELECT " + List().columns +
                                " FROM outbox_deliveries WHERE id = ? AND channel = 'webhook'");
    statement.Bind(1, id);
    if (!statement.Step()) {
      return std::nullopt;
    }
    return FromRow(statement);
  }
  static const rest::ListSpec& List() {
    using rest::Filter;
    static const rest::ListSpec kSpec = {
        .table = "outbox_deliveries",
        .columns =
            "id, subscription_id, "
            "(SELECT uid FROM outbox_events e WHERE e.id = outbox_deliveries.event_id), "
            "(SELECT type FROM outbox_events e WHERE e.id = outbox_deliveries.event_id), "
            "message_id, state, attempts, next_attempt_at, last_attempt_at, last_outcome, "
            "last_status_code, delivered_at, redelivery_of, created_at",
        .filters =
            {Filter{"subscription_id", "subscription_id = ?", Filter::Kind::kId, {}},
             Filter{"state", "state = ?", Filter::Kind::kEnum, {"pending", "delivered", "failed"}}},
        .sorts = {{"id", "id", false}, {"created_at", "created_at", false}},
        .access = {.program_sql = "(SELECT program_id FROM webhook_subscriptions s WHERE s.id = "
                                  "outbox_deliveries.subscription_id)",
                   .public_sql = "0",
                   .expert_sql = "",
                   .frontend_reads = true,
                   .frontend_own_sql = "(SELECT owner_key_id FROM webhook_subscriptions s WHERE "
                                       "s.id = outbox_deliveries.subscription_id) = ?"},
    };
    return kSpec;
  }
};

nlohmann::json AttemptsOf(sqlite::Database& db, int64_t delivery_id) {
  nlohmann::json attempts = nlohmann::json::array();
  auto rows = db.Prepare(
      "SELECT at, duration_ms, outcome, status_code, error FROM outbox_attempts WHERE "
      "delivery_id = ? ORDER BY id");
  rows.Bind(1, delivery_id);
  while (rows.Step()) {
    attempts.push_back({{"at", FormatUtc(FromMillis(rows.ColumnInt64(0)))},
                        {"duration_ms", rows.ColumnInt64(1)},
                        {"outcome", rows.ColumnText(2)},
                        {"status_code", OrNull(rows.ColumnOptionalInt64(3))},
                        {"error", rows.ColumnText(4)}});
  }
  return attempts;
}

// The URL, checked now (form, and where its host resolves).
void CheckUrl(const std::string& url, const AllowList& allow, Violations& violations) {
  std::string reason;
  const auto parsed = ParseUrl(url, reason);
  if (!parsed) {
    violations.Add("url", reason);
    return;
  }
  if (!ResolveChecked(*parsed, allow, reason)) {
    violations.Add("url", reason);
  }
}

std::optional<std::vector<std::string>> EventTypesOf(rest::JsonReader& reader, bool required) {
  auto types = reader.StringArray("event_types", required, outbox::EventTypes().size());
  if (!types) {
    return std::nullopt;
  }
  if (types->empty()) {
    reader.violations().Add("event_types", "must name at least one event type");
    return std::nullopt;
  }
  std::set<std::string> seen;
  const auto& known = outbox::EventTypes();
  for (const auto& type : *types) {
    if (std::find(known.begin(), known.end(), type) == known.end()) {
      reader.violations().Add("event_types", "'" + type + "' is not an event type; known: " +
                                                 resources::ToJsonText(known));
      return std::nullopt;
    }
    if (!seen.insert(type).second) {
      reader.violations().Add("event_types", "names '" + type + "' twice");
      return std::nullopt;
    }
  }
  return types;
}

http::Response CreateSubscription(sqlite::Database& db, const http::Request& request,
                                  const RouteContext& context, Instant now) {
  Violations violations;
  rest::JsonReader reader(request.json, violations, rest::JsonReader::Mode::kCreate);
  const auto url = reader.String("url", true);
  const auto types = EventTypesOf(reader, true);
  const auto program_id = reader.Id("program_id", false);
  const auto description = reader.String("description", false);
  reader.RejectUnknown();
  if (description) {
    violations.Text("description", *description, 0, 500);
  }
  const auto given_program = request.json.find("program_id");
  if (!access::Current().is_admin() &&
      (given_program == request.json.end() || given_program->is_null())) {
    violations.Add("program_id",
                   "is required (one of the key's programs) unless the key is an "
                   "admin's");
  }
  resources::RequireExists(db, "programs", "program", "program_id", program_id, violations);
  if (url && violations.empty()) {
    CheckUrl(*url, context.allow, violations);
  }
  if (!violations.empty()) {
    return http::ErrorResponse(violations.ToError());
  }
  const access::Caller& caller = access::Current();
  if (!access::MayWriteIn(caller, program_id)) {
    return rest::CreateDenied(program_id ? "webhook subscription in this program"
                                         : "webhook subscription without a program_id");
  }
  const std::string secret = NewSecret();
  db.Prepare(
        "INSERT INTO webhook_subscriptions(url, event_types, program_id, description, "
        "owner_key_id, secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .Bind(1, *url)
      .Bind(2, resources::ToJsonText(*types))
      .Bind(3, program_id)
      .Bind(4, description.value_or(""))
      .Bind(5, caller.key_id)
      .Bind(6, secret)
      .Bind(7, Millis(now))
      .Bind(8, Millis(now))
      .Run();
  const int64_t id = db.LastInsertRowid();
  const nlohmann::json shown = Subscriptions::ToJson(*Subscriptions::Get(db, id));
  audit::Record(db, Subscriptions::kName, id, nullptr, shown, 201);
  nlohmann::json body = shown;
  body["secret"] = secret;  // shown once
  http::Response created = rest::Created("/v1/webhooks/" + std::to_string(id), body);
  created.WithHeader("Cache-Control", "no-store");
  return created;
}

// The subscription named by the path, for a change by the current caller: 404 when it may not
// read it, 403 when it may read but not write it.
std::optional<http::Response> WriteGate(sqlite::Database& db, const http::Request& request,
                                        int64_t id, std::optional<Subscription>& found) {
  found = Subscriptions::Get(db, id);
  if (!found || !rest::MayRead<Subscriptions>(db, id)) {
    return rest::NotFound(Subscriptions::kName, request.Param("id"));
  }
  if (!access::MayWriteIn(access::Current(), found->program_id)) {
    return access::WriteDenied(access::Current(), true, Subscriptions::kName, request.Param("id"));
  }
  return std::nullopt;
}

// 412 when the request's If-Match names another representation than the current one.
std::optional<http::Response> IfMatchFails(const http::Request& request,
                                           const Subscription& current) {
  const std::string etag =
      rest::ETagOf(http::Response::Json(200, Subscriptions::ToJson(current)).body);
  if (auto failed = rest::CheckIfMatch(request, etag)) {
    return http::ErrorResponse(*failed);
  }
  return std::nullopt;
}

http::Response PatchSubscription(sqlite::Database& db, const http::Request& request, int64_t id,
                                 const RouteContext& context, Instant now) {
  std::optional<Subscription> current;
  if (auto denied = WriteGate(db, request, id, current)) {
    return std::move(*denied);
  }
  if (auto failed = IfMatchFails(request, *current)) {
    return std::move(*failed);
  }
  Violations violations;
  rest::JsonReader reader(request.json, violations, rest::JsonReader::Mode::kMerged);
  // A merge patch (RFC 7396) as the other resources read it: a member given null is removed,
  // so a required one (url, event_types, enabled) "is required" and the optional description
  // is cleared.
  const auto given = [&](const char* name) { return request.json.contains(name); };
  const auto url = reader.String("url", given("url"));
  const auto types = given("event_types") ? EventTypesOf(reader, true) : std::nullopt;
  const bool clear_description = given("description") && request.json["description"].is_null();
  const auto description = reader.String("description", false);
  const auto enabled = reader.Bool("enabled", given("enabled"));
  for (const char* fixed : {"program_id", "secret"}) {
    if (request.json.contains(fixed)) {
      violations.Add(
          fixed, std::string("cannot change") + (std::string_view(fixed) == "secret"
                                                     ? "; use POST /v1/webhooks/{id}/rotate-secret"
                                                     : "; create another subscription"));
    }
  }
  if (!violations.empty()) {  // before RejectUnknown: the fixed members are reported once
    return http::ErrorResponse(violations.ToError());
  }
  for (const char* ignored : {"id", "created_at", "updated_at", "disabled_reason", "disabled_at",
                              "previous_secret_expires_at"}) {
    reader.ReadOnly(ignored);
  }
  reader.RejectUnknown();
  if (description) {
    violations.Text("description", *description, 0, 500);
  }
  if (url && violations.empty()) {
    CheckUrl(*url, context.allow, violations);
  }
  if (!violations.empty()) {
    return http::ErrorResponse(violations.ToError());
  }
  Subscription next = *current;
  if (url) {
    next.url = *url;
  }
  if (types) {
    next.event_types = *types;
  }
  if (description) {
    next.description = *description;
  } else if (clear_description) {
    next.description.clear();
  }
  if (enabled) {
    if (*enabled && !current->enabled) {
      next.disabled_reason.reset();
      next.disabled_at.reset();
    }
    next.enabled = *enabled;
  }
  if (Subscriptions::ToJson(next) == Subscriptions::ToJson(*current)) {
    return rest::Ok(Subscriptions::ToJson(*current));
  }
  next.updated_at = Millis(now);
  if (!current->enabled && next.enabled) {
    // Re-enabled: what waited is due now.
    db.Prepare(
          "UPDATE outbox_deliveries SET next_attempt_at = ? WHERE subscription_id = ? AND "
          "state = 'pending'")
        .Bind(1, Millis(now))
        .Bind(2, id)
        .Run();
  }
  db.Prepare(
        "UPDATE webhook_subscriptions SET url = ?, event_types = ?, description = ?, enabled = ?, "
        "disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ?")
      .Bind(1, next.url)
      .Bind(2, resources::ToJsonText(next.event_types))
      .Bind(3, next.description)
      .Bind(4, next.enabled ? 1 : 0)
      .Bind(5, next.disabled_reason)
      .Bind(6, next.disabled_at)
      .Bind(7, next.updated_at)
      .Bind(8, id)
      .Run();
  audit::Record(db, Subscriptions::kName, id, Subscriptions::ToJson(*current),
                Subscriptions::ToJson(next), 200);
  return rest::Ok(Subscriptions::ToJson(next));
}

http::Response RotateSecret(sqlite::Database& db, const http::Request& request, int64_t id,
                            Instant now) {
  int64_t overlap = kDefaultOverlapSeconds;
  if (!request.body.empty()) {
    const auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (!body.is_object()) {
      return http::ErrorResponse(Error::Invalid("body", "must be a JSON object or empty"));
    }
    Violations violations;
    rest::JsonReader reader(body, violations, rest::JsonReader::Mode::kCreate);
    const auto given = reader.Integer("overlap_seconds", false);
    reader.RejectUnknown();
    if (given) {
      violations.Range("overlap_seconds", *given, 0, kMaxOverlapSeconds);
      overlap = *given;
    }
    if (!violations.empty()) {
      return http::ErrorResponse(violations.ToError());
    }
  }
  std::optional<Subscription> current;
  if (auto denied = WriteGate(db, request, id, current)) {
    return std::move(*denied);
  }
  const std::string secret = NewSecret();
  const std::optional<int64_t> expires =
      overlap > 0 ? std::optional<int64_t>(Millis(now) + overlap * 1000) : std::nullopt;
  db.Prepare(
        "UPDATE webhook_subscriptions SET previous_secret = CASE WHEN ? THEN secret END, "
        "previous_secret_expires_at = ?, secret = ?, updated_at = ? WHERE id = ?")
      .Bind(1, expires ? 1 : 0)
      .Bind(2, expires)
      .Bind(3, secret)
      .Bind(4, Millis(now))
      .Bind(5, id)
      .Run();
  const nlohmann::json shown = Subscriptions::ToJson(*Subscriptions::Get(db, id));
  audit::Record(db, Subscriptions::kName, id, Subscriptions::ToJson(*current), shown, 200);
  nlohmann::json body = shown;
  body["secret"] = secret;
  http::Response rotated = rest::Ok(body);
  rotated.WithHeader("Cache-Control", "no-store");
  return rotated;
}

}  // namespace

void AddWebhookRoutes(http::Router& router, Store& store, const Clock& clock,
                      const RouteContext& context) {
  const http::RouteOptions json_route{.json_body = true, .offload = true};
  const http::RouteOptions plain_route{.offload = true};

  router.Post(
      "/v1/webhooks",
      [&store, &clock, &context](const http::Request& request) {
        if (!request.json.is_object()) {
          return http::ErrorResponse(Error::Invalid("body", "must be a JSON object"));
        }
        // Not idempotent: the answer holds the secret, which is not kept with an
        // Idempotency-Key (as for API keys).
        return rest::Guarded([&] {
          return store.Write([&](sqlite::Database& db) {
            return CreateSubscription(db, request, context, clock.Now());
          });
        });
      },
      json_route);

  rest::AddListRoute<Subscriptions>(router, store, "/v1/webhooks");
  rest::AddItemRoute<Subscriptions>(router, store, "/v1/webhooks/{id}");

  router.Patch(
      "/v1/webhooks/{id}",
      [&store, &clock, &context](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(Subscriptions::kName, request.Param("id"));
        }
        if (!request.json.is_object()) {
          return http::ErrorResponse(Error::Invalid("body", "must be a JSON object"));
        }
        return rest::Guarded([&] {
          http::Response response = store.Write([&](sqlite::Database& db) {
            return PatchSubscription(db, request, *id, context, clock.Now());
          });
          if (response.status == 200 && context.wake_up) {
            context.wake_up();
          }
          return response;
        });
      },
      json_route);

  router.Delete(
      "/v1/webhooks/{id}",
      [&store](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(Subscriptions::kName, request.Param("id"));
        }
        return rest::Guarded([&] {
          return store.Write([&](sqlite::Database& db) {
            std::optional<Subscription> current;
            if (auto denied = WriteGate(db, request, *id, current)) {
              return std::move(*denied);
            }
            if (auto failed = IfMatchFails(request, *current)) {
              return std::move(*failed);
            }
            db.Prepare("DELETE FROM webhook_subscriptions WHERE id = ?").Bind(1, *id).Run();
            audit::Record(db, Subscriptions::kName, *id, Subscriptions::ToJson(*current), nullptr,
                          204);
            http::Response response;
            response.status = 204;
            return response;
          });
        });
      },
      plain_route);

  router.Post(
      "/v1/webhooks/{id}/rotate-secret",
      [&store, &clock](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(Subscriptions::kName, request.Param("id"));
        }
        return rest::Guarded([&] {
          return store.Write(
              [&](sqlite::Database& db) { return RotateSecret(db, request, *id, clock.Now()); });
        });
      },
      plain_route);

  rest::AddNestedList<Deliveries, Subscriptions>(router, store, "/v1/webhooks/{id}/deliveries",
                                                 "subscription_id");

  rest::AddItemRoute<Deliveries>(router, store, "/v1/webhook-deliveries/{id}",
                                 [](sqlite::Database& db, const Delivery& found) {
                                   nlohmann::json json = found.json;
                                   json["attempts"] =
                                       AttemptsOf(db, found.json["id"].get<int64_t>());
                                   return json;
                                 });

  router.Post(
      "/v1/webhook-deliveries/{id}/redeliver",
      [&store, &clock, &context](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(Deliveries::kName, request.Param("id"));
        }
        return rest::Guarded([&] {
          http::Response response = store.Write([&](sqlite::Database& db) {
            auto found = Deliveries::Get(db, *id);
            if (!found || !rest::MayRead<Deliveries>(db, *id)) {
              return rest::NotFound(Deliveries::kName, request.Param("id"));
            }
            const int64_t subscription_id = found->json["subscription_id"].get<int64_t>();
            const auto subscription = Subscriptions::Get(db, subscription_id);
            if (!subscription || !access::MayWriteIn(access::Current(), subscription->program_id)) {
              return access::WriteDenied(access::Current(), true, Deliveries::kName,
                                         request.Param("id"));
            }
            if (found->json["state"] == "pending") {
              return http::ErrorResponse(
                  Error::Conflict("Delivery " + request.Param("id") +
                                  " is still pending; it is sent as planned.")
                      .WithKind("delivery-pending"));
            }
            const int64_t now = Millis(clock.Now());
            db.Prepare(
                  "INSERT INTO outbox_deliveries(event_id, channel, subscription_id, recipient, "
                  "message_id, body, next_attempt_at, redelivery_of, created_at) SELECT event_id, "
                  "channel, subscription_id, recipient, message_id, body, ?, id, ? FROM "
                  "outbox_deliveries WHERE id = ?")
                .Bind(1, now)
                .Bind(2, now)
                .Bind(3, *id)
                .Run();
            const int64_t copy = db.LastInsertRowid();
            const nlohmann::json shown = Deliveries::Get(db, copy)->json;
            audit::Record(db, Deliveries::kName, copy, nullptr, shown, 202);
            http::Response accepted = http::Response::Json(202, shown);
            accepted.WithHeader("Location", "/v1/webhook-deliveries/" + std::to_string(copy));
            return accepted;
          });
          if (response.status == 202 && context.wake_up) {
            context.wake_up();
          }
          return response;
        });
      },
      plain_route);
}

}  // namespace civic::events::webhooks
