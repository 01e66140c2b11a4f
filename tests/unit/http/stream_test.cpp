// civic::http streamed responses (Responder::StartStream), added for the ballot's Server-Sent
// Events and NDJSON export: served in-process on 127.0.0.1:0 and read with cpp-httplib.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "civic/http/server.hpp"
#include "civic/metrics/metrics.hpp"
#include "raw_connection.hpp"

namespace {

using civic::http::Request;
using civic::http::Responder;
using civic::http::ResponseStream;
using namespace std::chrono_literals;

struct StreamFixture {
  civic::metrics::Registry registry;
  std::unique_ptr<civic::http::Server> server;
  uint16_t port = 0;
  std::mutex mu;  // guards kept and threads (handlers run on the server's threads)
  std::vector<std::unique_ptr<ResponseStream>> kept;
  std::vector<std::thread> threads;

  // Starts a writer thread for a handler, to be joined by the destructor.
  template <class F>
  void Spawn(F&& fn) {
    std::lock_guard<std::mutex> lock(mu);
    threads.emplace_back(std::forward<F>(fn));
  }
  bool kept_empty() {
    std::lock_guard<std::mutex> lock(mu);
    return kept.empty();
  }
  std::atomic<bool> write_failed{false};
  std::atomic<size_t> backlog{0};  // /flood: what the socket had not taken when it aborted
  std::atomic<bool> aborted_open{true};
  std::atomic<bool> aborted_write{true};
  std::atomic<bool> flood_done{false};
  std::atomic<bool> export_closed{false};
  std::atomic<bool> export_done{false};

  explicit StreamFixture(civic::http::ServerOptions options = {}) {
    civic::http::Router router;
    // Three pieces from another thread, 50 ms apart, then the end.
    router.AddAsync(civic::http::Method::kGet, "/pieces", [this](Request&&, Responder r) {
      std::shared_ptr<ResponseStream> stream =
          r.StartStream(200, "text/plain", {{"Cache-Control", "no-cache"}});
      Spawn([stream] {
        for (const char* piece : {"one\n", "two\n", "three\n"}) {
          std::this_thread::sleep_for(50ms);
          stream->Write(piece);
        }
        stream->End();
      });
    });
    // Kept open by the test; written to until the client is gone.
    router.AddAsync(civic::http::Method::kGet, "/forever", [this](Request&&, Responder r) {
      std::shared_ptr<ResponseStream> stream = r.StartStream(200, "text/event-stream");
      stream->Write(": hello\n\n");
      Spawn([this, stream] {
        for (int i = 0; i < 200; ++i) {
          std::this_thread::sleep_for(20ms);
          if (!stream->Write("data: tick\n\n")) {
            write_failed = true;
            return;
          }
        }
      });
    });
    // Silent for a second between its two pieces.
    router.AddAsync(civic::http::Method::kGet, "/late", [this](Request&&, Responder r) {
      std::shared_ptr<ResponseStream> stream = r.StartStream(200, "text/event-stream");
      stream->Write(": first\n\n");
      Spawn([stream] {
        std::this_thread::sleep_for(1s);
        stream->Write("data: late\n\n");
        stream->End();
      });
    });
    // Written to until the socket takes no more (the client does not read), then aborted.
    router.AddAsync(civic::http::Method::kGet, "/flood", [this](Request&&, Responder r) {
      std::shared_ptr<ResponseStream> stream = r.StartStream(200, "application/octet-stream");
      Spawn([this, stream] {
        const std::string piece(64 * 1024, 'x');
        for (int i = 0; i < 1000 && stream->buffered() == 0; ++i) {
          if (!stream->Write(piece)) {
            return;
          }
        }
        backlog = stream->buffered();
        stream->Abort();
        aborted_open = stream->open();
        aborted_write = stream->Write("late");
        flood_done = true;
      });
    });
    // 4 MiB at once, then the end: most of it waits in the server for the client to read.
    router.AddAsync(civic::http::Method::kGet, "/big-stream", [this](Request&&, Responder r) {
      std::shared_ptr<ResponseStream> stream = r.StartStream(200, "application/octet-stream");
      Spawn([stream] {
        const std::string piece(64 * 1024, 'b');
        for (int i = 0; i < 64; ++i) {
          stream->Write(piece);
        }
        stream->End();
      });
    });
    // As an export does: writes while the client takes its bytes, waits while 1 MiB waits.
    router.AddAsync(civic::http::Method::kGet, "/export", [this](Request&&, Responder r) {
      std::shared_ptr<ResponseStream> stream = r.StartStream(200, "application/x-ndjson");
      Spawn([this, stream] {
        const std::string piece(64 * 1024, 'e');
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (stream->open() && std::chrono::steady_clock::now() < deadline) {
          if (stream->buffered() > 1024 * 1024) {
            std::this_thread::sleep_for(10ms);
          } else {
            stream->Write(piece);
          }
        }
        export_closed = !stream->open();
        export_done = true;
      });
    });
    // Opened and left idle; the server's Stop() must end it.
    router.AddAsync(civic::http::Method::kGet, "/idle", [this](Request&&, Responder r) {
      auto stream = r.StartStream(200, "text/event-stream");
      stream->Write(": idle\n\n");
      std::lock_guard<std::mutex> lock(mu);
      kept.push_back(std::move(stream));
    });
    options.port = 0;
    server = std::make_unique<civic::http::Server>(options, std::move(router), registry);
    port = server->Start();
  }
  ~StreamFixture() {
    // Stopped first: a handler may still be running (a client can have read a stream's head
    // before its handler spawned the writer), and none runs after Stop(). The writers then
    // find their streams ended.
    server->Stop();
    std::vector<std::thread> joining;
    {
      std::lock_guard<std::mutex> lock(mu);
      joining.swap(threads);
    }
    for (auto& thread : joining) {
      thread.join();
    }
  }
  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    client.set_read_timeout(10, 0);
    return client;
  }
};

}  // namespace

TEST_CASE("HTTP: a streamed response arrives in pieces, chunked, with its headers",
          "[http][stream]") {
  StreamFixture f;
  auto client = f.Client();
  auto r = client.Get("/pieces");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "one\ntwo\nthree\n");
  CHECK(r->get_header_value("Transfer-Encoding") == "chunked");
  CHECK(r->get_header_value("Content-Type") == "text/plain");
  CHECK(r->get_header_value("Cache-Control") == "no-cache");
  // The connection stays usable after the stream ended.
  r = client.Get("/pieces");
  REQUIRE(r);
  CHECK(r->body == "one\ntwo\nthree\n");
  const std::string metrics = f.registry.Serialize();
  CHECK(metrics.find(R"(http_requests_total{route="/pieces",method="GET",code="200"} 2)") !=
        std::string::npos);
}

TEST_CASE("HTTP: a stream whose client left reports it on a later write", "[http][stream]") {
  StreamFixture f;
  {
    auto client = f.Client();
    std::string received;
    client.Get("/forever", [&](const char* data, size_t size) {
      received.append(data, size);
      return received.find("tick") == std::string::npos;  // stop at the first tick
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!f.write_failed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  CHECK(f.write_failed);
}

TEST_CASE("HTTP: Stop() ends an idle stream, which is not counted as in flight", "[http][stream]") {
  StreamFixture f;
  std::atomic<bool> ended{false};
  std::thread reader([&] {
    auto client = f.Client();
    client.Get("/idle");
    ended = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (f.kept_empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(f.server->in_flight() == 0);
  CHECK(f.server->Drain(1s));
  f.server->Stop();
  reader.join();
  CHECK(ended);
  std::lock_guard<std::mutex> lock(f.mu);
  REQUIRE(f.kept.size() == 1);
  CHECK_FALSE(f.kept[0]->open());
  CHECK_FALSE(f.kept[0]->Write("late"));
}

TEST_CASE("HTTP: a stream outlives the keep-alive timeout while idle", "[http][stream]") {
  civic::http::ServerOptions options;
  options.keepalive_timeout = 300ms;
  StreamFixture f(options);
  auto client = f.Client();
  std::string received;
  auto r = client.Get("/forever", [&](const char* data, size_t size) {
    received.append(data, size);
    return received.size() < 12 * 30;  // ~30 ticks: well past the keep-alive timeout
  });
  CHECK(received.size() >= 12 * 30);
  // Silent for three keep-alive timeouts, then the rest arrives.
  auto late = f.Client();
  auto r2 = late.Get("/late");
  REQUIRE(r2);
  CHECK(r2->body == ": first\n\ndata: late\n\n");
}

TEST_CASE("HTTP: a stream, and a slow answer, outlive the header timeout", "[http][stream]") {
  civic::http::ServerOptions options;
  options.header_timeout = 200ms;
  StreamFixture f(options);
  auto client = f.Client();
  std::string received;
  auto r = client.Get("/forever", [&](const char* data, size_t size) {
    received.append(data, size);
    return received.size() < 12 * 60;  // ~60 ticks of 20 ms: six header timeouts
  });
  CHECK(received.find("408") == std::string::npos);
  CHECK(received.size() >= 12 * 60);
  auto late = f.Client();
  auto r2 = late.Get("/late");  // silent for a second before its last piece
  REQUIRE(r2);
  CHECK(r2->status == 200);
  CHECK(r2->body == ": first\n\ndata: late\n\n");
}

TEST_CASE("HTTP: HEAD on a streamed route gets the head only, and the connection goes on",
          "[http][stream]") {
  StreamFixture f;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(f.port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const auto send_all = [fd](const std::string& bytes) {
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  };
  std::string received;
  const auto read_until = [fd, &received](const std::string& marker) {
    char buffer[4096];
    while (received.find(marker) == std::string::npos) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        return false;
      }
      received.append(buffer, static_cast<size_t>(n));
    }
    return true;
  };
  send_all("HEAD /pieces HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  REQUIRE(read_until("\r\n\r\n"));
  CHECK(received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  // Long after the pieces would have been written: nothing but the head arrived.
  std::this_thread::sleep_for(400ms);
  send_all("GET /pieces HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  REQUIRE(read_until("0\r\n\r\n"));
  const size_t head_end = received.find("\r\n\r\n") + 4;
  CHECK(received.compare(head_end, 17, "HTTP/1.1 200 OK\r\n") == 0);
  CHECK(received.find("three\n") != std::string::npos);
  // A HEAD that asks to close gets the head, then the end of the connection.
  received.clear();
  send_all("HEAD /pieces HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  REQUIRE(read_until("\r\n\r\n"));
  CHECK(received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  char byte;
  CHECK(::recv(fd, &byte, 1, 0) == 0);
  ::close(fd);
}

TEST_CASE("HTTP: a stream whose client stops reading shows a backlog, and Abort() closes it",
          "[http][stream]") {
  StreamFixture f;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  const int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(f.port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  const std::string request = "GET /flood HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size()));
  // The client reads nothing until the server has given up on it.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!f.flood_done && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(f.flood_done);
  CHECK(f.backlog > 0);
  CHECK_FALSE(f.aborted_open);
  CHECK_FALSE(f.aborted_write);
  // What the socket had taken arrives, then the connection ends without the last chunk.
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string received;
  char buffer[65536];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    received.append(buffer, static_cast<size_t>(n));
  }
  CHECK((n == 0 || errno == ECONNRESET));
  CHECK(received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(received.find("\r\n0\r\n\r\n") == std::string::npos);
  ::close(fd);
}

using civic::test::RawConnection;

TEST_CASE("HTTP: an answer a slow client reads after the keep-alive timeout arrives whole",
          "[http][stream]") {
  civic::http::ServerOptions options;
  options.keepalive_timeout = 1000ms;
  StreamFixture f(options);
  RawConnection client(f.port, 16 * 1024);
  client.Write("GET /big-stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  // Most of the 4 MiB waits in the server, past the keep-alive timeout and then some.
  std::this_thread::sleep_for(2500ms);
  REQUIRE(client.ReadUntil("\r\n0\r\n\r\n"));
  const size_t body = client.received().find("\r\n\r\n") + 4;
  CHECK(std::count(client.received().begin() + static_cast<long>(body), client.received().end(),
                   'b') == 64 * 64 * 1024);
}

TEST_CASE("HTTP: after an answer longer than the keep-alive timeout the connection is kept",
          "[http][stream]") {
  civic::http::ServerOptions options;
  options.keepalive_timeout = 600ms;
  StreamFixture f(options);
  RawConnection client(f.port);
  client.Write("GET /late HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");  // ends after a second
  REQUIRE(client.ReadUntil("data: late\n\n\r\n0\r\n\r\n"));
  std::this_thread::sleep_for(300ms);  // within the keep-alive timeout, counted from the end
  client.received().clear();
  client.Write("GET /pieces HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  REQUIRE(client.ReadUntil("three\n\r\n0\r\n\r\n"));
  CHECK(client.received().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  // Idle past the keep-alive timeout: the server ends the connection without a word.
  client.received().clear();
  CHECK(client.ReadToEnd(10s) >= 0);
  CHECK(client.received().empty());
}

TEST_CASE("HTTP: a second request that stalls on a kept-alive connection gets a 408",
          "[http][stream]") {
  civic::http::ServerOptions options;
  options.header_timeout = 300ms;
  options.keepalive_timeout = 20'000ms;
  StreamFixture f(options);
  RawConnection client(f.port);
  client.Write("GET /pieces HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  REQUIRE(client.ReadUntil("three\n\r\n0\r\n\r\n"));
  client.received().clear();
  std::this_thread::sleep_for(500ms);
  const auto sent = std::chrono::steady_clock::now();
  client.Write("GET /pieces HTTP/1.1\r\nHo");  // and nothing more
  CHECK(client.ReadToEnd(10s) >= 0);
  CHECK(client.received().rfind("HTTP/1.1 408 ", 0) == 0);
  CHECK(std::chrono::steady_clock::now() - sent < 5s);  // the header timeout, not keep-alive
}

TEST_CASE("HTTP: a client that takes nothing of its answer for send_timeout is disconnected",
          "[http][stream]") {
  civic::http::ServerOptions options;
  options.send_timeout = 500ms;
  StreamFixture f(options);
  RawConnection client(f.port, 4096);
  client.Write("GET /export HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto deadline = std::chrono::steady_clock::now() + 8s;
  while (!f.export_done && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  CHECK(f.export_done);
  CHECK(f.export_closed);  // the stream saw the end, long before its own 10 s
}
