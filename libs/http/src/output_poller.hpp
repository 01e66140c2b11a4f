// OutputPoller: the one thread per server that waits (epoll) for sockets that did not take all
// of an answer's bytes, and has their connections write on once they can.
#pragma once

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace civic::http {

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

}  // namespace civic::http
