#pragma once

// When the outbox tries a delivery again (README, "Webhooks"): a schedule of delays after each
// failed attempt, each stretched or shrunk by a random jitter, after which the delivery fails.

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace civic::events::outbox {

using Millis = std::chrono::milliseconds;

// The delays after the 1st, 2nd, ... failed attempt. The default (Standard Webhooks' usual
// schedule) waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over 27 h 35 min.
struct RetrySchedule {
  std::vector<Millis> delays;
  double jitter = 0.2;  // each delay is multiplied by a uniform factor in [1 - jitter, 1 + jitter]

  static RetrySchedule Default();
  // "5s,5m,30m,2h" (units ms, s, m, h, d; at most 50 delays, each from 1 ms to 7 d). Nothing
  // when the text is not one; `reason` says why.
  static std::optional<RetrySchedule> Parse(std::string_view text, std::string& reason);

  // Attempts a delivery gets at most: the first and one after each delay.
  int MaxAttempts() const { return static_cast<int>(delays.size()) + 1; }
  // The sum of the delays without jitter: how long a failing delivery is tried.
  Millis Span() const;
  // The wait after failed attempt number `attempts` (1-based), jittered with `random`; nothing
  // when that was the last attempt.
  std::optional<Millis> After(int attempts, std::mt19937_64& random) const;
};

}  // namespace civic::events::outbox
