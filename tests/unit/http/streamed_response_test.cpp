// civic::http: a synchronous handler's Response::stream (added for the events API's CSV exports):
// the head goes out first, then the body the function writes, chunked, on the worker thread that
// ran the handler; a function that throws has the connection cut, so the client never takes a
// short body for a whole one. Served in-process on 127.0.0.1:0 and read with cpp-httplib.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "civic/http/server.hpp"
#include "civic/metrics/metrics.hpp"

namespace {

using civic::http::Request;
using civic::http::Response;
using civic::http::ResponseStream;

struct Fixture {
  civic::metrics::Registry registry;
  std::unique_ptr<civic::http::Server> server;
  uint16_t port = 0;
  std::thread::id handler_thread;
  std::thread::id writer_thread;

  Fixture() {
    civic::http::Router router;
    router.Get("/rows",
               [this](const Request&) {
                 handler_thread = std::this_thread::get_id();
                 Response response;
                 response.content_type = "text/csv; charset=utf-8";
                 response.WithHeader("Content-Disposition", "attachment; filename=\"rows.csv\"");
                 response.stream = [this](ResponseStream& stream) {
                   writer_thread = std::this_thread::get_id();
                   for (int i = 0; i < 1000; ++i) {
                     if (!stream.Write("row " + std::to_string(i) + "\r\n")) {
                       return;
                     }
                   }
                 };
                 return response;
               },
               {.offload = true});
    router.Get("/broken",
               [](const Request&) {
                 Response response;
                 response.content_type = "text/csv";
                 response.stream = [](ResponseStream& stream) {
                   stream.Write("the first rows\r\n");
                   throw std::runtime_error("the database went away");
                 };
                 return response;
               },
               {.offload = true});
    civic::http::ServerOptions options;
    server = std::make_unique<civic::http::Server>(options, std::move(router), registry);
    port = server->Start();
  }
  ~Fixture() { server->Stop(); }
};

}  // namespace

TEST_CASE("HTTP: a handler's streamed body follows its head, chunked, from the handler's thread",
          "[http][stream]") {
  Fixture f;
  httplib::Client client("127.0.0.1", f.port);
  auto reply = client.Get("/rows");
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->get_header_value("Content-Type") == "text/csv; charset=utf-8");
  CHECK(reply->get_header_value("Content-Disposition") == "attachment; filename=\"rows.csv\"");
  CHECK(reply->get_header_value("Transfer-Encoding") == "chunked");
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    expected += "row " + std::to_string(i) + "\r\n";
  }
  CHECK(reply->body == expected);
  CHECK(f.writer_thread == f.handler_thread);
  // The connection serves the next request.
  auto again = client.Get("/rows");
  REQUIRE(again);
  CHECK(again->body == expected);
}

TEST_CASE("HTTP: a streamed body whose writer throws is cut short, never ended as whole",
          "[http][stream]") {
  Fixture f;
  httplib::Client client("127.0.0.1", f.port);
  auto reply = client.Get("/broken");
  // The last chunk never comes: the client sees a failed read, not a complete answer.
  CHECK_FALSE(reply);
}
