#include "civic/runtime/serve.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <iostream>

namespace civic::runtime {

namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int ServeUntilSignal(http::Server& server, const std::string& name, const std::string& host,
                     int drain_timeout_ms, LogFormat format,
                     const std::function<void()>& before_stop) {
  uint16_t port = 0;
  try {
    port = server.Start();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    std::cerr << name << ": " << e.what() << std::endl;
    return 1;
  }
  const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::string url = "http://" + shown_host + ":" + std::to_string(port);
  std::cout << ListeningLine(name, url, format) << std::flush;
  spdlog::info("listening on http://{}:{}", shown_host, port);

  sigset_t set = TerminationSignals();
  int signal_number = 0;
  sigwait(&set, &signal_number);
  spdlog::info("received signal {}; draining for up to {} ms", signal_number, drain_timeout_ms);
  const bool drained = server.Drain(std::chrono::milliseconds(drain_timeout_ms));
  if (!drained) {
    spdlog::warn("{} requests still in flight after the drain timeout", server.in_flight());
  }
  if (before_stop) {
    before_stop();
  }
  server.Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace civic::runtime
