#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "civic/http/access_log.hpp"
#include "civic/http/message.hpp"
#include "civic/http/rate_limit.hpp"
#include "civic/http/router.hpp"

namespace civic::metrics {
class Registry;
}

namespace civic::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;                  // 0: the kernel picks a free port; Start() returns it
  int threads = 1;                    // network (reactor) threads
  int workers = 2;                    // threads that run offloaded handlers (SQLite, outbound HTTP)
  size_t max_body_bytes = 64 * 1024;  // default per-route body limit (413 over it)
  size_t max_queued_requests = 10'000;  // offloaded requests waiting; over it: 503
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds keepalive_timeout{60'000};
  // A client that takes none of the bytes of its answer for this long is disconnected.
  std::chrono::milliseconds send_timeout{60'000};
  // An offloaded request still queued after this long is answered 503 instead of run.
  std::chrono::milliseconds queue_timeout{10'000};
  // Origins allowed for cross-origin browser calls: "*" or exact origins. Empty: no CORS headers.
  std::vector<std::string> cors_origins = {"*"};
  // Rate limits (off unless enabled); a limited request is a 429 before its handler runs.
  RateLimitOptions rate_limits;
  // Where each answered request is recorded; null: no access log.
  std::shared_ptr<AccessLog> access_log;
};

// A response whose body is sent in pieces (HTTP/1.1 chunked transfer coding) after its headers,
// e.g. Server-Sent Events or a long export. Obtained from Responder::StartStream. Use it from one
// thread at a time (any thread). Server::Stop() ends every stream still open; after that Write()
// returns false.
class ResponseStream {
 public:
  struct State;
  explicit ResponseStream(std::shared_ptr<State> state);
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;
  // Ends the response if it is still open.
  ~ResponseStream();

  // Sends `data` as one chunk, now. Returns false, and closes the stream, when the client has
  // gone or the server stopped. Empty `data` sends nothing and returns open().
  bool Write(std::string_view data);
  // Ends the response (the last, empty chunk). Idempotent.
  void End();
  // Closes the connection at once, dropping what the socket has not taken: for a client that
  // stopped reading. Idempotent.
  void Abort();
  bool open() const;
  // Bytes written but not yet handed to the socket; a writer producing a lot (an export) waits
  // while this is large. Over 16 MiB a Write() fails: the client is too slow.
  size_t buffered() const;

 private:
  std::shared_ptr<State> state_;
};

// Answers one request, once, from any thread. Move-only. A Responder destroyed without an answer
// answers 500 (so a handler that forgets, or throws, never leaves a client hanging).
class Responder {
 public:
  struct Exchange;
  Responder();
  explicit Responder(std::unique_ptr<Exchange> exchange);
  Responder(Responder&& other) noexcept;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  // Sends `response`. REQUIRES: valid().
  void Send(Response response);
  // Formats `response` now, on this thread, for SendPrepared to send later from any thread (an
  // answer known before the event it waits for, e.g. a vote's receipt before its commit).
  // Send() may still be called instead. REQUIRES: valid().
  void Prepare(Response response);
  bool prepared() const;
  // Sends what Prepare formatted. REQUIRES: prepared().
  void SendPrepared();
  // Sends the status line and headers (`content_type`, `headers`, plus what every response gets:
  // CORS, Connection) now and returns the stream for the body. From here the request counts as
  // answered (metrics, in-flight, drain). REQUIRES: valid(); the Responder is empty afterwards.
  std::unique_ptr<ResponseStream> StartStream(int status, const std::string& content_type,
                                              Fields headers = {});
  bool valid() const { return exchange_ != nullptr; }
  // Names the caller's key in the access log (Response::log_key), for answers that carry no
  // Response of their own (a stream) or are prepared before the caller is known to the sender.
  // A Response's own non-empty log_key wins. REQUIRES: valid().
  void SetLogKey(std::string key);

 private:
  std::unique_ptr<Exchange> exchange_;
};

// While one is alive on a thread, the whole answers that thread writes to connections with
// nothing else to send are collected, and handed to their sockets together when it ends: one
// io_uring_enter for all of them instead of one send() each (a thread that answers many
// requests at once, e.g. the ballot's answers to a committed batch of votes). What a socket does
// not take then waits and is written as it takes more, as always; answers on one connection
// still leave in order. Without io_uring (an old kernel, a sandbox that refuses it, or
// CIVIC_HTTP_URING=off in the environment) writes go out at once, as without a batch. Nested
// batches on one thread are one batch (the outermost sends). Not movable; one thread.
class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();  // sends what was collected
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  // Sends what was collected so far, and returns how many answers that was (0 when writes are
  // not collected here); the batch goes on collecting.
  size_t Send();
  // Whether writes are collected on this machine (io_uring is there and allowed).
  static bool Supported();

 private:
  bool outermost_ = false;
};

// An HTTP server (Pistache underneath) for one Router. Adds to every response what all endpoints
// share: X-Request-Id (the caller's when sane, else made: correlation.hpp), problem+json errors for
// unknown routes (404), wrong methods (405 + Allow), oversized bodies (413), wrong content types
// (415), malformed JSON (400 with the offset), exceptions (500, logged); CORS; HTTP/1.1 keep-alive;
// request metrics by route pattern; an access log record per answer (ServerOptions::access_log);
// graceful drain.
class Server {
 public:
  Server(ServerOptions options, Router router, metrics::Registry& registry);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and serves on background threads. Returns the bound port.
  // Throws std::runtime_error naming the address when it cannot listen.
  uint16_t Start();
  // Stops taking new requests (they get 503) and waits up to `timeout` for those in flight.
  // Returns true when none is left.
  bool Drain(std::chrono::milliseconds timeout);
  // Stops the network threads and the worker pool. When it returns no handler runs any more
  // (one already running on a network thread is waited for; bytes read from then on are not
  // acted on). Idempotent.
  void Stop();

  bool draining() const;
  int in_flight() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace civic::http
