// Server: construction (metrics), start (the transport, the output poller, the worker pool),
// drain and stop; request metrics and the in-flight count.
#include "civic/http/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "http1_limits.hpp"
#include "server_impl.hpp"

namespace civic::http {

void Server::Impl::PrepareMetrics(Route& route) {
  route.duration =
      &request_duration->WithLabels({route.pattern, std::string(ToString(route.method))});
  route.by_status = std::make_shared<std::array<std::atomic<metrics::Counter*>, 600>>();
  for (auto& slot : *route.by_status) {
    slot.store(nullptr, std::memory_order_relaxed);
  }
}

void Server::Impl::Record(const Responder::Exchange& exchange, int status) {
  Route* route = exchange.route != nullptr ? exchange.route : &unmatched;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - exchange.start).count();
  if (route != &unmatched && route->duration != nullptr) {
    route->duration->Observe(seconds);
  }
  if (status < 100 || status >= 600) {
    status = 500;
  }
  // A route has one method; requests that matched none come with any, so theirs is counted
  // by method and status.
  auto& slot = route != &unmatched
                   ? (*route->by_status)[static_cast<size_t>(status)]
                   : unmatched_by_method_status[static_cast<size_t>(exchange.method) * 600 +
                                                static_cast<size_t>(status)];
  metrics::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    const std::string method = exchange.route != nullptr ? std::string(ToString(route->method))
                                                         : std::string(ToString(exchange.method));
    counter = &requests_total->WithLabels({route->pattern, method, std::to_string(status)});
    slot.store(counter, std::memory_order_release);
  }
  counter->Inc();
}

void Server::Impl::Finish(const Responder::Exchange& exchange, int status) {
  Record(exchange, status);
  if (in_flight.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard<std::mutex> lock(drain_mu);
    drain_cv.notify_all();
  }
  in_flight_gauge->Dec();
}

void Server::Impl::LogAccess(const Responder::Exchange& exchange, int status, size_t bytes) const {
  if (options.access_log == nullptr) {
    return;
  }
  AccessRecord record;
  record.time = std::chrono::system_clock::now();
  record.method = exchange.method;
  record.route = exchange.route != nullptr ? exchange.route->pattern : unmatched.pattern;
  record.status = status;
  record.duration = std::chrono::steady_clock::now() - exchange.start;
  record.bytes = bytes;
  record.request_id = exchange.request_id;
  record.key = exchange.log_key;
  record.trace_id = exchange.trace_id;
  options.access_log->Write(record);
}

Server::Server(ServerOptions options, Router router, metrics::Registry& registry)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->router = std::move(router);
  impl_->requests_total = &registry.AddCounter(
      "http_requests_total", "HTTP requests answered, by route pattern, method and status code.",
      {"route", "method", "code"});
  impl_->request_duration = &registry.AddHistogram(
      "http_request_duration_seconds",
      "Time from a request's arrival to its answer, by route pattern and method.",
      metrics::DefaultLatencyBuckets(), {"route", "method"});
  impl_->in_flight_gauge =
      &registry.AddGauge("http_requests_in_flight", "HTTP requests received and not yet answered.")
           .WithLabels({});
  impl_->rejected_overload =
      &registry
           .AddCounter("http_requests_rejected_overload_total",
                       "Requests answered 503 because the worker queue was full.")
           .WithLabels({});
  for (auto& route : impl_->router.routes()) {
    impl_->PrepareMetrics(route);
  }
  impl_->PrepareRateLimits(registry);
  impl_->unmatched.pattern = "unmatched";
}

Server::~Server() { Stop(); }

namespace {

// Each connection holds two descriptors (Pistache's and our dup of it), so the usual soft limit
// of 1,024 would cap a server near 500 connections: raise it to the hard limit, as servers do.
void RaiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      spdlog::debug("http: descriptor limit raised from {} to {}", before, limit.rlim_cur);
    }
  }
}

}  // namespace

uint16_t Server::Start() {
  static std::once_flag raise_limit;
  std::call_once(raise_limit, RaiseDescriptorLimit);
  Impl& impl = *impl_;
  size_t largest_body = impl.options.max_body_bytes;
  impl.smallest_body_limit = impl.options.max_body_bytes;
  for (const auto& route : impl.router.routes()) {
    largest_body = std::max(largest_body, route.options.max_body_bytes);
    if (route.options.max_body_bytes != 0) {
      impl.smallest_body_limit = std::min(impl.smallest_body_limit, route.options.max_body_bytes);
    }
  }
  impl.transport = MakePistacheTransport(impl, largest_body + kHeaderAllowance);
  impl.poller = std::make_shared<OutputPoller>();
  impl.pool.Start(std::max(1, impl.options.workers));
  uint16_t port = 0;
  try {
    port = impl.transport->Serve();
  } catch (const std::exception& e) {
    impl.pool.Stop();
    throw std::runtime_error("cannot listen on " + impl.options.host + ":" +
                             std::to_string(impl.options.port) + ": " + e.what());
  }
  impl.started = true;
  return port;
}

bool Server::Drain(std::chrono::milliseconds timeout) {
  impl_->draining.store(true, std::memory_order_release);
  std::unique_lock<std::mutex> lock(impl_->drain_mu);
  return impl_->drain_cv.wait_for(
      lock, timeout, [this] { return impl_->in_flight.load(std::memory_order_acquire) == 0; });
}

void Server::Stop() {
  if (impl_ == nullptr || impl_->stopped) {
    return;
  }
  impl_->stopped = true;
  impl_->draining.store(true, std::memory_order_release);
  impl_->reactors_stopping.store(true);
  // A read already in a handler finishes first (a handler that blocks for long is a bug: it
  // holds a network thread; after 10 s Stop() goes on without it, and says so).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (impl_->reactor_calls.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (impl_->reactor_calls.load() > 0) {
    spdlog::warn("http: stopping while a network thread is still in a handler");
  }
  impl_->pool.Stop();
  impl_->CloseStreams();
  if (impl_->started && impl_->transport) {
    impl_->transport->Shutdown();
  }
  if (impl_->poller != nullptr) {
    impl_->poller->Stop();
  }
}

bool Server::draining() const { return impl_->draining.load(std::memory_order_acquire); }

int Server::in_flight() const { return impl_->in_flight.load(std::memory_order_acquire); }

}  // namespace civic::http
