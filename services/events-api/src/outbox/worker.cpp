#include "outbox/worker.hpp"

#include <spdlog/spdlog.h>

#include "mail/smtp.hpp"
#include "outbox/outbox.hpp"
#include "resources/json_util.hpp"
#include "webhooks/sender.hpp"
#include "webhooks/signature.hpp"

namespace civic::events::outbox {

struct DeliveryWorker::Due {
  int64_t delivery_id = 0;
  int64_t subscription_id = 0;
  std::string message_id;
  std::string body;
  int attempts = 0;
  std::string url;
  std::string secret;
  std::optional<std::string> previous_secret;
  std::string recipient;  // e-mail: the address (never logged)
};

namespace {

std::string Host(const std::string& url) {
  std::string reason;
  const auto parsed = webhooks::ParseUrl(url, reason);
  return parsed ? parsed->host : "(unparsable URL)";
}

}  // namespace

DeliveryWorker::DeliveryWorker(Store& store, const Clock& clock, WorkerOptions options,
                               metrics::Registry& registry)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      attempts_(registry.AddCounter(
          "events_outbox_attempts_total",
          "Delivery attempts by channel (webhook) and outcome (ok, http_error, timeout, "
          "unreachable, refused: the address is not allowed).",
          {"channel", "outcome"})),
      finished_(registry.AddCounter(
          "events_outbox_deliveries_total",
          "Deliveries finished, by channel and outcome (delivered; failed: its last attempt "
          "failed).",
          {"channel", "outcome"})),
      pending_(registry.AddGauge("events_outbox_pending",
                                 "Deliveries waiting to be sent (the queue depth), by channel.",
                                 {"channel"})),
      oldest_age_(registry.AddGauge(
          "events_outbox_oldest_pending_age_seconds",
          "Age of the oldest delivery not yet sent, by channel (0 when none waits).", {"channel"})),
      random_(std::random_device{}()) {
  for (const char* channel : {"webhook", "email"}) {
    for (const char* outcome : {"ok", "http_error", "timeout", "unreachable", "refused"}) {
      attempts_.WithLabels({channel, outcome});
    }
    for (const char* outcome : {"delivered", "failed"}) {
      finished_.WithLabels({channel, outcome});
    }
    pending_.WithLabels({channel});
    oldest_age_.WithLabels({channel});
  }
}

DeliveryWorker::~DeliveryWorker() { Stop(); }

void DeliveryWorker::Start() {
  SetWakeUp([this] { WakeUp(); });
  thread_ = std::thread([this] { Run(); });
}

void DeliveryWorker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    SetWakeUp(nullptr);
  }
}

void DeliveryWorker::WakeUp() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void DeliveryWorker::Run() {
  while (true) {
    int sent = 0;
    try {
      sent = SendDue();
      if (options_.mail != nullptr) {
        sent += SendDueMail();
        ScheduleReminders();
      }
      Purge();
      RefreshGauges();
    } catch (const StoreClosed&) {
      return;
    } catch (const std::exception& e) {
      spdlog::error("outbox: {}", e.what());
    }
    std::unique_lock lock(mu_);
    if (stopping_) {
      return;
    }
    if (sent == 0) {
      cv_.wait_for(lock, options_.poll, [this] { return woken_ || stopping_; });
    }
    woken_ = false;
    if (stopping_) {
      return;
    }
  }
}

int DeliveryWorker::SendDue() {
  const int64_t now_ms = resources::Millis(clock_.Now());
  const auto due = store_.Read([&](sqlite::Database& db) {
    // The oldest pending delivery of each enabled subscription, when it is due.
    auto statement = db.Prepare(
        "SELECT d.id, d.subscription_id, d.message_id, d.body, d.attempts, s.url, s.secret, "
        "CASE WHEN s.previous_secret_expires_at > ? THEN s.previous_secret END "
        "FROM outbox_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id "
        "WHERE d.state = 'pending' AND d.channel = 'webhook' AND s.enabled = 1 AND "
        "d.next_attempt_at <= ? AND d.id = (SELECT min(x.id) FROM outbox_deliveries x WHERE "
        "x.state = 'pending' AND x.subscription_id = d.subscription_id) "
        "ORDER BY d.next_attempt_at, d.id LIMIT ?");
    statement.Bind(1, now_ms).Bind(2, now_ms).Bind(3, options_.batch);
    std::vector<Due> rows;
    while (statement.Step()) {
      Due row;
      row.delivery_id = statement.ColumnInt64(0);
      row.subscription_id = statement.ColumnInt64(1);
      row.message_id = statement.ColumnText(2);
      row.body = statement.ColumnText(3);
      row.attempts = static_cast<int>(statement.ColumnInt64(4));
      row.url = statement.ColumnText(5);
      row.secret = statement.ColumnText(6);
      row.previous_secret = statement.ColumnOptionalText(7);
      rows.push_back(std::move(row));
    }
    return rows;
  });
  for (const Due& delivery : due) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        break;
      }
    }
    Attempt(delivery);
  }
  return static_cast<int>(due.size());
}

void DeliveryWorker::Attempt(const Due& due) {
  const Instant started = clock_.Now();
  webhooks::SendResult result;
  std::string reason;
  const auto url = webhooks::ParseUrl(due.url, reason);
  std::optional<std::string> address;
  if (url) {
    // Checked now, not only when saved: the name may point elsewhere since.
    address = webhooks::ResolveChecked(*url, options_.allow, reason);
  }
  if (!address) {
    result.outcome = "refused";
    result.error = reason;
  } else {
    const int64_t timestamp =
        std::chrono::duration_cast<std::chrono::seconds>(started.time_since_epoch()).count();
    std::vector<std::string> secrets = {due.secret};
    if (due.previous_secret) {
      secrets.push_back(*due.previous_secret);
    }
    const std::vector<std::pair<std::string, std::string>> headers = {
        {"webhook-id", due.message_id},
        {"webhook-timestamp", std::to_string(timestamp)},
        {"webhook-signature",
         webhooks::SignatureHeader(secrets, due.message_id, timestamp, due.body)},
        {"User-Agent", "civic-events-api-webhooks"},
    };
    result = webhooks::Post(*url, *address, headers, due.body, options_.timeout);
  }
  Finish(due, "webhook", result, started);
}

int DeliveryWorker::SendDueMail() {
  const int64_t now_ms = resources::Millis(clock_.Now());
  const auto due = store_.Read([&](sqlite::Database& db) {
    auto statement = db.Prepare(
        "SELECT id, message_id, body, attempts, recipient FROM outbox_deliveries WHERE "
        "state = 'pending' AND channel = 'email' AND next_attempt_at <= ? "
        "ORDER BY next_attempt_at, id LIMIT ?");
    statement.Bind(1, now_ms).Bind(2, options_.batch);
    std::vector<Due> rows;
    while (statement.Step()) {
      Due row;
      row.delivery_id = statement.ColumnInt64(0);
      row.message_id = statement.ColumnText(1);
      row.body = statement.ColumnText(2);
      row.attempts = static_cast<int>(statement.ColumnInt64(3));
      row.recipient = statement.ColumnText(4);
      rows.push_back(std::move(row));
    }
    return rows;
  });
  for (const Due& delivery : due) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        break;
      }
    }
    const Instant started = clock_.Now();
    const auto result = mail::Send(options_.mail->settings(), delivery.recipient, delivery.body);
    Finish(delivery, "email", result, started);
  }
  return static_cast<int>(due.size());
}

void DeliveryWorker::ScheduleReminders() {
  const Instant now = clock_.Now();
  if (now - last_reminder_scan_ < std::chrono::seconds(5)) {
    return;
  }
  last_reminder_scan_ = now;
  const int64_t now_ms = resources::Millis(now);
  struct Candidate {
    int64_t id;
    Instant starts_at;
    std::string zone;
  };
  const auto candidates = store_.Read([&](sqlite::Database& db) {
    auto statement = db.Prepare(
        "SELECT e.id, e.starts_at, c.time_zone FROM events e JOIN cities c ON c.id = e.city_id "
        "WHERE e.status = 'published' AND e.starts_at > ? AND e.starts_at <= ? AND NOT EXISTS "
        "(SELECT 1 FROM outbox_events o WHERE o.object_type = 'event' AND o.object_id = e.id "
        "AND o.type = 'event.reminder')");
    statement.Bind(1, now_ms).Bind(2, now_ms + int64_t{3} * 86'400'000);
    std::vector<Candidate> rows;
    while (statement.Step()) {
      rows.push_back({statement.ColumnInt64(0), resources::FromMillis(statement.ColumnInt64(1)),
                      statement.ColumnText(2)});
    }
    return rows;
  });
  for (const auto& event : candidates) {
    // "2026-03-05T10:00:00+09:00": the local date, and the local hour now.
    const std::string local_now = FormatInZone(now, event.zone);
    const std::string tomorrow = FormatInZone(now + std::chrono::hours(24), event.zone);
    const std::string starts = FormatInZone(event.starts_at, event.zone);
    if (starts.substr(0, 10) != tomorrow.substr(0, 10) ||
        std::stoi(local_now.substr(11, 2)) < options_.mail->settings().reminder_hour) {
      continue;
    }
    store_.Write([&](sqlite::Database& db) {
      auto again = db.Prepare(
          "SELECT 1 FROM outbox_events WHERE object_type = 'event' AND object_id = ? AND "
          "type = 'event.reminder'");
      again.Bind(1, event.id);
      if (!again.Step()) {
        Record(db, "event.reminder", "event", event.id);
      }
      return 0;
    });
  }
}

void DeliveryWorker::Finish(const Due& due, const char* channel, const webhooks::SendResult& result,
                            Instant started) {
  attempts_.WithLabels({channel, result.outcome}).Inc();

  const int attempts = due.attempts + 1;
  const bool delivered = result.outcome == "ok";
  int64_t wait_ms = -1;  // until the next attempt; -1: none
  if (!delivered) {
    if (const auto retry = options_.schedule.After(attempts, random_)) {
      wait_ms = retry->count();
    }
  }
  const int64_t now_ms = resources::Millis(clock_.Now());
  const bool failed = !delivered && wait_ms < 0;
  const bool recorded = store_.Write([&](sqlite::Database& db) {
    auto exists = db.Prepare("SELECT 1 FROM outbox_deliveries WHERE id = ? AND state = 'pending'");
    exists.Bind(1, due.delivery_id);
    if (!exists.Step()) {
      return false;  // its subscription was deleted meanwhile
    }
    std::optional<int64_t> status;
    if (result.status_code != 0) {
      status = result.status_code;
    }
    db.Prepare(
          "INSERT INTO outbox_attempts(delivery_id, at, duration_ms, outcome, status_code, error) "
          "VALUES (?, ?, ?, ?, ?, ?)")
        .Bind(1, due.delivery_id)
        .Bind(2, resources::Millis(started))
        .Bind(3, result.duration_ms)
        .Bind(4, result.outcome)
        .Bind(5, status)
        .Bind(6, result.error)
        .Run();
    db.Prepare(
          "UPDATE outbox_deliveries SET attempts = ?, last_attempt_at = ?, last_outcome = ?, "
          "last_status_code = ?, state = ?, delivered_at = ?, next_attempt_at = ? WHERE id = ?")
        .Bind(1, attempts)
        .Bind(2, resources::Millis(started))
        .Bind(3, result.outcome)
        .Bind(4, status)
        .Bind(5, delivered ? "delivered"
                 : failed  ? "failed"
                           : "pending")
        .Bind(6, delivered ? std::optional<int64_t>(now_ms) : std::nullopt)
        .Bind(7, now_ms + std::max<int64_t>(wait_ms, 0))
        .Bind(8, due.delivery_id)
        .Run();
    if (failed && due.subscription_id != 0) {
      const std::string why = "Delivery " + std::to_string(due.delivery_id) + " (" +
                              due.message_id + ") failed " + std::to_string(attempts) +
                              " attempts; the last: " + result.outcome +
                              (result.error.empty() ? "" : " (" + result.error + ")") +
                              ". Re-enable with PATCH {\"enabled\": true}.";
      db.Prepare(
            "UPDATE webhook_subscriptions SET enabled = 0, disabled_reason = ?, disabled_at = ?, "
            "updated_at = ? WHERE id = ?")
          .Bind(1, why)
          .Bind(2, now_ms)
          .Bind(3, now_ms)
          .Bind(4, due.subscription_id)
          .Run();
    }
    return true;
  });
  if (!recorded) {
    return;
  }
  if (delivered) {
    finished_.WithLabels({channel, "delivered"}).Inc();
  } else if (failed && due.subscription_id == 0) {
    finished_.WithLabels({channel, "failed"}).Inc();
    spdlog::warn("e-mail delivery {} failed {} attempts (last: {}); given up", due.delivery_id,
                 attempts, result.outcome);
  } else if (failed) {
    finished_.WithLabels({channel, "failed"}).Inc();
    spdlog::warn(
        "webhook subscription {} disabled: delivery {} to host {} failed {} attempts (last: {})",
        due.subscription_id, due.delivery_id, Host(due.url), attempts, result.outcome);
  } else if (due.subscription_id == 0) {
    spdlog::info("e-mail delivery {}: {} {}; next attempt in {} ms", due.delivery_id,
                 result.outcome, result.status_code, wait_ms);
  } else {
    spdlog::info("webhook delivery {} to host {}: {} {}; next attempt in {} ms", due.delivery_id,
                 Host(due.url), result.outcome, result.status_code, wait_ms);
  }
}

void DeliveryWorker::Purge() {
  const Instant now = clock_.Now();
  if (now - last_purge_ < std::chrono::hours(1)) {
    return;
  }
  last_purge_ = now;
  const int64_t before = resources::Millis(now) - int64_t{options_.retention_days} * 86'400'000;
  const int64_t removed = store_.Write([&](sqlite::Database& db) {
    db.Prepare(
          "DELETE FROM outbox_events WHERE occurred_at < ? AND NOT EXISTS (SELECT 1 FROM "
          "outbox_deliveries d WHERE d.event_id = outbox_events.id AND d.state = 'pending')")
        .Bind(1, before)
        .Run();
    return db.Changes();
  });
  if (removed > 0) {
    spdlog::info("outbox: removed {} event(s) older than {} days, with their deliveries", removed,
                 options_.retention_days);
  }
}

void DeliveryWorker::RefreshGauges() {
  const int64_t now_ms = resources::Millis(clock_.Now());
  store_.Read([&](sqlite::Database& db) {
    for (const char* channel : {"webhook", "email"}) {
      auto statement = db.Prepare(
          "SELECT count(*), min(created_at) FROM outbox_deliveries WHERE state = 'pending' AND "
          "channel = ?");
      statement.Bind(1, channel);
      statement.Step();
      pending_.WithLabels({channel}).Set(static_cast<double>(statement.ColumnInt64(0)));
      const auto oldest = statement.ColumnOptionalInt64(1);
      oldest_age_.WithLabels({channel}).Set(oldest ? static_cast<double>(now_ms - *oldest) / 1000.0
                                                   : 0.0);
    }
    return 0;
  });
}

}  // namespace civic::events::outbox
