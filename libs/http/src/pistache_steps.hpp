// The Pistache transport's parser steps (part of the transport: with pistache_transport.cpp
// the only files that touch Pistache). Pistache 0.0.5's parser runs a request through its
// steps (request line, headers, body); each is wrapped in a WatchedStep so that our
// Http1Parser reads the head and the body, the cursor shows where a request ends in the bytes
// read, and the step id tells Pistache's timer which timeout applies. ParseWatch is one
// connection's state of all that, kept on its peer.
#pragma once

#include <pistache/http.h>
#include <pistache/peer.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "connection.hpp"
#include "http1_parser.hpp"

namespace civic::http::pistache_steps {

namespace P = Pistache;
namespace PP = P::Http::Private;

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

// What one connection's parser has read of the request in progress; our Http1Parser's
// callbacks, which put what it reads where Pistache's request and our handler want it.
struct ParseWatch : ParserCallbacks {
  static constexpr const char* kKey = "civic.parse";
  // A step id Pistache's timer knows nothing of, so applies no timeout to: what the parser's
  // step says while the connection still owes answers. Without it Pistache, which counts from
  // the last request read, cut streams (live results, exports) and slow answers off with a
  // 408 once the header timeout had passed.
  static constexpr PP::StepId kAnsweringId = P::Meta::Hash::fnv1a("civic.Answering");

  ParseWatch(P::Http::RequestParser& p, size_t max_request_bytes);

  P::StreamCursor* cursor = nullptr;  // the parser's, once a step has run
  P::Http::RequestParser* parser;     // the connection's (the peer owns both)
  Http1Parser http1;                  // reads heads and bodies for Pistache's steps
  Fields fields;                      // the header fields of the request in progress, as read
  std::string target;  // the request line's target of the request in progress, as sent
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

  // Keeps the target (Pistache's request keeps the query as a map: one value per name). Then
  // Pistache's request-line step reads the line (method, target, query, version), and refuses
  // an unknown method or version with its own texts (RefusalFor).
  CallbackResult OnRequestLine(std::string_view, std::string_view, std::string_view) override;
  CallbackResult OnHeaderField(std::string_view name, std::string_view value) override;
  // The body limit is the server's (the parser's default) unless the head declares more than
  // the smallest route limit, or a chunked body: then the limit of the route the line names.
  CallbackResult OnHeadersComplete(const RequestHead& head) override;
  CallbackResult OnBodyData(std::string_view data) override;
  CallbackResult OnMessageComplete() override;
};

// Throws what our parser refused, as Pistache's steps throw: a 413 as DeclaredTooLarge, the
// rest as Pistache's HttpError with its status and reason (the handler answers both).
[[noreturn]] void Raise(const ParseError& error);

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
PP::StepId StepOf(P::Http::RequestParser& parser);

// Whether the parser holds nothing of a next request.
bool AtRequestStart(P::Http::RequestParser& parser, const ParseWatch& watch);

// The connection's watch, its parser's steps wrapped on first use. Call on the reactor thread.
std::shared_ptr<ParseWatch> WatchOf(const std::shared_ptr<P::Tcp::Peer>& peer,
                                    P::Http::RequestParser& parser, size_t max_request_bytes,
                                    std::chrono::milliseconds send_timeout);

}  // namespace civic::http::pistache_steps
