// The server's access log records (ServerOptions::access_log): one per answer, with the route
// pattern, status, body bytes, request id, key and trace id; a stream's when it ends.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "civic/http/server.hpp"
#include "civic/metrics/metrics.hpp"
#include "eventually.hpp"

namespace {

using civic::http::AccessRecord;
using civic::http::Method;
using civic::http::Request;
using civic::http::Responder;
using civic::http::Response;

// An access record with its views copied.
struct Kept {
  Method method;
  std::string route;
  int status;
  size_t bytes;
  std::string request_id;
  std::string key;
  std::string trace_id;
};

class KeepingLog : public civic::http::AccessLog {
 public:
  void Write(const AccessRecord& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    kept_.push_back({r.method, std::string(r.route), r.status, r.bytes, std::string(r.request_id),
                     std::string(r.key), std::string(r.trace_id)});
  }
  std::vector<Kept> kept() {
    std::lock_guard<std::mutex> lock(mu_);
    return kept_;
  }

 private:
  std::mutex mu_;  // guards kept_
  std::vector<Kept> kept_;
};

struct Fixture {
  civic::metrics::Registry registry;
  std::shared_ptr<KeepingLog> log = std::make_shared<KeepingLog>();
  std::unique_ptr<civic::http::Server> server;
  uint16_t port = 0;

  Fixture() {
    civic::http::Router router;
    router.Get("/things/{id}", [](const Request& request) {
      Response response = Response::Json(200, {{"id", request.Param("id")}});
      response.log_key = "17";
      return response;
    });
    router.AddAsync(Method::kGet, "/stream", [](Request&&, Responder responder) {
      responder.SetLogKey("bootstrap:admin");
      auto stream = responder.StartStream(200, "text/plain");
      stream->Write("abc");
      stream->Write("de");
      stream->End();
    });
    civic::http::ServerOptions options;
    options.access_log = log;
    server = std::make_unique<civic::http::Server>(options, std::move(router), registry);
    port = server->Start();
  }
  ~Fixture() { server->Stop(); }
};

}  // namespace

TEST_CASE("Access records: one per answer, by route pattern, with the request's id and key",
          "[http][access-log]") {
  Fixture f;
  httplib::Client client("127.0.0.1", f.port);
  auto thing =
      client.Get("/things/42?phone=79990001122",
                 {{"X-Request-Id", "req-1"},
                  {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  REQUIRE(thing);
  CHECK(thing->get_header_value("X-Request-Id") == "req-1");
  auto missing = client.Get("/secret-name/here", {{"X-Request-Id", "req-2"}});
  REQUIRE(missing);
  CHECK(missing->status == 404);
  auto stream = client.Get("/stream", {{"X-Request-Id", "req-3"}});
  REQUIRE(stream);
  CHECK(stream->body == "abcde");

  REQUIRE(civic::test::Eventually([&] { return f.log->kept().size() == 3; }));
  const auto kept = f.log->kept();
  CHECK(kept[0].method == Method::kGet);
  CHECK(kept[0].route == "/things/{id}");
  CHECK(kept[0].status == 200);
  CHECK(kept[0].bytes == thing->body.size());
  CHECK(kept[0].request_id == "req-1");
  CHECK(kept[0].key == "17");
  CHECK(kept[0].trace_id == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(kept[1].route == "unmatched");
  CHECK(kept[1].status == 404);
  CHECK(kept[1].request_id == "req-2");
  CHECK(kept[1].key.empty());
  CHECK(kept[1].trace_id.empty());
  // A stream's record comes when it ends, with the bytes of all its chunks.
  CHECK(kept[2].route == "/stream");
  CHECK(kept[2].bytes == 5);
  CHECK(kept[2].key == "bootstrap:admin");
  CHECK(kept[2].request_id == "req-3");
}
