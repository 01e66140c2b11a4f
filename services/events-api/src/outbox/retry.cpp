#include "outbox/retry.hpp"

#include <cctype>

namespace civic::events::outbox {

RetrySchedule RetrySchedule::Default() {
  using std::chrono::hours;
  using std::chrono::minutes;
  using std::chrono::seconds;
  return {{seconds(5), minutes(5), minutes(30), hours(2), hours(5), hours(10), hours(10)}, 0.2};
}

std::optional<RetrySchedule> RetrySchedule::Parse(std::string_view text, std::string& reason) {
  RetrySchedule schedule;
  schedule.delays.clear();
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    size_t digits = 0;
    while (digits < item.size() && std::isdigit(static_cast<unsigned char>(item[digits])) != 0) {
      ++digits;
    }
    const std::string_view unit = item.substr(digits);
    if (digits == 0 || digits > 9) {
      reason = "each delay is a number and a unit (ms, s, m, h, d), e.g. 5s,5m,30m";
      return std::nullopt;
    }
    const long long value = std::stoll(std::string(item.substr(0, digits)));
    long long ms = 0;
    if (unit == "ms") {
      ms = value;
    } else if (unit == "s") {
      ms = value * 1000;
    } else if (unit == "m") {
      ms = value * 60'000;
    } else if (unit == "h") {
      ms = value * 3'600'000;
    } else if (unit == "d") {
      ms = value * 86'400'000;
    } else {
      reason = "'" + std::string(item) + "' has no unit among ms, s, m, h, d";
      return std::nullopt;
    }
    if (ms < 1 || ms > 7LL * 86'400'000) {
      reason = "each delay is from 1ms to 7d";
      return std::nullopt;
    }
    schedule.delays.emplace_back(ms);
    if (schedule.delays.size() > 50) {
      reason = "at most 50 delays";
      return std::nullopt;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return schedule;
}

Millis RetrySchedule::Span() const {
  Millis total{0};
  for (const auto delay : delays) {
    total += delay;
  }
  return total;
}

std::optional<Millis> RetrySchedule::After(int attempts, std::mt19937_64& random) const {
  if (attempts < 1 || attempts > static_cast<int>(delays.size())) {
    return std::nullopt;
  }
  const Millis base = delays[static_cast<size_t>(attempts - 1)];
  std::uniform_real_distribution<double> factor(1.0 - jitter, 1.0 + jitter);
  const auto jittered = static_cast<long long>(static_cast<double>(base.count()) * factor(random));
  return Millis(std::max<long long>(1, jittered));
}

}  // namespace civic::events::outbox
