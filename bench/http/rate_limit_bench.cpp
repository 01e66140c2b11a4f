// The rate limiter's table under a flood of distinct client addresses: RSS before and after
// N distinct IPv4 and N distinct IPv6 /64s (each takes one token, as one request would), and the
// time per Take. Usage: civic-rate-limit-bench [N] [MAX_ENTRIES]  (defaults 1000000, 1048576).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "civic/http/rate_limit.hpp"

namespace {

long RssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtol(line.c_str() + 6, nullptr, 10);
    }
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const size_t entries = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : size_t{1} << 20;
  const long before = RssKiB();
  civic::http::RateLimiter limiter(entries);
  const civic::http::BucketLimit limit{100, 400};
  const civic::http::RateIdentity anonymous;
  const long empty = RssKiB();
  size_t refused = 0;
  const auto run = [&](bool v6) {
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < n; ++i) {
      std::array<uint8_t, 16> address{};
      if (v6) {
        address[0] = 0x20;
        address[1] = 0x01;
        std::memcpy(address.data() + 4, &i, 4);  // a distinct /64 each
      } else {
        address[10] = 0xff;
        address[11] = 0xff;
        const uint32_t ip = 0x0b000000u + static_cast<uint32_t>(i);
        std::memcpy(address.data() + 12, &ip, 4);
      }
      const uint64_t key = civic::http::BucketKey(12345, 0, anonymous, &address);
      refused += limiter.Take(key, limit, static_cast<int64_t>(i / 1000)).allowed ? 0 : 1;
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const double v4_s = run(false);
  const long after_v4 = RssKiB();
  const double v6_s = run(true);
  const long after_v6 = RssKiB();
  std::printf(
      "distinct=%zu max_entries=%zu table_bytes=%zu rss_kib_start=%ld rss_kib_empty_table=%ld "
      "rss_kib_after_v4=%ld rss_kib_after_v6=%ld ns_per_take_v4=%.0f ns_per_take_v6=%.0f "
      "refused=%zu\n",
      n, entries, limiter.memory_bytes(), before, empty, after_v4, after_v6, v4_s * 1e9 / n,
      v6_s * 1e9 / n, refused);
  return 0;
}
