#pragma once

// Counters, gauges and histograms grouped in labelled families, kept in a Registry and
// serialized in the Prometheus text exposition format 0.0.4 — a thin layer over prometheus-cpp
// (core library only): the metrics are prometheus::Counter/Gauge/Histogram children of
// prometheus::Family objects in a prometheus::Registry, and the text is written by
// prometheus::TextSerializer. What this layer adds: label values in declared order (instead of a
// prometheus::Labels map built per lookup), NaN and negative increments ignored, callback
// gauges read at scrape time (a prometheus::Collectable of ours), stricter validation at
// registration, and a stable order of the exposition (see Registry::Collect).
//
// Thread-safety: every public member function of every type here may be called concurrently
// from any thread. Counter::Inc, Gauge::* and the hit path of Family::WithLabels never take an
// exclusive lock; Histogram::Observe takes the child's mutex (prometheus-cpp 1.0.1).

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace civic::metrics {

// The Content-Type of Registry::Serialize() output.
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

class Registry;
template <class M>
class Family;

namespace detail {

struct LabelValuesHash {
  std::size_t operator()(const std::vector<std::string>& values) const noexcept;
};

class CallbackCollectable;

}  // namespace detail

// Monotonic counter: a handle on a prometheus::Counter child. prometheus-cpp 1.0.1 keeps one
// atomic double per child, updated by a compare-and-swap loop: Inc() is lock-free but not
// sharded per thread, so threads incrementing the same child contend on its cache line. Accepted
// (issue #31): the vote path does one increment per request.
class Counter {
 public:
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds v. Negative and NaN values are ignored.
  void Inc(double v = 1.0);
  // Sum of all increments so far.
  double Value() const;

 private:
  friend class Family<Counter>;
  explicit Counter(prometheus::Counter& counter) : counter_(counter) {}

  prometheus::Counter& counter_;
};

// A value that can go up and down (a prometheus::Gauge child). All operations are lock-free.
class Gauge {
 public:
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v);
  void Inc(double v = 1.0);
  void Dec(double v = 1.0);
  double Value() const;

 private:
  friend class Family<Gauge>;
  explicit Gauge(prometheus::Gauge& gauge) : gauge_(gauge) {}

  prometheus::Gauge& gauge_;
};

// Distribution of observations over fixed upper bounds (Prometheus "le" semantics: a value
// equal to a bound is counted in that bound's bucket); a prometheus::Histogram child, whose
// Observe() takes a mutex of the child's own.
class Histogram {
 public:
  struct Snapshot {
    std::vector<double> bounds;               // finite upper bounds, strictly increasing
    std::vector<uint64_t> cumulative_counts;  // bounds.size() + 1 entries; the last is +Inf
    uint64_t count;                           // == cumulative_counts.back()
    double sum;
  };

  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Records v. NaN is counted in the +Inf bucket only (and makes the sum NaN).
  void Observe(double v);
  // A consistent snapshot (count always equals the +Inf bucket).
  Snapshot Collect() const;

 private:
  friend class Family<Histogram>;
  Histogram(prometheus::Histogram& histogram, std::size_t bucket_count)
      : histogram_(histogram), bucket_count_(bucket_count) {}

  prometheus::Histogram& histogram_;
  std::size_t bucket_count_;  // finite bounds + 1 (+Inf)
};

// One metric name with a fixed list of label names, over a prometheus::Family; children are
// created on first use and live as long as the Registry that owns the family.
template <class M>
class Family {
 public:
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // Returns the child for these label values (same order as the label names), creating it on
  // first use. The reference stays valid for the Registry's lifetime, so hot paths may cache
  // it. Throws std::invalid_argument if the number of values differs from the label names.
  // A hit is a hash lookup under a shared lock; only the first use of a label set locks
  // exclusively (and prometheus::Family::Add's mutex).
  M& WithLabels(const std::vector<std::string>& values);

 private:
  friend class Registry;
  using Impl = std::conditional_t<
      std::is_same_v<M, Counter>, prometheus::Counter,
      std::conditional_t<std::is_same_v<M, Gauge>, prometheus::Gauge, prometheus::Histogram>>;

  Family(prometheus::Family<Impl>& family, std::vector<std::string> label_names,
         std::vector<double> buckets)
      : family_(family), label_names_(std::move(label_names)), buckets_(std::move(buckets)) {}

  prometheus::Family<Impl>& family_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;  // Histogram families only.
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::vector<std::string>, std::unique_ptr<M>, detail::LabelValuesHash>
      children_;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

// Seconds: .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10.
std::vector<double> DefaultLatencyBuckets();
// start, start*factor, ..., start*factor^(count-1). Throws std::invalid_argument unless
// start > 0, factor > 1 and count >= 1.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// Owns metric families (in a prometheus::Registry) and callback gauges (in a
// prometheus::Collectable of ours), and serializes both. Thread-safe. Not copyable or movable;
// families and their children live as long as the Registry.
class Registry {
 public:
  Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  // Each Add* validates the metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, not starting with "__")
  // and the label names ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", no repeats, "le"
  // forbidden for histograms), requires a non-empty help, and throws std::invalid_argument
  // otherwise or if a sample name it would emit is already emitted by another family (a
  // histogram "x" emits x_bucket, x_sum and x_count); a failed registration leaves no trace.
  // An unlabelled family's single child exists from the start, so it is exported as 0 before
  // first use. Counter names should end in "_total" (names are used as given).
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  // `buckets` must be strictly increasing and finite; a trailing +Inf is dropped (the +Inf
  // bucket is implicit).
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<double> buckets,
                                  std::vector<std::string> label_names = {});

  // Unlabelled gauge whose value is fn() at scrape time (e.g. queue depth). fn runs on the
  // thread calling Serialize(), with no registry lock held; if it throws, the sample is
  // omitted from that scrape. Throws std::invalid_argument if fn is empty.
  void AddCallbackGauge(const std::string& name, const std::string& help,
                        std::function<double()> fn);
  // Same as AddCallbackGauge but typed "counter"; fn must return a non-decreasing value
  // (e.g. process_cpu_seconds_total).
  void AddCallbackCounter(const std::string& name, const std::string& help,
                          std::function<double()> fn);

  // Every family, as prometheus-cpp metric families: in registration order, children sorted by
  // their label values, each child's labels in declared order; a family with no children (a
  // labelled family before first use, a callback that threw) comes with no samples.
  std::vector<prometheus::MetricFamily> Collect() const;

  // Collect() in the text exposition format 0.0.4, by prometheus::TextSerializer.
  std::string Serialize() const;

 private:
  struct FamilySpec {
    prometheus::MetricFamily head;  // name, help (escaped) and type; no samples
    std::vector<std::string> label_names;
  };

  // Validates a new family (throws std::invalid_argument) and returns the sample names it
  // would emit; nothing is recorded.
  std::vector<std::string> Validate(const std::string& name, const std::string& help,
                                    const std::vector<std::string>& label_names,
                                    bool is_histogram) const;
  // Records a family that was registered.
  void Record(std::vector<std::string> sample_names, FamilySpec spec);
  template <class M>
  Family<M>& Add(const std::string& name, const std::string& help,
                 std::vector<std::string> label_names, std::vector<double> buckets);
  void AddCallback(const std::string& name, const std::string& help, std::function<double()> fn,
                   prometheus::MetricType type);

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<detail::CallbackCollectable> callbacks_;

  mutable std::mutex mutex_;                      // guards what follows
  std::vector<FamilySpec> specs_;                 // registration order
  std::unordered_set<std::string> sample_names_;  // every sample name emitted
  std::vector<std::shared_ptr<void>> families_;   // our Family objects (they never move)
};

}  // namespace civic::metrics
