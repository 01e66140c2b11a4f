// The hold rules' cost per vote, in process (docs/performance.md): N votes of distinct voters,
// each with a device and an address (two voters each, a /24 per four), through HashContext and
// VoteRules::Check with the default settings, as the ballot takes them: one at a time (a single
// vote: no prefetch) and in batches of 1,000 (VoteService::DecideMany: hashes first, then the
// checks with the rules' sets and slots prefetched ahead); then the same without context (only
// the voter rule). Each mode is timed against the same loop without the rules (the voter's HMAC
// and the strings, which the ballot does anyway), and the difference is the rules' cost. Prints
// ns per vote and how many were held (none expected).
//   civic-rules-bench [N] [SLOTS] [single|batch]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "crypto.hpp"
#include "vote_rules.hpp"

namespace {

using civic::ballot::HashContext;
using civic::ballot::Keys;
using civic::ballot::RuleSettings;
using civic::ballot::RuleSlots;
using civic::ballot::VoteContext;
using civic::ballot::VoteRules;

struct Input {
  std::string voter;
  std::optional<std::string> device;
  std::optional<std::string> address;
  int64_t nominee = 0;
};

std::vector<Input> MakeVotes(int first, int n, bool context) {
  std::vector<Input> out(static_cast<size_t>(n));
  for (int j = 0; j < n; ++j) {
    const int i = first + j;
    Input& in = out[static_cast<size_t>(j)];
    in.voter = "voter-" + std::to_string(i);
    in.nominee = 501 + i % 8;
    if (context) {
      const int pair = i / 2;
      in.device = "d-" + std::to_string(pair);
      in.address = std::to_string(pair / 65536 % 256) + "." + std::to_string(pair / 256 % 256) +
                   "." + std::to_string(pair % 256) + ".10";
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1'000'000;
  const Keys keys("bench-voter-key-0123456789abcdef0123456789");
  const size_t slots = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : size_t{1} << 18;
  const std::string only = argc > 3 ? argv[3] : "";
  VoteRules rules(slots);
  const RuleSettings settings;
  constexpr int kBatch = 1000;
  constexpr size_t kAhead = 8;  // as VoteService::DecideMany
  int next_voter = 0;
  // One pass over n votes; `with_rules` false: the same loop without the rules (the baseline).
  const auto run = [&](bool context, bool batch, bool with_rules, int& held) {
    double seconds = 0;
    for (int done = 0; done < n; done += kBatch) {
      const std::vector<Input> inputs = MakeVotes(next_voter, kBatch, context);
      next_voter += kBatch;
      std::vector<VoteContext> votes(inputs.size());
      std::vector<RuleSlots> where(inputs.size());
      const auto start = std::chrono::steady_clock::now();
      const int64_t now_s = 1'000'000 + done / 50'000;
      // Pass 1 (VoteService::Check): the voter's HMAC, the context's hashes, the slots.
      const auto hash = [&](size_t i) {
        VoteContext& vote = votes[i];
        vote.award_id = 7;
        vote.nominee_id = inputs[i].nominee;
        vote.voter = keys.HashVoter(7, inputs[i].voter);
        if (with_rules && (inputs[i].device || inputs[i].address)) {
          const auto hashes = HashContext(keys, 7, inputs[i].device, inputs[i].address);
          vote.device = hashes.device;
          vote.address = hashes.address;
          vote.block = hashes.block;
        }
        if (with_rules) {
          where[i] = VoteRules::Locate(settings, vote);
        }
      };
      if (batch) {
        for (size_t i = 0; i < votes.size(); ++i) {
          hash(i);
        }
        if (with_rules) {
          for (size_t i = 0; i < 2 * kAhead; ++i) {
            rules.PrefetchSets(where[i]);
          }
          for (size_t i = 0; i < votes.size(); ++i) {
            if (i + 2 * kAhead < votes.size()) {
              rules.PrefetchSets(where[i + 2 * kAhead]);
            }
            if (i + kAhead < votes.size()) {
              rules.PrefetchSlots(where[i + kAhead]);
            }
            held += rules.Check(settings, votes[i], where[i], now_s).held() ? 1 : 0;
          }
        }
      } else {
        for (size_t i = 0; i < votes.size(); ++i) {
          hash(i);
          if (with_rules) {
            held += rules.Check(settings, votes[i], where[i], now_s).held() ? 1 : 0;
          }
        }
      }
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    return seconds * 1e9 / n;
  };
  for (const bool context : {true, false}) {
    for (const bool batch : {false, true}) {
      if (!only.empty() && only != (batch ? "batch" : "single")) {
        continue;
      }
      int held = 0;
      const double without = run(context, batch, false, held);
      const double with = run(context, batch, true, held);
      std::printf(
          "context=%d %s votes=%d ns_per_vote: without_rules=%.0f with_rules=%.0f "
          "rules=%.0f held=%d\n",
          context ? 1 : 0, batch ? "batch " : "single", n, without, with, with - without, held);
    }
  }
  std::printf("tables: %zu bytes allocated\n", rules.memory_bytes());
  return 0;
}
