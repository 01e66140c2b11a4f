// io_uring sends: PendingSends (one ring per thread, sends submitted together, results handed
// back to each connection) and the public WriteBatch that switches it on for a thread.
#include "uring_send.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "civic/http/server.hpp"
#include "connection.hpp"

namespace civic::http {

thread_local PendingSends* PendingSends::active_ = nullptr;

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

}  // namespace civic::http
