// PendingSends: the answers a WriteBatch (server.hpp) collects on one thread, handed to their
// sockets by one io_uring submission when the batch ends.
#pragma once

#include <liburing.h>

#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace civic::http {

class Connection;

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

}  // namespace civic::http
