#include "outbox/outbox.hpp"

#include <openssl/rand.h>

#include <atomic>
#include <mutex>
#include <stdexcept>

#include "mail/composer.hpp"
#include "outbox/render.hpp"
#include "resources/json_util.hpp"

namespace civic::events::outbox {

namespace {

std::atomic<const Clock*> clock_in_use{nullptr};
std::atomic<const mail::Composer*> mail_in_use{nullptr};

std::mutex wake_up_mu;
std::function<void()> wake_up_fn;  // guarded by wake_up_mu

Instant Now() {
  if (const Clock* clock = clock_in_use.load(std::memory_order_acquire)) {
    return clock->Now();
  }
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// Whether `member` differs between the two representations.
bool Changed(const nlohmann::json& before, const nlohmann::json& after, const char* member) {
  const auto b = before.find(member);
  const auto a = after.find(member);
  if (b == before.end() || a == after.end()) {
    return (b == before.end()) != (a == after.end());
  }
  return *b != *a;
}

std::string StatusOf(const nlohmann::json& object) {
  const auto it = object.find("status");
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

const std::vector<std::string>& EventTypes() {
  static const std::vector<std::string> kTypes = {
      "registration.created",  "registration.confirmed", "registration.waitlisted",
      "registration.promoted", "registration.cancelled", "registration.checked_in",
      "event.published",       "event.changed",          "event.cancelled",
      "session.changed",       "project.status_changed", "review.submitted",
      "award.voting_opened",   "award.voting_closed",    "award.laureates_recorded",
      "application.submitted", "application.decided",
  };
  return kTypes;
}

std::vector<std::string> TypesOf(std::string_view object_type, const nlohmann::json& before,
                                 const nlohmann::json& after) {
  std::vector<std::string> types;
  if (after.is_null() || !after.is_object()) {
    return types;  // deletions name no event
  }
  const bool created = before.is_null();
  const std::string was = created ? "" : StatusOf(before);
  const std::string is = StatusOf(after);
  if (object_type == "registration") {
    if (created) {
      types.emplace_back("registration.created");
      if (is == "confirmed") {
        types.emplace_back("registration.confirmed");
      } else if (is == "waitlisted") {
        types.emplace_back("registration.waitlisted");
      }
      return types;
    }
    if (was == "waitlisted" && is == "confirmed") {
      types.emplace_back("registration.promoted");
      types.emplace_back("registration.confirmed");
    }
    const auto checked = after.find("checked_in_at");
    if (checked != after.end() && !checked->is_null() && Changed(before, after, "checked_in_at")) {
      types.emplace_back("registration.checked_in");
    }
  } else if (object_type == "attendance") {
    // A check-in for a day or a session (resources/attendances.hpp): the payload is the
    // registration with this check-in as its `attendance`.
    if (created) {
      types.emplace_back("registration.checked_in");
    }
  } else if (object_type == "event") {
    if (is == "published" && was != "published") {
      types.emplace_back("event.published");
    } else if (is == "cancelled" && was != "cancelled") {
      types.emplace_back("event.cancelled");
    } else if (!created && is == "published" &&
               (Changed(before, after, "starts_at") || Changed(before, after, "ends_at") ||
                Changed(before, after, "venue") || Changed(before, after, "format"))) {
      types.emplace_back("event.changed");
    }
  } else if (object_type == "session") {
    if (!created && (Changed(before, after, "starts_at") || Changed(before, after, "ends_at") ||
                     Changed(before, after, "room") || Changed(before, after, "title") ||
                     Changed(before, after, "speaker_ids"))) {
      types.emplace_back("session.changed");
    }
  } else if (object_type == "project") {
    if (!created && was != is) {
      types.emplace_back("project.status_changed");
    }
  } else if (object_type == "review") {
    if (created) {
      types.emplace_back("review.submitted");
    }
  } else if (object_type == "application") {
    // Submitted: made, or sent again after the moderator asked for changes. Decided: approved,
    // rejected or sent back for changes.
    if (is == "submitted" && was != "submitted") {
      types.emplace_back("application.submitted");
    } else if (is != was && (is == "approved" || is == "rejected" || is == "changes_requested")) {
      types.emplace_back("application.decided");
    }
  } else if (object_type == "award") {
    if (is == "voting" && was != "voting") {
      types.emplace_back("award.voting_opened");
    } else if (is == "closed" && was != "closed") {
      types.emplace_back("award.voting_closed");
      types.emplace_back("award.laureates_recorded");
    }
  }
  return types;
}

std::string NewId(std::string_view prefix) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw std::runtime_error("the random generator failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(prefix);
  for (const unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 0xF];
  }
  return id;
}

void Record(sqlite::Database& db, std::string_view type, std::string_view object_type,
            int64_t object_id) {
  const Instant now = Now();
  const int64_t now_ms = resources::Millis(now);
  const std::optional<int64_t> program = ProgramOf(db, object_type, object_id);
  const std::string uid = NewId("evt_");
  db.Prepare(
        "INSERT INTO outbox_events(uid, type, object_type, object_id, program_id, occurred_at) "
        "VALUES (?, ?, ?, ?, ?, ?)")
      .Bind(1, uid)
      .Bind(2, type)
      .Bind(3, object_type)
      .Bind(4, object_id)
      .Bind(5, program)
      .Bind(6, now_ms)
      .Run();
  const int64_t event_id = db.LastInsertRowid();

  auto subscriptions = db.Prepare(
      "SELECT id, owner_key_id FROM webhook_subscriptions WHERE enabled = 1 AND "
      "(program_id IS NULL OR program_id = ?) AND "
      "EXISTS (SELECT 1 FROM json_each(webhook_subscriptions.event_types) WHERE value = ?) "
      "ORDER BY id");
  subscriptions.Bind(1, program).Bind(2, type);
  struct Target {
    int64_t subscription_id;
    int64_t key_id;
  };
  std::vector<Target> targets;
  while (subscriptions.Step()) {
    targets.push_back({subscriptions.ColumnInt64(0), subscriptions.ColumnInt64(1)});
  }
  bool queued = false;
  for (const Target& target : targets) {
    const auto caller = KeyCaller(db, target.key_id, now_ms);
    if (!caller) {
      continue;
    }
    auto data = Render(db, object_type, object_id, *caller);
    if (!data) {
      continue;
    }
    const nlohmann::json body = {
        {"id", uid}, {"type", type}, {"timestamp", FormatUtc(now)}, {"data", std::move(*data)}};
    db.Prepare(
          "INSERT INTO outbox_deliveries(event_id, channel, subscription_id, message_id, body, "
          "next_attempt_at, created_at) VALUES (?, 'webhook', ?, ?, ?, ?, ?)")
        .Bind(1, event_id)
        .Bind(2, target.subscription_id)
        .Bind(3, NewId("msg_"))
        .Bind(4, body.dump())
        .Bind(5, now_ms)
        .Bind(6, now_ms)
        .Run();
    queued = true;
  }
  if (const mail::Composer* composer = mail_in_use.load(std::memory_order_acquire)) {
    for (const auto& email : composer->Compose(db, type, object_type, object_id, now)) {
      db.Prepare(
            "INSERT INTO outbox_deliveries(event_id, channel, recipient, message_id, body, "
            "next_attempt_at, created_at) VALUES (?, 'email', ?, ?, ?, ?, ?)")
          .Bind(1, event_id)
          .Bind(2, email.recipient)
          .Bind(3, email.message_id)
          .Bind(4, email.message)
          .Bind(5, now_ms)
          .Bind(6, now_ms)
          .Run();
      queued = true;
    }
  }
  if (queued) {
    std::lock_guard lock(wake_up_mu);
    if (wake_up_fn) {
      wake_up_fn();
    }
  }
}

void RecordChange(sqlite::Database& db, std::string_view object_type, int64_t object_id,
                  const nlohmann::json& before, const nlohmann::json& after) {
  for (const auto& type : TypesOf(object_type, before, after)) {
    Record(db, type, object_type, object_id);
  }
}

void SetClock(const Clock& clock) { clock_in_use.store(&clock, std::memory_order_release); }

void SetMail(const mail::Composer* composer) {
  mail_in_use.store(composer, std::memory_order_release);
}

void SetWakeUp(std::function<void()> wake_up) {
  std::lock_guard lock(wake_up_mu);
  wake_up_fn = std::move(wake_up);
}

}  // namespace civic::events::outbox
