#pragma once

// The one way tests wait for something that happens on another thread or in another process.

#include <chrono>
#include <thread>

namespace civic::test {

// Polls until `predicate()` holds or `timeout` passes; returns its last value.
template <class F>
bool Eventually(F predicate, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return predicate();
}

}  // namespace civic::test
