#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "civic/http/message.hpp"
#include "civic/http/rate_limit.hpp"

namespace civic::metrics {
class Counter;
class Histogram;
}  // namespace civic::metrics

namespace civic::http {

class Responder;

// A handler that answers on the calling thread.
using SyncHandler = std::function<Response(const Request&)>;
// A handler that may answer later, from any thread, through the Responder it keeps.
using AsyncHandler = std::function<void(Request&&, Responder)>;

struct RouteOptions {
  // The body must be JSON (Content-Type application/json or */*+json, else 415) and is parsed
  // into Request::json before the handler runs (malformed: 400 with the byte offset).
  bool json_body = false;
  // Run the handler on the worker pool instead of the network thread (for SQLite or other
  // blocking work). Only for SyncHandler routes.
  bool offload = false;
  // Body size limit for this route; 0 means the server's default.
  size_t max_body_bytes = 0;
  // Which rate limit applies (rate_limit.hpp); kAuto: by the method.
  RateClass rate_class = RateClass::kAuto;
  // Runs after the rate limit and the body size limit, before the body checks (json_body) and
  // the handler, on the network thread: an answer it gives (a missing or refused key's 401) is
  // sent instead, so that who may not call the route learns nothing about its body. Must be
  // cheap and must not block (no storage).
  std::function<std::optional<Response>(const Request&)> gate = nullptr;
};

struct Route {
  Method method = Method::kGet;
  std::string pattern;  // "/v1/cities/{id}": literal segments and {name} parameters
  std::variant<SyncHandler, AsyncHandler> handler;
  RouteOptions options;

  // Filled by the router / server; not for handlers.
  std::vector<std::string> segments;
  int literal_count = 0;
  metrics::Histogram* duration = nullptr;
  std::shared_ptr<std::array<std::atomic<metrics::Counter*>, 600>> by_status;
};

// The route table of one service. Built once at start-up, then read-only (thread-safe reads).
class Router {
 public:
  Router& Add(Method method, std::string pattern, SyncHandler handler, RouteOptions options = {});
  Router& AddAsync(Method method, std::string pattern, AsyncHandler handler,
                   RouteOptions options = {});
  Router& Get(std::string pattern, SyncHandler handler, RouteOptions options = {});
  Router& Post(std::string pattern, SyncHandler handler, RouteOptions options = {});
  Router& Patch(std::string pattern, SyncHandler handler, RouteOptions options = {});
  Router& Put(std::string pattern, SyncHandler handler, RouteOptions options = {});
  Router& Delete(std::string pattern, SyncHandler handler, RouteOptions options = {});

  struct Match {
    Route* route = nullptr;  // null: no route for this method (see allowed) or path
    Fields params;
    std::vector<Method> allowed;  // methods with a route for this path (for 405 and CORS)
  };
  // Finds the route for `method` and `path`. A route with more literal segments wins over one
  // with parameters in their place. HEAD matches GET routes.
  Match Find(Method method, std::string_view path);

  std::vector<Route>& routes() { return routes_; }

 private:
  Router& AddRoute(Route route);
  std::vector<Route> routes_;
};

// "GET, POST" for an Allow header.
std::string AllowHeader(const std::vector<Method>& methods);

}  // namespace civic::http
