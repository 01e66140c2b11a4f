#pragma once

// Keyed hashing of voter ids and receipts (HMAC-SHA256, OpenSSL). The voter id never leaves the
// request: the ballot keeps HashVoter() of it. Receipts are unguessable (an 80-bit MAC) and
// verifiable against the vote log row alone. A vote's context (device id, address) is hashed with
// SipHash-2-4 (libsodium's crypto_shorthash) under a key of its own derived from the voter key:
// a keyed PRF, kept in memory only, for the hold rules' tables.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace civic::ballot {

inline constexpr size_t kMinVoterKeyBytes = 32;

// 128 bits of HMAC-SHA256(voter key, award id, voter id): the only form of a voter the ballot
// stores. Per award, so that votes in different awards cannot be linked.
using VoterHash = std::array<uint8_t, 16>;

// The fields a receipt's MAC covers: everything the log row holds except the time.
struct ReceiptFields {
  uint64_t seq = 0;
  int64_t award_id = 0;
  int64_t nomination_id = 0;
  int64_t nominee_id = 0;
  VoterHash voter_hash{};
};

// Holds the keys derived from the voter key. Immutable after construction; every member may be
// called from any thread concurrently.
class Keys {
 public:
  // REQUIRES: voter_key.size() >= kMinVoterKeyBytes (checked at start-up by the config).
  explicit Keys(std::string_view voter_key);
  ~Keys();
  Keys(const Keys&) = delete;
  Keys& operator=(const Keys&) = delete;

  VoterHash HashVoter(int64_t award_id, std::string_view voter) const;

  // 64 bits of SipHash-2-4(context key, kind, award id, text): what the hold rules know of a
  // device id (`kind` 'd'), an address ('a') or an address block ('b'). Per award, like
  // HashVoter: a device's hashes in two awards cannot be linked without the key.
  uint64_t HashContext(char kind, int64_t award_id, std::string_view text) const;

  // "24 characters of base32": seq (40 bits) and an 80-bit MAC of `fields`.
  // REQUIRES: fields.seq < 2^40.
  std::string Receipt(const ReceiptFields& fields) const;
  // The sequence number a well-formed receipt names (it is not verified yet); nothing otherwise.
  static std::optional<uint64_t> ReceiptSeq(std::string_view receipt);
  // Whether `receipt` is the receipt of `fields` (constant-time comparison of the MAC).
  bool VerifyReceipt(std::string_view receipt, const ReceiptFields& fields) const;

 private:
  struct HmacKey;
  HmacKey* voter_;
  HmacKey* receipt_;
  std::array<uint8_t, 16> context_key_{};  // crypto_shorthash_KEYBYTES
};

// Compares two secrets in a time that does not depend on where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

std::string HexEncode(const uint8_t* data, size_t size);

}  // namespace civic::ballot
