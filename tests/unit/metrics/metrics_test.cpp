#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "civic/metrics/metrics.hpp"
#include "civic/metrics/process.hpp"

namespace {

using civic::metrics::Counter;
using civic::metrics::Gauge;
using civic::metrics::Histogram;
using civic::metrics::Registry;

// Value of the first sample line starting with `prefix` followed by a space; NaN if absent.
double SampleValue(const std::string& exposition, const std::string& prefix) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix + " ", 0) == 0) {
      return std::stod(line.substr(prefix.size() + 1));
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("Counter accumulates increments and ignores negative ones", "[metrics]") {
  Registry registry;
  Counter& counter = registry.AddCounter("things_total", "Things.").WithLabels({});
  CHECK(counter.Value() == 0.0);
  counter.Inc();
  counter.Inc(2.5);
  counter.Inc(-4.0);
  counter.Inc(std::numeric_limits<double>::quiet_NaN());
  CHECK(counter.Value() == 3.5);
}

TEST_CASE("Gauge sets, increments and decrements", "[metrics]") {
  Registry registry;
  Gauge& gauge = registry.AddGauge("level", "Level.").WithLabels({});
  gauge.Set(10.0);
  gauge.Inc();
  gauge.Inc(4.0);
  gauge.Dec(2.0);
  gauge.Dec();
  CHECK(gauge.Value() == 12.0);
  gauge.Set(-3.5);
  CHECK(gauge.Value() == -3.5);
}

TEST_CASE("Concurrent updates from 8 threads give exact totals", "[metrics]") {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100000;
  Registry registry;
  auto& counters = registry.AddCounter("hits_total", "Hits.", {"route"});
  auto& histogram = registry.AddHistogram("size_bytes", "Sizes.", {1.0, 2.0}).WithLabels({});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&counters, &histogram, t] {
      // Every thread races to create the same child, then hits it.
      Counter& counter = counters.WithLabels({"/a"});
      for (int i = 0; i < kPerThread; ++i) {
        counter.Inc();
        histogram.Observe(t % 2 == 0 ? 1.0 : 2.0);
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  CHECK(counters.WithLabels({"/a"}).Value() == kThreads * kPerThread);
  const Histogram::Snapshot snapshot = histogram.Collect();
  CHECK(snapshot.count == kThreads * kPerThread);
  CHECK(snapshot.cumulative_counts == std::vector<uint64_t>{400000, 800000, 800000});
  CHECK(snapshot.sum == 4 * kPerThread * 1.0 + 4 * kPerThread * 2.0);
}

TEST_CASE("Histogram puts a value equal to a bound in that bound's bucket", "[metrics]") {
  Registry registry;
  Histogram& histogram = registry.AddHistogram("h", "H.", {0.1, 1.0, 10.0}).WithLabels({});
  for (const double v : {0.05, 0.1, 0.5, 1.0, 1.0, 10.0, 11.0, -1.0}) {
    histogram.Observe(v);
  }
  const Histogram::Snapshot snapshot = histogram.Collect();
  CHECK(snapshot.bounds == std::vector<double>{0.1, 1.0, 10.0});
  // le=0.1: 0.05, 0.1, -1 | le=1: +0.5, 1, 1 | le=10: +10 | +Inf: +11
  CHECK(snapshot.cumulative_counts == std::vector<uint64_t>{3, 6, 7, 8});
  CHECK(snapshot.count == 8);
  CHECK(snapshot.sum == Approx(0.05 + 0.1 + 0.5 + 1.0 + 1.0 + 10.0 + 11.0 - 1.0));
}

TEST_CASE("Histogram counts NaN only in the +Inf bucket", "[metrics]") {
  Registry registry;
  Histogram& histogram = registry.AddHistogram("h", "H.", {1.0}).WithLabels({});
  histogram.Observe(std::numeric_limits<double>::quiet_NaN());
  const Histogram::Snapshot snapshot = histogram.Collect();
  CHECK(snapshot.cumulative_counts == std::vector<uint64_t>{0, 1});
  CHECK(std::isnan(snapshot.sum));
}

TEST_CASE("Histogram rejects unsorted bounds and drops a trailing +Inf", "[metrics]") {
  Registry registry;
  CHECK_THROWS_AS(registry.AddHistogram("a", "h", {1.0, 1.0}), std::invalid_argument);
  CHECK_THROWS_AS(registry.AddHistogram("b", "h", {2.0, 1.0}), std::invalid_argument);
  CHECK_THROWS_AS(registry.AddHistogram("c", "h", {std::numeric_limits<double>::quiet_NaN()}),
                  std::invalid_argument);
  Histogram& histogram =
      registry.AddHistogram("d", "h", {1.0, std::numeric_limits<double>::infinity()})
          .WithLabels({});
  CHECK(histogram.Collect().bounds == std::vector<double>{1.0});
}

TEST_CASE("Bucket helpers produce the documented bounds", "[metrics]") {
  CHECK(civic::metrics::DefaultLatencyBuckets() ==
        std::vector<double>{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10});
  CHECK(civic::metrics::ExponentialBuckets(1, 2, 4) == std::vector<double>{1, 2, 4, 8});
  CHECK_THROWS_AS(civic::metrics::ExponentialBuckets(0, 2, 4), std::invalid_argument);
  CHECK_THROWS_AS(civic::metrics::ExponentialBuckets(1, 1, 4), std::invalid_argument);
  CHECK_THROWS_AS(civic::metrics::ExponentialBuckets(1, 2, 0), std::invalid_argument);
}

TEST_CASE("WithLabels returns the same child for the same values", "[metrics]") {
  Registry registry;
  auto& family = registry.AddGauge("temperature", "Temperature.", {"room", "unit"});
  Gauge& a = family.WithLabels({"kitchen", "c"});
  Gauge& b = family.WithLabels({"hall", "c"});
  CHECK(&a != &b);
  CHECK(&family.WithLabels({"kitchen", "c"}) == &a);
}

TEST_CASE("WithLabels throws on a wrong number of label values", "[metrics]") {
  Registry registry;
  auto& family = registry.AddCounter("requests_total", "Requests.", {"method", "code"});
  CHECK_THROWS_AS(family.WithLabels({"GET"}), std::invalid_argument);
  CHECK_THROWS_AS(family.WithLabels({"GET", "200", "x"}), std::invalid_argument);
  auto& unlabelled = registry.AddGauge("up", "Up.");
  CHECK_THROWS_AS(unlabelled.WithLabels({"x"}), std::invalid_argument);
}

TEST_CASE("Registry rejects invalid metric names", "[metrics]") {
  Registry registry;
  for (const char* name : {"", "1abc", "a-b", "a b", "caf\xc3\xa9", "__reserved"}) {
    CHECK_THROWS_AS(registry.AddCounter(name, "help"), std::invalid_argument);
  }
  CHECK_NOTHROW(registry.AddCounter("ns:sub_system_total", "help"));
  CHECK_NOTHROW(registry.AddGauge("_x9", "help"));
}

TEST_CASE("Registry rejects invalid label names", "[metrics]") {
  Registry registry;
  CHECK_THROWS_AS(registry.AddCounter("a_total", "h", {"__reserved"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.AddCounter("b_total", "h", {"1x"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.AddCounter("c_total", "h", {"a:b"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.AddCounter("d_total", "h", {""}), std::invalid_argument);
  CHECK_THROWS_AS(registry.AddCounter("e_total", "h", {"x", "x"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.AddHistogram("f_seconds", "h", {1.0}, {"le"}), std::invalid_argument);
  CHECK_NOTHROW(registry.AddGauge("g", "h", {"le", "_ok1"}));
}

TEST_CASE("Registry rejects empty help and duplicate names", "[metrics]") {
  Registry registry;
  CHECK_THROWS_AS(registry.AddGauge("no_help", ""), std::invalid_argument);
  registry.AddCounter("jobs_total", "Jobs.");
  CHECK_THROWS_AS(registry.AddCounter("jobs_total", "Jobs."), std::invalid_argument);
  CHECK_THROWS_AS(registry.AddGauge("jobs_total", "Jobs."), std::invalid_argument);
  CHECK_THROWS_AS(registry.AddCallbackGauge("jobs_total", "Jobs.", [] { return 1.0; }),
                  std::invalid_argument);
  registry.AddHistogram("rpc_seconds", "RPC.", {1.0});
  CHECK_THROWS_AS(registry.AddGauge("rpc_seconds_count", "Clash."), std::invalid_argument);
  CHECK_THROWS_AS(registry.AddCallbackGauge("empty", "No fn.", nullptr), std::invalid_argument);
  // A failed registration leaves no trace.
  CHECK_NOTHROW(registry.AddGauge("no_help", "Now with help."));
}

TEST_CASE("Serialize renders a small registry exactly", "[metrics]") {
  Registry registry;
  auto& requests = registry.AddCounter("http_requests_total", "HTTP requests.", {"method", "code"});
  // Children come sorted by their label values, labels in declared order.
  requests.WithLabels({"POST", "500"}).Inc();
  requests.WithLabels({"GET", "200"}).Inc(3);
  registry.AddGauge("queue_depth", "Items queued.").WithLabels({}).Set(2.5);
  registry.AddGauge("idle_family", "Labelled, no children.", {"shard"});
  auto& latency = registry.AddHistogram("rpc_duration_seconds", "RPC latency.", {0.1, 1}, {"rpc"});
  latency.WithLabels({"Get"}).Observe(0.1);
  latency.WithLabels({"Get"}).Observe(0.5);
  registry.AddCallbackGauge("workers", "Worker threads.", [] { return 4.0; });
  registry.AddHistogram("bare_seconds", "Unlabelled histogram.", {1});

  const std::string expected =
      "# HELP http_requests_total HTTP requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"GET\",code=\"200\"} 3\n"
      "http_requests_total{method=\"POST\",code=\"500\"} 1\n"
      "# HELP queue_depth Items queued.\n"
      "# TYPE queue_depth gauge\n"
      "queue_depth 2.5\n"
      "# HELP idle_family Labelled, no children.\n"
      "# TYPE idle_family gauge\n"
      "# HELP rpc_duration_seconds RPC latency.\n"
      "# TYPE rpc_duration_seconds histogram\n"
      "rpc_duration_seconds_count{rpc=\"Get\"} 2\n"
      "rpc_duration_seconds_sum{rpc=\"Get\"} 0.6\n"
      "rpc_duration_seconds_bucket{rpc=\"Get\",le=\"0.1\"} 1\n"
      "rpc_duration_seconds_bucket{rpc=\"Get\",le=\"1\"} 2\n"
      "rpc_duration_seconds_bucket{rpc=\"Get\",le=\"+Inf\"} 2\n"
      "# HELP workers Worker threads.\n"
      "# TYPE workers gauge\n"
      "workers 4\n"
      "# HELP bare_seconds Unlabelled histogram.\n"
      "# TYPE bare_seconds histogram\n"
      "bare_seconds_count 0\n"
      "bare_seconds_sum 0\n"
      "bare_seconds_bucket{le=\"1\"} 0\n"
      "bare_seconds_bucket{le=\"+Inf\"} 0\n";
  CHECK(registry.Serialize() == expected);
}

TEST_CASE("Serialize escapes backslash, quote and newline in label values", "[metrics]") {
  Registry registry;
  registry.AddGauge("escaped", "Escapes.", {"path"}).WithLabels({"a\\b\"c\nd"}).Set(1);
  CHECK(Contains(registry.Serialize(), "escaped{path=\"a\\\\b\\\"c\\nd\"} 1\n"));
}

TEST_CASE("Serialize escapes backslash and newline in help", "[metrics]") {
  Registry registry;
  registry.AddGauge("documented", "Line one\nC:\\path \"quoted\"");
  CHECK(Contains(registry.Serialize(),
                 "# HELP documented Line one\\nC:\\\\path \"quoted\"\n# TYPE documented gauge\n"));
}

TEST_CASE("Serialize spells NaN and infinities and keeps numbers parseable", "[metrics]") {
  Registry registry;
  auto& values = registry.AddGauge("value", "Values.", {"case"});
  values.WithLabels({"nan"}).Set(std::numeric_limits<double>::quiet_NaN());
  values.WithLabels({"pos_inf"}).Set(std::numeric_limits<double>::infinity());
  values.WithLabels({"neg_inf"}).Set(-std::numeric_limits<double>::infinity());
  values.WithLabels({"big_int"}).Set(1e15);
  values.WithLabels({"negative"}).Set(-42);
  values.WithLabels({"tiny"}).Set(1e-9);
  values.WithLabels({"third"}).Set(1.0 / 3.0);
  values.WithLabels({"small"}).Set(0.0005);
  values.WithLabels({"huge"}).Set(1.5e300);
  const std::string out = registry.Serialize();
  // prometheus-cpp spells NaN "Nan"; Prometheus parses either (case-insensitively).
  CHECK(Contains(out, "value{case=\"nan\"} Nan\n"));
  CHECK(Contains(out, "value{case=\"pos_inf\"} +Inf\n"));
  CHECK(Contains(out, "value{case=\"neg_inf\"} -Inf\n"));
  CHECK(Contains(out, "value{case=\"big_int\"} 1000000000000000\n"));
  CHECK(Contains(out, "value{case=\"negative\"} -42\n"));
  CHECK(Contains(out, "value{case=\"small\"} 0.0005\n"));
  CHECK(Contains(out, "value{case=\"tiny\"} 1e-09\n"));
  CHECK(Contains(out, "value{case=\"huge\"} 1.5e+300\n"));
  CHECK(Contains(out, "value{case=\"third\"} 0.3333333333333333\n"));
}

TEST_CASE("Callback gauges are read at scrape time and skipped if they throw", "[metrics]") {
  Registry registry;
  double depth = 1;
  registry.AddCallbackGauge("queue_len", "Queue length.", [&depth] { return depth; });
  registry.AddCallbackGauge("broken", "Throws.",
                            []() -> double { throw std::runtime_error("unavailable"); });
  CHECK(SampleValue(registry.Serialize(), "queue_len") == 1);
  depth = 7;
  const std::string out = registry.Serialize();
  CHECK(SampleValue(out, "queue_len") == 7);
  CHECK(Contains(out, "# TYPE broken gauge\n"));
  CHECK_FALSE(Contains(out, "\nbroken "));
}

TEST_CASE("Process metrics report positive RSS, fd count and build info", "[metrics]") {
  Registry registry;
  civic::metrics::RegisterProcessMetrics(registry, "ballot", "1.2.3", "abc123");
  const std::string out = registry.Serialize();
  CHECK(SampleValue(out, "process_resident_memory_bytes") > 0);
  CHECK(SampleValue(out, "process_virtual_memory_bytes") > 0);
  CHECK(SampleValue(out, "process_open_fds") > 0);
  CHECK(SampleValue(out, "process_max_fds") > 0);
  CHECK(SampleValue(out, "process_cpu_seconds_total") >= 0);
  CHECK(Contains(out, "# TYPE process_cpu_seconds_total counter\n"));
  const double start = SampleValue(out, "process_start_time_seconds");
  CHECK(start > 1.6e9);
  CHECK(start < 1e10);
  CHECK(SampleValue(
            out, "civic_build_info{service=\"ballot\",version=\"1.2.3\",commit=\"abc123\"}") == 1);
  CHECK_THROWS_AS(civic::metrics::RegisterProcessMetrics(registry, "x", "y", "z"),
                  std::invalid_argument);
}
