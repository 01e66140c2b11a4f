// The Pistache transport: everything that touches Pistache (0.0.5) is here. Its HTTP handler
// (a copy of Pistache's onInput with our changes), its parser steps wrapped (reached through a
// member-pointer trick) so that our Http1Parser reads heads and bodies, the step id that keeps
// its timer from timing out connections still owed answers, the mapping of its error texts to
// problem answers, its response writer for answers we cannot write ourselves, and its endpoint.
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

#include "civic/http/problem.hpp"
#include "http1_parser.hpp"
#include "refusal.hpp"
#include "server_impl.hpp"

namespace civic::http {

namespace P = Pistache;

namespace {

namespace PP = P::Http::Private;

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
    default:
      return Method::kOther;
  }
}

HttpVersion VersionOf(const P::Http::Request& request) {
  return request.version() == P::Http::Version::Http10 ? HttpVersion::kHttp10
                                                       : HttpVersion::kHttp11;
}

Request ToRequest(const P::Http::Request& in, Fields fields) {
  Request out;
  out.method = FromPistache(in.method());
  out.path = OriginForm(in.resource());
  const auto& query = in.query();
  for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
    // Pistache splits the query on '&' and '=' but does not decode it.
    out.query.emplace_back(PercentDecode(it->first, true), PercentDecode(it->second, true));
  }
  out.headers = std::move(fields);
  out.body = in.body();
  return out;
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

// Pistache's parser (0.0.5) keeps its steps protected and its cursor private. The steps are
// reachable through a pointer to a protected member, formed in a derived class and applied to
// the base; WatchedStep wraps each one to see the cursor (where the request ends in the bytes
// read) and to have our Http1Parser read the head and the body.
struct ParserSteps : PP::ParserBase {
  static auto& Of(PP::ParserBase& parser) { return parser.*(&ParserSteps::allSteps); }
};
// The same for a message's body, which our body step fills.
struct MessageBody : P::Http::Message {
  static std::string& Of(P::Http::Message& message) { return message.*(&MessageBody::body_); }
};

// A request whose head declares a body longer than its route takes (or the server, before the
// route is known): refused before the body is read.
struct DeclaredTooLarge : std::exception {
  explicit DeclaredTooLarge(size_t limit = 0) : limit_bytes(limit) {}
  const char* what() const noexcept override { return "declared body too large"; }
  size_t limit_bytes;  // 0: the server's
};

// Throws what our parser refused, as Pistache's steps throw: a 413 as DeclaredTooLarge, the
// rest as Pistache's HttpError with its status and reason (Handler::RefusalFor answers both).
[[noreturn]] void Raise(const ParseError& error) {
  if (error.status == 413) {
    throw DeclaredTooLarge(error.limit_bytes);
  }
  PP::Step::raise(error.reason.c_str(), static_cast<P::Http::Code>(error.status));
  throw std::logic_error("unreachable: Pistache's raise returned");
}

Http1Parser::Limits ParserLimits(size_t max_request_bytes) {
  Http1Parser::Limits limits;
  limits.max_body_bytes = max_request_bytes;
  return limits;
}

// What one connection's parser has read of the request in progress; our Http1Parser's
// callbacks, which put what it reads where Pistache's request and our handler want it.
struct ParseWatch : ParserCallbacks {
  static constexpr const char* kKey = "civic.parse";
  // A step id Pistache's timer knows nothing of, so applies no timeout to: what the parser's
  // step says while the connection still owes answers. Without it Pistache, which counts from
  // the last request read, cut streams (live results, exports) and slow answers off with a
  // 408 once the header timeout had passed.
  static constexpr PP::StepId kAnsweringId = P::Meta::Hash::fnv1a("civic.Answering");

  ParseWatch(P::Http::RequestParser& p, size_t max_request_bytes)
      : parser(&p), http1(*this, ParserLimits(max_request_bytes)) {}

  P::StreamCursor* cursor = nullptr;  // the parser's, once a step has run
  P::Http::RequestParser* parser;     // the connection's (the peer owns both)
  Http1Parser http1;                  // reads heads and bodies for Pistache's steps
  Fields fields;                      // the header fields of the request in progress, as read
  std::weak_ptr<Connection> connection;
  std::weak_ptr<P::Tcp::Peer> peer;  // the connection's (which owns this watch)
  bool read_done = false;            // no more input is read: after the last request, or a refusal
  bool idle_next = false;  // answers are all written: the timer marks the peer idle next round
  std::chrono::milliseconds send_timeout{0};
  std::chrono::milliseconds header_timeout{0};
  std::chrono::milliseconds body_timeout{0};
  // Answers a request that did not arrive in time (408 problem) and ends the connection; set
  // by the handler. Called on the reactor thread.
  std::function<void()> on_stall;
  // The body limit of the route a request's line names (Router::Find; set by the handler),
  // asked only when a head declares more than `smallest_body_limit` or a chunked body.
  std::function<size_t(P::Http::Method, const std::string&)> route_body_limit;
  size_t smallest_body_limit = 0;

  // Pistache's request-line step reads the line next (method, target, query, version), and
  // refuses an unknown method or version with its own texts (RefusalFor).
  CallbackResult OnRequestLine(std::string_view, std::string_view, std::string_view) override {
    return CallbackResult::Pause();
  }
  CallbackResult OnHeaderField(std::string_view name, std::string_view value) override {
    fields.emplace_back(std::string(name), std::string(value));
    return CallbackResult::Continue();
  }
  // The body limit is the server's (the parser's default) unless the head declares more than
  // the smallest route limit, or a chunked body: then the limit of the route the line names.
  CallbackResult OnHeadersComplete(const RequestHead& head) override {
    if (route_body_limit &&
        (head.chunked || head.content_length.value_or(0) > smallest_body_limit)) {
      http1.SetBodyLimit(route_body_limit(parser->request.method(), parser->request.resource()));
    }
    // The body's room at once, as Pistache's body step reserved it (within the limit only).
    if (head.content_length && *head.content_length <= http1.body_limit()) {
      MessageBody::Of(parser->request).reserve(static_cast<size_t>(*head.content_length));
    }
    return CallbackResult::Pause();  // Pistache's header step is over: its body step is next
  }
  CallbackResult OnBodyData(std::string_view data) override {
    MessageBody::Of(parser->request).append(data);
    return CallbackResult::Continue();
  }
  CallbackResult OnMessageComplete() override { return CallbackResult::Continue(); }
};

class WatchedStep : public PP::Step {
 public:
  WatchedStep(P::Http::Message* for_message, std::unique_ptr<PP::Step> inner,
              std::shared_ptr<ParseWatch> watch)
      : PP::Step(for_message), inner_(std::move(inner)), watch_(std::move(watch)) {}

  // Called by Pistache's timer only (TransportImpl::checkIdlePeers, on the reactor thread), to
  // choose the timeout that applies: none while the connection owes answers; the keep-alive
  // timeout once they are written, counted from then (Pistache counts from when the request
  // was read, which would close a connection at once after an answer that took longer); and
  // a client that takes none of its answer's bytes for send_timeout is disconnected.
  PP::StepId id() const override;
  // The wrapped step's own id, whatever the connection owes.
  PP::StepId inner_id() const { return inner_->id(); }

  // The request line is checked by our parser, then read by Pistache's step (which also
  // refuses an unknown method before the line has ended, as before). The head and the body are
  // read by our parser alone: Pistache's header step made a typed header (and its parse) for
  // each line, and its body step trusted Content-Length and reserved a chunk's declared size
  // before any limit (http1_parser.hpp, request_head.cpp, chunked_body.cpp say what each
  // refuses and why).
  PP::State apply(P::StreamCursor& cursor) override {
    watch_->cursor = &cursor;
    const PP::StepId id = inner_->id();
    if (id == PP::RequestLineStep::Id) {
      // onInput drops empty lines before a request line, so the parser consumes exactly the
      // line that Pistache's step reads.
      if (watch_->http1.at_message_start()) {
        Parse(cursor, /*advance=*/false);
      }
      return inner_->apply(cursor);
    }
    if (id == PP::HeadersStep::Id) {
      return Parse(cursor, /*advance=*/true) == ParseStatus::kPaused ? PP::State::Next
                                                                     : PP::State::Again;
    }
    if (id == PP::BodyStep::Id) {
      return Parse(cursor, /*advance=*/true) == ParseStatus::kDone ? PP::State::Done
                                                                   : PP::State::Again;
    }
    return inner_->apply(cursor);
  }

 private:
  // Has our parser read the bytes at the cursor; with `advance` the cursor moves past what it
  // consumed. Throws its refusal (Raise).
  ParseStatus Parse(P::StreamCursor& cursor, bool advance) {
    const ParseResult result =
        watch_->http1.Execute(std::string_view(cursor.offset(), cursor.remaining()));
    if (result.status == ParseStatus::kError) {
      Raise(watch_->http1.error());
    }
    if (advance && result.consumed > 0) {
      cursor.advance(result.consumed);
    }
    return result.status;
  }

  std::unique_ptr<PP::Step> inner_;
  std::shared_ptr<ParseWatch> watch_;
};

// Which of Pistache's steps the parser is at (its steps are wrapped: see WatchOf).
PP::StepId StepOf(P::Http::RequestParser& parser) {
  return static_cast<const WatchedStep*>(parser.step())->inner_id();
}

// Whether the parser holds nothing of a next request.
bool AtRequestStart(P::Http::RequestParser& parser, const ParseWatch& watch) {
  return StepOf(parser) == PP::RequestLineStep::Id &&
         (watch.cursor == nullptr || watch.cursor->remaining() == 0);
}

PP::StepId WatchedStep::id() const {
  const auto connection = watch_->connection.lock();
  // A request that began and did not arrive whole in time gets our 408 (a problem) before
  // Pistache's timer, which reads its clock just before this call, would send its bare one
  // (by this later clock the request is at least as late). Not while answers are owed.
  const bool in_progress = watch_->http1.in_trailer() || !AtRequestStart(*watch_->parser, *watch_);
  if (!watch_->read_done && in_progress && watch_->on_stall &&
      (connection == nullptr || !connection->busy())) {
    const auto limit =
        inner_->id() == PP::BodyStep::Id ? watch_->body_timeout : watch_->header_timeout;
    if (std::chrono::steady_clock::now() - watch_->parser->time() > limit) {
      watch_->on_stall();
      return ParseWatch::kAnsweringId;
    }
  }
  if (connection == nullptr) {
    return inner_->id();
  }
  if (connection->Stalled(std::chrono::steady_clock::now(), watch_->send_timeout)) {
    spdlog::debug("http: a client took nothing for {} ms: disconnected",
                  watch_->send_timeout.count());
    connection->Fail();
    return ParseWatch::kAnsweringId;
  }
  if (connection->busy()) {
    return ParseWatch::kAnsweringId;
  }
  // Pistache measured this round from the old clock and reads the idle flag after this call:
  // the clock restarts now, the flag is set next round.
  if (connection->TakeSettled() && AtRequestStart(*watch_->parser, *watch_)) {
    watch_->parser->reset();  // empty: this only restarts its clock
    watch_->idle_next = true;
    return ParseWatch::kAnsweringId;
  }
  if (watch_->idle_next) {
    watch_->idle_next = false;
    if (auto peer = watch_->peer.lock();
        peer != nullptr && AtRequestStart(*watch_->parser, *watch_)) {
      peer->setIdle(true);
      return ParseWatch::kAnsweringId;
    }
  }
  return inner_->id();
}

// The connection's watch, its parser's steps wrapped on first use. Call on the reactor thread.
std::shared_ptr<ParseWatch> WatchOf(const std::shared_ptr<P::Tcp::Peer>& peer,
                                    P::Http::RequestParser& parser, size_t max_request_bytes,
                                    std::chrono::milliseconds send_timeout) {
  if (auto data = peer->tryGetData(ParseWatch::kKey)) {
    return std::static_pointer_cast<ParseWatch>(data);
  }
  auto watch = std::make_shared<ParseWatch>(parser, max_request_bytes);
  watch->peer = peer;
  watch->send_timeout = send_timeout;
  for (auto& step : ParserSteps::Of(parser)) {
    step = std::make_unique<WatchedStep>(&parser.request, std::move(step), watch);
  }
  peer->putData(ParseWatch::kKey, watch);
  return watch;
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
        Serve(request, std::move(writer), std::move(watch->fields), last);
        watch->fields = Fields{};
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
    Serve(request, std::move(writer), Fields{}, EndsConnection(VersionOf(request), Fields{}));
  }

  // Answers one request, whose header fields (as our parser read them) are `fields`; `last`:
  // it ends the connection (EndsConnection).
  void Serve(const P::Http::Request& request, P::Http::ResponseWriter writer, Fields fields,
             bool last) {
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
      converted = ToRequest(request, std::move(fields));
    } catch (const std::exception& e) {
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
    parser.reset();
    watch.http1.Reset();
    watch.fields.clear();
    watch.read_done = true;
    auto exchange = std::make_unique<Responder::Exchange>(
        impl_, std::make_unique<PistacheWriter>(
                   P::Http::ResponseWriter(P::Http::Version::Http11, transport(), this, peer)));
    exchange->start = std::chrono::steady_clock::now();
    exchange->method = method;
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
