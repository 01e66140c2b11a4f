// A raw TCP client for tests that must send bytes no HTTP client would (pipelined requests,
// malformed framing, stalls) and read the answers as they arrive. Used by unit and functional
// tests; connects to 127.0.0.1:port.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace civic::test {

class RawConnection {
 public:
  // `receive_buffer` > 0: a small socket receive buffer, so that the server's answers back up.
  explicit RawConnection(uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~RawConnection() { Close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void Write(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // Reads until the server ends the connection, keeping what arrives in received(); returns
  // how many bytes received() then holds, or -1 if the connection was still open after `wait`.
  long ReadToEnd(std::chrono::milliseconds wait) {
    timeval timeout{static_cast<time_t>(wait.count() / 1000),
                    static_cast<suseconds_t>(wait.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    char chunk[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        return static_cast<long>(buffer_.size());
      }
      if (n < 0) {
        return -1;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  void Close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  // Reads until `marker` is in received(); false if the connection ended (or timed out) first.
  bool ReadUntil(const std::string& marker) {
    while (buffer_.find(marker) == std::string::npos) {
      if (!Fill()) {
        return false;
      }
    }
    return true;
  }
  // Whether bytes (or the connection's end) arrive within `wait`; reads nothing.
  bool Readable(std::chrono::milliseconds wait) {
    if (!buffer_.empty()) {
      return true;
    }
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
  }
  // What has arrived and no Read* call has taken.
  std::string& received() { return buffer_; }

  // Reads the status line and headers of one response (all a HEAD, 204 or 304 answer has).
  std::string ReadHead() {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      REQUIRE(Fill());
    }
    std::string head = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    return head;
  }

  // Reads one response with a Content-Length body; returns {status line + headers, body}.
  std::pair<std::string, std::string> ReadResponse() {
    std::string head = ReadHead();
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const size_t at = lower.find("content-length:");
    REQUIRE(at != std::string::npos);
    const size_t length = std::stoul(head.substr(at + 15));
    while (buffer_.size() < length) {
      REQUIRE(Fill());
    }
    std::string body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return {head, body};
  }

 private:
  bool Fill() {
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace civic::test
