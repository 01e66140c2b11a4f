#pragma once

// Both real services in one test, each knowing the other (proto-docs/awards-sync.md end to
// end): the ballot reaches the events API through a relay in the test process, so both binaries
// can start on port 0.

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "ballot_fixture.hpp"
#include "events_api_helpers.hpp"

namespace civic::test {

// Forwards GETs and POSTs to one of the services once its address is known (each side needs the
// other's URL at start, and both listen on port 0). Until then, and while paused, it answers
// 503, which the caller treats as the other service being down.
class Relay {
 public:
  Relay() {
    const auto forward = [this](const httplib::Request& req, httplib::Response& res) {
      std::string target;
      {
        std::lock_guard<std::mutex> lock(mu_);
        target = target_;
      }
      if (target.empty() || paused_) {
        res.status = 503;
        return;
      }
      httplib::Client client(target);
      client.set_connection_timeout(2, 0);
      client.set_read_timeout(5, 0);
      httplib::Headers headers;
      for (const char* name : {"If-None-Match", "X-Civic-Protocol", "Accept", "Authorization",
                               "X-Request-Id", "traceparent"}) {
        if (req.has_header(name)) {
          headers.emplace(name, req.get_header_value(name));
        }
      }
      auto answer = req.method == "POST" ? client.Post(req.target, headers, req.body,
                                                       req.get_header_value("Content-Type"))
                                         : client.Get(req.target, headers);
      if (!answer) {
        res.status = 502;
        return;
      }
      res.status = answer->status;
      for (const char* name : {"ETag", "X-Civic-Protocol"}) {
        if (answer->has_header(name)) {
          res.set_header(name, answer->get_header_value(name));
        }
      }
      if (!answer->body.empty()) {
        res.set_content(answer->body, answer->get_header_value("Content-Type"));
      }
    };
    server_.Get(".*", forward);
    server_.Post(".*", forward);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~Relay() {
    server_.stop();
    thread_.join();
  }
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  std::string url() const { return Str("http://127.0.0.1:", port_); }
  void SetTarget(const std::string& target) {
    std::lock_guard<std::mutex> lock(mu_);
    target_ = target;
  }
  // While paused the caller cannot reach the other service.
  void Pause(bool paused) { paused_ = paused; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;  // guards target_
  std::string target_;
  std::atomic<bool> paused_{false};
};

inline std::string Path(const std::string& base, int64_t id, const std::string& tail = "") {
  return base + "/" + std::to_string(id) + tail;
}

inline ServiceOptions EventsOptions(const std::string& ballot_url) {
  ServiceOptions options;
  options.args = {"--ballot-url", ballot_url};
  options.env = {{"CIVIC_EVENTS_BALLOT_ADMIN_KEY", kAdminKey}};
  return options;
}

// Both real services, each knowing the other through a relay: `relay` carries the ballot's
// sync requests to the events API, `to_ballot` the events API's calls to the ballot.
struct BothServices {
  Relay relay;
  Relay to_ballot;
  Service ballot{BallotBinary(), BallotOptions(relay.url())};
  Service events{EventsApiBinary(), EventsOptions(to_ballot.url())};
  BothServices() {
    relay.SetTarget(events.base_url());
    to_ballot.SetTarget(ballot.base_url());
  }
};

}  // namespace civic::test
