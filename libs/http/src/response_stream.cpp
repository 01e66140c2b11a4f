// Response streams: answers whose body is sent in chunks after the head (Server-Sent Events,
// exports), written through the connection in the answer's turn; the server ends them at stop.
#include <chrono>
#include <cstdio>

#include "civic/http/problem.hpp"
#include "server_impl.hpp"
#include "wire_format.hpp"

namespace civic::http {

struct ResponseStream::State {
  static constexpr size_t kMaxBuffered = 16 * 1024 * 1024;

  std::shared_ptr<Connection> connection;
  uint64_t ticket = 0;     // the answer's turn on `connection`
  bool close = false;      // the connection ends after the stream (the request asked)
  std::mutex mu;           // guards accepting and bytes
  bool accepting = false;  // Write() allowed: started and not yet ended or failed
  size_t bytes = 0;        // data written in chunks, for the access log

  // What the access log records when the stream ends (the State goes with its ResponseStream);
  // null `log`: no access log.
  std::shared_ptr<AccessLog> log;
  Method method = Method::kGet;
  int status = 200;
  std::string route;
  std::string request_id;
  std::string key;
  std::string trace_id;
  std::chrono::steady_clock::time_point start;

  ~State() {
    if (log == nullptr) {
      return;
    }
    try {
      AccessRecord record;
      record.time = std::chrono::system_clock::now();
      record.method = method;
      record.route = route;
      record.status = status;
      record.duration = std::chrono::steady_clock::now() - start;
      record.bytes = bytes;
      record.request_id = request_id;
      record.key = key;
      record.trace_id = trace_id;
      log->Write(record);
    } catch (...) {
      // Destructors never throw; a record that cannot be written is lost.
    }
  }

  static void AppendChunk(std::string& out, std::string_view data) {
    char size[24];
    const int n = std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    out.append(size, static_cast<size_t>(n));
    out.append(data);
    out.append("\r\n");
  }

  // Ends the body (the last chunk). REQUIRES: mu held.
  void EndLocked() {
    if (accepting) {
      accepting = false;
      connection->Write(ticket, "0\r\n\r\n", close);
    }
  }
};

ResponseStream::ResponseStream(std::shared_ptr<State> state) : state_(std::move(state)) {}

ResponseStream::~ResponseStream() { End(); }

bool ResponseStream::Write(std::string_view data) {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (!state_->accepting) {
    return false;
  }
  if (state_->connection->gone()) {
    state_->accepting = false;
    return false;
  }
  if (data.empty()) {
    return true;
  }
  if (state_->connection->buffered() + data.size() > State::kMaxBuffered) {
    // The client reads far slower than we write: give up on it.
    state_->accepting = false;
    state_->connection->Fail();
    return false;
  }
  std::string chunk;
  chunk.reserve(data.size() + 16);
  State::AppendChunk(chunk, data);
  if (!state_->connection->Write(state_->ticket, chunk, /*close=*/false, /*last=*/false)) {
    state_->accepting = false;
    return false;
  }
  state_->bytes += data.size();
  return true;
}

void ResponseStream::End() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->EndLocked();
}

void ResponseStream::Abort() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->accepting = false;
  if (state_->connection != nullptr) {
    state_->connection->Fail();
  }
}

bool ResponseStream::open() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->accepting && state_->connection->gone()) {
    state_->accepting = false;
  }
  return state_->accepting;
}

size_t ResponseStream::buffered() const {
  return state_->connection != nullptr ? state_->connection->buffered() : 0;
}

std::unique_ptr<ResponseStream> Server::Impl::StartStream(Responder::Exchange& exchange, int status,
                                                          const std::string& content_type,
                                                          Fields headers) {
  Response response;
  response.status = status;
  response.content_type = content_type;
  response.headers = std::move(headers);
  const bool close = exchange.close_connection || draining.load(std::memory_order_relaxed);
  std::string head;
  AppendHead(head, response, exchange.request_id, AnswerHeaders(exchange), close);
  head += "Transfer-Encoding: chunked\r\n\r\n";

  auto state = std::make_shared<ResponseStream::State>();
  state->connection = exchange.connection;
  if (state->connection == nullptr) {
    // The client is gone, or no descriptor is left: no stream; a 503 if anyone still listens.
    Complete(exchange, ProblemResponse(503, "The response cannot be streamed now; retry later.")
                           .WithHeader("Retry-After", "1"));
    return std::make_unique<ResponseStream>(std::move(state));
  }
  if (options.access_log != nullptr) {
    state->log = options.access_log;
    state->method = exchange.method;
    state->status = status;
    state->route = exchange.route != nullptr ? exchange.route->pattern : unmatched.pattern;
    state->request_id = exchange.request_id;
    state->key = exchange.log_key;
    state->trace_id = exchange.trace_id;
    state->start = exchange.start;
  }
  {
    std::lock_guard<std::mutex> lock(state->mu);
    state->ticket = exchange.ticket;
    state->close = exchange.close_connection;
    exchange.handed_over = true;
    // A HEAD request gets the head only: the stream is closed from the start.
    const bool head_only = exchange.method == Method::kHead;
    const bool sent =
        state->connection->Write(state->ticket, head, head_only && state->close, head_only);
    state->accepting = sent && !head_only;
  }
  Finish(exchange, status);
  {
    std::lock_guard<std::mutex> lock(streams_mu);
    std::erase_if(streams, [](const auto& weak) { return weak.expired(); });
    streams.push_back(state);
  }
  return std::make_unique<ResponseStream>(std::move(state));
}

void Server::Impl::CloseStreams() {
  std::lock_guard<std::mutex> lock(streams_mu);
  for (const auto& weak : streams) {
    if (auto state = weak.lock()) {
      std::lock_guard<std::mutex> stream_lock(state->mu);
      state->EndLocked();
      // The transport goes away next: nothing may be sent after this.
      state->connection->Fail();
    }
  }
  streams.clear();
}

}  // namespace civic::http
