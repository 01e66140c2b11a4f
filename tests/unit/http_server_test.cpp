// The shared HTTP glue, served in-process on 127.0.0.1:0 and called with cpp-httplib.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "civic/http/operational_routes.hpp"
#include "civic/http/problem.hpp"
#include "civic/http/server.hpp"
#include "civic/metrics/metrics.hpp"

namespace {

using civic::http::Request;
using civic::http::Response;
using nlohmann::json;

struct Fixture {
  civic::metrics::Registry registry;
  std::unique_ptr<civic::http::Server> server;
  uint16_t port = 0;

  explicit Fixture(civic::http::ServerOptions options = {}) {
    civic::http::Router router;
    router.Get("/v1/things/{id}", [](const Request& r) {
      return Response::Json(200, {{"id", r.Param("id")}, {"route", r.route}});
    });
    router.Get("/v1/things/special", [](const Request&) {
      return Response::Json(200, {{"special", true}});
    });
    router.Post("/v1/things",
                [](const Request& r) {
                  return Response::Json(201, {{"echo", r.json}});
                },
                {.json_body = true, .offload = true, .max_body_bytes = 2048});
    router.Get("/v1/query", [](const Request& r) {
      return Response::Json(200,
                            {{"q", r.Query("q").value_or("")}, {"a", r.Query("a").value_or("")}});
    });
    router.Get("/v1/boom", [](const Request&) -> Response {
      throw std::runtime_error("secret internal detail");
    });
    router.Get("/v1/slow",
               [](const Request&) {
                 std::this_thread::sleep_for(std::chrono::milliseconds(400));
                 return Response::Json(200, {{"slow", true}});
               },
               {.offload = true});
    router.AddAsync(civic::http::Method::kGet, "/v1/later",
                    [](Request&&, civic::http::Responder responder) {
                      std::thread([r = std::move(responder)]() mutable {
                        std::this_thread::sleep_for(std::chrono::milliseconds(20));
                        r.Send(Response::Json(200, {{"later", true}}));
                      }).detach();
                    });
    router.AddAsync(civic::http::Method::kGet, "/v1/forgotten",
                    [](Request&&, civic::http::Responder) {});
    civic::http::AddOperationalRoutes(router, registry, [] { return std::nullopt; });
    options.port = 0;
    server = std::make_unique<civic::http::Server>(options, std::move(router), registry);
    port = server->Start();
  }
  ~Fixture() { server->Stop(); }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    client.set_read_timeout(10, 0);
    return client;
  }
};

json Body(const httplib::Result& r) { return json::parse(r->body); }

void RequireProblem(const httplib::Result& r, int status) {
  REQUIRE(r);
  CHECK(r->status == status);
  CHECK(r->get_header_value("Content-Type") == "application/problem+json");
  const json body = Body(r);
  CHECK(body["status"] == status);
  CHECK(body["title"].is_string());
  CHECK(body["type"].is_string());
}

}  // namespace

TEST_CASE("HTTP: a path parameter is decoded and a literal segment wins over a parameter",
          "[http]") {
  Fixture f;
  auto client = f.Client();
  auto r = client.Get("/v1/things/42");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(Body(r)["id"] == "42");
  CHECK(Body(r)["route"] == "/v1/things/{id}");
  r = client.Get("/v1/things/special");
  REQUIRE(r);
  CHECK(Body(r)["special"] == true);
}

TEST_CASE("HTTP: query parameters arrive percent-decoded, Cyrillic included", "[http]") {
  Fixture f;
  auto client = f.Client();
  auto r = client.Get("/v1/query?q=%D0%B3%D0%BE%D1%80%D0%BE%D0%B4%20x&a=1%2B2");
  REQUIRE(r);
  CHECK(Body(r)["q"] == "город x");
  CHECK(Body(r)["a"] == "1+2");
}

TEST_CASE("HTTP: an unknown route is a 404 problem", "[http][errors]") {
  Fixture f;
  auto client = f.Client();
  RequireProblem(client.Get("/v1/nothing-here"), 404);
}

TEST_CASE("HTTP: a wrong method is a 405 problem with Allow", "[http][errors]") {
  Fixture f;
  auto client = f.Client();
  auto r = client.Delete("/v1/things/1");
  RequireProblem(r, 405);
  CHECK(r->get_header_value("Allow") == "GET, HEAD, OPTIONS");
}

TEST_CASE("HTTP: a body over the route's limit is a 413 problem", "[http][errors]") {
  Fixture f;
  auto client = f.Client();
  const std::string big = "{\"x\":\"" + std::string(4000, 'a') + "\"}";
  auto r = client.Post("/v1/things", big, "application/json");
  RequireProblem(r, 413);
  CHECK(Body(r)["limit_bytes"] == 2048);
}

TEST_CASE("HTTP: a non-JSON content type on a JSON route is a 415 problem", "[http][errors]") {
  Fixture f;
  auto client = f.Client();
  RequireProblem(client.Post("/v1/things", "x=1", "application/x-www-form-urlencoded"), 415);
}

TEST_CASE("HTTP: malformed JSON is a 400 problem with the byte offset", "[http][errors]") {
  Fixture f;
  auto client = f.Client();
  auto r = client.Post("/v1/things", "{\"a\": tru}", "application/json");
  RequireProblem(r, 400);
  CHECK(Body(r)["offset"].is_number_integer());
  CHECK(Body(r)["offset"].get<int>() > 0);
}

TEST_CASE("HTTP: JSON nested too deep is a 400 problem, not a crash", "[http][errors]") {
  Fixture f;
  auto client = f.Client();
  RequireProblem(client.Post("/v1/things", std::string(1000, '['), "application/json"), 400);
}

TEST_CASE("HTTP: a valid JSON body reaches the offloaded handler", "[http]") {
  Fixture f;
  auto client = f.Client();
  auto r = client.Post("/v1/things", R"({"name":"Ханты-Мансийск"})", "application/json");
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(Body(r)["echo"]["name"] == "Ханты-Мансийск");
}

TEST_CASE("HTTP: an exception in a handler is a 500 problem without internals", "[http][errors]") {
  Fixture f;
  auto client = f.Client();
  auto r = client.Get("/v1/boom");
  RequireProblem(r, 500);
  CHECK(r->body.find("secret") == std::string::npos);
}

TEST_CASE("HTTP: an async handler answers later and a forgotten responder answers 500", "[http]") {
  Fixture f;
  auto client = f.Client();
  auto r = client.Get("/v1/later");
  REQUIRE(r);
  CHECK(r->status == 200);
  RequireProblem(client.Get("/v1/forgotten"), 500);
}

TEST_CASE("HTTP: HTTP/1.1 responses keep the connection alive unless the client closes", "[http]") {
  Fixture f;
  auto client = f.Client();
  auto r = client.Get("/healthz");
  REQUIRE(r);
  CHECK(r->get_header_value("Connection") == "Keep-Alive");
  r = client.Get("/healthz", {{"Connection", "close"}});
  REQUIRE(r);
  CHECK(r->get_header_value("Connection") == "Close");
}

TEST_CASE("HTTP: CORS preflight and simple requests from another origin", "[http][cors]") {
  Fixture f;
  auto client = f.Client();
  auto r = client.Options("/v1/things/1", {{"Origin", "https://portal.example"},
                                           {"Access-Control-Request-Method", "GET"}});
  REQUIRE(r);
  CHECK(r->status == 204);
  CHECK(r->get_header_value("Access-Control-Allow-Origin") == "*");
  CHECK(r->get_header_value("Access-Control-Allow-Methods").find("GET") != std::string::npos);
  r = client.Get("/v1/things/1", {{"Origin", "https://portal.example"}});
  REQUIRE(r);
  CHECK(r->get_header_value("Access-Control-Allow-Origin") == "*");
}

TEST_CASE("HTTP: CORS limited to listed origins", "[http][cors]") {
  civic::http::ServerOptions options;
  options.cors_origins = {"https://city.example"};
  Fixture f(options);
  auto client = f.Client();
  auto r = client.Get("/v1/things/1", {{"Origin", "https://city.example"}});
  REQUIRE(r);
  CHECK(r->get_header_value("Access-Control-Allow-Origin") == "https://city.example");
  r = client.Get("/v1/things/1", {{"Origin", "https://evil.example"}});
  REQUIRE(r);
  CHECK_FALSE(r->has_header("Access-Control-Allow-Origin"));
}

TEST_CASE("HTTP: request metrics are labelled by route pattern, not raw path", "[http][metrics]") {
  Fixture f;
  auto client = f.Client();
  REQUIRE(client.Get("/v1/things/1"));
  REQUIRE(client.Get("/v1/things/2"));
  REQUIRE(client.Get("/no/such/path"));
  auto r = client.Get("/metrics");
  REQUIRE(r);
  CHECK(r->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(r->body.find(R"(http_requests_total{route="/v1/things/{id}",method="GET",code="200"} 2)") !=
        std::string::npos);
  CHECK(r->body.find(R"(http_requests_total{route="unmatched",method="GET",code="404"} 1)") !=
        std::string::npos);
  CHECK(r->body.find("/v1/things/1") == std::string::npos);
  CHECK(r->body.find("http_request_duration_seconds_bucket") != std::string::npos);
  CHECK(r->body.find("http_requests_in_flight") != std::string::npos);
}

TEST_CASE("HTTP: drain lets an in-flight request finish and refuses new ones with 503",
          "[http][shutdown]") {
  Fixture f;
  auto slow = std::async(std::launch::async, [&f] {
    auto client = f.Client();
    auto r = client.Get("/v1/slow");
    return r ? r->status : -1;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(f.server->in_flight() == 1);
  auto drained =
      std::async(std::launch::async, [&f] { return f.server->Drain(std::chrono::seconds(5)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto client = f.Client();
  RequireProblem(client.Get("/v1/things/1"), 503);
  CHECK(slow.get() == 200);
  CHECK(drained.get());
}
