// The hold rules' cost per vote, in process (docs/performance.md): N votes of distinct voters,
// each with a device and an address (two voters each, a /24 per four), through HashContext and
// VoteRules::Check with the default settings; then the same without context (only the voter
// rule). Prints ns per vote and how many were held (none expected).
//   civic-rules-bench [N] [SLOTS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "crypto.hpp"
#include "vote_rules.hpp"

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1'000'000;
  const civic::ballot::Keys keys("bench-voter-key-0123456789abcdef0123456789");
  const size_t slots = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : size_t{1} << 18;
  civic::ballot::VoteRules rules(slots);
  const civic::ballot::RuleSettings settings;
  const auto run = [&](bool context) {
    int held = 0;
    double hash_s = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      const std::string voter = "voter-" + std::to_string(context ? i : n + i);
      civic::ballot::VoteContext vote;
      vote.award_id = 7;
      vote.nominee_id = 501 + i % 8;
      vote.voter = keys.HashVoter(7, voter);
      if (context) {
        const int pair = i / 2;
        const std::string address = std::to_string(pair / 65536 % 256) + "." +
                                    std::to_string(pair / 256 % 256) + "." +
                                    std::to_string(pair % 256) + ".10";
        const auto t0 = std::chrono::steady_clock::now();
        const auto hashes =
            civic::ballot::HashContext(keys, 7, "d-" + std::to_string(pair), address);
        hash_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        vote.device = hashes.device;
        vote.address = hashes.address;
        vote.block = hashes.block;
      }
      held += rules.Check(settings, vote, 1'000'000 + i / 50'000).held() ? 1 : 0;
    }
    const double total =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "context=%d votes=%d total_ns_per_vote=%.0f (voter id, HMAC of it, strings included) "
        "context_hash_ns=%.0f held=%d\n",
        context ? 1 : 0, n, total * 1e9 / n, hash_s * 1e9 / n, held);
  };
  run(true);
  run(false);
  std::printf("tables: %zu bytes allocated\n", rules.memory_bytes());
  return 0;
}
