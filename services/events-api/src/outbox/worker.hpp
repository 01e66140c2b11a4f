#pragma once

// The delivery worker: sends what the outbox holds, retries, records every attempt.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "civic/domain/time.hpp"
#include "civic/metrics/metrics.hpp"
#include "mail/composer.hpp"
#include "outbox/retry.hpp"
#include "storage/store.hpp"
#include "webhooks/sender.hpp"
#include "webhooks/ssrf.hpp"

namespace civic::events::outbox {

struct WorkerOptions {
  RetrySchedule schedule = RetrySchedule::Default();
  webhooks::AllowList allow;                  // hosts that may resolve to any address
  std::chrono::milliseconds timeout{10'000};  // connect, read and write, each
  std::chrono::milliseconds poll{500};        // look for due deliveries at least this often
  int batch = 16;                             // deliveries taken per look
  const mail::Composer* mail = nullptr;       // e-mail: off when null
  int retention_days = 30;  // events whose deliveries all ended are removed after this
};

// One thread that sends due deliveries. Per subscription, in the order the events were recorded:
// a delivery waits while an older one of its subscription is pending. A delivery is marked
// delivered only after a 2xx answer, in its own transaction, so a crash before that sends it
// again on restart, with the same webhook-id (at least once). After the schedule's last
// failed attempt the delivery fails and its subscription is disabled, with the reason.
class DeliveryWorker {
 public:
  DeliveryWorker(Store& store, const Clock& clock, WorkerOptions options,
                 metrics::Registry& registry);
  ~DeliveryWorker();
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  void Start();
  // Finishes the attempt under way (bounded by the timeout) and joins. Idempotent.
  void Stop();
  // Looks for due deliveries now. Thread-safe, never blocks on the network.
  void WakeUp();

 private:
  struct Due;
  void Run();
  // Sends the due deliveries of one look; returns how many were tried.
  int SendDue();
  void Attempt(const Due& due);
  // Sends the due e-mails; returns how many were tried.
  int SendDueMail();
  // Records the result of attempt number due.attempts + 1, schedules the next or ends the
  // delivery (and, for a webhook, disables its subscription after the last).
  void Finish(const Due& due, const char* channel, const webhooks::SendResult& result,
              Instant started);
  // Records event.reminder for the events that start tomorrow in their zone, once each, when the
  // zone's hour has reached the reminder hour.
  void ScheduleReminders();
  void RefreshGauges();
  // At most once an hour: removes the events older than the retention whose deliveries are all
  // delivered or failed, with those deliveries and their attempts.
  void Purge();

  Store& store_;
  const Clock& clock_;
  WorkerOptions options_;
  metrics::Family<metrics::Counter>& attempts_;
  metrics::Family<metrics::Counter>& finished_;
  metrics::Family<metrics::Gauge>& pending_;
  metrics::Family<metrics::Gauge>& oldest_age_;
  std::mt19937_64 random_;        // used by the worker thread only
  Instant last_reminder_scan_{};  // worker thread only
  Instant last_purge_{};          // worker thread only

  std::mutex mu_;  // guards woken_, stopping_
  std::condition_variable cv_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace civic::events::outbox
