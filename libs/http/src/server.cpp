#include "civic/http/server.hpp"

#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/net.h>
#include <pistache/peer.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "civic/http/problem.hpp"
#include "civic/metrics/metrics.hpp"

namespace civic::http {

namespace P = Pistache;

namespace {

constexpr int kMaxJsonDepth = 64;
// A request's head has limits of its own, whatever its route's body may hold: the request line
// (414 over it), the header section (431) and its number of fields (431). The request buffer
// holds a head and the largest body any route takes.
constexpr size_t kMaxRequestLineBytes = 8 * 1024;
constexpr size_t kMaxHeaderBytes = 32 * 1024;
constexpr size_t kMaxHeaderFields = 100;
constexpr size_t kHeaderAllowance = kMaxRequestLineBytes + kMaxHeaderBytes;

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

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), AsciiLower);
  return s;
}

// Copies what handlers need out of Pistache's request; the header fields are our header
// step's (WatchedStep::ApplyHead).
// The path of a request target: an absolute-form target ("http://host:port/path", RFC 9112
// 3.2.2, which a server must accept) without its scheme and authority; any other as it is.
std::string OriginForm(const std::string& target) {
  const size_t scheme_end = target.find("://");
  if (scheme_end == std::string::npos || target.empty() || target.front() == '/') {
    return target;
  }
  const std::string_view scheme(target.data(), scheme_end);
  if (!EqualsIgnoreCase(scheme, "http") && !EqualsIgnoreCase(scheme, "https")) {
    return target;
  }
  const size_t path = target.find('/', scheme_end + 3);
  return path == std::string::npos ? "/" : target.substr(path);
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

// Depth of [ and { nesting outside strings; stops counting past `limit`.
int JsonDepth(std::string_view text, int limit) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > limit) {
        return max_depth;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

// Parses a JSON body as nlohmann::json::parse does, and names the first member an object gives
// more than once ("team_rules.min_size", "review_criteria[1].weight"), which the parse alone
// would settle silently for the last value. Throws what nlohmann::json::parse throws.
nlohmann::json ParseJsonBody(const std::string& body, std::string& repeated) {
  struct Frame {
    bool object = false;
    std::vector<std::string> keys;  // few per object: a scan beats a set
    std::string key;
    int64_t index = -1;  // an array's: the element being read
  };
  std::vector<Frame> frames;
  const auto element_begins = [&frames] {
    if (!frames.empty() && !frames.back().object) {
      ++frames.back().index;
    }
  };
  using Event = nlohmann::json::parse_event_t;
  auto callback = [&](int /*depth*/, Event event, nlohmann::json& parsed) {
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        element_begins();
        frames.push_back(Frame{event == Event::object_start, {}, {}, -1});
        break;
      case Event::object_end:
      case Event::array_end:
        if (!frames.empty()) {
          frames.pop_back();
        }
        break;
      case Event::key: {
        if (frames.empty()) {
          break;
        }
        Frame& frame = frames.back();
        frame.key = parsed.get<std::string>();
        if (std::find(frame.keys.begin(), frame.keys.end(), frame.key) != frame.keys.end()) {
          if (repeated.empty()) {
            for (const Frame& outer : frames) {
              if (outer.object) {
                repeated += (repeated.empty() ? "" : ".") + outer.key;
              } else {
                repeated += "[" + std::to_string(outer.index) + "]";
              }
            }
          }
        } else {
          frame.keys.push_back(frame.key);
        }
        break;
      }
      case Event::value:
        element_begins();
        break;
    }
    return true;
  };
  return nlohmann::json::parse(body, callback);
}

bool IsJsonMediaType(const std::optional<std::string>& content_type) {
  if (!content_type) {
    return false;
  }
  std::string media = Lower(content_type->substr(0, content_type->find(';')));
  while (!media.empty() && media.back() == ' ') {
    media.pop_back();
  }
  return media == "application/json" ||
         (media.size() > 5 && media.compare(media.size() - 5, 5, "+json") == 0);
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

bool HasBody(Method method) {
  return method == Method::kPost || method == Method::kPut || method == Method::kPatch;
}

// A bounded FIFO of jobs run by a fixed set of threads.
class WorkerPool {
 public:
  void Start(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { Run(); });
    }
  }
  // Returns false when the queue is full or the pool stopped.
  bool Post(std::function<void()> job, size_t max_queued) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_ || queue_.size() >= max_queued) {
        return false;
      }
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
    for (auto& thread : threads_) {
      if (thread.joinable()) {
        thread.join();
      }
    }
    threads_.clear();
  }
  size_t queued() {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
        if (queue_.empty()) {
          return;  // stopped and drained
        }
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
    }
  }

  std::mutex mu_;  // guards queue_ and stopped_
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

class Connection;

// One thread per server that waits, with epoll, for sockets that did not take all their bytes to
// take more, and then has their connections write on.
class OutputPoller {
 public:
  OutputPoller() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_fd_ < 0 || wake_fd_ < 0) {
      Close();
      throw std::runtime_error("http: cannot create the output poller");
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = wake_fd_;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0) {
      Close();
      throw std::runtime_error("http: cannot create the output poller");
    }
    try {
      thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "http-output");
        Run();
      });
    } catch (...) {
      Close();
      throw;
    }
  }
  ~OutputPoller() {
    Stop();
    Close();
  }
  OutputPoller(const OutputPoller&) = delete;
  OutputPoller& operator=(const OutputPoller&) = delete;

  // Calls `connection`'s Flush once, on the poller thread, when `fd` can take bytes again.
  // False when epoll refuses (no memory, watch limit) or the poller is stopping (an answer still
  // being written as the server stops: nothing would flush it): the caller gives up on the
  // connection, whose client then sees the end.
  bool Arm(int fd, std::weak_ptr<Connection> connection) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.load(std::memory_order_acquire)) {
      return false;
    }
    watched_[fd] = std::move(connection);
    epoll_event event{};
    event.events = EPOLLOUT | EPOLLONESHOT;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) == 0) {
      return true;
    }
    if (errno == ENOENT && ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0) {
      return true;
    }
    watched_.erase(fd);
    return false;
  }
  // Stops watching `fd` (before it is closed).
  void Forget(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    if (watched_.erase(fd) > 0) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    }
  }
  // Ends the thread. Connections that still had bytes to send are shut down, so that their
  // clients see the end rather than wait on a cut-off answer. Idempotent.
  void Stop();

 private:
  void Run();
  void Close() {
    if (epoll_fd_ >= 0) {
      ::close(epoll_fd_);
    }
    if (wake_fd_ >= 0) {
      ::close(wake_fd_);
    }
    epoll_fd_ = wake_fd_ = -1;
  }

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;  // guards watched_
  std::unordered_map<int, std::weak_ptr<Connection>> watched_;
  std::thread thread_;
};

// The answers collected by the WriteBatch alive on this thread (server.hpp), sent together by
// one io_uring submission when it ends. Each thread has its own ring, made on its first batch.
class PendingSends {
 public:
  // This thread's, while a WriteBatch is alive on it and io_uring works here; else null.
  static PendingSends* Active() { return active_; }
  // This thread's, or null when io_uring is off, refused or broken here.
  static PendingSends* ForThisThread();
  static bool Enabled();
  static void SetActive(PendingSends* sends) { active_ = sends; }

  // Copies `bytes`, to be sent on `fd` (the connection's own descriptor) by Send().
  void Add(std::shared_ptr<Connection> connection, int fd, std::string_view bytes) {
    entries_.push_back(Entry{std::move(connection), fd, bytes_.size(), bytes.size(), 0});
    bytes_.append(bytes);
  }
  // Hands everything added to the sockets, then tells each connection what its socket took.
  // Returns how many answers that was.
  size_t Send();

  PendingSends(const PendingSends&) = delete;
  PendingSends& operator=(const PendingSends&) = delete;
  ~PendingSends() {
    if (ring_ok_) {
      io_uring_queue_exit(&ring_);
    }
  }

 private:
  static constexpr unsigned kRingEntries = 256;
  struct Entry {
    std::shared_ptr<Connection> connection;
    int fd;
    size_t offset;  // in bytes_
    size_t size;
    int result;  // bytes the socket took, or -errno; kUnknown: submitted, no completion
  };
  static constexpr int kUnknown = std::numeric_limits<int>::min();

  PendingSends() { ring_ok_ = io_uring_queue_init(kRingEntries, &ring_, 0) == 0; }
  // Submits entries_[first, first + n) and collects their results.
  void SubmitAndReap(size_t first, unsigned n);

  static thread_local PendingSends* active_;
  io_uring ring_{};
  bool ring_ok_ = false;
  std::vector<Entry> entries_;
  std::string bytes_;
};

thread_local PendingSends* PendingSends::active_ = nullptr;

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
  static constexpr const char* kKey = "civic.conn";

  Connection(int fd, std::weak_ptr<P::Tcp::Peer> peer, std::shared_ptr<OutputPoller> poller)
      : fd_(fd), peer_(std::move(peer)), poller_(std::move(poller)) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (fd_ >= 0) {
      poller_->Forget(fd_);
      ::close(fd_);
    }
  }

  // The connection of `peer`, created on first use; null when the client is gone, on TLS (which
  // only Pistache can write) or when no descriptor is left: the caller then answers through
  // Pistache. Call on the peer's reactor thread only.
  static std::shared_ptr<Connection> Of(const std::shared_ptr<P::Tcp::Peer>& peer,
                                        const std::shared_ptr<OutputPoller>& poller) {
    if (peer == nullptr || peer->ssl() != nullptr || poller == nullptr) {
      return nullptr;
    }
    if (auto data = peer->tryGetData(kKey)) {
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
    auto connection = std::make_shared<Connection>(fd, peer, poller);
    peer->putData(kKey, connection);
    return connection;
  }

  std::shared_ptr<P::Tcp::Peer> peer() const { return peer_.lock(); }

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
  bool Stalled(std::chrono::steady_clock::time_point now, std::chrono::milliseconds limit) {
    std::lock_guard<std::mutex> lock(mu_);
    return !failed_ && unsent_locked() > 0 && now - last_progress_ > limit;
  }

  // Sends `bytes` of ticket's answer, after everything of the answers before it. Any thread.
  // `last`: the answer is complete with these bytes (a stream writes its chunks with false, then
  // its end with true). False, and nothing sent, once the client is gone, the connection failed
  // or it is closing. With `close` (an answer that says `Connection: close`) the server ends the
  // connection once these bytes are sent (RFC 9112 9.6), and sends nothing more on it.
  bool Write(uint64_t ticket, std::string_view bytes, bool close = false, bool last = true) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) {
      return false;
    }
    if (failed_ || peer_.expired()) {
      FailLocked();
      return false;
    }
    if (ticket != current_) {
      Held& held = held_[ticket];
      held.bytes.append(bytes);
      held.close = held.close || close;
      held.last = last;
      held_bytes_ += bytes.size();
      return true;
    }
    if (!WriteLocked(bytes, close)) {
      return false;
    }
    if (last) {
      AdvanceLocked();
    }
    return true;
  }

  // Ticket's request gets no answer on this connection (its exchange ended without one): the
  // answers after it need not wait for it.
  void Abandon(uint64_t ticket) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_ || closing_) {
      return;
    }
    if (ticket == current_) {
      AdvanceLocked();
    } else if (ticket > current_) {
      held_[ticket].last = true;
    }
  }

  // Writes pending bytes as far as the socket takes them (the poller thread, when it can).
  void Flush() {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = false;
    if (!inflight_) {
      FlushLocked();
    }
  }

  // A WriteBatch handed `bytes` (this connection's next bytes) to the socket, which took
  // `result` of them (or failed with -result). Sends what waits behind them, or has the poller
  // do it once the socket takes more.
  void Sent(std::string_view bytes, int result) {
    std::lock_guard<std::mutex> lock(mu_);
    inflight_ = false;
    inflight_bytes_ = 0;
    if (failed_) {
      return;
    }
    size_t sent = 0;
    if (result > 0) {
      sent = std::min(static_cast<size_t>(result), bytes.size());
    } else if (result < 0 && result != -EAGAIN && result != -EWOULDBLOCK && result != -EINTR) {
      FailLocked();  // reset or closed by the client
      return;
    }
    if (sent > 0) {
      last_progress_ = std::chrono::steady_clock::now();
    }
    if (sent < bytes.size()) {
      // The socket is full: the rest goes first when it takes more.
      pending_.erase(0, offset_);
      offset_ = 0;
      pending_.insert(0, bytes.substr(sent));
      if (!armed_) {
        armed_ = poller_->Arm(fd_, weak_from_this());
        if (!armed_) {
          FailLocked();
        }
      }
      return;
    }
    if (unsent_locked() == 0) {
      SentAllLocked();
      return;
    }
    FlushLocked();  // answers written while these bytes were on their way
  }

  // Everything written is now with the socket: the connection ends if its last answer said
  // so, and is settled if nothing more is owed. REQUIRES: mu_ held.
  void SentAllLocked() {
    ReleaseLocked();
    if (closing_) {
      EndLocked();
    }
    SettleLocked();
  }

  // Writes pending bytes as far as the socket takes them, and has the poller call Flush for
  // the rest. REQUIRES: mu_ held, nothing in flight.
  void FlushLocked() {
    if (failed_ || unsent_locked() == 0) {
      return;
    }
    const size_t sent = SendSome(std::string_view(pending_).substr(offset_));
    if (failed_) {
      return;
    }
    offset_ += sent;
    if (sent > 0) {
      last_progress_ = std::chrono::steady_clock::now();
    }
    if (unsent_locked() == 0) {
      SentAllLocked();
      return;
    }
    if (offset_ > pending_.size() / 2) {
      pending_.erase(0, offset_);
      offset_ = 0;
    }
    armed_ = poller_->Arm(fd_, weak_from_this());
    if (!armed_) {
      FailLocked();
    }
  }

  // Whether nothing more can be sent: the client left, or a write failed.
  bool gone() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failed_ && peer_.expired()) {
      FailLocked();
    }
    return failed_;
  }
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
  bool WriteLocked(std::string_view bytes, bool close) {
    closing_ = close;
    if (close) {
      held_.clear();  // nothing after this answer is sent
      held_bytes_ = 0;
    }
    if (unsent_locked() == 0 && !inflight_) {
      ReleaseLocked();
      if (PendingSends* batch = PendingSends::Active()) {
        batch->Add(shared_from_this(), fd_, bytes);
        inflight_ = true;
        inflight_bytes_ = bytes.size();
        return true;
      }
      const size_t sent = SendSome(bytes);
      if (failed_) {
        return false;
      }
      if (sent == bytes.size()) {
        if (closing_) {
          EndLocked();
        }
        return true;
      }
      bytes.remove_prefix(sent);
      last_progress_ = std::chrono::steady_clock::now();
    }
    pending_.append(bytes);
    if (!armed_ && !inflight_) {  // in flight: Sent() sends these after those bytes
      armed_ = poller_->Arm(fd_, weak_from_this());
      if (!armed_) {
        FailLocked();
        return false;
      }
    }
    return true;
  }

  // The current answer is complete: the next ticket's turn, and what it already has is sent
  // (and the turn passes on while those held are complete). REQUIRES: mu_ held.
  void AdvanceLocked() {
    ++current_;
    for (auto it = held_.find(current_); it != held_.end(); it = held_.find(current_)) {
      Held held = std::move(it->second);
      held_.erase(it);
      held_bytes_ -= held.bytes.size();
      if (closing_ || failed_) {
        return;
      }
      if (!held.bytes.empty() && !WriteLocked(held.bytes, held.close)) {
        return;
      }
      if (!held.last) {
        return;
      }
      ++current_;
    }
    SettleLocked();
  }

  // Notes that nothing is owed any more, for the reactor's timer (WatchedStep::id), which then
  // lets the connection time out as idle, counted from then. REQUIRES: mu_ held.
  void SettleLocked() {
    if (current_ == next_ticket_ && unsent_locked() == 0 && !inflight_) {
      settled_ = true;
    }
  }

  // Empties the buffer, giving a large one's memory back (a kept-alive connection that once
  // sent a big answer must not keep its size).
  void ReleaseLocked() {
    if (pending_.capacity() > 64 * 1024) {
      std::string().swap(pending_);
    } else {
      pending_.clear();
    }
    offset_ = 0;
  }

  // Sends what the socket takes of `bytes` now; returns how much. REQUIRES: mu_ held.
  size_t SendSome(std::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n =
          ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else {
        FailLocked();  // reset or closed by the client
        break;
      }
    }
    return sent;
  }

  // Everything is sent: the end of the connection follows it (the client reads all, then the
  // end), even while Pistache still holds its own descriptor.
  void EndLocked() {
    if (!failed_) {
      ::shutdown(fd_, SHUT_WR);
    }
    failed_ = true;
  }

  // Nothing more goes out; the client is told by the connection's end (a cut-off stream must
  // not look like a slow one), even while Pistache still holds its own descriptor.
  void FailLocked() {
    if (!failed_) {
      ::shutdown(fd_, SHUT_RDWR);
    }
    failed_ = true;
    ReleaseLocked();
    held_.clear();
    held_bytes_ = 0;
  }

  const int fd_;
  const std::weak_ptr<P::Tcp::Peer> peer_;
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

void OutputPoller::Stop() {
  if (!thread_.joinable()) {
    return;
  }
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // the last Connection went away on the poller thread itself
    return;
  }
  stopping_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof(one));
  thread_.join();
  std::vector<std::shared_ptr<Connection>> unfinished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [fd, weak] : watched_) {
      if (auto connection = weak.lock()) {
        unfinished.push_back(std::move(connection));
      }
    }
  }
  for (const auto& connection : unfinished) {
    connection->Fail();
  }
}

void OutputPoller::Run() {
  epoll_event events[64];
  while (!stopping_.load(std::memory_order_acquire)) {
    const int n = ::epoll_wait(epoll_fd_, events, 64, -1);
    if (n < 0 && errno != EINTR) {
      spdlog::error("http: the output poller stopped: {}", std::strerror(errno));
      return;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        continue;
      }
      std::shared_ptr<Connection> connection;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = watched_.find(fd);
        if (it != watched_.end()) {
          connection = it->second.lock();
        }
      }
      if (connection != nullptr) {
        connection->Flush();
      }
    }
  }
}

bool PendingSends::Enabled() {
  static const bool enabled = [] {
    const char* value = std::getenv("CIVIC_HTTP_URING");
    return value == nullptr || std::string_view(value) != "off";
  }();
  return enabled;
}

PendingSends* PendingSends::ForThisThread() {
  if (!Enabled()) {
    return nullptr;
  }
  thread_local PendingSends sends;
  return sends.ring_ok_ ? &sends : nullptr;
}

void PendingSends::SubmitAndReap(size_t first, unsigned n) {
  unsigned prepared = 0;
  for (unsigned i = 0; i < n; ++i, ++prepared) {
    Entry& entry = entries_[first + i];
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      break;  // cannot happen (the ring is empty here); the rest stays "not taken"
    }
    io_uring_prep_send(sqe, entry.fd, bytes_.data() + entry.offset, entry.size,
                       MSG_NOSIGNAL | MSG_DONTWAIT);  // DONTWAIT: -EAGAIN, never a parked send
    io_uring_sqe_set_data64(sqe, first + i);
  }
  // The sends run inline, during the submission; their completions are there when it returns.
  for (int tries = 0; io_uring_sq_ready(&ring_) > 0; ++tries) {
    const int r = io_uring_submit(&ring_);
    if (r >= 0 || ((r == -EINTR || r == -EAGAIN) && tries < 100)) {
      continue;
    }
    // The kernel refuses the ring: what it did not take stays "not taken" (the poller sends
    // it), and the ring is not used again on this thread.
    spdlog::warn("http: io_uring submission failed ({}); writing answers one by one",
                 std::strerror(-r));
    ring_ok_ = false;
    break;
  }
  const unsigned submitted = prepared - io_uring_sq_ready(&ring_);  // taken in order
  for (unsigned i = 0; i < submitted; ++i) {
    entries_[first + i].result = kUnknown;
  }
  for (unsigned reaped = 0; reaped < submitted;) {
    io_uring_cqe* cqe = nullptr;
    const int r = io_uring_wait_cqe(&ring_, &cqe);
    if (r == -EINTR) {
      continue;
    }
    if (r < 0) {
      spdlog::error("http: io_uring completions lost ({})", std::strerror(-r));
      ring_ok_ = false;
      return;
    }
    const uint64_t index = io_uring_cqe_get_data64(cqe);
    if (index < entries_.size()) {
      entries_[index].result = cqe->res;
    }
    io_uring_cqe_seen(&ring_, cqe);
    ++reaped;
  }
}

size_t PendingSends::Send() {
  const size_t count = entries_.size();
  for (size_t first = 0; first < entries_.size() && ring_ok_;) {
    const auto n = static_cast<unsigned>(std::min<size_t>(kRingEntries, entries_.size() - first));
    SubmitAndReap(first, n);
    first += n;
  }
  for (Entry& entry : entries_) {
    if (entry.result == kUnknown) {
      entry.connection->Fail();  // whether these bytes went out is not known: it cannot go on
    } else {
      entry.connection->Sent(std::string_view(bytes_).substr(entry.offset, entry.size),
                             entry.result);
    }
  }
  entries_.clear();
  if (bytes_.capacity() > 1024 * 1024) {
    std::string().swap(bytes_);
  } else {
    bytes_.clear();
  }
  return count;
}

// The status line and headers of `response`, up to the header fields that frame its body.
void AppendHead(std::string& out, const Response& response, const Fields& extra_headers,
                bool close) {
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += ReasonPhrase(response.status);
  out += "\r\n";
  for (const Fields* headers : {&response.headers, &extra_headers}) {
    for (const auto& [name, value] : *headers) {
      out += name;
      out += ": ";
      out += value;
      out += "\r\n";
    }
  }
  if (!response.content_type.empty()) {
    out += "Content-Type: ";
    out += response.content_type;
    out += "\r\n";
  }
  out += close ? "Connection: Close\r\n" : "Connection: Keep-Alive\r\n";
}

// The head and body of `response` as they go on the wire: what Pistache's writer produced
// before, header for header, with the framing RFC 9110 asks for (section 8.6): a HEAD answer
// says the Content-Length its GET would have had and sends no body; a 204 has no
// Content-Length; a 304 has no body and says Content-Length: 0 (Debian's cpp-httplib 0.11,
// the ballot's own sync client among them, reads a 304's body up to its length, or up to the
// end of the connection when none is given).
std::string Serialize(const Response& response, const Fields& extra_headers, bool head_only,
                      bool close) {
  const bool no_content = response.status == 204 || response.status == 304;
  std::string out;
  out.reserve(160 + response.body.size() + response.headers.size() * 48);
  AppendHead(out, response, extra_headers, close);
  if (response.status != 204) {
    out += "Content-Length: ";
    out += no_content ? std::string("0") : std::to_string(response.body.size());
    out += "\r\n";
  }
  out += "\r\n";
  if (!no_content && !head_only) {
    out += response.body;
  }
  return out;
}
}  // namespace

struct Responder::Exchange {
  Server::Impl* server = nullptr;
  P::Http::ResponseWriter writer;
  Route* route = nullptr;
  Method method = Method::kGet;
  std::optional<std::string> origin;
  bool close_connection = false;
  std::chrono::steady_clock::time_point start;
  std::shared_ptr<Connection> connection;  // null: answer through Pistache's writer
  uint64_t ticket = 0;                     // the answer's turn on `connection`
  bool handed_over = false;                // the answer (or its stream) has the ticket
  std::optional<Response> prepared;        // Responder::Prepare's response
  std::string prepared_bytes;              // ... formatted for `connection`, if any

  Exchange(Server::Impl* s, P::Http::ResponseWriter w) : server(s), writer(std::move(w)) {}
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
  class Handler;

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

  std::unique_ptr<P::Http::Endpoint> endpoint;
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

  void PrepareMetrics(Route& route) {
    route.duration =
        &request_duration->WithLabels({route.pattern, std::string(ToString(route.method))});
    route.by_status = std::make_shared<std::array<std::atomic<metrics::Counter*>, 600>>();
    for (auto& slot : *route.by_status) {
      slot.store(nullptr, std::memory_order_relaxed);
    }
  }

  void Record(const Responder::Exchange& exchange, int status) {
    Route* route = exchange.route != nullptr ? exchange.route : &unmatched;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - exchange.start).count();
    if (route != &unmatched && route->duration != nullptr) {
      route->duration->Observe(seconds);
    }
    if (status < 100 || status >= 600) {
      status = 500;
    }
    // A route has one method; requests that matched none come with any, so theirs is counted
    // by method and status.
    auto& slot = route != &unmatched
                     ? (*route->by_status)[static_cast<size_t>(status)]
                     : unmatched_by_method_status[static_cast<size_t>(exchange.method) * 600 +
                                                  static_cast<size_t>(status)];
    metrics::Counter* counter = slot.load(std::memory_order_acquire);
    if (counter == nullptr) {
      const std::string method = exchange.route != nullptr ? std::string(ToString(route->method))
                                                           : std::string(ToString(exchange.method));
      counter = &requests_total->WithLabels({route->pattern, method, std::to_string(status)});
      slot.store(counter, std::memory_order_release);
    }
    counter->Inc();
  }

  // The CORS headers for the request's origin, if it is allowed. With a list of origins (not
  // "*") every answer says `Vary: Origin`, also to a request from an origin not listed or from
  // none: a cache must not hand one origin's answer (with or without the Allow-Origin header)
  // to another.
  Fields CorsHeaders(const Responder::Exchange& exchange) const {
    Fields out;
    if (options.cors_origins.empty()) {
      return out;
    }
    const bool any = std::find(options.cors_origins.begin(), options.cors_origins.end(), "*") !=
                     options.cors_origins.end();
    if (!any) {
      out.emplace_back("Vary", "Origin");
    }
    if (!exchange.origin) {
      return out;
    }
    const bool listed = std::find(options.cors_origins.begin(), options.cors_origins.end(),
                                  *exchange.origin) != options.cors_origins.end();
    if (!any && !listed) {
      return out;
    }
    out.emplace_back("Access-Control-Allow-Origin", any ? "*" : *exchange.origin);
    out.emplace_back("Access-Control-Expose-Headers",
                     "ETag, Location, Retry-After, Allow, Idempotency-Replayed");
    return out;
  }

  // Puts CORS, the response's headers, its content type and Connection on the writer.
  void PrepareHeaders(Responder::Exchange& exchange, Response& response) {
    for (auto& header : CorsHeaders(exchange)) {
      response.headers.push_back(std::move(header));
    }
    auto& headers = exchange.writer.headers();
    for (auto& [name, value] : response.headers) {
      SetHeader(headers, std::move(name), std::move(value));
    }
    if (!response.content_type.empty()) {
      exchange.writer.setMime(P::Http::Mime::MediaType::fromString(response.content_type));
    }
    // Pistache answers "Connection: Close" to an HTTP/1.1 request without a Connection header
    // (and keeps the socket open anyway); HTTP/1.1 means keep-alive unless the client says close.
    const bool close = exchange.close_connection || draining.load(std::memory_order_relaxed);
    headers.remove<P::Http::Header::Connection>();
    headers.add<P::Http::Header::Connection>(close ? P::Http::ConnectionControl::Close
                                                   : P::Http::ConnectionControl::KeepAlive);
  }

  // The request is answered: metrics, and it leaves the in-flight count (waking a drain).
  void Finish(const Responder::Exchange& exchange, int status) {
    Record(exchange, status);
    if (in_flight.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(drain_mu);
      drain_cv.notify_all();
    }
    in_flight_gauge->Dec();
  }

  // Sends a whole answer on the exchange's connection; `close`: the answer says
  // Connection: close, and the connection ends after it.
  static void Deliver(Responder::Exchange& exchange, const std::string& bytes, bool close) {
    exchange.handed_over = true;
    exchange.connection->Write(exchange.ticket, bytes, close);
  }

  void Complete(Responder::Exchange& exchange, Response response) {
    if (exchange.connection != nullptr) {
      const bool close = exchange.close_connection || draining.load(std::memory_order_relaxed);
      // The connection ends after the answer when the client asked for that. While draining the
      // answer says close too, but the connections end with the process: ending each one now
      // only has clients reconnect to a server that is going away.
      Deliver(exchange,
              Serialize(response, CorsHeaders(exchange), exchange.method == Method::kHead, close),
              exchange.close_connection);
      Finish(exchange, response.status);
      return;
    }
    PrepareHeaders(exchange, response);
    const int status = response.status;
    const auto code = static_cast<P::Http::Code>(status);
    try {
      if (exchange.method == Method::kHead || status == 204 || status == 304) {
        exchange.writer.send(code);
      } else {
        exchange.writer.send(code, response.body);
      }
    } catch (const std::exception& e) {
      spdlog::debug("http: could not send a response: {}", e.what());
    }
    Finish(exchange, status);
  }

  // Formats `response` for a later SendPrepared, on the calling thread.
  void Prepare(Responder::Exchange& exchange, Response response) {
    if (exchange.connection != nullptr && !exchange.close_connection) {
      exchange.prepared_bytes = Serialize(response, CorsHeaders(exchange),
                                          exchange.method == Method::kHead, /*close=*/false);
    }
    exchange.prepared = std::move(response);
  }

  void SendPrepared(Responder::Exchange& exchange) {
    // Formatted for a kept-alive connection: once draining, the answer must say close instead.
    if (!exchange.prepared_bytes.empty() && !draining.load(std::memory_order_relaxed)) {
      Deliver(exchange, exchange.prepared_bytes, /*close=*/false);
      Finish(exchange, exchange.prepared->status);
      return;
    }
    Complete(exchange, std::move(*exchange.prepared));
  }

  std::unique_ptr<ResponseStream> StartStream(Responder::Exchange& exchange, int status,
                                              const std::string& content_type, Fields headers);
  // Ends every stream still open (before the endpoint goes away).
  void CloseStreams();

  // Runs a synchronous handler and answers with its response, or 500 on an exception.
  void RunSync(const SyncHandler& handler, Request& request, Responder& responder) {
    Response response;
    try {
      response = handler(request);
    } catch (const std::exception& e) {
      spdlog::error("http: {} {} failed: {}", ToString(request.method), request.route, e.what());
      response = ProblemResponse(500, "An unexpected error occurred; it has been logged.");
    }
    responder.Send(std::move(response));
  }

  // Routes and answers the request. Whatever answers takes `exchange`; if this throws, it is
  // still there and the caller answers 500 (so the request leaves the in-flight count).
  void Dispatch(Request request, std::unique_ptr<Responder::Exchange>& exchange);
};

namespace {

namespace PP = P::Http::Private;

// Pistache's parser (0.0.5) keeps its steps protected and its cursor private. The steps are
// reachable through a pointer to a protected member, formed in a derived class and applied to
// the base; WatchedStep wraps each one to see the cursor (where the request ends in the bytes
// read) and the header block as read.
struct ParserSteps : PP::ParserBase {
  static auto& Of(PP::ParserBase& parser) { return parser.*(&ParserSteps::allSteps); }
};
// The same for a message's body, which our chunked-body step fills.
struct MessageBody : P::Http::Message {
  static std::string& Of(P::Http::Message& message) { return message.*(&MessageBody::body_); }
};

// RFC 9110 5.6.2: the characters of a token (a header name, a media type's parts).
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Removes the token `s` begins with; false if it begins with none.
bool SkipToken(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && IsTokenChar(s[n])) {
    ++n;
  }
  s.remove_prefix(n);
  return n > 0;
}

// RFC 9110 8.3.1: type "/" subtype *( OWS ";" OWS [ parameter ] ), a parameter being
// token "=" ( token / quoted-string ).
bool IsMediaType(std::string_view value) {
  const size_t slash = value.find('/');
  if (slash == std::string_view::npos || !IsToken(value.substr(0, slash))) {
    return false;
  }
  std::string_view rest = value.substr(slash + 1);
  if (!SkipToken(rest)) {
    return false;
  }
  while (true) {
    rest = TrimOws(rest);
    if (rest.empty()) {
      return true;
    }
    if (rest.front() != ';') {
      return false;
    }
    rest = TrimOws(rest.substr(1));
    if (rest.empty() || rest.front() == ';') {
      continue;
    }
    const size_t eq = rest.find('=');
    if (eq == std::string_view::npos || !IsToken(rest.substr(0, eq))) {
      return false;
    }
    rest = rest.substr(eq + 1);
    if (!rest.empty() && rest.front() == '"') {
      size_t i = 1;
      while (i < rest.size() && rest[i] != '"') {
        i += rest[i] == '\\' ? 2 : 1;
      }
      if (i >= rest.size()) {
        return false;
      }
      rest = rest.substr(i + 1);
    } else if (!SkipToken(rest)) {
      return false;
    }
  }
}

// A request's header block as read: its fields (names lowercased, values without the
// surrounding whitespace, in arrival order) and what frames its body.
struct Head {
  Fields fields;
  std::optional<uint64_t> content_length;
  std::optional<std::string> transfer_encoding;
  int hosts = 0;  // Host fields
};

// A request whose head declares a body longer than its route takes (or the server, before the
// route is known): refused before the body is read.
struct DeclaredTooLarge : std::exception {
  explicit DeclaredTooLarge(size_t limit = 0) : limit_bytes(limit) {}
  const char* what() const noexcept override { return "declared body too large"; }
  size_t limit_bytes;  // 0: the server's
};

// Reads the header lines of `block` (each ending in CRLF, the empty line excluded). Throws
// the reason it cannot be read: a line without a colon or with a name that is not a token
// (whitespace before the colon included, RFC 9112 5.1), a folded line, a bare CR, LF or NUL;
// Content-Length not one decimal number, or two that differ (RFC 9112 6.3: Pistache read
// `abc` as 0, `-1` as 2^64 - 1, and of two different ones took the first), or too large to
// hold (413); a transfer coding other than exactly `chunked` (501: Pistache took any prefix of
// it, `ch` included, for chunked, so a request ended where a proxy in front may not think it
// does); a Content-Type that is not a media type (415); more than kMaxHeaderFields (431).
Head ReadHead(std::string_view block) {
  Head head;
  while (!block.empty()) {
    if (head.fields.size() == kMaxHeaderFields) {
      PP::Step::raise("it has more header fields than the limit",
                      P::Http::Code::Request_Header_Fields_Too_Large);
    }
    const size_t eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      PP::Step::raise("a header line holds a bare CR, LF or NUL");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      PP::Step::raise(line.empty() || line.front() == ' ' || line.front() == '\t'
                          ? "a header line is folded (obsolete line folding)"
                          : "a header line is not a name, a colon and a value");
    }
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), AsciiLower);
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (name == "content-length") {
      if (value.empty() ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        PP::Step::raise("its Content-Length header is not one decimal number");
      }
      // 10^18 bytes and more: larger than any route takes, so held as the largest number.
      const size_t first = value.find_first_not_of('0');
      const uint64_t length = first != std::string_view::npos && value.size() - first > 18
                                  ? std::numeric_limits<uint64_t>::max()
                                  : std::stoull(std::string(value));
      if (head.content_length.has_value() && *head.content_length != length) {
        PP::Step::raise("its Content-Length header is not one decimal number");
      }
      head.content_length = length;
    } else if (name == "transfer-encoding") {
      // Only `chunked` alone is served; a list (`gzip, chunked`) or a second field is another
      // coding, refused below.
      head.transfer_encoding = head.transfer_encoding
                                   ? *head.transfer_encoding + ", " + std::string(value)
                                   : std::string(value);
    } else if (name == "host") {
      ++head.hosts;
    } else if (name == "content-type" && !IsMediaType(value)) {
      PP::Step::raise("its Content-Type header is not a media type",
                      P::Http::Code::Unsupported_Media_Type);
    }
    head.fields.emplace_back(std::move(name), std::string(value));
  }
  if (head.transfer_encoding && !EqualsIgnoreCase(*head.transfer_encoding, "chunked")) {
    PP::Step::raise("only the chunked transfer coding is supported",
                    P::Http::Code::Not_Implemented);
  }
  return head;
}

// What one connection's parser has read of the request in progress.
struct ParseWatch {
  static constexpr const char* kKey = "civic.parse";
  // A step id Pistache's timer knows nothing of, so applies no timeout to: what the parser's
  // step says while the connection still owes answers. Without it Pistache, which counts from
  // the last request read, cut streams (live results, exports) and slow answers off with a
  // 408 once the header timeout had passed.
  static constexpr PP::StepId kAnsweringId = P::Meta::Hash::fnv1a("civic.Answering");

  P::StreamCursor* cursor = nullptr;  // the parser's, once a step has run
  size_t head_scanned = 0;            // bytes of the header block in progress seen without its end
  Head head;                          // the last header block read, for the request it heads
  bool in_trailer = false;            // a chunked body ended: its trailer section is next
  // Where the chunked body being read is: at a chunk-size line, in a chunk's data (`left`
  // bytes to come), or at the CRLF after it; `bytes` of data read so far. Reset per request.
  struct Chunked {
    enum class Part { kSize, kData, kDataEnd };
    Part part = Part::kSize;
    uint64_t left = 0;
    uint64_t bytes = 0;
  };
  Chunked chunked;
  std::string trailer_line;  // the part of a trailer line read so far
  std::weak_ptr<Connection> connection;
  P::Http::RequestParser* parser = nullptr;  // the connection's (the peer owns both)
  bool read_done = false;  // no more input is read: after the last request, or a refusal
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
  size_t body_limit = 0;  // the request in progress's, once its head is read
};

class WatchedStep : public PP::Step {
 public:
  WatchedStep(P::Http::Message* for_message, std::unique_ptr<PP::Step> inner,
              std::shared_ptr<ParseWatch> watch, size_t max_request_bytes)
      : PP::Step(for_message),
        inner_(std::move(inner)),
        watch_(std::move(watch)),
        max_request_bytes_(max_request_bytes) {}

  // Called by Pistache's timer only (TransportImpl::checkIdlePeers, on the reactor thread), to
  // choose the timeout that applies: none while the connection owes answers; the keep-alive
  // timeout once they are written, counted from then (Pistache counts from when the request
  // was read, which would close a connection at once after an answer that took longer); and
  // a client that takes none of its answer's bytes for send_timeout is disconnected.
  PP::StepId id() const override;
  // The wrapped step's own id, whatever the connection owes.
  PP::StepId inner_id() const { return inner_->id(); }

  PP::State apply(P::StreamCursor& cursor) override {
    watch_->cursor = &cursor;
    const PP::StepId id = inner_->id();
    if (id == PP::HeadersStep::Id) {
      return ApplyHead(cursor);
    }
    if (id == PP::RequestLineStep::Id) {
      CheckRequestLine(cursor);
    } else if (id == PP::BodyStep::Id && IsChunkedOnly()) {
      return ApplyChunkedBody(cursor);
    }
    return inner_->apply(cursor);
  }

 private:
  // In place of Pistache's header step, which for each line made a typed header (and its
  // parse) where the registry knew the name, kept a raw copy too, and hashed and compared
  // through lowercased copies of the name (7 % of the network threads' time under single
  // votes, and the typed headers were printed back to text for handlers after it). The
  // fields are kept as read, in the watch; only the two that frame the body go to Pistache's
  // request, for its body step. Waits, reading nothing, until the block has ended.
  PP::State ApplyHead(P::StreamCursor& cursor) {
    const std::string_view input(cursor.offset(), cursor.remaining());
    size_t end = 0;  // of the block, past its empty line
    if (input.size() >= 2 && input[0] == '\r' && input[1] == '\n') {
      end = 2;
    } else {
      const size_t from = watch_->head_scanned > 3 ? watch_->head_scanned - 3 : 0;
      const size_t at = input.find("\r\n\r\n", from);
      if (std::min(at, input.size()) > kMaxHeaderBytes) {
        PP::Step::raise("its header section is longer than the limit",
                        P::Http::Code::Request_Header_Fields_Too_Large);
      }
      if (at == std::string_view::npos) {
        // A bare LF, or a CR before anything but LF, can never be part of a header block that
        // ends: refused now, not after the header timeout.
        for (size_t i = from; i < input.size(); ++i) {
          if ((input[i] == '\n' && (i == 0 || input[i - 1] != '\r')) ||
              (input[i] == '\r' && i + 1 < input.size() && input[i + 1] != '\n')) {
            PP::Step::raise("a header line holds a bare CR, LF or NUL");
          }
        }
        watch_->head_scanned = input.size();
        return PP::State::Again;
      }
      end = at + 4;
    }
    watch_->head_scanned = 0;
    watch_->chunked = {};
    watch_->head = ReadHead(input.substr(0, end - 2));
    const Head& head = watch_->head;
    if (message->version() == P::Http::Version::Http11 && head.hosts != 1) {
      PP::Step::raise(head.hosts == 0 ? "an HTTP/1.1 request needs a Host header"
                                      : "it has more than one Host header");
    }
    if (message->version() == P::Http::Version::Http10 && head.transfer_encoding) {
      // RFC 9112 6.1: faulty framing, whatever the coding.
      PP::Step::raise("an HTTP/1.0 request has no transfer coding");
    }
    watch_->body_limit = max_request_bytes_;
    if (watch_->route_body_limit &&
        (head.transfer_encoding || head.content_length.value_or(0) > watch_->smallest_body_limit)) {
      // The message is the parser's request (WatchOf wraps the steps of parser.request).
      const auto& request = static_cast<const P::Http::Request&>(*message);
      watch_->body_limit = watch_->route_body_limit(request.method(), request.resource());
    }
    if (head.content_length.value_or(0) > watch_->body_limit) {
      throw DeclaredTooLarge(watch_->body_limit);
    }
    auto& headers = message->headers();
    if (head.content_length.has_value()) {
      headers.add(std::make_shared<P::Http::Header::ContentLength>(*head.content_length));
    }
    if (head.transfer_encoding.has_value()) {
      auto encoding = std::make_shared<P::Http::Header::TransferEncoding>();
      encoding->parseRaw(head.transfer_encoding->data(), head.transfer_encoding->size());
      headers.add(encoding);
    }
    cursor.advance(end);
    return PP::State::Next;
  }

  // Pistache's request-line step waits for more bytes, until the header timeout, when a line
  // has ended without a version ("GET /x"), and reads a bare LF into the version (a 505). A
  // request line that has ended is checked here first: method, target and version, each
  // after one space, ended by CRLF (RFC 9112 3); Pistache's step then reads it.
  void CheckRequestLine(P::StreamCursor& cursor) const {
    const std::string_view input(cursor.offset(), cursor.remaining());
    const size_t eol = LineEnd(input, "the request line ends in a bare LF");
    if (std::min(eol, input.size()) > kMaxRequestLineBytes) {
      PP::Step::raise("its request line is longer than the limit",
                      P::Http::Code::RequestURI_Too_Long);
    }
    if (eol == std::string_view::npos) {
      return;
    }
    const std::string_view line = input.substr(0, eol);
    const size_t first = line.find(' ');
    const size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (first == 0 || second == std::string_view::npos || second == first + 1 ||
        line.find(' ', second + 1) != std::string_view::npos ||
        line.find_first_of(std::string_view("\r\0\t", 3)) != std::string_view::npos) {
      PP::Step::raise("the request line is not a method, a target and a version");
    }
  }

  // Whether the body is framed by the chunked coding alone (a Content-Length beside it, or
  // another coding, is Pistache's step's to refuse).
  bool IsChunkedOnly() const {
    const auto& headers = message->headers();
    const auto encoding = headers.tryGet<P::Http::Header::TransferEncoding>();
    return encoding != nullptr && encoding->encoding() == P::Http::Header::Encoding::Chunked &&
           headers.tryGet<P::Http::Header::ContentLength>() == nullptr;
  }

  // In place of Pistache's chunk step, which reserved memory for each chunk's declared size
  // before any limit (a 1 GB chunk-size line took 1.6 GB of address space, never given back),
  // answered a size it could not hold with the exception's text (std::bad_alloc), and refused
  // chunk extensions, which RFC 9112 7.1.1 says to ignore. Here a chunk that would take the
  // body past the server's request limit is a 413 before anything is kept; extensions are
  // ignored; the body's data goes to the message as it arrives. Ends, like Pistache's, after
  // the last chunk's size line: the trailer section is skipped by onInput (SkipTrailer).
  PP::State ApplyChunkedBody(P::StreamCursor& cursor) {
    using Part = ParseWatch::Chunked::Part;
    ParseWatch::Chunked& w = watch_->chunked;
    std::string& body = MessageBody::Of(*message);
    for (;;) {
      const std::string_view input(cursor.offset(), cursor.remaining());
      switch (w.part) {
        case Part::kSize: {
          const size_t eol = LineEnd(input, "a chunk-size line ends in a bare LF");
          if (std::min(eol, input.size()) > kMaxChunkLine) {
            PP::Step::raise("a chunk-size line is too long");
          }
          if (eol == std::string_view::npos) {
            return PP::State::Again;
          }
          // ChunkSize stays under 2^60 and `bytes` under the limit: the sum cannot overflow.
          const uint64_t size = ChunkSize(input.substr(0, eol));
          if (w.bytes + size > watch_->body_limit) {
            throw DeclaredTooLarge(watch_->body_limit);
          }
          cursor.advance(eol + 2);
          if (size == 0) {
            return PP::State::Done;
          }
          w.left = size;
          w.bytes += size;
          w.part = Part::kData;
          break;
        }
        case Part::kData: {
          if (input.empty()) {
            return PP::State::Again;
          }
          const size_t n = static_cast<size_t>(std::min<uint64_t>(input.size(), w.left));
          body.append(input.data(), n);
          cursor.advance(n);
          w.left -= n;
          if (w.left == 0) {
            w.part = Part::kDataEnd;
          }
          break;
        }
        case Part::kDataEnd: {
          if (input.size() < 2) {
            if (!input.empty() && input[0] != '\r') {
              PP::Step::raise("a chunk's data is not followed by CRLF");
            }
            return PP::State::Again;
          }
          if (input[0] != '\r' || input[1] != '\n') {
            PP::Step::raise("a chunk's data is not followed by CRLF");
          }
          cursor.advance(2);
          w.part = Part::kSize;
          break;
        }
      }
    }
  }

  // A chunk-size line without its CRLF: 1*HEXDIG, then nothing or chunk extensions
  // (*( BWS ";" ... ), read as visible characters, spaces and tabs, and ignored).
  static uint64_t ChunkSize(std::string_view line) {
    size_t i = 0;
    uint64_t size = 0;
    size_t significant = 0;
    for (; i < line.size() && std::isxdigit(static_cast<unsigned char>(line[i])) != 0; ++i) {
      const char c = line[i];
      const uint64_t digit =
          c <= '9' ? static_cast<uint64_t>(c - '0') : static_cast<uint64_t>((c | 0x20) - 'a' + 10);
      if (significant > 0 || digit != 0) {
        if (++significant > 15) {
          throw DeclaredTooLarge();  // 16 significant hex digits are at least 2^60 bytes
        }
      }
      size = size * 16 + digit;
    }
    if (i == 0) {
      PP::Step::raise("a chunk size is not a hexadecimal number");
    }
    size_t ext = i;
    while (ext < line.size() && (line[ext] == ' ' || line[ext] == '\t')) {
      ++ext;
    }
    if (i == line.size()) {
      return size;
    }
    if (ext == line.size() || line[ext] != ';') {
      PP::Step::raise("a chunk size is not a hexadecimal number");
    }
    for (; ext < line.size(); ++ext) {
      const auto c = static_cast<unsigned char>(line[ext]);
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        PP::Step::raise("a chunk extension holds a control character");
      }
    }
    return size;
  }

  // Where the first line of `input` ends (its CR), npos while no LF has come; a LF without a CR
  // before it is refused with `bare_lf` (RFC 9112 2.2: a recipient could read it either way).
  static size_t LineEnd(std::string_view input, const char* bare_lf) {
    const size_t lf = input.find('\n');
    if (lf == std::string_view::npos) {
      return lf;
    }
    if (lf == 0 || input[lf - 1] != '\r') {
      PP::Step::raise(bare_lf);
    }
    return lf - 1;
  }

  static constexpr size_t kMaxChunkLine = 4096;

  std::unique_ptr<PP::Step> inner_;
  std::shared_ptr<ParseWatch> watch_;
  size_t max_request_bytes_;
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
  const bool in_progress = watch_->in_trailer || !AtRequestStart(*watch_->parser, *watch_);
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
    if (auto peer = connection->peer();
        peer != nullptr && AtRequestStart(*watch_->parser, *watch_)) {
      peer->setIdle(true);
      return ParseWatch::kAnsweringId;
    }
  }
  return inner_->id();
}

// Whether this is the client's last request on the connection (RFC 9112 9.3, 9.6).
bool EndsConnection(const P::Http::Request& request, const Head& head) {
  if (request.version() == P::Http::Version::Http10) {
    return true;
  }
  for (const auto& [name, value] : head.fields) {
    if (name != "connection") {
      continue;
    }
    std::string_view options = value;  // a list of connection options, any case
    while (!options.empty()) {
      const size_t comma = options.find(',');
      const std::string_view option = TrimOws(options.substr(0, comma));
      if (EqualsIgnoreCase(option, "close")) {
        return true;
      }
      options.remove_prefix(comma == std::string_view::npos ? options.size() : comma + 1);
    }
  }
  return false;
}

bool IsChunked(const P::Http::Request& request) {
  const auto encoding = request.headers().tryGet<P::Http::Header::TransferEncoding>();
  return encoding != nullptr && encoding->encoding() == P::Http::Header::Encoding::Chunked;
}

// Pistache ends a chunked body at the last chunk's size line, `0`, leaving the trailer section
// (fields, then an empty line) to be read as if it began the next request. Skips it from
// `input`; false while it has not ended.
constexpr size_t kMaxTrailerLine = 8 * 1024;
bool SkipTrailer(ParseWatch& watch, std::string_view& input) {
  while (watch.in_trailer) {
    const size_t eol = input.find('\n');
    if (eol == std::string_view::npos) {
      watch.trailer_line.append(input);
      input = {};
      return false;
    }
    watch.trailer_line.append(input.substr(0, eol));
    input.remove_prefix(eol + 1);
    if (watch.trailer_line.empty() || watch.trailer_line == "\r") {
      watch.in_trailer = false;
    }
    watch.trailer_line.clear();
  }
  return true;
}

// The connection's watch, its parser's steps wrapped on first use. Call on the reactor thread.
std::shared_ptr<ParseWatch> WatchOf(const std::shared_ptr<P::Tcp::Peer>& peer,
                                    P::Http::RequestParser& parser, size_t max_request_bytes,
                                    std::chrono::milliseconds send_timeout) {
  if (auto data = peer->tryGetData(ParseWatch::kKey)) {
    return std::static_pointer_cast<ParseWatch>(data);
  }
  auto watch = std::make_shared<ParseWatch>();
  watch->parser = &parser;
  watch->send_timeout = send_timeout;
  for (auto& step : ParserSteps::Of(parser)) {
    step =
        std::make_unique<WatchedStep>(&parser.request, std::move(step), watch, max_request_bytes);
  }
  peer->putData(ParseWatch::kKey, watch);
  return watch;
}

}  // namespace

class Server::Impl::Handler : public P::Http::Handler {
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
      if (watch->in_trailer && !SkipTrailer(*watch, input)) {
        if (watch->trailer_line.size() > kMaxTrailerLine) {
          Refuse(peer, *parser, *watch,
                 ProblemResponse(400,
                                 "The request could not be read: a line of its chunked "
                                 "body's trailer section is too long."));
        }
        return;
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
        const bool chunked = IsChunked(request);
        const bool last = EndsConnection(request, watch->head);
        P::Http::ResponseWriter writer(request.version(), transport(), this, peer);
        request.copyAddress(peer->address());
        peer->setIdle(false);
        watch->idle_next = false;
        Serve(request, std::move(writer), std::move(watch->head), last);
        watch->head = Head{};
        parser->reset();
        watch->head_scanned = 0;
        watch->in_trailer = chunked;
        if (watch->connection.expired()) {
          if (auto data = peer->tryGetData(Connection::kKey)) {
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
        Refuse(peer, *parser, *watch, RefusalFor(e));
        return;
      } catch (const DeclaredTooLarge& e) {
        Refuse(peer, *parser, *watch, TooLarge(e.limit_bytes));
        return;
      } catch (const std::exception& e) {
        // A header value its typed parser cannot read, a chunk size too large to hold.
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
    Serve(request, std::move(writer), Head{}, EndsConnection(request, Head{}));
  }

  // Answers one request, whose header block `head` holds (our header step reads it); `last`:
  // it ends the connection (EndsConnection).
  void Serve(const P::Http::Request& request, P::Http::ResponseWriter writer, Head head,
             bool last) {
    auto exchange = std::make_unique<Responder::Exchange>(impl_, std::move(writer));
    exchange->start = std::chrono::steady_clock::now();
    try {
      exchange->Attach(Connection::Of(exchange->writer.getPeer(), impl_->poller));
    } catch (const std::exception& e) {
      spdlog::debug("http: answering through Pistache: {}", e.what());
    }
    impl_->in_flight.fetch_add(1, std::memory_order_acq_rel);
    impl_->in_flight_gauge->Inc();
    Request converted;
    try {
      converted = ToRequest(request, std::move(head.fields));
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
    Problem problem;
    problem.status = 413;
    if (limit_bytes == 0) {
      problem.detail = "The request is larger than " + std::to_string(getMaxRequestSize()) +
                       " bytes, head and body.";
      problem.extra["limit_bytes"] = getMaxRequestSize();
    } else {
      problem.detail =
          "The body is larger than the limit here, " + std::to_string(limit_bytes) + " bytes.";
      problem.extra["limit_bytes"] = limit_bytes;
    }
    return ProblemResponse(problem);
  }

  // The answer to what Pistache's parser threw, from its status and fixed reason text.
  static Response RefusalFor(const P::Http::HttpError& error) {
    const std::string reason = error.reason();
    if (reason == "Unknown HTTP request method") {
      return ProblemResponse(501, "The request method is not one this server implements.");
    }
    if (reason == "Encountered invalid HTTP version") {
      return ProblemResponse(505, "Only HTTP/1.1 and HTTP/1.0 are served.");
    }
    if (error.code() == 501) {
      return ProblemResponse(501, "Only the chunked transfer coding is supported.");
    }
    if (error.code() == 431) {
      Problem problem;
      problem.status = 431;
      problem.detail = "The request could not be read: " + reason + " (" +
                       std::to_string(kMaxHeaderFields) + " fields, " +
                       std::to_string(kMaxHeaderBytes) + " bytes).";
      problem.extra["limit_bytes"] = kMaxHeaderBytes;
      problem.extra["limit_fields"] = kMaxHeaderFields;
      return ProblemResponse(problem);
    }
    if (error.code() == 414) {
      Problem problem;
      problem.status = 414;
      problem.detail = "The request could not be read: " + reason + " (" +
                       std::to_string(kMaxRequestLineBytes) + " bytes).";
      problem.extra["limit_bytes"] = kMaxRequestLineBytes;
      return ProblemResponse(problem);
    }
    if (error.code() == 415) {
      return ProblemResponse(415,
                             "The request could not be read: its Content-Type header is "
                             "not a media type.");
    }
    if (error.code() == 400) {
      return ProblemResponse(400, "The request could not be read: " + reason + ".");
    }
    return ProblemResponse(error.code() >= 400 && error.code() < 600 ? error.code() : 400,
                           "The request could not be read.");
  }

  // Answers a request the parser refused, then ends the connection and ignores its input. In
  // metrics its method is the one the request line named, if it was read.
  void Refuse(const std::shared_ptr<P::Tcp::Peer>& peer, P::Http::RequestParser& parser,
              ParseWatch& watch, Response response) {
    const Method method = StepOf(parser) == PP::RequestLineStep::Id
                              ? Method::kOther
                              : FromPistache(parser.request.method());
    parser.reset();
    watch.head_scanned = 0;
    watch.read_done = true;
    auto exchange = std::make_unique<Responder::Exchange>(
        impl_, P::Http::ResponseWriter(P::Http::Version::Http11, transport(), this, peer));
    exchange->start = std::chrono::steady_clock::now();
    exchange->method = method;
    exchange->close_connection = true;
    try {
      exchange->Attach(Connection::Of(peer, impl_->poller));
    } catch (const std::exception& e) {
      spdlog::debug("http: answering through Pistache: {}", e.what());
    }
    impl_->in_flight.fetch_add(1, std::memory_order_acq_rel);
    impl_->in_flight_gauge->Inc();
    Responder(std::move(exchange)).Send(std::move(response));
  }

  Server::Impl* impl_;
};

void Server::Impl::Dispatch(Request request, std::unique_ptr<Responder::Exchange>& exchange) {
  if (draining.load(std::memory_order_acquire)) {
    Responder responder(std::move(exchange));
    responder.Send(ProblemResponse(503, "The service is shutting down; retry on another instance.")
                       .WithHeader("Retry-After", "1"));
    return;
  }
  Router::Match match = router.Find(request.method, request.path);

  if (request.method == Method::kOptions && !match.allowed.empty()) {
    Response response = Response::Empty(204);
    const std::string allow = AllowHeader(match.allowed);
    response.WithHeader("Allow", allow);
    if (request.Header("access-control-request-method")) {
      response.WithHeader("Access-Control-Allow-Methods", allow);
      response.WithHeader("Access-Control-Allow-Headers",
                          "Content-Type, Authorization, X-API-Key, If-Match, If-None-Match, "
                          "Idempotency-Key");
      response.WithHeader("Access-Control-Max-Age", "600");
    }
    Responder(std::move(exchange)).Send(std::move(response));
    return;
  }
  if (match.route == nullptr) {
    if (match.allowed.empty()) {
      Responder(std::move(exchange))
          .Send(ProblemResponse(404, "No resource at " + request.path + "."));
    } else {
      Responder(std::move(exchange))
          .Send(ProblemResponse(405, std::string(ToString(request.method)) + " is not allowed on " +
                                         request.path + ".")
                    .WithHeader("Allow", AllowHeader(match.allowed)));
    }
    return;
  }

  Route& route = *match.route;
  exchange->route = &route;
  request.params = std::move(match.params);
  request.route = route.pattern;

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
  if (route.options.json_body && HasBody(request.method)) {
    if (!IsJsonMediaType(request.Header("content-type"))) {
      Responder(std::move(exchange))
          .Send(ProblemResponse(415, "The body must be JSON (Content-Type: application/json)."));
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

// A streamed body: chunks written, in order, through the connection's writer.
struct ResponseStream::State {
  static constexpr size_t kMaxBuffered = 16 * 1024 * 1024;

  std::shared_ptr<Connection> connection;
  uint64_t ticket = 0;     // the answer's turn on `connection`
  bool close = false;      // the connection ends after the stream (the request asked)
  std::mutex mu;           // guards accepting
  bool accepting = false;  // Write() allowed: started and not yet ended or failed

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
  AppendHead(head, response, CorsHeaders(exchange), close);
  head += "Transfer-Encoding: chunked\r\n\r\n";

  auto state = std::make_shared<ResponseStream::State>();
  state->connection = exchange.connection;
  if (state->connection == nullptr) {
    // The client is gone, or no descriptor is left: no stream; a 503 if anyone still listens.
    Complete(exchange, ProblemResponse(503, "The response cannot be streamed now; retry later.")
                           .WithHeader("Retry-After", "1"));
    return std::make_unique<ResponseStream>(std::move(state));
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

WriteBatch::WriteBatch() {
  if (PendingSends::Active() == nullptr) {
    if (PendingSends* sends = PendingSends::ForThisThread()) {
      PendingSends::SetActive(sends);
      outermost_ = true;
    }
  }
}

WriteBatch::~WriteBatch() {
  if (outermost_) {
    PendingSends* sends = PendingSends::Active();
    PendingSends::SetActive(nullptr);
    sends->Send();
  }
}

size_t WriteBatch::Send() {
  PendingSends* sends = PendingSends::Active();
  return sends != nullptr ? sends->Send() : 0;
}

bool WriteBatch::Supported() { return PendingSends::ForThisThread() != nullptr; }

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

std::unique_ptr<ResponseStream> Responder::StartStream(int status, const std::string& content_type,
                                                       Fields headers) {
  std::unique_ptr<Exchange> exchange = std::move(exchange_);
  return exchange->server->StartStream(*exchange, status, content_type, std::move(headers));
}

Server::Server(ServerOptions options, Router router, metrics::Registry& registry)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->router = std::move(router);
  impl_->requests_total = &registry.AddCounter(
      "http_requests_total", "HTTP requests answered, by route pattern, method and status code.",
      {"route", "method", "code"});
  impl_->request_duration = &registry.AddHistogram(
      "http_request_duration_seconds",
      "Time from a request's arrival to its answer, by route pattern and method.",
      metrics::DefaultLatencyBuckets(), {"route", "method"});
  impl_->in_flight_gauge =
      &registry.AddGauge("http_requests_in_flight", "HTTP requests received and not yet answered.")
           .WithLabels({});
  impl_->rejected_overload =
      &registry
           .AddCounter("http_requests_rejected_overload_total",
                       "Requests answered 503 because the worker queue was full.")
           .WithLabels({});
  for (auto& route : impl_->router.routes()) {
    impl_->PrepareMetrics(route);
  }
  impl_->unmatched.pattern = "unmatched";
}

Server::~Server() { Stop(); }

namespace {

// Each connection holds two descriptors (Pistache's and our dup of it), so the usual soft limit
// of 1,024 would cap a server near 500 connections: raise it to the hard limit, as servers do.
void RaiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      spdlog::debug("http: descriptor limit raised from {} to {}", before, limit.rlim_cur);
    }
  }
}

}  // namespace

uint16_t Server::Start() {
  static std::once_flag raise_limit;
  std::call_once(raise_limit, RaiseDescriptorLimit);
  Impl& impl = *impl_;
  size_t largest_body = impl.options.max_body_bytes;
  impl.smallest_body_limit = impl.options.max_body_bytes;
  for (const auto& route : impl.router.routes()) {
    largest_body = std::max(largest_body, route.options.max_body_bytes);
    if (route.options.max_body_bytes != 0) {
      impl.smallest_body_limit = std::min(impl.smallest_body_limit, route.options.max_body_bytes);
    }
  }
  const P::Address address(impl.options.host, P::Port(impl.options.port));
  impl.endpoint = std::make_unique<P::Http::Endpoint>(address);
  auto opts = P::Http::Endpoint::options()
                  .threads(impl.options.threads)
                  .flags(P::Tcp::Options::ReuseAddr)
                  .maxRequestSize(largest_body + kHeaderAllowance)
                  .headerTimeout(impl.options.header_timeout)
                  .bodyTimeout(impl.options.body_timeout)
                  .keepaliveTimeout(impl.options.keepalive_timeout)
                  .backlog(1024);
  impl.endpoint->init(opts);
  impl.endpoint->setHandler(P::Http::make_handler<Impl::Handler>(&impl));
  impl.poller = std::make_shared<OutputPoller>();
  impl.pool.Start(std::max(1, impl.options.workers));
  try {
    impl.endpoint->serveThreaded();
  } catch (const std::exception& e) {
    impl.pool.Stop();
    throw std::runtime_error("cannot listen on " + impl.options.host + ":" +
                             std::to_string(impl.options.port) + ": " + e.what());
  }
  impl.started = true;
  return static_cast<uint16_t>(impl.endpoint->getPort());
}

bool Server::Drain(std::chrono::milliseconds timeout) {
  impl_->draining.store(true, std::memory_order_release);
  std::unique_lock<std::mutex> lock(impl_->drain_mu);
  return impl_->drain_cv.wait_for(
      lock, timeout, [this] { return impl_->in_flight.load(std::memory_order_acquire) == 0; });
}

void Server::Stop() {
  if (impl_ == nullptr || impl_->stopped) {
    return;
  }
  impl_->stopped = true;
  impl_->draining.store(true, std::memory_order_release);
  impl_->reactors_stopping.store(true);
  // A read already in a handler finishes first (a handler that blocks for long is a bug: it
  // holds a network thread; after 10 s Stop() goes on without it, and says so).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (impl_->reactor_calls.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (impl_->reactor_calls.load() > 0) {
    spdlog::warn("http: stopping while a network thread is still in a handler");
  }
  impl_->pool.Stop();
  impl_->CloseStreams();
  if (impl_->started && impl_->endpoint) {
    impl_->endpoint->shutdown();
  }
  if (impl_->poller != nullptr) {
    impl_->poller->Stop();
  }
}

bool Server::draining() const { return impl_->draining.load(std::memory_order_acquire); }

int Server::in_flight() const { return impl_->in_flight.load(std::memory_order_acquire); }

}  // namespace civic::http
