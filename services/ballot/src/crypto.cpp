#include "crypto.hpp"

// The keyed states are SHA256_CTX structs, which OpenSSL 3 marks deprecated in favour of EVP but
// still ships: a SHA256_CTX is copied as a plain struct, where EVP_MD_CTX_copy_ex frees and
// allocates a provider context on every copy (two per MAC, four per vote).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sodium/crypto_shorthash_siphash24.h>

#include <cstring>
#include <stdexcept>

namespace civic::ballot {

namespace {

constexpr size_t kBlock = 64;  // SHA-256 block size
constexpr size_t kDigest = 32;
constexpr size_t kReceiptSeqBytes = 5;
constexpr size_t kReceiptMacBytes = 10;
constexpr size_t kReceiptBytes = kReceiptSeqBytes + kReceiptMacBytes;
constexpr size_t kReceiptChars = kReceiptBytes * 8 / 5;
constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";

void Check(int ok, const char* what) {
  if (ok != 1) {
    throw std::runtime_error(std::string("crypto: ") + what + " failed");
  }
}

void PutBe(uint8_t* out, uint64_t v, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) {
    out[bytes - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
  }
}

}  // namespace

// HMAC-SHA256 (RFC 2104) with the inner and outer hash states computed once from the key: each
// MAC is two struct copies and three short digest updates, with no allocation.
struct Keys::HmacKey {
  SHA256_CTX inner;
  SHA256_CTX outer;

  explicit HmacKey(std::string_view key) {
    uint8_t block[kBlock] = {};
    if (key.size() > kBlock) {
      if (SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block) ==
          nullptr) {
        throw std::runtime_error("crypto: SHA256 failed");
      }
    } else {
      std::memcpy(block, key.data(), key.size());
    }
    uint8_t ipad[kBlock];
    uint8_t opad[kBlock];
    for (size_t i = 0; i < kBlock; ++i) {
      ipad[i] = static_cast<uint8_t>(block[i] ^ 0x36);
      opad[i] = static_cast<uint8_t>(block[i] ^ 0x5c);
    }
    Check(SHA256_Init(&inner), "SHA256_Init");
    Check(SHA256_Update(&inner, ipad, kBlock), "SHA256_Update");
    Check(SHA256_Init(&outer), "SHA256_Init");
    Check(SHA256_Update(&outer, opad, kBlock), "SHA256_Update");
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(ipad, sizeof(ipad));
    OPENSSL_cleanse(opad, sizeof(opad));
  }
  ~HmacKey() {
    OPENSSL_cleanse(&inner, sizeof(inner));
    OPENSSL_cleanse(&outer, sizeof(outer));
  }
  HmacKey(const HmacKey&) = delete;
  HmacKey& operator=(const HmacKey&) = delete;

  // out = HMAC(key, a || b). Thread-safe: the keyed states are only read. (SHA256_Update and
  // SHA256_Final cannot fail on a valid context: their results are not checked per MAC.)
  void Mac(const void* a, size_t a_size, const void* b, size_t b_size, uint8_t out[kDigest]) const {
    SHA256_CTX ctx = inner;
    uint8_t inner_digest[kDigest];
    SHA256_Update(&ctx, a, a_size);
    if (b_size > 0) {
      SHA256_Update(&ctx, b, b_size);
    }
    SHA256_Final(inner_digest, &ctx);
    ctx = outer;
    SHA256_Update(&ctx, inner_digest, kDigest);
    SHA256_Final(out, &ctx);
  }
};

Keys::Keys(std::string_view voter_key) : voter_(nullptr), receipt_(nullptr) {
  if (voter_key.size() < kMinVoterKeyBytes) {
    throw std::invalid_argument("the voter key must be at least 32 bytes");
  }
  voter_ = new HmacKey(voter_key);
  static constexpr char kLabel[] = "civic-ballot receipt key v1";
  uint8_t derived[kDigest];
  voter_->Mac(kLabel, sizeof(kLabel) - 1, nullptr, 0, derived);
  try {
    receipt_ = new HmacKey(std::string_view(reinterpret_cast<const char*>(derived), kDigest));
  } catch (...) {
    delete voter_;
    throw;
  }
  static constexpr char kContextLabel[] = "civic-ballot context key v1";
  voter_->Mac(kContextLabel, sizeof(kContextLabel) - 1, nullptr, 0, derived);
  static_assert(crypto_shorthash_siphash24_KEYBYTES == sizeof(context_key_));
  std::memcpy(context_key_.data(), derived, context_key_.size());
  OPENSSL_cleanse(derived, sizeof(derived));
}

Keys::~Keys() {
  delete voter_;
  delete receipt_;
  OPENSSL_cleanse(context_key_.data(), context_key_.size());
}

uint64_t Keys::HashContext(char kind, int64_t award_id, std::string_view text) const {
  // kind, then the award id, then the text: unambiguous since only the last is free.
  constexpr size_t kPrefix = 1 + 8;
  uint8_t small[kPrefix + 256];  // device and address: at most 256 bytes
  std::string large;
  uint8_t* message = small;
  if (text.size() > sizeof(small) - kPrefix) {
    large.resize(kPrefix + text.size());
    message = reinterpret_cast<uint8_t*>(large.data());
  }
  message[0] = static_cast<uint8_t>(kind);
  PutBe(message + 1, static_cast<uint64_t>(award_id), 8);
  std::memcpy(message + kPrefix, text.data(), text.size());
  uint8_t out[crypto_shorthash_siphash24_BYTES];
  // SipHash-2-4 has no failure for any input: its result is always 0.
  crypto_shorthash_siphash24(out, message, kPrefix + text.size(), context_key_.data());
  uint64_t hash = 0;
  std::memcpy(&hash, out, sizeof(hash));
  return hash;
}

VoterHash Keys::HashVoter(int64_t award_id, std::string_view voter) const {
  // "v1" label, then the award id, then the voter id: unambiguous since only the last is free.
  uint8_t prefix[11] = {'v', 'o', 't', 'e', 'r', 'v', '1'};
  PutBe(prefix + 7, static_cast<uint64_t>(award_id), 4);
  uint8_t digest[kDigest];
  voter_->Mac(prefix, sizeof(prefix), voter.data(), voter.size(), digest);
  VoterHash out;
  std::memcpy(out.data(), digest, out.size());
  return out;
}

std::string Keys::Receipt(const ReceiptFields& fields) const {
  uint8_t raw[kReceiptBytes];
  PutBe(raw, fields.seq, kReceiptSeqBytes);
  uint8_t mac[kDigest];
  uint8_t message[8 + 4 + 4 + 4];
  PutBe(message, fields.seq, 8);
  PutBe(message + 8, static_cast<uint64_t>(fields.award_id), 4);
  PutBe(message + 12, static_cast<uint64_t>(fields.nomination_id), 4);
  PutBe(message + 16, static_cast<uint64_t>(fields.nominee_id), 4);
  receipt_->Mac(message, sizeof(message), fields.voter_hash.data(), fields.voter_hash.size(), mac);
  std::memcpy(raw + kReceiptSeqBytes, mac, kReceiptMacBytes);
  std::string out;
  out.reserve(kReceiptChars);
  // 15 bytes = 120 bits = 24 groups of 5 bits.
  uint64_t buffer = 0;
  int bits = 0;
  for (const uint8_t byte : raw) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  return out;
}

namespace {

// Decodes a receipt; false unless it is exactly kReceiptChars of the alphabet.
bool DecodeReceipt(std::string_view text, uint8_t raw[kReceiptBytes]) {
  if (text.size() != kReceiptChars) {
    return false;
  }
  uint64_t buffer = 0;
  int bits = 0;
  size_t n = 0;
  for (const char c : text) {
    int v = -1;
    if (c >= 'a' && c <= 'z') {
      v = c - 'a';
    } else if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= '2' && c <= '7') {
      v = c - '2' + 26;
    }
    if (v < 0) {
      return false;
    }
    buffer = (buffer << 5) | static_cast<uint64_t>(v);
    bits += 5;
    if (bits >= 8) {
      raw[n++] = static_cast<uint8_t>(buffer >> (bits - 8));
      bits -= 8;
    }
  }
  return n == kReceiptBytes;
}

}  // namespace

std::optional<uint64_t> Keys::ReceiptSeq(std::string_view receipt) {
  uint8_t raw[kReceiptBytes];
  if (!DecodeReceipt(receipt, raw)) {
    return std::nullopt;
  }
  uint64_t seq = 0;
  for (size_t i = 0; i < kReceiptSeqBytes; ++i) {
    seq = (seq << 8) | raw[i];
  }
  return seq;
}

bool Keys::VerifyReceipt(std::string_view receipt, const ReceiptFields& fields) const {
  uint8_t raw[kReceiptBytes];
  if (!DecodeReceipt(receipt, raw)) {
    return false;
  }
  const std::string expected = Receipt(fields);
  uint8_t expected_raw[kReceiptBytes];
  DecodeReceipt(expected, expected_raw);
  return CRYPTO_memcmp(raw, expected_raw, kReceiptBytes) == 0;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // The time depends on the lengths only (a key's length is not the secret), not on where the
  // bytes differ.
  if (a.size() != b.size()) {
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HexEncode(const uint8_t* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.resize(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 15];
  }
  return out;
}

}  // namespace civic::ballot
