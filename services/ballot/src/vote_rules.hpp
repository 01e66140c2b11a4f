#pragma once

// Rules that hold a vote under suspicion (issue #34, README "Held votes"): too many distinct
// voters from one device, address or address block (/24 IPv4, /48 IPv6) within a window; too
// many votes by one voter across an award's nominations within a window; a burst of votes for
// one nominee from one client far above that client's usual rate for it. Every check is O(1)
// per vote, in tables of a fixed number of slots (sets of 4, each set under its own lock):
// when a set is full the slot idle longest is forgotten, which can only let a vote through that
// a larger table would have held, never hold one more.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto.hpp"

namespace civic::ballot {

enum class HoldRule : uint8_t { kNone, kDevice, kAddress, kBlock, kVoter, kBurst };
// "device", "address", "address_block", "voter", "burst".
std::string_view ToString(HoldRule rule);
std::optional<HoldRule> ParseHoldRule(std::string_view name);

// One award's thresholds. A count of 0 turns its rule off.
struct RuleSettings {
  static constexpr int kMaxDistinct = 15;  // the largest voters-per-device/address/block limit

  int voters_per_device = 5;    // distinct voters per device in `window_s`
  int voters_per_address = 15;  // distinct voters per address in `window_s`
  int voters_per_block = 15;    // distinct voters per /24 or /48 in `window_s`
  int window_s = 3600;
  int votes_per_voter = 20;  // votes by one voter across the award's nominations in voter_window_s
  int voter_window_s = 600;
  int burst_min = 100;       // votes for one nominee from one client in burst_window_s, at least
  double burst_factor = 10;  // ... and this many times the client's usual rate for it
  int burst_window_s = 60;

  // An error naming the field when a value is out of range, else "".
  std::string Validate() const;
  bool AllOff() const {
    return voters_per_device == 0 && voters_per_address == 0 && voters_per_block == 0 &&
           votes_per_voter == 0 && burst_min == 0;
  }
};

// What the client said about a vote, as keyed hashes (never the raw strings), plus who sent it.
struct VoteContext {
  int64_t award_id = 0;
  int64_t nominee_id = 0;
  VoterHash voter{};
  std::optional<uint64_t> device;   // keyed hash of the device id
  std::optional<uint64_t> address;  // keyed hash of the voter's address
  std::optional<uint64_t> block;    // keyed hash of its /24 or /48
  uint64_t client = 0;              // the API key that sent it
};

// Why a vote is held: the rule, what was counted and the limit it passed. Counts only.
struct HoldVerdict {
  HoldRule rule = HoldRule::kNone;
  uint32_t count = 0;     // distinct voters / votes seen in the window, this one included
  uint32_t limit = 0;     // the threshold
  uint32_t window_s = 0;  // the window
  bool held() const { return rule != HoldRule::kNone; }
};

// Where a vote's checks land in the rules' tables (VoteRules::Locate): the keys of the slots it
// counts in, 0 for a rule that is off or has nothing to count. Computed once per vote, so that a
// batch can prefetch the slots of the votes ahead while it checks the current one.
struct RuleSlots {
  std::array<uint64_t, 3> distinct{};  // device, address, block
  uint64_t voter = 0;
  uint64_t burst = 0;
};

// Thread-safe.
class VoteRules {
 public:
  // `slots`: slots per table (two tables: distinct voters, and counts of votes per voter and of
  // bursts; their memory is bounded by it). REQUIRES: slots >= 4.
  explicit VoteRules(size_t slots = size_t{1} << 18);
  ~VoteRules();
  VoteRules(const VoteRules&) = delete;
  VoteRules& operator=(const VoteRules&) = delete;

  // The slots `vote` counts in under `settings`. Pure: touches no table.
  static RuleSlots Locate(const RuleSettings& settings, const VoteContext& vote);
  // Hints that `slots` will be checked soon: PrefetchSets loads the heads of their sets (and the
  // counters whole); PrefetchSlots, called some time after PrefetchSets for the same slots, the
  // distinct-voter slot each key has (or would take) in its set. Only hints: they change nothing
  // and need no lock.
  void PrefetchSets(const RuleSlots& slots) const;
  void PrefetchSlots(const RuleSlots& slots) const;

  // Counts the vote and returns the first rule it trips (device, address, block, voter, burst),
  // or kNone. `now_s`: seconds of a steady or wall clock, the same for every call. `slots`:
  // Locate(settings, vote).
  HoldVerdict Check(const RuleSettings& settings, const VoteContext& vote, const RuleSlots& slots,
                    int64_t now_s);
  HoldVerdict Check(const RuleSettings& settings, const VoteContext& vote, int64_t now_s) {
    return Check(settings, vote, Locate(settings, vote), now_s);
  }

  size_t memory_bytes() const;

 private:
  struct Distinct;
  struct Counter;
  template <class Slot>
  struct Table;
  std::unique_ptr<Table<Distinct>> distinct_;
  std::unique_ptr<Table<Counter>> counters_;
};

// Keyed hashes of the context strings: the device id, the address and its block (nothing when
// the address is not an IP address), with the ballot's context key (Keys::HashContext), per
// award.
struct ContextHashes {
  std::optional<uint64_t> device;
  std::optional<uint64_t> address;
  std::optional<uint64_t> block;
};
ContextHashes HashContext(const Keys& keys, int64_t award_id,
                          const std::optional<std::string>& device,
                          const std::optional<std::string>& address);

}  // namespace civic::ballot
