// The ballot's keyed hashing, receipts and the sharded dedup index.
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <thread>
#include <vector>

#include "crypto.hpp"
#include "dedup_index.hpp"

namespace {

using civic::ballot::DedupIndex;
using civic::ballot::DedupKey;
using civic::ballot::Keys;
using civic::ballot::MakeDedupKey;
using civic::ballot::ReceiptFields;
using civic::ballot::VoterHash;
using Found = DedupIndex::Found;

const std::string kKey(32, 'k');

// prefix + i (GCC 12 warns falsely on "literal" + std::to_string(i) under -O2).
std::string Name(const char* prefix, int i) {
  std::string name(prefix);
  name += std::to_string(i);
  return name;
}

DedupKey KeyOf(const Keys& keys, const std::string& voter, int64_t nomination = 31) {
  return MakeDedupKey(keys.HashVoter(7, voter), nomination);
}

}  // namespace

TEST_CASE("Ballot: the voter hash is keyed, per award, and stable", "[ballot][crypto]") {
  Keys keys(kKey);
  Keys other(std::string(32, 'x'));
  CHECK(keys.HashVoter(7, "alice") == keys.HashVoter(7, "alice"));
  CHECK(keys.HashVoter(7, "alice") != keys.HashVoter(7, "bob"));
  CHECK(keys.HashVoter(7, "alice") != keys.HashVoter(8, "alice"));
  CHECK(keys.HashVoter(7, "alice") != other.HashVoter(7, "alice"));
  CHECK_THROWS(Keys(std::string(31, 'k')));
}

TEST_CASE("Ballot: voter hashes and receipts are HMAC-SHA256, the same bytes as any HMAC",
          "[ballot][crypto]") {
  // Expected values from an independent implementation (Python's hmac module): the voter hash
  // is the first 16 bytes of HMAC-SHA256(key, "voterv1" || award as 4 bytes || voter id); the
  // receipt's key is HMAC-SHA256(key, "civic-ballot receipt key v1"). Stored hashes and issued
  // receipts depend on these bytes: a change here would orphan every stored vote.
  using civic::ballot::HexEncode;
  const auto hex = [](const VoterHash& h) { return HexEncode(h.data(), h.size()); };
  Keys keys(kKey);
  const VoterHash alice = keys.HashVoter(7, "alice");
  CHECK(hex(alice) == "5b932a29d3772c0ccc31505420c7f6b8");
  CHECK(hex(keys.HashVoter(7, "\xd0\x90\xd0\xbb\xd0\xb8\xd1\x81\xd0\xb0")) ==  // «Алиса»
        "36a93f2cc2ed4a97a0c67d4970c06bca");
  CHECK(keys.Receipt(ReceiptFields{123456789, 7, 31, 501, alice}) == "aadvxtivzdpdtwdp7yj5qjyt");

  // A key longer than SHA-256's 64-byte block is hashed first (RFC 2104).
  std::string long_key(100, '\0');
  for (size_t i = 0; i < long_key.size(); ++i) {
    long_key[i] = static_cast<char>(i);
  }
  Keys long_keys(long_key);
  const VoterHash long_alice = long_keys.HashVoter(7, "alice");
  CHECK(hex(long_alice) == "a96e92cd3b540c29efa7aef23131abaf");
  CHECK(long_keys.Receipt(ReceiptFields{123456789, 7, 31, 501, long_alice}) ==
        "aadvxtivibvqn7cf7givm2na");
  // One of exactly 64 bytes is used as it is.
  CHECK(hex(Keys(long_key.substr(0, 64)).HashVoter(7, "alice")) ==
        "083dcc9512e2e73a73425ef133126204");
}

TEST_CASE("Ballot: a receipt names its sequence number and verifies only for its own vote",
          "[ballot][crypto]") {
  Keys keys(kKey);
  ReceiptFields fields{123456789, 7, 31, 501, keys.HashVoter(7, "alice")};
  const std::string receipt = keys.Receipt(fields);
  CHECK(receipt.size() == 24);
  CHECK(receipt == keys.Receipt(fields));
  CHECK(Keys::ReceiptSeq(receipt) == 123456789u);
  CHECK(keys.VerifyReceipt(receipt, fields));
  ReceiptFields changed = fields;
  changed.nominee_id = 502;
  CHECK_FALSE(keys.VerifyReceipt(receipt, changed));
  std::string forged = receipt;
  forged[20] = forged[20] == 'a' ? 'b' : 'a';
  CHECK_FALSE(keys.VerifyReceipt(forged, fields));
  CHECK_FALSE(Keys::ReceiptSeq("not-a-receipt"));
  CHECK_FALSE(Keys(std::string(32, 'x')).VerifyReceipt(receipt, fields));
}

TEST_CASE("Ballot: constant-time key comparison", "[ballot][crypto]") {
  CHECK(civic::ballot::ConstantTimeEquals("secret-key", "secret-key"));
  CHECK_FALSE(civic::ballot::ConstantTimeEquals("secret-key", "secret-kez"));
  CHECK_FALSE(civic::ballot::ConstantTimeEquals("secret-key", "secret-key2"));
  CHECK_FALSE(civic::ballot::ConstantTimeEquals("", "x"));
}

TEST_CASE("Ballot: dedup reserves once, reports the same nominee and the K limit",
          "[ballot][dedup]") {
  Keys keys(kKey);
  DedupIndex index;
  std::atomic<uint64_t> next_seq{1};
  const DedupKey alice = KeyOf(keys, "alice");

  auto d = index.Reserve(alice, 501, 1, true, next_seq);
  CHECK(d.found == Found::kReserved);
  CHECK(d.seq == 1);
  CHECK(d.pending);
  d = index.Reserve(alice, 501, 1, true, next_seq);
  CHECK(d.found == Found::kSame);
  CHECK(d.seq == 1);
  CHECK(d.pending);
  index.MarkCommitted(alice, 501, 1);
  d = index.Reserve(alice, 501, 1, true, next_seq);
  CHECK(d.found == Found::kSame);
  CHECK_FALSE(d.pending);
  d = index.Reserve(alice, 502, 1, true, next_seq);
  CHECK(d.found == Found::kFull);
  // With K = 2 a second nominee fits, a third does not.
  d = index.Reserve(alice, 502, 2, true, next_seq);
  CHECK(d.found == Found::kReserved);
  d = index.Reserve(alice, 503, 2, true, next_seq);
  CHECK(d.found == Found::kFull);
  CHECK(d.pending);  // rests on the pending vote for 502
  // The same voter in another nomination is independent.
  d = index.Reserve(KeyOf(keys, "alice", 32), 601, 1, true, next_seq);
  CHECK(d.found == Found::kReserved);
  // Outside the window: the existing vote still answers, a new one is not accepted.
  CHECK(index.Reserve(alice, 501, 1, false, next_seq).found == Found::kSame);
  CHECK(index.Reserve(KeyOf(keys, "bob"), 501, 1, false, next_seq).found == Found::kNotAccepted);
  CHECK(index.size() == 3);
  CHECK(index.pending() == 2);
}

TEST_CASE("Ballot: removing a failed reservation frees the voter and keeps others reachable",
          "[ballot][dedup]") {
  Keys keys(kKey);
  DedupIndex index;
  std::atomic<uint64_t> next_seq{1};
  std::vector<std::pair<DedupKey, uint64_t>> reserved;
  for (int i = 0; i < 20000; ++i) {
    const DedupKey key = KeyOf(keys, Name("voter-", i));
    auto d = index.Reserve(key, 501, 1, true, next_seq);
    REQUIRE(d.found == Found::kReserved);
    reserved.emplace_back(key, d.seq);
  }
  // Remove every third entry (as if its batch failed), commit the others.
  for (size_t i = 0; i < reserved.size(); ++i) {
    if (i % 3 == 0) {
      index.Remove(reserved[i].first, 501, reserved[i].second);
    } else {
      index.MarkCommitted(reserved[i].first, 501, reserved[i].second);
    }
  }
  for (size_t i = 0; i < reserved.size(); ++i) {
    const auto d = index.Check(reserved[i].first, 501, 1);
    if (i % 3 == 0) {
      REQUIRE(d.found == Found::kNone);
    } else {
      REQUIRE(d.found == Found::kSame);
      REQUIRE(d.seq == reserved[i].second);
      REQUIRE_FALSE(d.pending);
    }
  }
  CHECK(index.pending() == 0);
  CHECK(index.size() == reserved.size() - (reserved.size() + 2) / 3);
}

TEST_CASE("Ballot: 8 threads racing on the same 1,000 voters reserve each exactly once",
          "[ballot][dedup][concurrency]") {
  Keys keys(kKey);
  DedupIndex index;
  std::atomic<uint64_t> next_seq{1};
  std::atomic<int> reserved{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        const auto d = index.Reserve(KeyOf(keys, Name("v", i)), 501, 1, true, next_seq);
        if (d.found == Found::kReserved) {
          reserved.fetch_add(1);
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(reserved.load() == 1000);
  CHECK(index.size() == 1000);
}

TEST_CASE("Ballot: a rebuild insert refuses a duplicate and presizing keeps entries",
          "[ballot][dedup]") {
  Keys keys(kKey);
  DedupIndex index;
  index.ReserveCapacity(100000);
  const size_t presized = index.memory_bytes();
  for (int i = 0; i < 100000; ++i) {
    REQUIRE(
        index.InsertCommitted(KeyOf(keys, std::to_string(i)), 501, static_cast<uint64_t>(i) + 1));
  }
  CHECK(index.memory_bytes() == presized);
  CHECK_FALSE(index.InsertCommitted(KeyOf(keys, "5"), 501, 999999));
  CHECK(index.Check(KeyOf(keys, "5"), 501, 1).seq == 6);
}
