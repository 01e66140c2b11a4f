// Connection's writing: ordered answers by ticket, sends straight to the socket or through the
// thread's WriteBatch, the rest left to the OutputPoller; the connection's end.
#include "connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "uring_send.hpp"

namespace civic::http {

bool Connection::Stalled(std::chrono::steady_clock::time_point now,
                         std::chrono::milliseconds limit) {
  std::lock_guard<std::mutex> lock(mu_);
  return !failed_ && unsent_locked() > 0 && now - last_progress_ > limit;
}

bool Connection::Write(uint64_t ticket, std::string_view bytes, bool close, bool last) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_) {
    return false;
  }
  if (failed_ || client_.expired()) {
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

void Connection::Abandon(uint64_t ticket) {
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

void Connection::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = false;
  if (!inflight_) {
    FlushLocked();
  }
}

void Connection::Sent(std::string_view bytes, int result) {
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

void Connection::SentAllLocked() {
  ReleaseLocked();
  if (closing_) {
    EndLocked();
  }
  SettleLocked();
}

void Connection::FlushLocked() {
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

bool Connection::gone() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!failed_ && client_.expired()) {
    FailLocked();
  }
  return failed_;
}

bool Connection::WriteLocked(std::string_view bytes, bool close) {
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

void Connection::AdvanceLocked() {
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

void Connection::SettleLocked() {
  if (current_ == next_ticket_ && unsent_locked() == 0 && !inflight_) {
    settled_ = true;
  }
}

void Connection::ReleaseLocked() {
  if (pending_.capacity() > 64 * 1024) {
    std::string().swap(pending_);
  } else {
    pending_.clear();
  }
  offset_ = 0;
}

size_t Connection::SendSome(std::string_view bytes) {
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

void Connection::EndLocked() {
  if (!failed_) {
    ::shutdown(fd_, SHUT_WR);
  }
  failed_ = true;
}

void Connection::FailLocked() {
  if (!failed_) {
    ::shutdown(fd_, SHUT_RDWR);
  }
  failed_ = true;
  ReleaseLocked();
  held_.clear();
  held_bytes_ = 0;
}

}  // namespace civic::http
