#include "pistache_steps.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace civic::http::pistache_steps {

namespace {

// Pistache's parser (0.0.5) keeps its steps protected and its cursor private. The steps are
// reachable through a pointer to a protected member, formed in a derived class and applied to
// the base; WatchedStep wraps each one to see the cursor (where the request ends in the bytes
// read) and to have our Http1Parser read the head and the body.
struct ParserSteps : PP::ParserBase {
  static auto& Of(PP::ParserBase& parser) { return parser.*(&ParserSteps::allSteps); }
};
Http1Parser::Limits ParserLimits(size_t max_request_bytes) {
  Http1Parser::Limits limits;
  limits.max_body_bytes = max_request_bytes;
  return limits;
}

}  // namespace

// Throws what our parser refused, as Pistache's steps throw: a 413 as DeclaredTooLarge, the
// rest as Pistache's HttpError with its status and reason (Handler::RefusalFor answers both).
void Raise(const ParseError& error) {
  if (error.status == 413) {
    throw DeclaredTooLarge(error.limit_bytes);
  }
  PP::Step::raise(error.reason.c_str(), static_cast<P::Http::Code>(error.status));
  throw std::logic_error("unreachable: Pistache's raise returned");
}

ParseWatch::ParseWatch(P::Http::RequestParser& p, size_t max_request_bytes)
    : parser(&p), http1(*this, ParserLimits(max_request_bytes)) {}

CallbackResult ParseWatch::OnRequestLine(std::string_view, std::string_view request_target,
                                         std::string_view) {
  target.assign(request_target);
  return CallbackResult::Pause();
}

CallbackResult ParseWatch::OnHeaderField(std::string_view name, std::string_view value) {
  fields.emplace_back(std::string(name), std::string(value));
  return CallbackResult::Continue();
}

CallbackResult ParseWatch::OnHeadersComplete(const RequestHead& head) {
  if (route_body_limit && (head.chunked || head.content_length.value_or(0) > smallest_body_limit)) {
    http1.SetBodyLimit(route_body_limit(parser->request.method(), parser->request.resource()));
  }
  // The body's room at once, as Pistache's body step reserved it (within the limit only).
  if (head.content_length && *head.content_length <= http1.body_limit()) {
    MessageBody::Of(parser->request).reserve(static_cast<size_t>(*head.content_length));
  }
  return CallbackResult::Pause();  // Pistache's header step is over: its body step is next
}

CallbackResult ParseWatch::OnBodyData(std::string_view data) {
  MessageBody::Of(parser->request).append(data);
  return CallbackResult::Continue();
}

CallbackResult ParseWatch::OnMessageComplete() { return CallbackResult::Continue(); }

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

}  // namespace civic::http::pistache_steps
