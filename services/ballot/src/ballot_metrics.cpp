#include "ballot_metrics.hpp"

namespace civic::ballot {

namespace {

metrics::Family<metrics::Counter>& Rejected(metrics::Registry& r) {
  return r.AddCounter("ballot_votes_rejected_total",
                      "Votes not counted, by reason: invalid (422), not_found (404), "
                      "forbidden (403: window closed, nominee withdrawn), conflict (409: K "
                      "nominees already supported), unavailable (503: storage failing, draining "
                      "or overloaded), unauthorized (401: no or wrong client key).",
                      {"reason"});
}

}  // namespace

BallotMetrics::BallotMetrics(metrics::Registry& r)
    : votes_accepted(r.AddCounter("ballot_votes_accepted_total",
                                  "New votes committed to the log and answered 201, by award "
                                  "(the award's id).",
                                  {"award"})),
      votes_duplicate(r.AddCounter("ballot_votes_duplicate_total",
                                   "Votes the voter had already cast for the same nominee, "
                                   "answered 200 with the original receipt.")
                          .WithLabels({})),
      votes_rejected(Rejected(r)),
      rejected_invalid(votes_rejected.WithLabels({"invalid"})),
      rejected_not_found(votes_rejected.WithLabels({"not_found"})),
      rejected_forbidden(votes_rejected.WithLabels({"forbidden"})),
      rejected_conflict(votes_rejected.WithLabels({"conflict"})),
      rejected_unavailable(votes_rejected.WithLabels({"unavailable"})),
      rejected_unauthorized(votes_rejected.WithLabels({"unauthorized"})),
      commit_batch_size(r.AddHistogram("ballot_commit_batch_size",
                                       "Votes per group-commit transaction.",
                                       metrics::ExponentialBuckets(1, 4, 8))
                            .WithLabels({})),
      commit_duration(r.AddHistogram("ballot_commit_duration_seconds",
                                     "Time to append and durably commit one batch of votes.",
                                     metrics::DefaultLatencyBuckets())
                          .WithLabels({})),
      commit_failures(r.AddCounter("ballot_commit_failures_total",
                                   "Batches whose commit failed (their votes were answered 503).")
                          .WithLabels({})),
      answers_sent_together(
          r.AddCounter("ballot_answers_sent_together_total",
                       "Answers to committed votes handed to their sockets together, one io_uring "
                       "submission per round of committed batches (stays 0 without io_uring: "
                       "one send each).")
              .WithLabels({})),
      storage_healthy(r.AddGauge("ballot_storage_healthy",
                                 "1 while commits succeed; 0 after a failed commit until a probe "
                                 "write succeeds again.")
                          .WithLabels({})),
      sync_failures(r.AddCounter("ballot_sync_failures_total",
                                 "Award syncs with the events API that failed (connection, "
                                 "timeout, 5xx, unexpected 4xx, malformed snapshot).")
                        .WithLabels({})),
      sync_last_success(r.AddGauge("ballot_sync_last_success_timestamp_seconds",
                                   "Unix time of the last successful sync with the events API; 0 "
                                   "before the first.")
                            .WithLabels({})),
      results_subscribers(r.AddGauge("ballot_results_stream_subscribers",
                                     "Open Server-Sent Events streams of live results.")
                              .WithLabels({})),
      results_streams_refused(
          r.AddCounter("ballot_results_stream_refused_total",
                       "Live-results streams refused (503) because the most allowed were open.")
              .WithLabels({})),
      results_streams_stalled(
          r.AddCounter("ballot_results_stream_stalled_total",
                       "Live-results streams ended because their client stopped reading.")
              .WithLabels({})),
      votes_held(r.AddCounter("ballot_votes_held_total",
                              "New votes stored but held (answered 202, not counted) by a rule: "
                              "device, address, address_block, voter, burst.",
                              {"rule"})),
      held_released(r.AddCounter("ballot_held_votes_released_total",
                                 "Held votes an admin released (counted at their original time).")
                        .WithLabels({})),
      held_rejected(r.AddCounter("ballot_held_votes_rejected_total",
                                 "Held votes an admin rejected (never counted).")
                        .WithLabels({})) {
  storage_healthy.Set(1);
}

}  // namespace civic::ballot
