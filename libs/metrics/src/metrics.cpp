#include "civic/metrics/metrics.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace civic::metrics {

namespace detail {

std::size_t ShardCount() {
  static const std::size_t count = [] {
    const std::size_t hw = std::max(1U, std::thread::hardware_concurrency());
    return std::clamp<std::size_t>(std::bit_ceil(hw), 4, 32);
  }();
  return count;
}

std::size_t ThisThreadShard() {
  static std::atomic<std::size_t> next_thread{0};
  thread_local const std::size_t shard =
      next_thread.fetch_add(1, std::memory_order_relaxed) & (ShardCount() - 1);
  return shard;
}

std::size_t LabelValuesHash::operator()(const std::vector<std::string>& values) const noexcept {
  std::size_t seed = values.size();
  for (const std::string& value : values) {
    seed ^= std::hash<std::string>{}(value) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  }
  return seed;
}

}  // namespace detail

namespace {

void AppendNumber(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  char* const end = buf + sizeof(buf);
  // Integral values in int64 range print exactly and without an exponent.
  if (std::trunc(v) == v && std::fabs(v) < 0x1p63) {
    out.append(buf, std::to_chars(buf, end, static_cast<int64_t>(v)).ptr);
    return;
  }
  // Otherwise the shortest round-trip digits: plain decimal when the decimal exponent is in
  // [-4, 21) (so bucket bounds read le="0.0005", as other clients write them), else scientific.
  char* const last = std::to_chars(buf, end, v, std::chars_format::scientific).ptr;
  const char* exponent = std::find(buf, last, 'e') + 1;
  if (exponent < last && *exponent == '+') {
    ++exponent;
  }
  int exp10 = 0;
  std::from_chars(exponent, last, exp10);
  if (exp10 >= -4 && exp10 < 21) {
    out.append(buf, std::to_chars(buf, end, v, std::chars_format::fixed).ptr);
  } else {
    out.append(buf, last);
  }
}

void AppendUint(std::string& out, uint64_t v) {
  char buf[24];
  const std::to_chars_result result = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, result.ptr);
}

void AppendEscapedHelp(std::string& out, const std::string& help) {
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void AppendEscapedLabelValue(std::string& out, const std::string& value) {
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// Renders `a="x",b="y"` (no braces) for a child's label set.
std::string RenderLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += names[i];
    out += "=\"";
    AppendEscapedLabelValue(out, values[i]);
    out += '"';
  }
  return out;
}

// Appends `name{labels} value\n`, omitting the braces when labels is empty.
void AppendSample(std::string& out, const std::string& name, const std::string& labels,
                  double value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  AppendNumber(out, value);
  out += '\n';
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

bool IsValidMetricName(const std::string& name) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = IsAsciiLetter(c) || c == '_' || c == ':' || (i > 0 && IsAsciiDigit(c));
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool IsValidLabelName(const std::string& name) {
  if (name.empty() || name.starts_with("__")) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = IsAsciiLetter(c) || c == '_' || (i > 0 && IsAsciiDigit(c));
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Returns the bounds without a trailing +Inf; throws unless strictly increasing and not NaN.
std::vector<double> ValidateBuckets(std::vector<double> bounds) {
  if (!bounds.empty() && bounds.back() == std::numeric_limits<double>::infinity()) {
    bounds.pop_back();
  }
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (std::isnan(bounds[i]) || std::isinf(bounds[i])) {
      throw std::invalid_argument("histogram bucket bounds must be finite");
    }
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      throw std::invalid_argument("histogram bucket bounds must be strictly increasing");
    }
  }
  return bounds;
}

class CallbackFamily final : public detail::FamilyBase {
 public:
  CallbackFamily(std::string name, std::string help, const char* type, std::function<double()> fn)
      : FamilyBase(std::move(name), std::move(help), type), fn_(std::move(fn)) {}

 private:
  void AppendSamples(std::string& out) const override {
    double value = 0.0;
    try {
      value = fn_();
    } catch (const std::exception&) {
      return;
    }
    AppendSample(out, name(), {}, value);
  }

  std::function<double()> fn_;
};

}  // namespace

void detail::FamilyBase::Append(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  AppendEscapedHelp(out, help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type_;
  out += '\n';
  AppendSamples(out);
}

// ---- Counter ------------------------------------------------------------------------------

Counter::Counter() : shards_(new detail::PaddedDouble[detail::ShardCount()]) {}

void Counter::Inc(double v) {
  if (!(v >= 0.0)) {
    return;
  }
  shards_[detail::ThisThreadShard()].value.fetch_add(v, std::memory_order_relaxed);
}

double Counter::Value() const {
  double total = 0.0;
  for (std::size_t i = 0; i < detail::ShardCount(); ++i) {
    total += shards_[i].value.load(std::memory_order_relaxed);
  }
  return total;
}

// ---- Gauge --------------------------------------------------------------------------------

void Gauge::Set(double v) { value_.store(v, std::memory_order_relaxed); }
void Gauge::Inc(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
void Gauge::Dec(double v) { value_.fetch_sub(v, std::memory_order_relaxed); }
double Gauge::Value() const { return value_.load(std::memory_order_relaxed); }

// ---- Histogram ----------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(ValidateBuckets(std::move(bounds))),
      lines_per_shard_((bounds_.size() + 1 + detail::kCountsPerLine - 1) / detail::kCountsPerLine),
      counts_(new detail::PaddedCounts[detail::ShardCount() * lines_per_shard_]()),
      sums_(new detail::PaddedDouble[detail::ShardCount()]) {}

std::atomic<uint64_t>& Histogram::Slot(std::size_t shard, std::size_t bucket) const {
  return counts_[shard * lines_per_shard_ + bucket / detail::kCountsPerLine]
      .values[bucket % detail::kCountsPerLine];
}

void Histogram::Observe(double v) {
  // First bound >= v; NaN compares false everywhere and lands in the +Inf bucket.
  std::size_t bucket = bounds_.size();
  if (!std::isnan(v)) {
    bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                      bounds_.begin());
  }
  const std::size_t shard = detail::ThisThreadShard();
  Slot(shard, bucket).fetch_add(1, std::memory_order_relaxed);
  sums_[shard].value.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Collect() const {
  Snapshot snapshot{bounds_, std::vector<uint64_t>(bounds_.size() + 1, 0), 0, 0.0};
  uint64_t running = 0;
  for (std::size_t bucket = 0; bucket <= bounds_.size(); ++bucket) {
    for (std::size_t shard = 0; shard < detail::ShardCount(); ++shard) {
      running += Slot(shard, bucket).load(std::memory_order_relaxed);
    }
    snapshot.cumulative_counts[bucket] = running;
  }
  snapshot.count = running;
  for (std::size_t shard = 0; shard < detail::ShardCount(); ++shard) {
    snapshot.sum += sums_[shard].value.load(std::memory_order_relaxed);
  }
  return snapshot;
}

// ---- Family -------------------------------------------------------------------------------

template <class M>
Family<M>::Family(std::string name, std::string help, const char* type,
                  std::vector<std::string> label_names, std::vector<double> buckets)
    : FamilyBase(std::move(name), std::move(help), type),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {}

template <class M>
std::unique_ptr<M> Family<M>::MakeChild() const {
  if constexpr (std::is_same_v<M, Histogram>) {
    return std::make_unique<Histogram>(buckets_);
  } else {
    return std::make_unique<M>();
  }
}

template <class M>
M& Family<M>::WithLabels(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument(name() + ": expected " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(values.size()));
  }
  {
    const std::shared_lock lock(mutex_);
    const auto it = index_.find(values);
    if (it != index_.end()) {
      return *it->second;
    }
  }
  const std::unique_lock lock(mutex_);
  const auto it = index_.find(values);
  if (it != index_.end()) {
    return *it->second;
  }
  std::unique_ptr<M> child = MakeChild();
  M& ref = *child;
  children_.emplace_back(values, std::move(child));
  index_.emplace(values, &ref);
  return ref;
}

template <class M>
void Family<M>::AppendSamples(std::string& out) const {
  const std::shared_lock lock(mutex_);
  for (const auto& [values, child] : children_) {
    const std::string labels = RenderLabels(label_names_, values);
    if constexpr (std::is_same_v<M, Histogram>) {
      const Histogram::Snapshot snapshot = child->Collect();
      const std::string bucket_name = name() + "_bucket";
      for (std::size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
        out += bucket_name;
        out += '{';
        out += labels;
        if (!labels.empty()) {
          out += ',';
        }
        out += "le=\"";
        if (i < snapshot.bounds.size()) {
          AppendNumber(out, snapshot.bounds[i]);
        } else {
          out += "+Inf";
        }
        out += "\"} ";
        AppendUint(out, snapshot.cumulative_counts[i]);
        out += '\n';
      }
      AppendSample(out, name() + "_sum", labels, snapshot.sum);
      out += name();
      out += "_count";
      if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
      }
      out += ' ';
      AppendUint(out, snapshot.count);
      out += '\n';
    } else {
      AppendSample(out, name(), labels, child->Value());
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- Buckets ------------------------------------------------------------------------------

std::vector<double> DefaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  if (!(start > 0.0) || !(factor > 1.0) || count < 1) {
    throw std::invalid_argument("ExponentialBuckets needs start > 0, factor > 1, count >= 1");
  }
  std::vector<double> buckets;
  buckets.reserve(static_cast<std::size_t>(count));
  double bound = start;
  for (int i = 0; i < count; ++i) {
    buckets.push_back(bound);
    bound *= factor;
  }
  return buckets;
}

// ---- Registry -----------------------------------------------------------------------------

Registry::~Registry() = default;

void Registry::Reserve(const std::string& name, const std::string& help,
                       const std::vector<std::string>& label_names, bool is_histogram) {
  if (!IsValidMetricName(name)) {
    throw std::invalid_argument("invalid metric name: \"" + name + "\"");
  }
  if (help.empty()) {
    throw std::invalid_argument(name + ": help must not be empty");
  }
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    if (!IsValidLabelName(label)) {
      throw std::invalid_argument(name + ": invalid label name \"" + label + "\"");
    }
    if (is_histogram && label == "le") {
      throw std::invalid_argument(name + ": histograms may not use the label name \"le\"");
    }
    if (std::find(label_names.begin(), label_names.begin() + static_cast<std::ptrdiff_t>(i),
                  label) != label_names.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument(name + ": repeated label name \"" + label + "\"");
    }
  }
  std::vector<std::string> samples{name};
  if (is_histogram) {
    samples.push_back(name + "_bucket");
    samples.push_back(name + "_sum");
    samples.push_back(name + "_count");
  }
  for (const std::string& sample : samples) {
    if (sample_names_.contains(sample)) {
      throw std::invalid_argument("duplicate metric name: \"" + sample + "\"");
    }
  }
  sample_names_.insert(samples.begin(), samples.end());
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  const std::lock_guard lock(mutex_);
  Reserve(name, help, label_names, false);
  const bool unlabelled = label_names.empty();
  auto* family = new Family<Counter>(name, help, "counter", std::move(label_names), {});
  families_.push_back(std::unique_ptr<detail::FamilyBase>(family));
  if (unlabelled) {
    family->WithLabels({});
  }
  return *family;
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  const std::lock_guard lock(mutex_);
  Reserve(name, help, label_names, false);
  const bool unlabelled = label_names.empty();
  auto* family = new Family<Gauge>(name, help, "gauge", std::move(label_names), {});
  families_.push_back(std::unique_ptr<detail::FamilyBase>(family));
  if (unlabelled) {
    family->WithLabels({});
  }
  return *family;
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<double> buckets,
                                          std::vector<std::string> label_names) {
  std::vector<double> bounds = ValidateBuckets(std::move(buckets));
  const std::lock_guard lock(mutex_);
  Reserve(name, help, label_names, true);
  const bool unlabelled = label_names.empty();
  auto* family =
      new Family<Histogram>(name, help, "histogram", std::move(label_names), std::move(bounds));
  families_.push_back(std::unique_ptr<detail::FamilyBase>(family));
  if (unlabelled) {
    family->WithLabels({});
  }
  return *family;
}

void Registry::AddCallback(const std::string& name, const std::string& help,
                           std::function<double()> fn, const char* type) {
  if (!fn) {
    throw std::invalid_argument(name + ": callback must not be empty");
  }
  const std::lock_guard lock(mutex_);
  Reserve(name, help, {}, false);
  families_.push_back(std::make_unique<CallbackFamily>(name, help, type, std::move(fn)));
}

void Registry::AddCallbackGauge(const std::string& name, const std::string& help,
                                std::function<double()> fn) {
  AddCallback(name, help, std::move(fn), "gauge");
}

void Registry::AddCallbackCounter(const std::string& name, const std::string& help,
                                  std::function<double()> fn) {
  AddCallback(name, help, std::move(fn), "counter");
}

std::string Registry::Serialize() const {
  // Families are never removed and never move, so the copied pointers stay valid after the lock
  // is released; callbacks then run without the registry lock.
  std::vector<const detail::FamilyBase*> families;
  {
    const std::lock_guard lock(mutex_);
    families.reserve(families_.size());
    for (const auto& family : families_) {
      families.push_back(family.get());
    }
  }
  std::string out;
  for (const detail::FamilyBase* family : families) {
    family->Append(out);
  }
  return out;
}

}  // namespace civic::metrics
