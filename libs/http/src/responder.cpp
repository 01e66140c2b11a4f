// Answering one request: a whole answer written on its connection (or through the transport's
// writer), prepared answers, and the public Responder that handlers hold.

#include "civic/http/problem.hpp"
#include "server_impl.hpp"
#include "wire_format.hpp"

namespace civic::http {

// Sends a whole answer on the exchange's connection; `close`: the answer says
// Connection: close, and the connection ends after it.
void Server::Impl::Deliver(Responder::Exchange& exchange, const std::string& bytes, bool close) {
  exchange.handed_over = true;
  exchange.connection->Write(exchange.ticket, bytes, close);
}

namespace {

// The body bytes an answer sends (none for HEAD, 204, 304).
size_t BodyBytes(const Responder::Exchange& exchange, const Response& response) {
  const bool no_body =
      exchange.method == Method::kHead || response.status == 204 || response.status == 304;
  return no_body ? 0 : response.body.size();
}

}  // namespace

void Server::Impl::Complete(Responder::Exchange& exchange, Response response) {
  if (!response.log_key.empty()) {
    exchange.log_key = std::move(response.log_key);
  }
  const size_t bytes = BodyBytes(exchange, response);
  if (exchange.connection != nullptr) {
    const bool close = exchange.close_connection || draining.load(std::memory_order_relaxed);
    // The connection ends after the answer when the client asked for that. While draining the
    // answer says close too, but the connections end with the process: ending each one now
    // only has clients reconnect to a server that is going away.
    Deliver(exchange,
            Serialize(response, exchange.request_id, AnswerHeaders(exchange),
                      exchange.method == Method::kHead, close),
            exchange.close_connection);
    // Logged once sent (off the answer's path), before it leaves the in-flight count (after
    // which the server, and its log, may go away).
    LogAccess(exchange, response.status, bytes);
    Finish(exchange, response.status);
    return;
  }
  // The transport writes it: the request id, CORS and the rate limit fields go among the response's
  // headers.
  if (!exchange.request_id.empty()) {
    response.headers.emplace_back("X-Request-Id", exchange.request_id);
  }
  for (auto& header : AnswerHeaders(exchange)) {
    response.headers.push_back(std::move(header));
  }
  const int status = response.status;
  const bool close = exchange.close_connection || draining.load(std::memory_order_relaxed);
  exchange.fallback->Send(std::move(response), close, exchange.method == Method::kHead);
  LogAccess(exchange, status, bytes);
  Finish(exchange, status);
}

void Server::Impl::Prepare(Responder::Exchange& exchange, Response response) {
  if (exchange.connection != nullptr && !exchange.close_connection) {
    exchange.prepared_bytes = Serialize(response, exchange.request_id, AnswerHeaders(exchange),
                                        exchange.method == Method::kHead, /*close=*/false);
  }
  exchange.prepared = std::move(response);
}

void Server::Impl::SendPrepared(Responder::Exchange& exchange) {
  // Formatted for a kept-alive connection: once draining, the answer must say close instead.
  if (!exchange.prepared_bytes.empty() && !draining.load(std::memory_order_relaxed)) {
    if (!exchange.prepared->log_key.empty()) {
      exchange.log_key = std::move(exchange.prepared->log_key);
    }
    Deliver(exchange, exchange.prepared_bytes, /*close=*/false);
    LogAccess(exchange, exchange.prepared->status, BodyBytes(exchange, *exchange.prepared));
    Finish(exchange, exchange.prepared->status);
    return;
  }
  Complete(exchange, std::move(*exchange.prepared));
}

Responder::Responder() = default;
Responder::Responder(std::unique_ptr<Exchange> exchange) : exchange_(std::move(exchange)) {}
Responder::Responder(Responder&& other) noexcept = default;
Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    if (exchange_ != nullptr) {
      Send(ProblemResponse(500, "The request was not answered."));
    }
    exchange_ = std::move(other.exchange_);
  }
  return *this;
}

Responder::~Responder() {
  if (exchange_ != nullptr) {
    try {
      Send(ProblemResponse(500, "An unexpected error occurred; it has been logged."));
    } catch (...) {
      // Destructors never throw.
    }
  }
}

void Responder::Send(Response response) {
  std::unique_ptr<Exchange> exchange = std::move(exchange_);
  exchange->server->Complete(*exchange, std::move(response));
}

void Responder::Prepare(Response response) {
  exchange_->server->Prepare(*exchange_, std::move(response));
}

bool Responder::prepared() const { return exchange_ != nullptr && exchange_->prepared.has_value(); }

void Responder::SendPrepared() {
  std::unique_ptr<Exchange> exchange = std::move(exchange_);
  exchange->server->SendPrepared(*exchange);
}

void Responder::SetLogKey(std::string key) { exchange_->log_key = std::move(key); }

std::unique_ptr<ResponseStream> Responder::StartStream(int status, const std::string& content_type,
                                                       Fields headers) {
  std::unique_ptr<Exchange> exchange = std::move(exchange_);
  return exchange->server->StartStream(*exchange, status, content_type, std::move(headers));
}

}  // namespace civic::http
