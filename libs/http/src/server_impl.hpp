// The server's insides shared by its parts: Server::Impl (options, routes, metrics, drain, the
// worker pool, the output poller, open streams, the transport), one request's Exchange, and the
// two interfaces the transport (pistache_transport.cpp) implements.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "civic/http/message.hpp"
#include "civic/http/router.hpp"
#include "civic/http/server.hpp"
#include "civic/metrics/metrics.hpp"
#include "connection.hpp"
#include "output_poller.hpp"
#include "worker_pool.hpp"

namespace civic::http {

// The transport's own writer for one answer, used when the server cannot write to the socket
// itself (TLS, which only the transport can write; no descriptor left; the client gone).
class FallbackWriter {
 public:
  virtual ~FallbackWriter() = default;
  // Sends `response` with its headers (CORS already among them) and its Content-Type, saying
  // Connection: close when `close` and keep-alive otherwise; no body when `head_only` (a HEAD
  // request), for a 204 or a 304. A failure is logged, not thrown.
  virtual void Send(Response response, bool close, bool head_only) = 0;
};

// What reads requests from the network and hands them to Server::Impl::Dispatch.
class Transport {
 public:
  virtual ~Transport() = default;
  // Binds and serves on background threads; returns the bound port. Throws what binding throws.
  virtual uint16_t Serve() = 0;
  // Asks the network threads to end (they are joined when the transport is destroyed).
  virtual void Shutdown() = 0;
};

// Pistache underneath (pistache_transport.cpp): reads requests of at most `max_request_bytes`,
// head and body, with the server's timeouts.
std::unique_ptr<Transport> MakePistacheTransport(Server::Impl& impl, size_t max_request_bytes);

// One request, from its arrival to its answer.
struct Responder::Exchange {
  Server::Impl* server = nullptr;
  std::unique_ptr<FallbackWriter> fallback;  // answers when `connection` is null
  Route* route = nullptr;
  Method method = Method::kGet;
  std::optional<std::string> origin;
  std::string request_id;  // echoed in X-Request-Id and logged (never empty once read)
  std::string trace_id;    // of a valid traceparent, for the log; empty: none
  std::string log_key;     // Response::log_key or Responder::SetLogKey
  bool close_connection = false;
  std::chrono::steady_clock::time_point start;
  std::shared_ptr<Connection> connection;  // null: answer through `fallback`
  uint64_t ticket = 0;                     // the answer's turn on `connection`
  bool handed_over = false;                // the answer (or its stream) has the ticket
  std::optional<Response> prepared;        // Responder::Prepare's response
  std::string prepared_bytes;              // ... formatted for `connection`, if any
  Fields extra_headers;                    // added to the answer (RateLimit near the limit)

  Exchange(Server::Impl* s, std::unique_ptr<FallbackWriter> w)
      : server(s), fallback(std::move(w)) {}
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  ~Exchange() {
    if (connection != nullptr && !handed_over) {
      connection->Abandon(ticket);
    }
  }

  // Takes the answer's turn on a connection (on the reactor thread, as the request is read).
  void Attach(std::shared_ptr<Connection> c) {
    connection = std::move(c);
    if (connection != nullptr) {
      ticket = connection->Begin();
    }
  }
};

struct Server::Impl {
  ServerOptions options;
  Router router;
  size_t smallest_body_limit = 0;  // of every route's and the default (set by Start)
  metrics::Family<metrics::Counter>* requests_total = nullptr;
  metrics::Family<metrics::Histogram>* request_duration = nullptr;
  metrics::Gauge* in_flight_gauge = nullptr;
  metrics::Counter* rejected_overload = nullptr;
  Route unmatched;  // stands for every request that matched no route, for metrics
  std::array<std::atomic<metrics::Counter*>, 600 * (static_cast<size_t>(Method::kOther) + 1)>
      unmatched_by_method_status{};

  std::atomic<int> in_flight{0};
  std::atomic<bool> draining{false};
  std::mutex drain_mu;  // guards nothing but pairs with drain_cv
  std::condition_variable drain_cv;

  std::unique_ptr<Transport> transport;
  WorkerPool pool;
  std::shared_ptr<OutputPoller> poller;  // for answers the sockets do not take at once
  std::mutex streams_mu;                 // guards streams
  std::vector<std::weak_ptr<ResponseStream::State>> streams;
  bool started = false;
  bool stopped = false;
  // Pistache's shutdown() only asks its reactor threads to end (they are joined when the
  // endpoint is destroyed): Stop() waits for the reads they are in to return instead, and once
  // it began no read reaches a handler, so that no handler runs after Stop().
  std::atomic<int> reactor_calls{0};
  std::atomic<bool> reactors_stopping{false};

  // server.cpp: metrics and the in-flight count.
  void PrepareMetrics(Route& route);
  void Record(const Responder::Exchange& exchange, int status);
  // The request is answered: metrics, and it leaves the in-flight count (waking a drain).
  void Finish(const Responder::Exchange& exchange, int status);
  // The access log record of an answer of `status` with `bytes` of body (if the log is on).
  void LogAccess(const Responder::Exchange& exchange, int status, size_t bytes) const;

  // cors.cpp: the CORS headers for the request's origin, if it is allowed.
  Fields CorsHeaders(const Responder::Exchange& exchange) const;

  // rate_limit.cpp.
  std::unique_ptr<RateLimiter> limiter;  // null: no limits
  uint64_t rate_seed = 0;
  std::chrono::steady_clock::time_point rate_epoch;
  std::vector<std::array<metrics::Counter*, kRateClasses>> limited;  // [role][class]
  // Builds the limiter and its metric when options.rate_limits.enabled.
  void PrepareRateLimits(metrics::Registry& registry);
  // Takes a token for `request` on `route`; when none is left, answers 429 through `exchange`
  // and returns true. Near the limit it adds the RateLimit fields to the exchange's answer.
  bool RateLimited(const Request& request, const Route& route,
                   std::unique_ptr<Responder::Exchange>& exchange);
  // What every answer of the exchange carries besides its own: CORS, then extra_headers.
  Fields AnswerHeaders(const Responder::Exchange& exchange) const;

  // responder.cpp: answering.
  // Sends a whole answer on the exchange's connection; `close`: the answer says
  // Connection: close, and the connection ends after it.
  static void Deliver(Responder::Exchange& exchange, const std::string& bytes, bool close);
  void Complete(Responder::Exchange& exchange, Response response);
  // Formats `response` for a later SendPrepared, on the calling thread.
  void Prepare(Responder::Exchange& exchange, Response response);
  void SendPrepared(Responder::Exchange& exchange);

  // response_stream.cpp.
  std::unique_ptr<ResponseStream> StartStream(Responder::Exchange& exchange, int status,
                                              const std::string& content_type, Fields headers);
  // Ends every stream still open (before the transport goes away).
  void CloseStreams();

  // dispatch.cpp.
  // Runs a synchronous handler and answers with its response, or 500 on an exception.
  void RunSync(const SyncHandler& handler, Request& request, Responder& responder);
  // Routes and answers the request. Whatever answers takes `exchange`; if this throws, it is
  // still there and the caller answers 500 (so the request leaves the in-flight count).
  void Dispatch(Request request, std::unique_ptr<Responder::Exchange>& exchange);
};

}  // namespace civic::http
