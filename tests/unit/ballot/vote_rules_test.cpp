#include "vote_rules.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using civic::ballot::HashContext;
using civic::ballot::HoldRule;
using civic::ballot::Keys;
using civic::ballot::RuleSettings;
using civic::ballot::VoteContext;
using civic::ballot::VoterHash;
using civic::ballot::VoteRules;

namespace {

VoterHash Voter(uint32_t n) {
  VoterHash hash{};
  hash[0] = static_cast<uint8_t>(n);
  hash[1] = static_cast<uint8_t>(n >> 8);
  hash[2] = static_cast<uint8_t>(n >> 16);
  hash[9] = 0x5a;
  return hash;
}

RuleSettings Only(int device, int address, int block, int voter, int burst) {
  RuleSettings s;
  s.voters_per_device = device;
  s.voters_per_address = address;
  s.voters_per_block = block;
  s.votes_per_voter = voter;
  s.burst_min = burst;
  return s;
}

}  // namespace

TEST_CASE("Vote rules: more than N distinct voters on one device within the window are held",
          "[ballot][rules]") {
  VoteRules rules(1024);
  const RuleSettings settings = Only(3, 0, 0, 0, 0);
  VoteContext vote;
  vote.award_id = 7;
  vote.device = 99;
  for (uint32_t v = 1; v <= 3; ++v) {
    vote.voter = Voter(v);
    REQUIRE_FALSE(rules.Check(settings, vote, 1000).held());
  }
  vote.voter = Voter(2);  // a voter already seen is not a new one
  REQUIRE_FALSE(rules.Check(settings, vote, 1001).held());
  vote.voter = Voter(4);
  const auto verdict = rules.Check(settings, vote, 1002);
  REQUIRE(verdict.rule == HoldRule::kDevice);
  CHECK(verdict.count == 4);
  CHECK(verdict.limit == 3);
  CHECK(verdict.window_s == 3600);
  // Once the window has passed, the device starts over.
  vote.voter = Voter(5);
  CHECK_FALSE(rules.Check(settings, vote, 1002 + 3601).held());
  // Another device, or the same device in another award, counts apart.
  vote.device = 100;
  CHECK_FALSE(rules.Check(settings, vote, 1003).held());
}

TEST_CASE("Vote rules: distinct voters are counted right over long windows and long idleness",
          "[ballot][rules]") {
  VoteRules rules(1024);
  VoteContext vote;
  vote.award_id = 7;
  vote.device = 99;
  SECTION("a week's window keeps its voters for the week, and forgets them after") {
    RuleSettings settings = Only(2, 0, 0, 0, 0);
    settings.window_s = 7 * 86400;
    const int64_t t0 = 1'800'000'000;
    vote.voter = Voter(1);
    REQUIRE_FALSE(rules.Check(settings, vote, t0).held());
    vote.voter = Voter(2);
    REQUIRE_FALSE(rules.Check(settings, vote, t0 + 3 * 86400).held());
    vote.voter = Voter(3);  // six days after the first: three in the window
    const auto verdict = rules.Check(settings, vote, t0 + 6 * 86400);
    CHECK(verdict.rule == HoldRule::kDevice);
    CHECK(verdict.count == 3);
    CHECK(verdict.window_s == 7 * 86400);
    // Eight days after the first: voters 2 and 3 are still in, the first is not.
    vote.voter = Voter(4);
    const auto later = rules.Check(settings, vote, t0 + 8 * 86400);
    CHECK(later.held());
    CHECK(later.count == 3);
    // Fourteen days after the first: only voter 4 (at day 8) and this one.
    vote.voter = Voter(5);
    CHECK_FALSE(rules.Check(settings, vote, t0 + 14 * 86400).held());
  }
  SECTION("a device idle for 2^16 seconds (or any multiple) does not see its old voters again") {
    const RuleSettings settings = Only(1, 0, 0, 0, 0);
    vote.voter = Voter(1);
    REQUIRE_FALSE(rules.Check(settings, vote, 100'000).held());
    for (const int64_t later : {100'000 + 65'536, 100'000 + 3 * 65'536}) {
      vote.voter = Voter(static_cast<uint32_t>(later));
      CHECK_FALSE(rules.Check(settings, vote, later).held());
    }
  }
  SECTION("a new window length starts the counts over, never holds more") {
    RuleSettings settings = Only(1, 0, 0, 0, 0);
    vote.voter = Voter(1);
    REQUIRE_FALSE(rules.Check(settings, vote, 500'000).held());
    settings.window_s = 6 * 86400;  // another unit of time
    vote.voter = Voter(2);
    CHECK_FALSE(rules.Check(settings, vote, 500'010).held());
    vote.voter = Voter(3);
    CHECK(rules.Check(settings, vote, 500'020).held());
  }
}

TEST_CASE("Vote rules: addresses and their /24 or /48 blocks", "[ballot][rules]") {
  const Keys keys("unit-test-voter-key-0123456789abcdef0123");
  const auto a = HashContext(keys, 7, std::nullopt, std::string("203.0.113.7"));
  const auto b = HashContext(keys, 7, std::nullopt, std::string("203.0.113.200"));
  const auto c = HashContext(keys, 7, std::nullopt, std::string("203.0.114.7"));
  const auto d = HashContext(keys, 7, std::nullopt, std::string("2001:db8:1:ffff::1"));
  const auto e = HashContext(keys, 7, std::nullopt, std::string("2001:db8:1::2"));
  const auto opaque = HashContext(keys, 7, std::string("phone-1"), std::string("not an ip"));
  REQUIRE(a.address);
  CHECK(a.address != b.address);
  CHECK(a.block == b.block);
  CHECK(a.block != c.block);
  CHECK(d.block == e.block);
  CHECK(opaque.device);
  CHECK(opaque.address);
  CHECK_FALSE(opaque.block);
  CHECK(HashContext(keys, 8, std::nullopt, std::string("203.0.113.7")).address != a.address);
  // One address however it is spelt: IPv4 and its mapped form, IPv6 in any case or length.
  const auto address_of = [&](const char* text) {
    return HashContext(keys, 7, std::nullopt, std::string(text)).address;
  };
  CHECK(address_of("::ffff:203.0.113.7") == a.address);
  CHECK(address_of("2001:DB8:1::2") == e.address);
  CHECK(address_of("2001:0db8:0001:0000:0000:0000:0000:0002") == e.address);
  CHECK(address_of("2001:db8:1::3") != e.address);
  // An address of ten zero bytes, then ff ff, is IPv4; one with others is IPv6 (/48).
  CHECK(HashContext(keys, 7, std::nullopt, std::string("::ffff:203.0.113.200")).block == a.block);
  CHECK(HashContext(keys, 7, std::nullopt, std::string("1::ffff:203.0.113.7")).block != a.block);

  VoteRules rules(1024);
  const RuleSettings settings = Only(0, 5, 2, 0, 0);
  VoteContext vote;
  vote.award_id = 7;
  vote.voter = Voter(1);
  vote.address = a.address;
  vote.block = a.block;
  REQUIRE_FALSE(rules.Check(settings, vote, 10).held());
  vote.voter = Voter(2);
  vote.address = b.address;
  REQUIRE_FALSE(rules.Check(settings, vote, 11).held());
  vote.voter = Voter(3);
  const auto verdict = rules.Check(settings, vote, 12);
  CHECK(verdict.rule == HoldRule::kBlock);
  CHECK(verdict.count == 3);
}

TEST_CASE("Vote rules: more than M votes by one voter within the window are held",
          "[ballot][rules]") {
  VoteRules rules(1024);
  RuleSettings settings = Only(0, 0, 0, 3, 0);
  settings.voter_window_s = 100;
  VoteContext vote;
  vote.award_id = 7;
  vote.voter = Voter(1);
  for (int i = 0; i < 3; ++i) {
    REQUIRE_FALSE(rules.Check(settings, vote, 1000 + i).held());
  }
  const auto verdict = rules.Check(settings, vote, 1004);
  CHECK(verdict.rule == HoldRule::kVoter);
  CHECK(verdict.limit == 3);
  // Two windows later nothing of them is left.
  CHECK_FALSE(rules.Check(settings, vote, 1300).held());
}

TEST_CASE("Vote rules: a burst for one nominee from one client far above its usual rate",
          "[ballot][rules]") {
  VoteRules rules(4096);
  RuleSettings settings = Only(0, 0, 0, 0, 20);
  settings.burst_factor = 5;
  settings.burst_window_s = 60;
  VoteContext vote;
  vote.award_id = 7;
  vote.nominee_id = 501;
  vote.device = 42;
  uint32_t voter = 1;
  // A steady 30 a minute for ten minutes: under the threshold at first (burst_min 20 is passed
  // in the first minute), then the usual rate grows and 30 a minute is normal.
  int held_steady_late = 0;
  for (int minute = 0; minute < 10; ++minute) {
    for (int i = 0; i < 30; ++i) {
      vote.voter = Voter(voter++);
      const bool held = rules.Check(settings, vote, minute * 60 + i * 2).held();
      if (minute >= 8) {
        held_steady_late += held ? 1 : 0;
      }
    }
  }
  CHECK(held_steady_late == 0);
  // Then 200 in one minute: far above 30, held.
  int held = 0;
  for (int i = 0; i < 200; ++i) {
    vote.voter = Voter(voter++);
    const auto verdict = rules.Check(settings, vote, 600 + i / 4);
    if (verdict.held()) {
      CHECK(verdict.rule == HoldRule::kBurst);
      ++held;
    }
  }
  CHECK(held > 0);
  // Without a device or address there is no client to speak of: no burst rule.
  vote.device.reset();
  for (int i = 0; i < 100; ++i) {
    vote.voter = Voter(voter++);
    REQUIRE_FALSE(rules.Check(settings, vote, 700).held());
  }
}

TEST_CASE("Vote rules: settings out of range are named", "[ballot][rules]") {
  RuleSettings settings;
  CHECK(settings.Validate().empty());
  settings.voters_per_device = 16;
  CHECK(settings.Validate().find("voters_per_device") != std::string::npos);
  settings = RuleSettings{};
  settings.burst_factor = 0.5;
  CHECK(settings.Validate().find("burst_factor") != std::string::npos);
  CHECK(Only(0, 0, 0, 0, 0).AllOff());
}

TEST_CASE("Vote rules: context hashes are keyed, per award and per kind of string",
          "[ballot][rules]") {
  const Keys keys("unit-test-voter-key-0123456789abcdef0123");
  const Keys other("unit-test-voter-key-0123456789abcdef0124");
  const uint64_t device = keys.HashContext('d', 7, "phone-1");
  CHECK(device == keys.HashContext('d', 7, "phone-1"));
  CHECK(device != other.HashContext('d', 7, "phone-1"));  // without the key, no link
  CHECK(device != keys.HashContext('d', 8, "phone-1"));   // nor across awards
  CHECK(device != keys.HashContext('a', 7, "phone-1"));   // a device is not an address
  CHECK(device != keys.HashContext('d', 7, "phone-2"));
  // The longest strings a vote may carry (256 characters) and longer ones hash whole.
  const std::string long_id(300, 'x');
  CHECK(keys.HashContext('d', 7, long_id) != keys.HashContext('d', 7, long_id.substr(0, 299)));
  CHECK(keys.HashContext('d', 7, long_id) == keys.HashContext('d', 7, long_id));
  CHECK(HashContext(keys, 7, std::string("phone-1"), std::nullopt).device == device);
}

TEST_CASE("Vote rules: a batch's prefetched checks decide as single checks do", "[ballot][rules]") {
  // The same votes through Check(settings, vote, now) and through Locate, PrefetchSets,
  // PrefetchSlots and Check(settings, vote, slots, now), as VoteService::DecideMany calls them.
  const Keys keys("unit-test-voter-key-0123456789abcdef0123");
  RuleSettings settings;
  settings.voters_per_device = 3;
  settings.voters_per_address = 4;
  settings.voters_per_block = 6;
  settings.votes_per_voter = 2;
  settings.burst_min = 5;
  VoteRules single(1024);
  VoteRules batch(1024);
  std::vector<VoteContext> votes;
  for (uint32_t i = 0; i < 200; ++i) {
    VoteContext vote;
    vote.award_id = 7;
    vote.nominee_id = 501 + i % 3;
    vote.voter = Voter(1 + i % 70);
    const auto hashes =
        HashContext(keys, 7, "device-" + std::to_string(i % 11),
                    "198.51." + std::to_string(i % 5) + "." + std::to_string(i % 9));
    vote.device = hashes.device;
    vote.address = hashes.address;
    vote.block = hashes.block;
    votes.push_back(vote);
  }
  std::vector<civic::ballot::RuleSlots> slots;
  for (const auto& vote : votes) {
    slots.push_back(VoteRules::Locate(settings, vote));
  }
  int held = 0;
  for (size_t i = 0; i < votes.size(); ++i) {
    if (i + 4 < votes.size()) {
      batch.PrefetchSets(slots[i + 4]);
      batch.PrefetchSlots(slots[i + 2]);
    }
    const auto a = single.Check(settings, votes[i], 1000 + static_cast<int64_t>(i / 20));
    const auto b = batch.Check(settings, votes[i], slots[i], 1000 + static_cast<int64_t>(i / 20));
    CHECK(a.rule == b.rule);
    CHECK(a.count == b.count);
    CHECK(a.limit == b.limit);
    held += a.held() ? 1 : 0;
  }
  CHECK(held > 0);
  // A rule that is off has no slot to count in.
  settings.voters_per_block = 0;
  settings.burst_min = 0;
  const auto off = VoteRules::Locate(settings, votes[0]);
  CHECK(off.distinct[2] == 0);
  CHECK(off.burst == 0);
  CHECK(off.distinct[0] != 0);
}
