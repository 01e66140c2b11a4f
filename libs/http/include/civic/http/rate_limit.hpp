#pragma once

// Rate limits: token buckets per API key and per client address (IPv6 grouped by /64), by route
// class and role, in one bounded table. The answers' RateLimit and RateLimit-Policy fields are
// the structured-field form of draft-ietf-httpapi-ratelimit-headers-10.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civic/http/message.hpp"

namespace civic::http {

// What kind of request a route serves, for its rate limit. kAuto: a GET or HEAD is a public
// read, any other method a write.
enum class RateClass : uint8_t {
  kAuto,
  kPublicRead,
  kWrite,
  kVote,
  kExport,
  kStream,
  kUnlimited,  // operational routes (health, readiness, metrics): never limited
};
inline constexpr size_t kRateClasses = 5;  // the limited ones, kPublicRead..kStream

// "public_read", "writes", "votes", "exports", "streams"; index 0..4 = kPublicRead..kStream.
std::string_view RateClassName(size_t index);

// A token bucket: `burst` requests at once, refilled at `per_second`. per_second == 0: unlimited.
struct BucketLimit {
  double per_second = 0;
  double burst = 0;
  bool unlimited() const { return per_second <= 0; }
};

// An IP network: an address (IPv4 as IPv4-mapped IPv6) and a prefix length over the 128 bits.
struct IpNetwork {
  std::array<uint8_t, 16> address{};
  int prefix = 128;
  bool Contains(const std::array<uint8_t, 16>& ip) const;
};

// "203.0.113.7" or "2001:db8::1" as 16 bytes (IPv4 mapped into ::ffff:0:0/96); nothing when it is
// not an address. Brackets and an IPv6 zone are not taken.
std::optional<std::array<uint8_t, 16>> ParseIp(std::string_view text);
// "10.0.0.0/8", "2001:db8::/32" or a lone address; nothing when malformed.
std::optional<IpNetwork> ParseNetwork(std::string_view text);

// Who a request comes from, for its bucket: role 0 is "public" (no valid key: limited per client
// address); any other role is limited per key, `key` naming it, and a request it refuses is
// logged with `log_key` (the key's id as the access log names it, never the token).
struct RateIdentity {
  int role = 0;
  uint64_t key = 0;
  std::string log_key;
};

struct RateLimitOptions {
  bool enabled = false;
  // Role names; [0] is "public" (callers without a valid key).
  std::vector<std::string> roles = {"public"};
  // limits[role][class index].
  std::vector<std::array<BucketLimit, kRateClasses>> limits;
  // Peers whose X-Forwarded-For is believed (a reverse proxy in front).
  std::vector<IpNetwork> trusted_proxies;
  // Buckets kept at most (~24 bytes each, allocated up front but touched as used).
  size_t max_entries = size_t{1} << 20;
  // Who calls; called on the network thread for every limited request (must be cheap and
  // thread-safe). Unset: every caller is public.
  std::function<RateIdentity(const Request&)> identify;
};

// The built-in limits for `roles` (see the README): generous per key, tighter per address.
std::vector<std::array<BucketLimit, kRateClasses>> DefaultRateLimits(
    const std::vector<std::string>& roles);

// Applies `specs` (each "CLASS[@ROLE]=RATE:BURST" or "CLASS[@ROLE]=off", CLASS and ROLE may be
// "*"; or the single word "off", which disables limiting) over `options.limits`, in order.
// Returns an error naming the entry and the reason, or "" on success.
std::string ApplyRateLimitSpecs(const std::vector<std::string>& specs, RateLimitOptions& options);

// The client's address: the peer's, or, when the peer is a trusted proxy, the right-most
// address in X-Forwarded-For that is not itself a trusted proxy.
std::optional<std::array<uint8_t, 16>> ClientAddress(const std::string& peer,
                                                     const std::optional<std::string>& forwarded,
                                                     const std::vector<IpNetwork>& trusted);

// The bucket table: a fixed number of slots in sets of 8, each set under one of 256 locks. A new
// bucket takes the slot of its set that holds the most tokens after refill (a full bucket is
// forgotten without loss: a new one starts full). Thread-safe.
class RateLimiter {
 public:
  explicit RateLimiter(size_t max_entries);
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  struct Decision {
    bool allowed = true;
    double remaining = 0;      // tokens left after this request
    double retry_after_s = 0;  // !allowed: until one token is back
    double full_after_s = 0;   // until the bucket is full again
  };
  // Takes one token from the bucket `key` under `limit` at `now_ms` (a steady clock).
  Decision Take(uint64_t key, const BucketLimit& limit, int64_t now_ms);

  size_t capacity() const { return slots_; }
  size_t memory_bytes() const;

 private:
  struct Slot;
  size_t slots_ = 0;
  size_t sets_ = 0;
  Slot* table_ = nullptr;  // slots_ entries, calloc'd
  std::array<std::mutex, 256> locks_;
};

// A bucket's key: a seeded hash of the class, the role and the key or the address (/64 for
// IPv6). `seed` is random per process, so that no client can choose its set.
uint64_t BucketKey(uint64_t seed, size_t class_index, const RateIdentity& identity,
                   const std::array<uint8_t, 16>* address);

// RateLimit-Policy and RateLimit field values for policy `name` (a class name).
std::string RateLimitPolicyField(std::string_view name, const BucketLimit& limit);
std::string RateLimitField(std::string_view name, const RateLimiter::Decision& decision);

}  // namespace civic::http
