// Dispatch: a read request with more than one Authorization (400), then to its route (404,
// 405, OPTIONS and CORS preflight), the rate limit, the body size (413), the route's gate
// (RouteOptions::gate: a refused key), a query parameter given twice (422), the body checks
// every JSON route shares (415, 400, 422), then its handler: on the network thread, or
// offloaded to the worker pool (503 when the queue is full or the job waited too long).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <vector>

#include "civic/http/problem.hpp"
#include "json_body.hpp"
#include "server_impl.hpp"

namespace civic::http {

namespace {

bool HasBody(Method method) {
  return method == Method::kPost || method == Method::kPut || method == Method::kPatch;
}

// Whether `request` has more than one header field named `name` (lower case).
bool Repeated(const Request& request, std::string_view name) {
  int count = 0;
  for (const auto& [field, value] : request.headers) {
    count += field == name ? 1 : 0;
  }
  return count > 1;
}

// The names given more than once in the query, each once, in the order of their second use.
std::vector<std::string> RepeatedQueryNames(const Fields& query) {
  std::vector<std::string> repeated;
  for (size_t i = 0; i < query.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (query[j].first == query[i].first) {
        if (std::find(repeated.begin(), repeated.end(), query[i].first) == repeated.end()) {
          repeated.push_back(query[i].first);
        }
        break;
      }
    }
  }
  return repeated;
}

}  // namespace

void Server::Impl::RunSync(const SyncHandler& handler, Request& request, Responder& responder) {
  Response response;
  try {
    response = handler(request);
  } catch (const std::exception& e) {
    spdlog::error("http: {} {} failed (request id {}): {}", ToString(request.method), request.route,
                  request.request_id, e.what());
    response = ProblemResponse(500, "An unexpected error occurred; it has been logged.");
  }
  if (!response.stream) {
    responder.Send(std::move(response));
    return;
  }
  // A streamed body: the head now, then the handler's writer on this thread.
  if (!response.log_key.empty()) {
    responder.SetLogKey(std::move(response.log_key));
  }
  std::unique_ptr<ResponseStream> stream =
      responder.StartStream(response.status, response.content_type, std::move(response.headers));
  try {
    response.stream(*stream);
    stream->End();
  } catch (const std::exception& e) {
    spdlog::error("http: {} {} failed while streaming (request id {}): {}",
                  ToString(request.method), request.route, request.request_id, e.what());
    stream->Abort();
  } catch (...) {
    spdlog::error("http: {} {} failed while streaming (request id {})", ToString(request.method),
                  request.route, request.request_id);
    stream->Abort();
  }
}

void Server::Impl::Dispatch(Request request, std::unique_ptr<Responder::Exchange>& exchange) {
  if (draining.load(std::memory_order_acquire)) {
    Responder responder(std::move(exchange));
    responder.Send(ProblemResponse(503, "The service is shutting down; retry on another instance.")
                       .WithHeader("Retry-After", "1"));
    return;
  }
  // Two keys: which one is meant is not for the server to guess (each service would read the
  // first, and a proxy in front may read the last).
  if (Repeated(request, "authorization")) {
    Responder(std::move(exchange))
        .Send(
            ProblemResponse(400, "The request has more than one Authorization header; send one."));
    return;
  }
  Router::Match match = router.Find(request.method, request.path);

  if (request.method == Method::kOptions && !match.allowed.empty()) {
    Response response = Response::Empty(204);
    const std::string allow = AllowHeader(match.allowed);
    response.WithHeader("Allow", allow);
    if (request.Header("access-control-request-method")) {
      response.WithHeader("Access-Control-Allow-Methods", allow);
      // The request headers either service reads (a key only as Authorization: Bearer).
      response.WithHeader("Access-Control-Allow-Headers",
                          "Content-Type, Authorization, If-Match, If-None-Match, "
                          "Idempotency-Key, X-Request-Id, traceparent, Application-Token");
      response.WithHeader("Access-Control-Max-Age", "600");
    }
    Responder(std::move(exchange)).Send(std::move(response));
    return;
  }
  // Neither answer repeats the path: a path may hold a secret (a calendar feed token), and no
  // answer repeats a token (docs/security.md).
  if (match.route == nullptr) {
    if (match.allowed.empty()) {
      Responder(std::move(exchange)).Send(ProblemResponse(404, "No resource at this path."));
    } else {
      Responder(std::move(exchange))
          .Send(ProblemResponse(405, (request.method == Method::kOther
                                          ? std::string("This method")
                                          : std::string(ToString(request.method))) +
                                         " is not allowed here; Allow names the methods that are.")
                    .WithHeader("Allow", AllowHeader(match.allowed)));
    }
    return;
  }

  Route& route = *match.route;
  exchange->route = &route;
  request.params = std::move(match.params);
  request.route = route.pattern;
  if (RateLimited(request, route, exchange)) {
    return;
  }

  const size_t limit =
      route.options.max_body_bytes != 0 ? route.options.max_body_bytes : options.max_body_bytes;
  if (request.body.size() > limit) {
    Problem problem;
    problem.status = 413;
    problem.detail = "The body is " + std::to_string(request.body.size()) +
                     " bytes; the limit here is " + std::to_string(limit) + " bytes.";
    problem.extra["limit_bytes"] = limit;
    Responder(std::move(exchange)).Send(ProblemResponse(problem));
    return;
  }
  if (route.options.gate) {
    std::optional<Response> refused;
    try {
      refused = route.options.gate(request);
    } catch (const std::exception& e) {
      spdlog::error("http: {} {} gate failed (request id {}): {}", ToString(request.method),
                    request.route, request.request_id, e.what());
      refused = ProblemResponse(500, "An unexpected error occurred; it has been logged.");
    }
    if (refused) {
      Responder(std::move(exchange)).Send(std::move(*refused));
      return;
    }
  }
  // A query parameter given twice: which value is meant is not for the server to guess.
  if (const std::vector<std::string> repeated = RepeatedQueryNames(request.query);
      !repeated.empty()) {
    Problem problem;
    problem.status = 422;
    problem.detail = "The query has invalid parameters.";
    for (const auto& name : repeated) {
      problem.errors.push_back({name, "is given more than once"});
    }
    Responder(std::move(exchange)).Send(ProblemResponse(problem));
    return;
  }
  if (route.options.json_body && HasBody(request.method)) {
    if (!IsJsonMediaType(request.Header("content-type"))) {
      Responder(std::move(exchange))
          .Send(ProblemResponse(415,
                                "The body must be UTF-8 JSON (Content-Type: application/json)."));
      return;
    }
    if (request.body.empty()) {
      Responder(std::move(exchange)).Send(ProblemResponse(400, "A JSON body is required."));
      return;
    }
    if (JsonDepth(request.body, kMaxJsonDepth) > kMaxJsonDepth) {
      Responder(std::move(exchange))
          .Send(ProblemResponse(400, "The JSON body nests deeper than " +
                                         std::to_string(kMaxJsonDepth) + " levels."));
      return;
    }
    try {
      std::string repeated;
      request.json = ParseJsonBody(request.body, repeated);
      if (!repeated.empty()) {
        Problem problem;
        problem.status = 422;
        problem.detail = "The request has invalid fields.";
        problem.errors.push_back({repeated, "is given more than once"});
        Responder(std::move(exchange)).Send(ProblemResponse(problem));
        return;
      }
    } catch (const nlohmann::json::parse_error& e) {
      Problem problem;
      problem.status = 400;
      problem.detail = "Malformed JSON at byte " + std::to_string(e.byte) + ".";
      problem.extra["offset"] = e.byte;
      Responder(std::move(exchange)).Send(ProblemResponse(problem));
      return;
    } catch (const nlohmann::json::out_of_range&) {
      // A number too large for a double (1e309): well-formed JSON that cannot be read.
      Responder(std::move(exchange))
          .Send(ProblemResponse(400, "The JSON body holds a number out of range."));
      return;
    }
  }

  if (auto* async = std::get_if<AsyncHandler>(&route.handler)) {
    Responder responder(std::move(exchange));
    try {
      (*async)(std::move(request), std::move(responder));
    } catch (const std::exception& e) {
      // The responder, if the handler did not keep it, answers 500 as it is destroyed.
      spdlog::error("http: {} {} failed: {}", ToString(route.method), route.pattern, e.what());
    }
    return;
  }
  const SyncHandler& handler = std::get<SyncHandler>(route.handler);
  if (!route.options.offload) {
    Responder responder(std::move(exchange));
    RunSync(handler, request, responder);
    return;
  }
  // Offload: the job owns the request and the exchange until it answers.
  auto shared_request = std::make_shared<Request>(std::move(request));
  auto shared_exchange =
      std::make_shared<std::unique_ptr<Responder::Exchange>>(std::move(exchange));
  const auto queued_at = std::chrono::steady_clock::now();
  const bool posted = pool.Post(
      [this, &handler, shared_request, shared_exchange, queued_at] {
        Responder responder(std::move(*shared_exchange));
        if (std::chrono::steady_clock::now() - queued_at > options.queue_timeout) {
          responder.Send(ProblemResponse(503, "The service is overloaded; retry later.")
                             .WithHeader("Retry-After", "1"));
          return;
        }
        RunSync(handler, *shared_request, responder);
      },
      options.max_queued_requests);
  if (!posted) {
    rejected_overload->Inc();
    Responder(std::move(*shared_exchange))
        .Send(ProblemResponse(503, "The service is overloaded; retry later.")
                  .WithHeader("Retry-After", "1"));
  }
}

}  // namespace civic::http
