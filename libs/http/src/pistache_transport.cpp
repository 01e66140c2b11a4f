// The Pistache transport: everything that touches Pistache (0.0.5) is here and in its parser
// steps (pistache_steps.hpp: wrapped through a member-pointer trick so that our Http1Parser
// reads heads and bodies, with the step id that keeps Pistache's timer from timing out
// connections still owed answers). Here: its HTTP handler (a copy of Pistache's onInput with our
// changes), the mapping of its error texts to problem answers, its response writer for answers
// we cannot write ourselves, and its endpoint.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/net.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <optional>
#include <stdexcept>

#include "civic/http/correlation.hpp"
#include "civic/http/problem.hpp"
#include "http1_parser.hpp"
#include "pistache_steps.hpp"
#include "refusal.hpp"
#include "server_impl.hpp"
#include "wire_format.hpp"

namespace civic::http {

namespace P = Pistache;

namespace {

namespace PP = P::Http::Private;
using namespace pistache_steps;  // NOLINT(google-build-using-namespace): the transport's own parts

Method FromPistache(P::Http::Method method) {
  switch (method) {
    case P::Http::Method::Get:
      return Method::kGet;
    case P::Http::Method::Head:
      return Method::kHead;
    case P::Http::Method::Post:
      return Method::kPost;
    case P::Http::Method::Put:
      return Method::kPut;
    case P::Http::Method::Patch:
      return Method::kPatch;
    case P::Http::Method::Delete:
      return Method::kDelete;
    case P::Http::Method::Options:
      return Method::kOptions;
    case P::Http::Method::Trace:
      return Method::kTrace;
    case P::Http::Method::Connect:
      return Method::kConnect;
    default:
      return Method::kOther;
  }
}

HttpVersion VersionOf(const P::Http::Request& request) {
  return request.version() == P::Http::Version::Http10 ? HttpVersion::kHttp10
                                                       : HttpVersion::kHttp11;
}

// `target`: the request line's target as sent (ParseWatch), whose query is read here: Pistache
// keeps one value per name (the first), and a name given twice must be seen to be refused.
Request ToRequest(const P::Http::Request& in, Fields fields, std::string_view target) {
  Request out;
  out.method = FromPistache(in.method());
  out.path = OriginForm(in.resource());
  if (const size_t question = target.find('?'); question != std::string_view::npos) {
    out.query = ParseQueryString(target.substr(question + 1));
  }
  out.headers = std::move(fields);
  out.body = in.body();
  return out;
}

// The request id a request's header `fields` give (the first X-Request-Id, when sane), else a
// new one.
std::string RequestIdOf(const Fields& fields) {
  for (const auto& [name, value] : fields) {
    if (name == "x-request-id") {
      return IsSaneRequestId(value) ? value : MakeRequestId();
    }
  }
  return MakeRequestId();
}

// Sets the request's id and traceparent (the first one, when valid) and the exchange's copies.
void Correlate(Request& request, Responder::Exchange& exchange) {
  request.request_id = RequestIdOf(request.headers);
  for (const auto& [name, value] : request.headers) {
    if (name == "traceparent") {
      if (auto trace_id = TraceIdOf(value)) {
        request.traceparent = value;
        exchange.trace_id = std::move(*trace_id);
      }
      break;
    }
  }
  exchange.request_id = request.request_id;
}

// A response header with a name known only at run time. Pistache writes typed headers only
// (raw ones are dropped on output), so every header we send goes through this class.
class DynamicHeader : public P::Http::Header::Header {
 public:
  static constexpr uint64_t kHash = P::Http::Header::detail::hash("x-civic-dynamic-header");
  DynamicHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& stream) const override { stream << value_; }
  // Never equal to a typed Pistache header's hash, so header_cast<> never mistakes it for one.
  uint64_t hash() const override { return kHash; }

 private:
  std::string name_;
  std::string value_;
};

void SetHeader(P::Http::Header::Collection& headers, std::string name, std::string value) {
  headers.remove(name);
  headers.add(std::make_shared<DynamicHeader>(std::move(name), std::move(value)));
}

// Answers through Pistache's own writer (FallbackWriter).
class PistacheWriter : public FallbackWriter {
 public:
  explicit PistacheWriter(P::Http::ResponseWriter writer) : writer_(std::move(writer)) {}

  void Send(Response response, bool close, bool head_only) override {
    auto& headers = writer_.headers();
    SetHeader(headers, "Date", HttpDate());  // as every answer (wire_format.hpp)
    for (auto& [name, value] : response.headers) {
      SetHeader(headers, std::move(name), std::move(value));
    }
    if (!response.content_type.empty()) {
      writer_.setMime(P::Http::Mime::MediaType::fromString(response.content_type));
    }
    // Pistache answers "Connection: Close" to an HTTP/1.1 request without a Connection header
    // (and keeps the socket open anyway); HTTP/1.1 means keep-alive unless the client says close.
    headers.remove<P::Http::Header::Connection>();
    headers.add<P::Http::Header::Connection>(close ? P::Http::ConnectionControl::Close
                                                   : P::Http::ConnectionControl::KeepAlive);
    const int status = response.status;
    const auto code = static_cast<P::Http::Code>(status);
    try {
      if (head_only || status == 204 || status == 304) {
        writer_.send(code);
      } else {
        writer_.send(code, response.body);
      }
    } catch (const std::exception& e) {
      spdlog::debug("http: could not send a response: {}", e.what());
    }
  }

 private:
  P::Http::ResponseWriter writer_;
};

// The peer's data key of its Connection.
constexpr const char* kConnectionKey = "civic.conn";

// The connection of `peer`, created on first use; null when the client is gone, on TLS (which
// only Pistache can write) or when no descriptor is left: the caller then answers through
// Pistache. Call on the peer's reactor thread only.
std::shared_ptr<Connection> ConnectionOf(const std::shared_ptr<P::Tcp::Peer>& peer,
                                         const std::shared_ptr<OutputPoller>& poller) {
  if (peer == nullptr || peer->ssl() != nullptr || poller == nullptr) {
    return nullptr;
  }
  if (auto data = peer->tryGetData(kConnectionKey)) {
    return std::static_pointer_cast<Connection>(data);
  }
  const int fd = ::fcntl(peer->fd(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    return nullptr;
  }
  // Answers to pipelined requests are written one after another: with Nagle's algorithm each
  // after the first waited for the client's delayed ACK (~40 ms).
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto connection = std::make_shared<Connection>(fd, std::weak_ptr<const void>(peer), poller);
  peer->putData(kConnectionKey, connection);
  return connection;
}

class Handler : public P::Http::Handler {
 public:
  HTTP_PROTOTYPE(Handler)

  explicit Handler(Server::Impl* impl) : impl_(impl) {}

  // Pistache's own Http::Handler::onInput (0.0.5), step for step, except in these things.
  // - Bytes read after a complete request (the next requests of a client that pipelines) are
  //   parsed as the requests they are; Pistache drops them with its buffer, and that client
  //   waits forever for their answers. Up to kMaxOwed requests may wait for answers at once.
  // - After a request that ends the connection (Connection: close, HTTP/1.0) nothing more is
  //   read: requests sent after it must not be acted on (RFC 9112 9.6).
  // - A chunked body's trailer section, and empty lines before a request line, are skipped;
  //   Pistache read them as the start of the next request.
  // - When the parser refuses the bytes Pistache answers in plain text (a header it cannot
  //   parse even as a 500 with the exception's text) and goes on reading the connection as if
  //   the next bytes began a request. Here the refusal is a problem+json answer that says
  //   Connection: close, the connection ends after it, and nothing more it sends is read (what
  //   follows a request whose framing is unknown could be anything, a request hidden in a body
  //   included).
  void onInput(const char* buffer, size_t len, const std::shared_ptr<P::Tcp::Peer>& peer) override {
    // Counted before the check (both seq_cst): either Stop() sees this call and waits for it,
    // or this call sees Stop() and reads nothing.
    impl_->reactor_calls.fetch_add(1);
    struct Leave {
      std::atomic<int>& calls;
      ~Leave() { calls.fetch_sub(1); }
    } leave{impl_->reactor_calls};
    if (impl_->reactors_stopping.load()) {
      return;
    }
    auto parser = getParser(peer);
    auto& request = parser->request;
    const auto watch = WatchOf(peer, *parser, getMaxRequestSize(), impl_->options.send_timeout);
    if (watch->read_done) {
      return;
    }
    if (!watch->on_stall) {
      watch->header_timeout = impl_->options.header_timeout;
      watch->body_timeout = impl_->options.body_timeout;
      // The peer owns the watch, the watch this function: neither is held strongly here.
      watch->on_stall = [this, weak = std::weak_ptr<P::Tcp::Peer>(peer), raw = watch.get()] {
        if (auto stalled = weak.lock()) {
          Refuse(stalled, *getParser(stalled), *raw,
                 ProblemResponse(408, "The request was not received in time."));
        }
      };
      watch->smallest_body_limit = impl_->smallest_body_limit;
      watch->route_body_limit = [impl = impl_](P::Http::Method method, const std::string& target) {
        const Router::Match match = impl->router.Find(FromPistache(method), OriginForm(target));
        return match.route != nullptr && match.route->options.max_body_bytes != 0
                   ? match.route->options.max_body_bytes
                   : impl->options.max_body_bytes;
      };
    }
    std::string rest;  // what came after the request just parsed, in the same read
    std::string_view input(buffer, len);
    while (true) {
      if (watch->http1.in_trailer()) {
        // Pistache ended a chunked body at the last chunk's size line, `0`, and read the
        // trailer section (fields, then an empty line) as if it began the next request: our
        // parser skips it, outside Pistache's.
        const ParseResult skipped = watch->http1.Execute(input);
        input.remove_prefix(skipped.consumed);
        if (skipped.status == ParseStatus::kError) {
          const ParseError& error = watch->http1.error();
          Refuse(peer, *parser, *watch, RefusalFor(error.status, error.reason));
          return;
        }
        if (watch->http1.in_trailer()) {
          return;
        }
      }
      if (AtRequestStart(*parser, *watch)) {
        // RFC 9112 2.2: empty lines before a request line are ignored.
        size_t skip = 0;
        while (skip < input.size() && (input[skip] == '\r' || input[skip] == '\n')) {
          ++skip;
        }
        input.remove_prefix(skip);
        if (input.empty()) {
          return;
        }
        // A new request's header timeout counts from its first byte, not from the last
        // request read on the connection (the parser is empty: this only restarts its clock).
        if (std::chrono::steady_clock::now() - parser->time() > std::chrono::milliseconds(100)) {
          parser->reset();
        }
      }
      try {
        if (!parser->feed(input.data(), input.size())) {
          Refuse(peer, *parser, *watch, TooLarge(0));
          return;
        }
        if (parser->parse() != PP::State::Done) {
          // A request has begun: its header and body timeouts apply (while the connection is
          // idle, Pistache would apply only the keep-alive timeout, and close without a word).
          peer->setIdle(false);
          watch->idle_next = false;
          return;
        }
        if (auto connection = watch->connection.lock();
            connection != nullptr && connection->owed() >= kMaxOwed) {
          Refuse(peer, *parser, *watch,
                 ProblemResponse(503, "Too many requests on this connection wait for answers (" +
                                          std::to_string(kMaxOwed) +
                                          "); wait for answers before sending more.")
                     .WithHeader("Retry-After", "1"));
          return;
        }
        std::string next;
        if (watch->cursor != nullptr && watch->cursor->remaining() > 0) {
          next.assign(watch->cursor->offset(), watch->cursor->remaining());
        }
        const bool last = EndsConnection(VersionOf(request), watch->fields);
        P::Http::ResponseWriter writer(request.version(), transport(), this, peer);
        request.copyAddress(peer->address());
        peer->setIdle(false);
        watch->idle_next = false;
        Serve(request, std::move(writer), std::move(watch->fields), watch->target, last);
        watch->fields = Fields{};
        watch->target.clear();
        parser->reset();
        if (watch->connection.expired()) {
          if (auto data = peer->tryGetData(kConnectionKey)) {
            watch->connection = std::static_pointer_cast<Connection>(data);
          }
        }
        if (last) {
          watch->read_done = true;
          return;
        }
        rest = std::move(next);
        input = rest;
      } catch (const P::Http::HttpError& e) {
        Refuse(peer, *parser, *watch, RefusalFor(static_cast<int>(e.code()), e.reason()));
        return;
      } catch (const DeclaredTooLarge& e) {
        Refuse(peer, *parser, *watch, TooLarge(e.limit_bytes));
        return;
      } catch (const std::exception& e) {
        // Not expected (our parser returns its refusals, Pistache's steps throw HttpError):
        // whatever else a step throws is a request that cannot be read.
        spdlog::debug("http: refused a request: {}", e.what());
        Refuse(peer, *parser, *watch,
               ProblemResponse(400,
                               "The request could not be read: a header or the body's "
                               "framing is malformed."));
        return;
      }
    }
  }

  // Pistache calls this only from its own onInput, which ours replaces: never called.
  void onRequest(const P::Http::Request& request, P::Http::ResponseWriter writer) override {
    Serve(request, std::move(writer), Fields{}, request.resource(),
          EndsConnection(VersionOf(request), Fields{}));
  }

  // Answers one request, whose header fields and request target (as our parser read them) are
  // `fields` and `target`; `last`: it ends the connection (EndsConnection).
  void Serve(const P::Http::Request& request, P::Http::ResponseWriter writer, Fields fields,
             std::string_view target, bool last) {
    const auto peer = writer.getPeer();
    auto exchange = std::make_unique<Responder::Exchange>(
        impl_, std::make_unique<PistacheWriter>(std::move(writer)));
    exchange->start = std::chrono::steady_clock::now();
    try {
      exchange->Attach(ConnectionOf(peer, impl_->poller));
    } catch (const std::exception& e) {
      spdlog::debug("http: answering through Pistache: {}", e.what());
    }
    impl_->in_flight.fetch_add(1, std::memory_order_acq_rel);
    impl_->in_flight_gauge->Inc();
    Request converted;
    try {
      converted = ToRequest(request, std::move(fields), target);
      converted.peer_address = request.address().host();
      Correlate(converted, *exchange);
    } catch (const std::exception& e) {
      exchange->request_id = MakeRequestId();
      Responder responder(std::move(exchange));
      responder.Send(ProblemResponse(400, "The request could not be read."));
      return;
    }
    exchange->method = converted.method;
    exchange->origin = converted.Header("origin");
    exchange->close_connection = last;
    try {
      impl_->Dispatch(std::move(converted), exchange);
    } catch (const std::exception& e) {
      spdlog::error("http: {} failed before a handler answered: {}", request.resource(), e.what());
      if (exchange != nullptr) {
        Responder(std::move(exchange))
            .Send(ProblemResponse(500, "An unexpected error occurred; it has been logged."));
      }
    }
  }

 private:
  // Requests read on one connection that may wait for their answers at once.
  static constexpr uint64_t kMaxOwed = 128;

  // `limit_bytes`: the route's body limit; 0 for the server's (head and body).
  Response TooLarge(size_t limit_bytes) const {
    return TooLargeResponse(limit_bytes, getMaxRequestSize());
  }

  // The answer to a request refused by Pistache's parser (by its fixed reason texts, then its
  // status) or by ours (ParseError: status and reason).
  static Response RefusalFor(int code, const std::string& reason) {
    if (reason == "Unknown HTTP request method") {
      return ProblemResponse(501, "The request method is not one this server implements.");
    }
    if (reason == "Encountered invalid HTTP version") {
      return RefusalResponse(505, reason);
    }
    return RefusalResponse(code, reason);
  }

  // Answers a request the parser refused, then ends the connection and ignores its input. In
  // metrics its method is the one the request line named, if it was read.
  void Refuse(const std::shared_ptr<P::Tcp::Peer>& peer, P::Http::RequestParser& parser,
              ParseWatch& watch, Response response) {
    const Method method = StepOf(parser) == PP::RequestLineStep::Id
                              ? Method::kOther
                              : FromPistache(parser.request.method());
    std::string request_id = RequestIdOf(watch.fields);
    parser.reset();
    watch.http1.Reset();
    watch.fields.clear();
    watch.read_done = true;
    auto exchange = std::make_unique<Responder::Exchange>(
        impl_, std::make_unique<PistacheWriter>(
                   P::Http::ResponseWriter(P::Http::Version::Http11, transport(), this, peer)));
    exchange->start = std::chrono::steady_clock::now();
    exchange->method = method;
    exchange->request_id = std::move(request_id);
    exchange->close_connection = true;
    try {
      exchange->Attach(ConnectionOf(peer, impl_->poller));
    } catch (const std::exception& e) {
      spdlog::debug("http: answering through Pistache: {}", e.what());
    }
    impl_->in_flight.fetch_add(1, std::memory_order_acq_rel);
    impl_->in_flight_gauge->Inc();
    Responder(std::move(exchange)).Send(std::move(response));
  }

  Server::Impl* impl_;
};

// Pistache's endpoint, serving with our Handler.
class PistacheTransport : public Transport {
 public:
  PistacheTransport(Server::Impl& impl, size_t max_request_bytes) {
    const P::Address address(impl.options.host, P::Port(impl.options.port));
    endpoint_ = std::make_unique<P::Http::Endpoint>(address);
    auto opts = P::Http::Endpoint::options()
                    .threads(impl.options.threads)
                    .flags(P::Tcp::Options::ReuseAddr)
                    .maxRequestSize(max_request_bytes)
                    .headerTimeout(impl.options.header_timeout)
                    .bodyTimeout(impl.options.body_timeout)
                    .keepaliveTimeout(impl.options.keepalive_timeout)
                    .backlog(1024);
    endpoint_->init(opts);
    endpoint_->setHandler(P::Http::make_handler<Handler>(&impl));
  }

  uint16_t Serve() override {
    endpoint_->serveThreaded();
    return static_cast<uint16_t>(endpoint_->getPort());
  }

  void Shutdown() override { endpoint_->shutdown(); }

 private:
  std::unique_ptr<P::Http::Endpoint> endpoint_;
};

}  // namespace

std::unique_ptr<Transport> MakePistacheTransport(Server::Impl& impl, size_t max_request_bytes) {
  return std::make_unique<PistacheTransport>(impl, max_request_bytes);
}

}  // namespace civic::http
