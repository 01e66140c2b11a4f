// OutputPoller's thread: waits for watched sockets to take bytes again and flushes their
// connections; at stop, shuts down the connections still owed bytes.
#include "output_poller.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "connection.hpp"

namespace civic::http {

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

}  // namespace civic::http
