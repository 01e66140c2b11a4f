// Thread names (top -H, perf): set, and cut to Linux's 15 characters rather than refused.
#include <pthread.h>
#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include "civic/runtime/thread_name.hpp"

namespace {

// Sets `requested` on a new thread and returns the name that thread then has.
std::string NameAfter(const char* requested) {
  std::string seen;
  std::thread thread([&] {
    civic::runtime::NameThisThread(requested);
    char name[32] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    seen = name;
  });
  thread.join();
  return seen;
}

}  // namespace

TEST_CASE("NameThisThread names the calling thread", "[runtime]") {
  CHECK(NameAfter("ballot-commit") == "ballot-commit");
}

TEST_CASE("NameThisThread cuts a long name to 15 characters", "[runtime]") {
  CHECK(NameAfter("a-name-longer-than-fifteen") == "a-name-longer-t");
}
