#include "civic/http/operational_routes.hpp"

#include "civic/http/problem.hpp"
#include "civic/metrics/metrics.hpp"

namespace civic::http {

namespace {
// Probes and scrapes are never rate limited: an orchestrator or Prometheus must always get in.
const RouteOptions kOperational{.rate_class = RateClass::kUnlimited};
}  // namespace

void AddOperationalRoutes(Router& router, metrics::Registry& registry, ReadinessCheck ready) {
  router.Get(
      "/healthz",
      [](const Request&) {
        return Response::Json(200, {{"status", "ok"}}).WithHeader("Cache-Control", "no-store");
      },
      kOperational);
  router.Get(
      "/readyz",
      [ready = std::move(ready)](const Request&) {
        if (auto reason = ready()) {
          Problem problem;
          problem.status = 503;
          problem.title = "Not Ready";
          problem.detail = *reason;
          return ProblemResponse(problem).WithHeader("Cache-Control", "no-store");
        }
        return Response::Json(200, {{"status", "ready"}}).WithHeader("Cache-Control", "no-store");
      },
      kOperational);
  router.Get(
      "/metrics",
      [&registry](const Request&) {
        return Response::Text(200, metrics::kContentType, registry.Serialize())
            .WithHeader("Cache-Control", "no-store");
      },
      kOperational);
}

}  // namespace civic::http
