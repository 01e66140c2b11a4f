#include "vote_rules.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "civic/http/rate_limit.hpp"

namespace civic::ballot {

namespace {

constexpr size_t kWays = 4;

uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t KeyOf(uint64_t kind, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  return Mix(Mix(Mix(kind * 0x9e3779b97f4a7c15ULL ^ a) ^ b) ^ c) | 1;  // never 0 (empty)
}

uint64_t First8(const VoterHash& hash) {
  uint64_t out = 0;
  std::memcpy(&out, hash.data(), sizeof(out));
  return out;
}

}  // namespace

std::string_view ToString(HoldRule rule) {
  switch (rule) {
    case HoldRule::kDevice:
      return "device";
    case HoldRule::kAddress:
      return "address";
    case HoldRule::kBlock:
      return "address_block";
    case HoldRule::kVoter:
      return "voter";
    case HoldRule::kBurst:
      return "burst";
    case HoldRule::kNone:
      break;
  }
  return "none";
}

std::optional<HoldRule> ParseHoldRule(std::string_view name) {
  for (const HoldRule rule : {HoldRule::kDevice, HoldRule::kAddress, HoldRule::kBlock,
                              HoldRule::kVoter, HoldRule::kBurst}) {
    if (ToString(rule) == name) {
      return rule;
    }
  }
  return std::nullopt;
}

std::string RuleSettings::Validate() const {
  const auto distinct = [](int value, const char* name) -> std::string {
    if (value < 0 || value > kMaxDistinct) {
      return std::string(name) + " must be 0 (off) to " + std::to_string(kMaxDistinct);
    }
    return "";
  };
  for (const std::string& error : {distinct(voters_per_device, "voters_per_device"),
                                   distinct(voters_per_address, "voters_per_address"),
                                   distinct(voters_per_block, "voters_per_block")}) {
    if (!error.empty()) {
      return error;
    }
  }
  if (window_s < 1 || window_s > 7 * 86400) {
    return "window_s must be 1 to 604800";
  }
  if (votes_per_voter < 0 || votes_per_voter > 1'000'000) {
    return "votes_per_voter must be 0 (off) to 1000000";
  }
  if (voter_window_s < 1 || voter_window_s > 7 * 86400) {
    return "voter_window_s must be 1 to 604800";
  }
  if (burst_min < 0 || burst_min > 1'000'000) {
    return "burst_min must be 0 (off) to 1000000";
  }
  if (!(burst_factor >= 1 && burst_factor <= 1000)) {
    return "burst_factor must be 1 to 1000";
  }
  if (burst_window_s < 1 || burst_window_s > 86400) {
    return "burst_window_s must be 1 to 86400";
  }
  return "";
}

// The most recently seen distinct voters of one device, address or block, with when each was
// last seen: kMaxDistinct + 1 of them are enough to know whether more than N (<= kMaxDistinct)
// were seen within the window.
struct VoteRules::Distinct {
  static constexpr size_t kTracked = RuleSettings::kMaxDistinct + 1;
  uint64_t key;
  uint32_t last_used;
  std::array<uint32_t, kTracked> voter;
  std::array<uint32_t, kTracked> seen;
};

// A count over fixed windows of `window` seconds: this window's and the last one's (for a
// sliding estimate), and for bursts the usual count per window (an exponential average).
struct VoteRules::Counter {
  uint64_t key;
  uint32_t last_used;
  uint32_t window_start;
  uint32_t current;
  uint32_t previous;
  float usual;
};

template <class Slot>
struct VoteRules::Table {
  size_t sets = 0;
  Slot* slots = nullptr;
  std::array<std::mutex, 256> locks;

  explicit Table(size_t wanted) {
    sets = 1;
    while (sets * kWays < wanted) {
      sets <<= 1;
    }
    // calloc: untouched pages cost nothing, so memory grows with use up to the bound. Each
    // vote lands in random sets: huge pages spare most of the TLB misses (where the kernel
    // gives them; a hint, whatever it answers).
    slots = static_cast<Slot*>(std::calloc(sets * kWays, sizeof(Slot)));
    if (slots == nullptr) {
      throw std::bad_alloc();
    }
    constexpr uintptr_t kHuge = uintptr_t{2} << 20;
    const auto begin = (reinterpret_cast<uintptr_t>(slots) + kHuge - 1) & ~(kHuge - 1);
    const auto end =
        (reinterpret_cast<uintptr_t>(slots) + sets * kWays * sizeof(Slot)) & ~(kHuge - 1);
    if (end > begin) {
      ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
    }
  }
  ~Table() { std::free(slots); }
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  std::mutex& LockFor(uint64_t key) { return locks[(Mix(key) & (sets - 1)) & (locks.size() - 1)]; }

  // The slot of `key`, or a fresh (zeroed) one taking the idlest slot of its set; `fresh` says
  // which. REQUIRES: LockFor(key) is held.
  Slot& Find(uint64_t key, uint32_t now, bool& fresh) {
    Slot* set = slots + (Mix(key) & (sets - 1)) * kWays;
    Slot* victim = set;
    for (size_t i = 0; i < kWays; ++i) {
      if (set[i].key == key) {
        set[i].last_used = now;
        fresh = false;
        return set[i];
      }
      if (set[i].key == 0 || (victim->key != 0 && set[i].last_used < victim->last_used)) {
        victim = &set[i];
      }
    }
    std::memset(static_cast<void*>(victim), 0, sizeof(Slot));
    victim->key = key;
    victim->last_used = now;
    fresh = true;
    return *victim;
  }
};

VoteRules::VoteRules(size_t slots)
    : distinct_(std::make_unique<Table<Distinct>>(slots)),
      counters_(std::make_unique<Table<Counter>>(slots)) {}

VoteRules::~VoteRules() = default;

size_t VoteRules::memory_bytes() const {
  return distinct_->sets * kWays * sizeof(Distinct) + counters_->sets * kWays * sizeof(Counter);
}

HoldVerdict VoteRules::Check(const RuleSettings& settings, const VoteContext& vote, int64_t now_s) {
  const auto now = static_cast<uint32_t>(now_s);
  // 32 bits of the voter's hash tell voters apart (0 marks an empty place).
  const auto low = static_cast<uint32_t>(First8(vote.voter));
  const uint32_t voter_tag = low != 0 ? low : 1;
  HoldVerdict verdict;

  // Distinct voters of one device / address / block within the window.
  const auto distinct = [&](uint64_t kind, const std::optional<uint64_t>& who, int limit,
                            HoldRule rule) {
    if (!who || limit <= 0) {
      return;
    }
    const uint64_t key = KeyOf(kind, static_cast<uint64_t>(vote.award_id), *who);
    const uint32_t since = now >= static_cast<uint32_t>(settings.window_s)
                               ? now - static_cast<uint32_t>(settings.window_s)
                               : 0;
    std::lock_guard<std::mutex> lock(distinct_->LockFor(key));
    bool fresh = false;
    Distinct& slot = distinct_->Find(key, now, fresh);
    size_t at = Distinct::kTracked;
    size_t oldest = 0;
    for (size_t i = 0; i < Distinct::kTracked; ++i) {
      if (slot.voter[i] == voter_tag) {
        at = i;
        break;
      }
      // An empty place first, else the voter seen longest ago.
      if (slot.voter[oldest] != 0 && (slot.voter[i] == 0 || slot.seen[i] < slot.seen[oldest])) {
        oldest = i;
      }
    }
    if (at == Distinct::kTracked) {
      at = oldest;
      slot.voter[at] = voter_tag;
    }
    slot.seen[at] = now;
    uint32_t count = 0;
    for (size_t i = 0; i < Distinct::kTracked; ++i) {
      if (slot.voter[i] != 0 && slot.seen[i] >= since) {
        ++count;
      }
    }
    if (!verdict.held() && count > static_cast<uint32_t>(limit)) {
      verdict = {rule, count, static_cast<uint32_t>(limit),
                 static_cast<uint32_t>(settings.window_s)};
    }
  };
  distinct(1, vote.device, settings.voters_per_device, HoldRule::kDevice);
  distinct(2, vote.address, settings.voters_per_address, HoldRule::kAddress);
  distinct(3, vote.block, settings.voters_per_block, HoldRule::kBlock);

  // A count in fixed windows; returns the sliding estimate (this window plus the part of the
  // last one still inside it) after adding this vote.
  const auto count = [&](uint64_t key, uint32_t window,
                         bool keep_usual) -> std::pair<double, float> {
    std::lock_guard<std::mutex> lock(counters_->LockFor(key));
    bool fresh = false;
    Counter& c = counters_->Find(key, now, fresh);
    if (fresh) {
      c.window_start = now - now % window;
    }
    const uint32_t start = now - now % window;
    if (start > c.window_start) {
      const uint32_t passed = (start - c.window_start) / window;
      if (keep_usual) {
        // The usual count per window: an average over about five windows, idle ones too.
        c.usual = 0.8f * c.usual + 0.2f * static_cast<float>(c.current);
        for (uint32_t i = 1; i < passed && i < 64; ++i) {
          c.usual *= 0.8f;
        }
      }
      c.previous = passed == 1 ? c.current : 0;
      c.current = 0;
      c.window_start = start;
    }
    ++c.current;
    const double into = static_cast<double>(now - start) / window;
    return {c.current + c.previous * (1.0 - into), c.usual};
  };

  if (settings.votes_per_voter > 0) {
    const uint64_t key = KeyOf(4, static_cast<uint64_t>(vote.award_id), First8(vote.voter), [&] {
      uint64_t second = 0;
      std::memcpy(&second, vote.voter.data() + 8, 8);
      return second;
    }());
    const double seen = count(key, static_cast<uint32_t>(settings.voter_window_s), false).first;
    if (!verdict.held() && seen > settings.votes_per_voter) {
      verdict = {HoldRule::kVoter, static_cast<uint32_t>(std::ceil(seen)),
                 static_cast<uint32_t>(settings.votes_per_voter),
                 static_cast<uint32_t>(settings.voter_window_s)};
    }
  }

  // A burst: one client (its device, else its address) for one nominee. Votes without either
  // come from the voting client's own servers, whose rate is everyone's: no burst rule there.
  const std::optional<uint64_t>& client = vote.device ? vote.device : vote.address;
  if (settings.burst_min > 0 && client) {
    const uint64_t key = KeyOf(5, static_cast<uint64_t>(vote.award_id), *client,
                               static_cast<uint64_t>(vote.nominee_id));
    const auto [seen, usual] = count(key, static_cast<uint32_t>(settings.burst_window_s), true);
    const double threshold =
        std::max<double>(settings.burst_min, settings.burst_factor * static_cast<double>(usual));
    if (!verdict.held() && seen >= threshold) {
      verdict = {HoldRule::kBurst, static_cast<uint32_t>(std::ceil(seen)),
                 static_cast<uint32_t>(std::ceil(threshold)),
                 static_cast<uint32_t>(settings.burst_window_s)};
    }
  }
  return verdict;
}

ContextHashes HashContext(const Keys& keys, int64_t award_id,
                          const std::optional<std::string>& device,
                          const std::optional<std::string>& address) {
  ContextHashes out;
  if (device && !device->empty()) {
    out.device = First8(keys.HashVoter(award_id, "device\n" + *device));
  }
  if (address && !address->empty()) {
    out.address = First8(keys.HashVoter(award_id, "address\n" + *address));
    if (auto ip = http::ParseIp(*address)) {
      const bool v4 = (*ip)[10] == 0xff && (*ip)[11] == 0xff && (*ip)[0] == 0;
      // /24 of IPv4 (bytes 12..14 of the mapped form), /48 of IPv6 (bytes 0..5).
      const size_t keep = v4 ? 15 : 6;
      std::fill(ip->begin() + static_cast<std::ptrdiff_t>(keep), ip->end(), 0);
      out.block = First8(keys.HashVoter(
          award_id,
          "block\n" + std::string(reinterpret_cast<const char*>(ip->data()), ip->size())));
    }
  }
  return out;
}

}  // namespace civic::ballot
