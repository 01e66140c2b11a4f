#pragma once

// The webhook subscription API: /v1/webhooks and /v1/webhook-deliveries (README, "Webhooks").

#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "storage/store.hpp"
#include "webhooks/ssrf.hpp"

namespace civic::events::webhooks {

// What the routes need besides the store: the operator's allow-list (a URL is checked when
// saved, and again by the worker at each delivery) and a way to wake the worker.
struct RouteContext {
  AllowList allow;
  std::function<void()> wake_up;
};

// POST/GET /v1/webhooks, GET/PATCH/DELETE /v1/webhooks/{id},
// POST /v1/webhooks/{id}/rotate-secret, GET /v1/webhooks/{id}/deliveries,
// GET /v1/webhook-deliveries/{id}, POST /v1/webhook-deliveries/{id}/redeliver.
// `context` must outlive the router.
void AddWebhookRoutes(http::Router& router, Store& store, const Clock& clock,
                      const RouteContext& context);

}  // namespace civic::events::webhooks
