#pragma once

// Every metric the ballot declares, in one place, each with its help text. Gauges whose value
// lives elsewhere (queue depth, dedup entries, ...) are callbacks registered by App.

#include "civic/metrics/metrics.hpp"

namespace civic::ballot {

struct BallotMetrics {
  explicit BallotMetrics(metrics::Registry& registry);

  // Committed new votes, by award: each award's child is looked up once, when the catalog
  // publishes the award (AwardView::votes_accepted), never per vote. Awards are few (tens a
  // year), so the label stays bounded.
  metrics::Family<metrics::Counter>& votes_accepted;
  metrics::Counter& votes_duplicate;  // repeats answered 200 with the original receipt
  metrics::Family<metrics::Counter>& votes_rejected;  // by reason
  metrics::Counter& rejected_invalid;
  metrics::Counter& rejected_not_found;
  metrics::Counter& rejected_forbidden;
  metrics::Counter& rejected_conflict;
  metrics::Counter& rejected_unavailable;
  metrics::Counter& rejected_unauthorized;
  metrics::Histogram& commit_batch_size;
  metrics::Histogram& commit_duration;
  metrics::Counter& commit_failures;
  metrics::Counter& answers_sent_together;  // 201s handed over by one io_uring submission
  metrics::Gauge& storage_healthy;
  metrics::Counter& sync_failures;
  metrics::Gauge& sync_last_success;
  metrics::Gauge& results_subscribers;
  metrics::Counter& results_streams_refused;
  metrics::Counter& results_streams_stalled;
  metrics::Family<metrics::Counter>& votes_held;  // by rule
  metrics::Counter& held_released;
  metrics::Counter& held_rejected;
};

}  // namespace civic::ballot
