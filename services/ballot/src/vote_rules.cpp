#include "vote_rules.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>

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
// were seen within the window. One cache line: 16 bits of each voter's hash (0: an empty place;
// two voters of one device that share them count as one, which can only let a vote through) and
// 16 bits of when, in units of 2^k seconds (Head::unit_log2) so that a window is at most
// kWindowUnits of them. Every check forgets the voters older than the window, and a slot idle
// for longer than its window starts over: so no age exceeds two windows, and the 16-bit times
// never wrap.
struct VoteRules::Distinct {
  static constexpr size_t kTracked = RuleSettings::kMaxDistinct + 1;
  static constexpr uint32_t kWindowUnits = 8192;
  std::array<uint16_t, kTracked> voter;
  std::array<uint16_t, kTracked> seen;
};

// A count over fixed windows of `window` seconds: this window's and the last one's (for a
// sliding estimate), and for bursts the usual count per window (an exponential average).
struct VoteRules::Counter {
  uint32_t window_start;
  uint32_t current;
  uint32_t previous;
  float usual;
};

namespace {

// A set's lock: one word in the set's head, so that taking it costs no cache line the check
// does not read anyway (the head is prefetched for writing). Held for a few dozen instructions;
// a waiter that spins long (its holder was descheduled) yields its core.
class SetLock {
 public:
  explicit SetLock(uint32_t& word) : word_(word) {
    for (int spins = 0; word_.exchange(1, std::memory_order_acquire) != 0;) {
      while (word_.load(std::memory_order_relaxed) != 0) {
        if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  ~SetLock() { word_.store(0, std::memory_order_release); }
  SetLock(const SetLock&) = delete;
  SetLock& operator=(const SetLock&) = delete;

 private:
  std::atomic_ref<uint32_t> word_;
};

}  // namespace

// Sets of kWays slots: a head of one cache line (the slots' keys and when each was last used,
// scanned on every lookup, and the set's lock) and the slots' data after it, so that a lookup
// touches the head and its slot's lines only. The memory is an anonymous mapping: zero, and
// resident only as used.
template <class Slot>
struct VoteRules::Table {
  struct alignas(64) Head {
    uint64_t key[kWays];  // 0: empty
    uint32_t last_used[kWays];
    uint32_t lock;             // SetLock
    uint8_t unit_log2[kWays];  // Distinct: the unit of its times
  };
  struct Set {
    Head head;
    Slot slot[kWays];
  };
  static_assert(sizeof(Set) % 64 == 0);

  size_t sets = 0;
  Set* base = nullptr;
  void* mapping = nullptr;
  size_t mapped = 0;

  explicit Table(size_t wanted) {
    sets = 1;
    while (sets * kWays < wanted) {
      sets <<= 1;
    }
    // Each vote lands in random sets: huge pages spare most of the TLB misses (where the kernel
    // gives them; a hint, whatever it answers). Aligned to 2 MiB for them.
    constexpr size_t kHuge = size_t{2} << 20;
    mapped = sets * sizeof(Set) + kHuge;
    mapping = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) {
      throw std::bad_alloc();
    }
    const auto begin = (reinterpret_cast<uintptr_t>(mapping) + kHuge - 1) & ~(kHuge - 1);
    base = reinterpret_cast<Set*>(begin);
    ::madvise(base, (sets * sizeof(Set) + kHuge - 1) & ~(kHuge - 1), MADV_HUGEPAGE);
  }
  ~Table() { ::munmap(mapping, mapped); }
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  size_t bytes() const { return sets * sizeof(Set); }
  Set& SetOf(uint64_t key) const { return base[Mix(key) & (sets - 1)]; }

  // The way `key` has in `head`, else the one it would take: an empty one, else the idlest.
  // Reads through atomic_ref: PrefetchSlots calls it without the lock (the keys and times are
  // written through atomic_ref too).
  static size_t WayOf(Head& head, uint64_t key) {
    size_t victim = 0;
    uint64_t victim_key = std::atomic_ref<uint64_t>(head.key[0]).load(std::memory_order_relaxed);
    uint32_t victim_used =
        std::atomic_ref<uint32_t>(head.last_used[0]).load(std::memory_order_relaxed);
    for (size_t i = 0; i < kWays; ++i) {
      const uint64_t k = std::atomic_ref<uint64_t>(head.key[i]).load(std::memory_order_relaxed);
      if (k == key) {
        return i;
      }
      const uint32_t used =
          std::atomic_ref<uint32_t>(head.last_used[i]).load(std::memory_order_relaxed);
      if (victim_key != 0 && (k == 0 || used < victim_used)) {
        victim = i;
        victim_key = k;
        victim_used = used;
      }
    }
    return victim;
  }

  void PrefetchHead(uint64_t key) const {
    const Set& set = SetOf(key);
    __builtin_prefetch(&set.head, 1, 3);
    if constexpr (sizeof(Set) <= 128) {
      __builtin_prefetch(&set.slot[0], 1, 3);  // the counters' set is two lines: both
    }
  }
  void PrefetchSlot(uint64_t key) const {
    Set& set = SetOf(key);
    const char* slot = reinterpret_cast<const char*>(&set.slot[WayOf(set.head, key)]);
    for (size_t line = 0; line < sizeof(Slot); line += 64) {
      __builtin_prefetch(slot + line, 1, 3);
    }
  }

  // The slot of `key` in `set`, or a fresh (zeroed) one taking the idlest slot of the set;
  // `fresh` says which. A slot of `key` unused for more than `max_idle` seconds, or whose
  // `unit_log2` differs, starts over as a fresh one. REQUIRES: the set's lock is held.
  Slot& Find(Set& set, uint64_t key, uint32_t now, uint64_t max_idle, uint8_t unit_log2,
             bool& fresh) {
    const size_t way = WayOf(set.head, key);
    fresh = set.head.key[way] != key ||
            uint64_t{now} > uint64_t{set.head.last_used[way]} + max_idle ||
            set.head.unit_log2[way] != unit_log2;
    std::atomic_ref<uint32_t>(set.head.last_used[way]).store(now, std::memory_order_relaxed);
    if (fresh) {
      std::atomic_ref<uint64_t>(set.head.key[way]).store(key, std::memory_order_relaxed);
      set.head.unit_log2[way] = unit_log2;
      std::memset(static_cast<void*>(&set.slot[way]), 0, sizeof(Slot));
    }
    return set.slot[way];
  }
};

VoteRules::VoteRules(size_t slots)
    : distinct_(std::make_unique<Table<Distinct>>(slots)),
      counters_(std::make_unique<Table<Counter>>(slots)) {
  static_assert(sizeof(Distinct) == 64);
}

VoteRules::~VoteRules() = default;

size_t VoteRules::memory_bytes() const { return distinct_->bytes() + counters_->bytes(); }

RuleSlots VoteRules::Locate(const RuleSettings& settings, const VoteContext& vote) {
  RuleSlots slots;
  const auto award = static_cast<uint64_t>(vote.award_id);
  const std::array<const std::optional<uint64_t>*, 3> who = {&vote.device, &vote.address,
                                                             &vote.block};
  const std::array<int, 3> limits = {settings.voters_per_device, settings.voters_per_address,
                                     settings.voters_per_block};
  for (size_t i = 0; i < 3; ++i) {
    if (*who[i] && limits[i] > 0) {
      slots.distinct[i] = KeyOf(i + 1, award, **who[i]);
    }
  }
  if (settings.votes_per_voter > 0) {
    uint64_t second = 0;
    std::memcpy(&second, vote.voter.data() + 8, 8);
    slots.voter = KeyOf(4, award, First8(vote.voter), second);
  }
  // A burst: one client (its device, else its address) for one nominee. Votes without either
  // come from the voting client's own servers, whose rate is everyone's: no burst rule there.
  const std::optional<uint64_t>& client = vote.device ? vote.device : vote.address;
  if (settings.burst_min > 0 && client) {
    slots.burst = KeyOf(5, award, *client, static_cast<uint64_t>(vote.nominee_id));
  }
  return slots;
}

void VoteRules::PrefetchSets(const RuleSlots& slots) const {
  for (const uint64_t key : slots.distinct) {
    if (key != 0) {
      distinct_->PrefetchHead(key);
    }
  }
  for (const uint64_t key : {slots.voter, slots.burst}) {
    if (key != 0) {
      counters_->PrefetchHead(key);
    }
  }
}

void VoteRules::PrefetchSlots(const RuleSlots& slots) const {
  for (const uint64_t key : slots.distinct) {
    if (key != 0) {
      distinct_->PrefetchSlot(key);
    }
  }
}

HoldVerdict VoteRules::Check(const RuleSettings& settings, const VoteContext& vote,
                             const RuleSlots& slots, int64_t now_s) {
  const auto now = static_cast<uint32_t>(now_s);
  // 16 bits of the voter's hash tell the voters of one slot apart (0 marks an empty place).
  uint16_t voter_tag = 0;
  std::memcpy(&voter_tag, vote.voter.data(), sizeof(voter_tag));
  voter_tag = voter_tag != 0 ? voter_tag : 1;
  HoldVerdict verdict;

  // Distinct voters of one device / address / block within the window, in units of 2^unit_log2
  // seconds: a window is at most kWindowUnits of them.
  const auto window_s = static_cast<uint32_t>(settings.window_s);
  uint8_t unit_log2 = 0;
  while ((window_s >> unit_log2) > Distinct::kWindowUnits) {
    ++unit_log2;
  }
  const uint32_t window_units = window_s >> unit_log2;
  const auto now_unit = static_cast<uint16_t>(now >> unit_log2);
  const auto distinct = [&](uint64_t key, int limit, HoldRule rule) {
    if (key == 0) {
      return;
    }
    auto& set = distinct_->SetOf(key);
    const SetLock lock(set.head.lock);
    bool fresh = false;
    Distinct& slot = distinct_->Find(set, key, now, window_s, unit_log2, fresh);
    // This voter's place, else an empty one (or one whose voter is older than the window),
    // else the one seen longest ago; and the count of the others still within the window.
    size_t at = Distinct::kTracked;
    size_t free = Distinct::kTracked;
    size_t oldest = 0;
    uint32_t oldest_age = 0;
    uint32_t count = 1;
    for (size_t i = 0; i < Distinct::kTracked; ++i) {
      const uint32_t age = static_cast<uint16_t>(now_unit - slot.seen[i]);
      if (slot.voter[i] == voter_tag) {
        at = i;
      } else if (slot.voter[i] == 0 || age > window_units) {
        slot.voter[i] = 0;
        free = i;
      } else {
        ++count;
        if (age >= oldest_age) {
          oldest = i;
          oldest_age = age;
        }
      }
    }
    if (at == Distinct::kTracked) {
      at = free != Distinct::kTracked ? free : oldest;
      if (free == Distinct::kTracked) {
        --count;  // the voter it replaces no longer counts
      }
      slot.voter[at] = voter_tag;
    }
    slot.seen[at] = now_unit;
    if (!verdict.held() && count > static_cast<uint32_t>(limit)) {
      verdict = {rule, count, static_cast<uint32_t>(limit), window_s};
    }
  };
  distinct(slots.distinct[0], settings.voters_per_device, HoldRule::kDevice);
  distinct(slots.distinct[1], settings.voters_per_address, HoldRule::kAddress);
  distinct(slots.distinct[2], settings.voters_per_block, HoldRule::kBlock);

  // A count in fixed windows; returns the sliding estimate (this window plus the part of the
  // last one still inside it) after adding this vote.
  const auto count = [&](uint64_t key, uint32_t window,
                         bool keep_usual) -> std::pair<double, float> {
    auto& set = counters_->SetOf(key);
    const SetLock lock(set.head.lock);
    bool fresh = false;
    Counter& c = counters_->Find(set, key, now, std::numeric_limits<uint32_t>::max(), 0, fresh);
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

  if (slots.voter != 0) {
    const double seen =
        count(slots.voter, static_cast<uint32_t>(settings.voter_window_s), false).first;
    if (!verdict.held() && seen > settings.votes_per_voter) {
      verdict = {HoldRule::kVoter, static_cast<uint32_t>(std::ceil(seen)),
                 static_cast<uint32_t>(settings.votes_per_voter),
                 static_cast<uint32_t>(settings.voter_window_s)};
    }
  }

  if (slots.burst != 0) {
    const auto [seen, usual] =
        count(slots.burst, static_cast<uint32_t>(settings.burst_window_s), true);
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
    out.device = keys.HashContext('d', award_id, *device);
  }
  if (address && !address->empty()) {
    if (auto ip = http::ParseIp(*address)) {
      // An IP address counts as its 16 bytes (IPv4 as ::ffff:a.b.c.d), whatever its spelling:
      // 192.0.2.10 and ::ffff:192.0.2.10, 2001:DB8::1 and 2001:db8:0:0:0:0:0:1 are one address.
      const auto bytes = [](const std::array<uint8_t, 16>& a) {
        return std::string_view(reinterpret_cast<const char*>(a.data()), a.size());
      };
      out.address = keys.HashContext('A', award_id, bytes(*ip));
      const bool v4 =
          std::all_of(ip->begin(), ip->begin() + 10, [](uint8_t b) { return b == 0; }) &&
          (*ip)[10] == 0xff && (*ip)[11] == 0xff;
      // /24 of IPv4 (bytes 12..14 of the mapped form), /48 of IPv6 (bytes 0..5).
      const size_t keep = v4 ? 15 : 6;
      std::fill(ip->begin() + static_cast<std::ptrdiff_t>(keep), ip->end(), 0);
      out.block = keys.HashContext('b', award_id, bytes(*ip));
    } else {
      out.address = keys.HashContext('a', award_id, *address);  // an opaque string
    }
  }
  return out;
}

}  // namespace civic::ballot
