#include "civic/metrics/metrics.hpp"

#include <prometheus/client_metric.h>
#include <prometheus/labels.h>
#include <prometheus/metric_type.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace civic::metrics {

namespace detail {

std::size_t LabelValuesHash::operator()(const std::vector<std::string>& values) const noexcept {
  std::size_t seed = values.size();
  for (const std::string& value : values) {
    seed ^= std::hash<std::string>{}(value) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  }
  return seed;
}

// The callback gauges and counters: one family each, with one unlabelled sample whose value is
// the callback's at Collect() time, or none if the callback throws. prometheus::Registry takes
// no callbacks, so these sit beside it and Registry::Collect() merges the two.
class CallbackCollectable final : public prometheus::Collectable {
 public:
  // `help` is passed through as given (Registry escapes it).
  void Add(std::string name, std::string help, prometheus::MetricType type,
           std::function<double()> fn) {
    auto callback = std::make_shared<const Callback>(
        Callback{std::move(name), std::move(help), type, std::move(fn)});
    const std::lock_guard lock(mutex_);
    callbacks_.push_back(std::move(callback));
  }

  // Runs the callbacks with no lock held (they may take locks of their own).
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<std::shared_ptr<const Callback>> callbacks;
    {
      const std::lock_guard lock(mutex_);
      callbacks = callbacks_;
    }
    std::vector<prometheus::MetricFamily> families;
    families.reserve(callbacks.size());
    for (const auto& callback : callbacks) {
      prometheus::MetricFamily& family = families.emplace_back();
      family.name = callback->name;
      family.help = callback->help;
      family.type = callback->type;
      double value = 0.0;
      try {
        value = callback->fn();
      } catch (const std::exception&) {
        continue;
      }
      prometheus::ClientMetric& sample = family.metric.emplace_back();
      if (callback->type == prometheus::MetricType::Counter) {
        sample.counter.value = value;
      } else {
        sample.gauge.value = value;
      }
    }
    return families;
  }

 private:
  struct Callback {
    std::string name;
    std::string help;
    prometheus::MetricType type;
    std::function<double()> fn;
  };

  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<const Callback>> callbacks_;
};

}  // namespace detail

namespace {

// prometheus-cpp 1.0.1's TextSerializer writes help texts as given, so a backslash or a newline
// in one would break the exposition: they are escaped here, once, at registration.
std::string EscapeHelp(const std::string& help) {
  std::string out;
  out.reserve(help.size());
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

bool IsValidMetricName(const std::string& name) {
  // "__" is reserved, and prometheus::Family refuses it.
  if (name.empty() || name.starts_with("__")) {
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

// Returns the bounds without a trailing +Inf; throws unless strictly increasing and finite.
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

template <class Impl>
prometheus::Family<Impl>& RegisterFamily(prometheus::Registry& registry, const std::string& name,
                                         const std::string& help) {
  if constexpr (std::is_same_v<Impl, prometheus::Counter>) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
  } else if constexpr (std::is_same_v<Impl, prometheus::Gauge>) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
  } else {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
  }
}

template <class M>
prometheus::MetricType TypeOf() {
  if constexpr (std::is_same_v<M, Counter>) {
    return prometheus::MetricType::Counter;
  } else if constexpr (std::is_same_v<M, Gauge>) {
    return prometheus::MetricType::Gauge;
  } else {
    return prometheus::MetricType::Histogram;
  }
}

// prometheus-cpp keeps a child's labels in a std::map, so they come sorted by name: put them back
// in the order the family declared them.
void PutLabelsInDeclaredOrder(std::vector<prometheus::ClientMetric::Label>& labels,
                              const std::vector<std::string>& names) {
  if (names.size() < 2) {
    return;
  }
  std::vector<prometheus::ClientMetric::Label> ordered;
  ordered.reserve(labels.size());
  for (const std::string& name : names) {
    const auto it = std::find_if(labels.begin(), labels.end(),
                                 [&name](const auto& label) { return label.name == name; });
    if (it != labels.end()) {
      ordered.push_back(std::move(*it));
    }
  }
  labels = std::move(ordered);
}

}  // namespace

// ---- Counter, Gauge, Histogram --------------------------------------------------------------

void Counter::Inc(double v) {
  // prometheus::Counter::Increment ignores negative values but would add a NaN.
  if (!(v >= 0.0)) {
    return;
  }
  counter_.Increment(v);
}

double Counter::Value() const { return counter_.Value(); }

void Gauge::Set(double v) { gauge_.Set(v); }
void Gauge::Inc(double v) { gauge_.Increment(v); }
void Gauge::Dec(double v) { gauge_.Decrement(v); }
double Gauge::Value() const { return gauge_.Value(); }

void Histogram::Observe(double v) {
  if (std::isnan(v)) {
    // prometheus::Histogram::Observe would count a NaN in the first bucket (lower_bound finds
    // no bound it is below): count it in +Inf only, as Prometheus' other clients do.
    std::vector<double> increments(bucket_count_, 0.0);
    increments.back() = 1.0;
    histogram_.ObserveMultiple(increments, v);
    return;
  }
  histogram_.Observe(v);
}

Histogram::Snapshot Histogram::Collect() const {
  const prometheus::ClientMetric::Histogram collected = histogram_.Collect().histogram;
  Snapshot snapshot{{}, {}, collected.sample_count, collected.sample_sum};
  for (const prometheus::ClientMetric::Bucket& bucket : collected.bucket) {
    if (!std::isinf(bucket.upper_bound)) {
      snapshot.bounds.push_back(bucket.upper_bound);
    }
    snapshot.cumulative_counts.push_back(bucket.cumulative_count);
  }
  return snapshot;
}

// ---- Family -------------------------------------------------------------------------------

template <class M>
M& Family<M>::WithLabels(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument(family_.GetName() + ": expected " +
                                std::to_string(label_names_.size()) + " label values, got " +
                                std::to_string(values.size()));
  }
  {
    const std::shared_lock lock(mutex_);
    const auto it = children_.find(values);
    if (it != children_.end()) {
      return *it->second;
    }
  }
  const std::unique_lock lock(mutex_);
  const auto it = children_.find(values);
  if (it != children_.end()) {
    return *it->second;
  }
  prometheus::Labels labels;
  for (std::size_t i = 0; i < values.size(); ++i) {
    labels.emplace(label_names_[i], values[i]);
  }
  std::unique_ptr<M> child;
  if constexpr (std::is_same_v<M, Histogram>) {
    child.reset(new Histogram(family_.Add(labels, buckets_), buckets_.size() + 1));
  } else {
    child.reset(new M(family_.Add(labels)));
  }
  return *children_.emplace(values, std::move(child)).first->second;
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

Registry::Registry()
    : registry_(
          std::make_shared<prometheus::Registry>(prometheus::Registry::InsertBehavior::Throw)),
      callbacks_(std::make_shared<detail::CallbackCollectable>()) {}

Registry::~Registry() = default;

std::vector<std::string> Registry::Validate(const std::string& name, const std::string& help,
                                            const std::vector<std::string>& label_names,
                                            bool is_histogram) const {
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
  return samples;
}

void Registry::Record(std::vector<std::string> sample_names, FamilySpec spec) {
  sample_names_.insert(std::make_move_iterator(sample_names.begin()),
                       std::make_move_iterator(sample_names.end()));
  specs_.push_back(std::move(spec));
}

template <class M>
Family<M>& Registry::Add(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names, std::vector<double> buckets) {
  const std::lock_guard lock(mutex_);
  std::vector<std::string> samples =
      Validate(name, help, label_names, std::is_same_v<M, Histogram>);
  FamilySpec spec{{name, EscapeHelp(help), TypeOf<M>(), {}}, label_names};
  auto& impl = RegisterFamily<typename Family<M>::Impl>(*registry_, name, spec.head.help);
  const std::shared_ptr<Family<M>> family(
      new Family<M>(impl, std::move(label_names), std::move(buckets)));
  families_.push_back(family);
  Record(std::move(samples), std::move(spec));
  if (family->label_names_.empty()) {
    family->WithLabels({});
  }
  return *family;
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  return Add<Counter>(name, help, std::move(label_names), {});
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  return Add<Gauge>(name, help, std::move(label_names), {});
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<double> buckets,
                                          std::vector<std::string> label_names) {
  return Add<Histogram>(name, help, std::move(label_names), ValidateBuckets(std::move(buckets)));
}

void Registry::AddCallback(const std::string& name, const std::string& help,
                           std::function<double()> fn, prometheus::MetricType type) {
  if (!fn) {
    throw std::invalid_argument(name + ": callback must not be empty");
  }
  const std::lock_guard lock(mutex_);
  std::vector<std::string> samples = Validate(name, help, {}, false);
  FamilySpec spec{{name, EscapeHelp(help), type, {}}, {}};
  callbacks_->Add(name, spec.head.help, type, std::move(fn));
  Record(std::move(samples), std::move(spec));
}

void Registry::AddCallbackGauge(const std::string& name, const std::string& help,
                                std::function<double()> fn) {
  AddCallback(name, help, std::move(fn), prometheus::MetricType::Gauge);
}

void Registry::AddCallbackCounter(const std::string& name, const std::string& help,
                                  std::function<double()> fn) {
  AddCallback(name, help, std::move(fn), prometheus::MetricType::Counter);
}

std::vector<prometheus::MetricFamily> Registry::Collect() const {
  // Neither collection holds our lock: the callbacks may take locks of their own.
  std::vector<prometheus::MetricFamily> collected = registry_->Collect();
  std::vector<prometheus::MetricFamily> callbacks = callbacks_->Collect();
  collected.insert(collected.end(), std::make_move_iterator(callbacks.begin()),
                   std::make_move_iterator(callbacks.end()));
  std::unordered_map<std::string_view, prometheus::MetricFamily*> by_name;
  for (prometheus::MetricFamily& family : collected) {
    by_name.emplace(family.name, &family);
  }

  // prometheus::Registry groups its families by type and leaves out those with no children,
  // and prometheus::Family keeps its children in a hash map. Rebuild the order we document:
  // registration order (every family registered before the collection above is in specs_),
  // children sorted by their labels in declared order.
  std::vector<FamilySpec> specs;
  {
    const std::lock_guard lock(mutex_);
    specs = specs_;
  }
  std::vector<prometheus::MetricFamily> families;
  families.reserve(specs.size());
  for (FamilySpec& spec : specs) {
    const auto it = by_name.find(spec.head.name);
    if (it == by_name.end()) {
      families.push_back(std::move(spec.head));  // HELP and TYPE only
      continue;
    }
    prometheus::MetricFamily& family = families.emplace_back(std::move(*it->second));
    by_name.erase(it);  // its key viewed the name just moved
    for (prometheus::ClientMetric& metric : family.metric) {
      PutLabelsInDeclaredOrder(metric.label, spec.label_names);
    }
    std::sort(family.metric.begin(), family.metric.end(),
              [](const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) {
                return a.label < b.label;
              });
  }
  return families;
}

std::string Registry::Serialize() const {
  return prometheus::TextSerializer().Serialize(Collect());
}

}  // namespace civic::metrics
