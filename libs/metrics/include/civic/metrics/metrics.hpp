#pragma once

// A small Prometheus client: counters, gauges and histograms grouped in labelled families, kept
// in a Registry and serialized in the text exposition format 0.0.4.
//
// Thread-safety: every public member function of every type here may be called concurrently
// from any thread. Counter::Inc, Gauge::*, Histogram::Observe and the hit path of
// Family::WithLabels never take an exclusive lock.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace civic::metrics {

// Label name -> value pairs, in declared order.
using Labels = std::vector<std::pair<std::string, std::string>>;

// The Content-Type of Registry::Serialize() output.
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

class Registry;

namespace detail {

inline constexpr std::size_t kCacheLineSize = 64;

// One atomic double alone on its cache line, so that shards never share a line.
struct alignas(kCacheLineSize) PaddedDouble {
  std::atomic<double> value{0.0};
};

// Eight atomic counters filling exactly one cache line.
inline constexpr std::size_t kCountsPerLine = kCacheLineSize / sizeof(std::atomic<uint64_t>);
struct alignas(kCacheLineSize) PaddedCounts {
  std::atomic<uint64_t> values[kCountsPerLine];
};

// Number of shards used by counters and histograms: a power of two, fixed for the process.
std::size_t ShardCount();

// The calling thread's shard, in [0, ShardCount()). Stable for the thread's lifetime.
std::size_t ThisThreadShard();

struct LabelValuesHash {
  std::size_t operator()(const std::vector<std::string>& values) const noexcept;
};

// Common base of everything a Registry serializes. Only the Registry uses this interface.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

 protected:
  // `type` is the exposition TYPE ("counter", "gauge", "histogram") and must be a literal.
  FamilyBase(std::string name, std::string help, const char* type)
      : name_(std::move(name)), help_(std::move(help)), type_(type) {}
  const std::string& name() const { return name_; }

 private:
  friend class metrics::Registry;
  // Appends the HELP and TYPE lines, then the samples.
  void Append(std::string& out) const;
  // Appends this family's sample lines to `out`.
  virtual void AppendSamples(std::string& out) const = 0;

  std::string name_;
  std::string help_;
  const char* type_;
};

}  // namespace detail

// Monotonic counter. Inc() is lock-free and sharded per thread; Value() sums the shards, so a
// read concurrent with increments sees some of them.
class Counter {
 public:
  Counter();
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds v. Negative and NaN values are ignored.
  void Inc(double v = 1.0);
  // Sum of all increments so far.
  double Value() const;

 private:
  std::unique_ptr<detail::PaddedDouble[]> shards_;
};

// A value that can go up and down. All operations are single atomic operations.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v);
  void Inc(double v = 1.0);
  void Dec(double v = 1.0);
  double Value() const;

 private:
  std::atomic<double> value_{0.0};
};

// Distribution of observations over fixed upper bounds (Prometheus "le" semantics: a value
// equal to a bound is counted in that bound's bucket). Observe() is lock-free and sharded.
class Histogram {
 public:
  struct Snapshot {
    std::vector<double> bounds;               // finite upper bounds, strictly increasing
    std::vector<uint64_t> cumulative_counts;  // bounds.size() + 1 entries; the last is +Inf
    uint64_t count;                           // == cumulative_counts.back()
    double sum;
  };

  // `bounds` must be strictly increasing and not NaN; a trailing +Inf is dropped (the +Inf
  // bucket is implicit). Throws std::invalid_argument otherwise.
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Records v. NaN is counted in the +Inf bucket only (and makes the sum NaN).
  void Observe(double v);
  // A snapshot; count always equals the +Inf bucket even while Observe() runs concurrently.
  Snapshot Collect() const;

 private:
  std::atomic<uint64_t>& Slot(std::size_t shard, std::size_t bucket) const;

  std::vector<double> bounds_;
  std::size_t lines_per_shard_;
  std::unique_ptr<detail::PaddedCounts[]> counts_;  // per shard: bounds_.size() + 1 buckets
  std::unique_ptr<detail::PaddedDouble[]> sums_;    // per shard
};

// One metric name with a fixed list of label names; children are created on first use and
// live as long as the Registry that owns the family.
template <class M>
class Family final : public detail::FamilyBase {
 public:
  // Returns the child for these label values (same order as the label names), creating it on
  // first use. The reference stays valid for the Registry's lifetime, so hot paths may cache
  // it. Throws std::invalid_argument if the number of values differs from the label names.
  M& WithLabels(const std::vector<std::string>& values);

 private:
  friend class Registry;
  Family(std::string name, std::string help, const char* type, std::vector<std::string> label_names,
         std::vector<double> buckets);
  std::unique_ptr<M> MakeChild() const;
  void AppendSamples(std::string& out) const override;

  std::vector<std::string> label_names_;
  std::vector<double> buckets_;  // Histogram families only.
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::vector<std::string>, M*, detail::LabelValuesHash> index_;
  std::vector<std::pair<std::vector<std::string>, std::unique_ptr<M>>> children_;  // creation order
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

// Seconds: .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10.
std::vector<double> DefaultLatencyBuckets();
// start, start*factor, ..., start*factor^(count-1). Throws std::invalid_argument unless
// start > 0, factor > 1 and count >= 1.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// Owns metric families and serializes them. Thread-safe. Not copyable or movable; families and
// their children live as long as the Registry.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  // Each Add* validates the metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) and the label names
  // ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", no repeats, "le" forbidden for
  // histograms), requires a non-empty help, and throws std::invalid_argument otherwise or if a
  // sample name it would emit is already emitted by another family (a histogram "x" emits
  // x_bucket, x_sum and x_count). An unlabelled family's single child exists from the start,
  // so it is exported as 0 before first use. Counter names should end in "_total".
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
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

  // Text exposition format 0.0.4: per family "# HELP" and "# TYPE" lines then its samples;
  // families in registration order, children in creation order. A labelled family with no
  // children emits only HELP/TYPE.
  std::string Serialize() const;

 private:
  // Validates and records the sample names of a new family; throws std::invalid_argument.
  void Reserve(const std::string& name, const std::string& help,
               const std::vector<std::string>& label_names, bool is_histogram);
  void AddCallback(const std::string& name, const std::string& help, std::function<double()> fn,
                   const char* type);

  mutable std::mutex mutex_;
  // Registration order; never shrinks, and the families never move.
  std::vector<std::unique_ptr<detail::FamilyBase>> families_;
  std::unordered_set<std::string> sample_names_;  // every sample name emitted
};

}  // namespace civic::metrics
