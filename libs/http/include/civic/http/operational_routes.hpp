#pragma once

#include <functional>
#include <optional>
#include <string>

#include "civic/http/router.hpp"

namespace civic::metrics {
class Registry;
}

namespace civic::http {

// Returns nothing when ready, or the reason the service is not ready (e.g. "storage not open").
using ReadinessCheck = std::function<std::optional<std::string>()>;

// Adds GET /healthz (alive: 200 while the process serves), GET /readyz (200, or 503 with the
// reason) and GET /metrics (Prometheus text format 0.0.4) to `router`.
// `registry` and `ready` must outlive the router.
void AddOperationalRoutes(Router& router, metrics::Registry& registry, ReadinessCheck ready);

}  // namespace civic::http
