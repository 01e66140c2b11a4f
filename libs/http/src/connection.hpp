// Connection: what the server keeps per TCP connection to write answers itself, in the order
// their requests came, from any thread (the socket's own descriptor, answers held for their turn,
// bytes the socket has not taken yet).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "output_poller.hpp"

namespace civic::http {

// What we keep per TCP connection, created on its first request (on the connection's reactor
// thread, while the socket is certainly open): one ordered writer for everything sent on it.
// Answers are written straight to the socket by whichever thread has them (a reactor, a worker,
// the ballot's answer thread) instead of going through Pistache's per-response queue, eventfd
// and reactor wake-up. `fd` is our own descriptor of the socket (dup), so it never names another
// connection's socket, even if Pistache closes its descriptor and the number is reused while an
// answer is on its way. Bytes the socket does not take at once wait here, in order, and the
// server's OutputPoller has them written as the socket takes more; everything written later on
// the connection queues behind them.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `fd`: our own descriptor of the socket (closed with the Connection); `client`: the
  // transport's handle of the connection, expired once the client is gone.
  Connection(int fd, std::weak_ptr<const void> client, std::shared_ptr<OutputPoller> poller)
      : fd_(fd), client_(std::move(client)), poller_(std::move(poller)) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (fd_ >= 0) {
      poller_->Forget(fd_);
      ::close(fd_);
    }
  }

  // Answers leave in the order their requests came, also when a client sends requests without
  // waiting for answers (pipelining, RFC 9112 9.3.2) and a later one is answered first by
  // another worker: each request takes a ticket as it is read (on the reactor thread, in order),
  // and an answer whose turn has not come waits here, whole, until those before it are written.
  uint64_t Begin() {
    std::lock_guard<std::mutex> lock(mu_);
    settled_ = false;
    return next_ticket_++;
  }

  // How many requests read on this connection still wait for (the rest of) their answers.
  uint64_t owed() {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_ ? 0 : next_ticket_ - current_;
  }
  // Whether an answer, or a part of one, is still to be handed to the socket.
  bool busy() {
    std::lock_guard<std::mutex> lock(mu_);
    return !failed_ && (next_ticket_ != current_ || unsent_locked() > 0 || inflight_);
  }
  // True once after every answer owed has been handed to the socket (since the last Begin).
  bool TakeSettled() {
    std::lock_guard<std::mutex> lock(mu_);
    const bool settled = settled_ && !failed_;
    settled_ = false;
    return settled;
  }
  // Whether the client has taken none of the bytes waiting for it for longer than `limit`.
  bool Stalled(std::chrono::steady_clock::time_point now, std::chrono::milliseconds limit);

  // Sends `bytes` of ticket's answer, after everything of the answers before it. Any thread.
  // `last`: the answer is complete with these bytes (a stream writes its chunks with false, then
  // its end with true). False, and nothing sent, once the client is gone, the connection failed
  // or it is closing. With `close` (an answer that says `Connection: close`) the server ends the
  // connection once these bytes are sent (RFC 9112 9.6), and sends nothing more on it.
  bool Write(uint64_t ticket, std::string_view bytes, bool close = false, bool last = true);

  // Ticket's request gets no answer on this connection (its exchange ended without one): the
  // answers after it need not wait for it.
  void Abandon(uint64_t ticket);

  // Writes pending bytes as far as the socket takes them (the poller thread, when it can).
  void Flush();

  // A WriteBatch handed `bytes` (this connection's next bytes) to the socket, which took
  // `result` of them (or failed with -result). Sends what waits behind them, or has the poller
  // do it once the socket takes more.
  void Sent(std::string_view bytes, int result);

  // Everything written is now with the socket: the connection ends if its last answer said
  // so, and is settled if nothing more is owed. REQUIRES: mu_ held.
  void SentAllLocked();

  // Writes pending bytes as far as the socket takes them, and has the poller call Flush for
  // the rest. REQUIRES: mu_ held, nothing in flight.
  void FlushLocked();

  // Whether nothing more can be sent: the client left, or a write failed.
  bool gone();
  // Bytes written but not yet handed to the socket.
  size_t buffered() {
    std::lock_guard<std::mutex> lock(mu_);
    return buffered_locked();
  }
  // Sends nothing more (what is still pending is dropped).
  void Fail() {
    std::lock_guard<std::mutex> lock(mu_);
    FailLocked();
  }

 private:
  // An answer, or the first part of one, that waits for its turn.
  struct Held {
    std::string bytes;
    bool close = false;
    bool last = false;
  };

  size_t unsent_locked() const { return pending_.size() - offset_; }
  size_t buffered_locked() const { return unsent_locked() + held_bytes_ + inflight_bytes_; }

  // Sends `bytes` now, or as the socket takes them. REQUIRES: mu_ held, not failed or closing.
  bool WriteLocked(std::string_view bytes, bool close);

  // The current answer is complete: the next ticket's turn, and what it already has is sent
  // (and the turn passes on while those held are complete). REQUIRES: mu_ held.
  void AdvanceLocked();

  // Notes that nothing is owed any more, for the reactor's timer (WatchedStep::id), which then
  // lets the connection time out as idle, counted from then. REQUIRES: mu_ held.
  void SettleLocked();

  // Empties the buffer, giving a large one's memory back (a kept-alive connection that once
  // sent a big answer must not keep its size).
  void ReleaseLocked();

  // Sends what the socket takes of `bytes` now; returns how much. REQUIRES: mu_ held.
  size_t SendSome(std::string_view bytes);

  // Everything is sent: the end of the connection follows it (the client reads all, then the
  // end), even while Pistache still holds its own descriptor.
  void EndLocked();

  // Nothing more goes out; the client is told by the connection's end (a cut-off stream must
  // not look like a slow one), even while Pistache still holds its own descriptor.
  void FailLocked();

  const int fd_;
  const std::weak_ptr<const void> client_;
  const std::shared_ptr<OutputPoller> poller_;

  std::mutex mu_;         // guards the members below
  std::string pending_;   // bytes the socket has not taken yet, from offset_
  size_t offset_ = 0;     // how much of pending_ is already sent
  bool settled_ = false;  // all owed was handed over since the last Begin
  std::chrono::steady_clock::time_point last_progress_;  // the socket last took bytes
  uint64_t next_ticket_ = 0;                             // the next request's
  uint64_t current_ = 0;                                 // the ticket whose answer is being written
  std::map<uint64_t, Held> held_;                        // later answers, by ticket
  size_t held_bytes_ = 0;                                // their bytes
  bool armed_ = false;                                   // the poller will call Flush
  bool inflight_ = false;      // a WriteBatch is sending this connection's next bytes
  size_t inflight_bytes_ = 0;  // how many
  bool failed_ = false;        // the client left, a write failed, or the server stopped
  bool closing_ = false;       // the last answer said Connection: close: end once it is sent
};

}  // namespace civic::http
