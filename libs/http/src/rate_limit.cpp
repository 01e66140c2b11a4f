// Rate limits: specs, client addresses, the bucket table, the answer fields, and the hook
// dispatch.cpp calls for every routed request (Server::Impl::RateLimited).
#include "civic/http/rate_limit.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

#include "civic/http/problem.hpp"
#include "server_impl.hpp"

namespace civic::http {

namespace {

constexpr std::array<std::string_view, kRateClasses> kClassNames = {"public_read", "writes",
                                                                    "votes", "exports", "streams"};
constexpr size_t kWays = 8;  // slots per set

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<double> ParseNumber(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value < 0) {
    return std::nullopt;
  }
  return value;
}

uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Size of the table: a power of two number of sets.
size_t SetsFor(size_t max_entries) {
  size_t sets = 1;
  while (sets * kWays < max_entries) {
    sets <<= 1;
  }
  return sets;
}

}  // namespace

std::string_view RateClassName(size_t index) { return kClassNames.at(index); }

bool IpNetwork::Contains(const std::array<uint8_t, 16>& ip) const {
  int bits = prefix;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip[i] & mask) != (address[i] & mask)) {
      return false;
    }
  }
  return true;
}

std::optional<std::array<uint8_t, 16>> ParseIp(std::string_view text) {
  text = Trim(text);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return std::nullopt;
  }
  char buffer[INET6_ADDRSTRLEN];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  std::array<uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, buffer, &v4) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buffer, &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

std::optional<IpNetwork> ParseNetwork(std::string_view text) {
  text = Trim(text);
  const size_t slash = text.find('/');
  const auto ip = ParseIp(text.substr(0, slash));
  if (!ip) {
    return std::nullopt;
  }
  const bool v4 = text.substr(0, slash).find(':') == std::string_view::npos;
  IpNetwork network;
  network.address = *ip;
  network.prefix = 128;
  if (slash != std::string_view::npos) {
    int bits = -1;
    const std::string_view digits = text.substr(slash + 1);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (error != std::errc() || end != digits.data() + digits.size() || bits < 0 ||
        bits > (v4 ? 32 : 128)) {
      return std::nullopt;
    }
    network.prefix = v4 ? 96 + bits : bits;
  }
  return network;
}

std::vector<std::array<BucketLimit, kRateClasses>> DefaultRateLimits(
    const std::vector<std::string>& roles) {
  // Per client address, without a key: browsers and scrapers.
  const std::array<BucketLimit, kRateClasses> anonymous = {
      BucketLimit{100, 400},  // public_read
      BucketLimit{10, 50},    // writes
      BucketLimit{10, 50},    // votes
      BucketLimit{1, 5},      // exports
      BucketLimit{2, 20},     // streams
  };
  // Per key: a frontend or app backend serves many people through one key.
  const std::array<BucketLimit, kRateClasses> keyed = {
      BucketLimit{2000, 4000},      // public_read
      BucketLimit{500, 1000},       // writes
      BucketLimit{100000, 200000},  // votes (requests; a batch is one)
      BucketLimit{5, 20},           // exports
      BucketLimit{200, 400},        // streams
  };
  std::vector<std::array<BucketLimit, kRateClasses>> limits(roles.size(), keyed);
  if (!limits.empty()) {
    limits[0] = anonymous;
  }
  return limits;
}

std::string ApplyRateLimitSpecs(const std::vector<std::string>& specs, RateLimitOptions& options) {
  if (options.limits.size() != options.roles.size()) {
    options.limits = DefaultRateLimits(options.roles);
  }
  for (const std::string& raw : specs) {
    const std::string_view spec = Trim(raw);
    if (spec.empty()) {
      continue;
    }
    if (spec == "off") {
      options.enabled = false;
      continue;
    }
    const size_t eq = spec.find('=');
    if (eq == std::string_view::npos) {
      return "'" + raw + "': expected CLASS[@ROLE]=RATE:BURST, CLASS[@ROLE]=off or off";
    }
    const std::string_view target = spec.substr(0, eq);
    const std::string_view value = spec.substr(eq + 1);
    const size_t at = target.find('@');
    const std::string_view class_name = target.substr(0, at);
    const std::string_view role_name =
        at == std::string_view::npos ? std::string_view("*") : target.substr(at + 1);
    std::vector<size_t> classes;
    for (size_t i = 0; i < kRateClasses; ++i) {
      if (class_name == "*" || class_name == kClassNames[i]) {
        classes.push_back(i);
      }
    }
    if (classes.empty()) {
      return "'" + raw + "': unknown class '" + std::string(class_name) +
             "' (public_read, writes, votes, exports, streams or *)";
    }
    std::vector<size_t> roles;
    for (size_t i = 0; i < options.roles.size(); ++i) {
      if (role_name == "*" || role_name == options.roles[i]) {
        roles.push_back(i);
      }
    }
    if (roles.empty()) {
      std::string known;
      for (const auto& role : options.roles) {
        known += (known.empty() ? "" : ", ") + role;
      }
      return "'" + raw + "': unknown role '" + std::string(role_name) + "' (" + known + " or *)";
    }
    BucketLimit limit;
    if (value != "off") {
      const size_t colon = value.find(':');
      const auto rate = ParseNumber(value.substr(0, colon));
      const auto burst =
          colon == std::string_view::npos ? rate : ParseNumber(value.substr(colon + 1));
      if (!rate || !burst || *rate <= 0 || *burst < 1) {
        return "'" + raw + "': RATE (requests per second, > 0) and BURST (>= 1) must be numbers";
      }
      limit = {*rate, std::floor(*burst)};
    }
    for (size_t role : roles) {
      for (size_t c : classes) {
        options.limits[role][c] = limit;
      }
    }
  }
  return "";
}

std::optional<std::array<uint8_t, 16>> ClientAddress(const std::string& peer,
                                                     const std::optional<std::string>& forwarded,
                                                     const std::vector<IpNetwork>& trusted) {
  auto address = ParseIp(peer);
  if (!address || !forwarded || trusted.empty()) {
    return address;
  }
  const auto is_trusted = [&trusted](const std::array<uint8_t, 16>& ip) {
    return std::any_of(trusted.begin(), trusted.end(),
                       [&ip](const IpNetwork& n) { return n.Contains(ip); });
  };
  if (!is_trusted(*address)) {
    return address;
  }
  // Right to left: each hop appended the address it saw; the first one not ours is the client.
  std::string_view list = *forwarded;
  while (!list.empty()) {
    const size_t comma = list.rfind(',');
    const std::string_view item = comma == std::string_view::npos ? list : list.substr(comma + 1);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(0, comma);
    const auto hop = ParseIp(item);
    if (!hop) {
      break;  // garbage from here leftwards: the last good hop is the best we know
    }
    *address = *hop;
    if (!is_trusted(*hop)) {
      break;
    }
  }
  return address;
}

namespace {

// Every X-Forwarded-For line of a request, in order, joined as one list (RFC 9110 5.3): a proxy
// that adds a line of its own instead of extending the client's must not leave the client's
// made-up first line to decide.
std::optional<std::string> ForwardedFor(const Request& request) {
  std::optional<std::string> joined;
  for (const auto& [name, value] : request.headers) {
    if (name != "x-forwarded-for") {
      continue;
    }
    if (joined) {
      *joined += ',';
      *joined += value;
    } else {
      joined = value;
    }
  }
  return joined;
}

}  // namespace

struct RateLimiter::Slot {
  uint64_t key;  // 0: empty
  int64_t last_ms;
  double tokens;
};

RateLimiter::RateLimiter(size_t max_entries) {
  sets_ = SetsFor(std::max<size_t>(max_entries, kWays));
  slots_ = sets_ * kWays;
  // calloc: the pages are the kernel's zero pages until a bucket is written there, so the
  // table costs memory as it fills, up to its bound.
  table_ = static_cast<Slot*>(std::calloc(slots_, sizeof(Slot)));
  if (table_ == nullptr) {
    throw std::bad_alloc();
  }
}

RateLimiter::~RateLimiter() { std::free(table_); }

size_t RateLimiter::memory_bytes() const { return slots_ * sizeof(Slot); }

RateLimiter::Decision RateLimiter::Take(uint64_t key, const BucketLimit& limit, int64_t now_ms) {
  key |= 1;  // never 0, which marks an empty slot
  const size_t set = static_cast<size_t>(Mix(key)) & (sets_ - 1);
  Slot* slots = table_ + set * kWays;
  Decision decision;
  std::lock_guard<std::mutex> lock(locks_[set & (locks_.size() - 1)]);
  Slot* slot = nullptr;
  Slot* victim = slots;
  double victim_tokens = -1;
  for (size_t i = 0; i < kWays; ++i) {
    if (slots[i].key == key) {
      slot = &slots[i];
      break;
    }
    // The slot a new bucket may take: an empty one, else the one with the most tokens after
    // refill relative to its own burst is unknown here, so by idle time times rate: the longest
    // idle (the most refilled).
    const double idle = slots[i].key == 0 ? 1e300 : static_cast<double>(now_ms - slots[i].last_ms);
    if (idle > victim_tokens) {
      victim_tokens = idle;
      victim = &slots[i];
    }
  }
  if (slot == nullptr) {
    slot = victim;
    slot->key = key;
    slot->last_ms = now_ms;
    slot->tokens = limit.burst;
  } else if (now_ms > slot->last_ms) {
    slot->tokens =
        std::min(limit.burst, slot->tokens + static_cast<double>(now_ms - slot->last_ms) *
                                                 limit.per_second / 1000.0);
    slot->last_ms = now_ms;
  }
  if (slot->tokens >= 1.0) {
    slot->tokens -= 1.0;
    decision.allowed = true;
  } else {
    decision.allowed = false;
    decision.retry_after_s = (1.0 - slot->tokens) / limit.per_second;
  }
  decision.remaining = slot->tokens;
  decision.full_after_s = (limit.burst - slot->tokens) / limit.per_second;
  return decision;
}

uint64_t BucketKey(uint64_t seed, size_t class_index, const RateIdentity& identity,
                   const std::array<uint8_t, 16>* address) {
  uint64_t h = Mix(seed ^ (class_index + 1) * 0x9e3779b97f4a7c15ULL);
  h = Mix(h ^ static_cast<uint64_t>(identity.role + 1));
  if (identity.role != 0 || address == nullptr) {
    return Mix(h ^ identity.key);
  }
  const bool v4 =
      address->at(10) == 0xff && address->at(11) == 0xff &&
      std::all_of(address->begin(), address->begin() + 10, [](uint8_t b) { return b == 0; });
  uint64_t high = 0;
  uint64_t low = 0;
  std::memcpy(&high, address->data(), 8);
  std::memcpy(&low, address->data() + 8, 8);
  // IPv6: one bucket per /64 (a subscriber's usual allocation); IPv4: per address.
  return Mix(Mix(h ^ high) ^ (v4 ? low : 0));
}

std::string RateLimitPolicyField(std::string_view name, const BucketLimit& limit) {
  // q: the quota (the bucket's size); w: the window in seconds in which it refills entirely.
  const auto window = static_cast<long long>(std::ceil(limit.burst / limit.per_second));
  return "\"" + std::string(name) + "\";q=" + std::to_string(static_cast<long long>(limit.burst)) +
         ";w=" + std::to_string(std::max(1LL, window));
}

std::string RateLimitField(std::string_view name, const RateLimiter::Decision& decision) {
  // r: whole requests left; t: seconds until the quota is whole again.
  return "\"" + std::string(name) +
         "\";r=" + std::to_string(static_cast<long long>(std::floor(decision.remaining))) +
         ";t=" + std::to_string(static_cast<long long>(std::ceil(decision.full_after_s)));
}

void Server::Impl::PrepareRateLimits(metrics::Registry& registry) {
  const RateLimitOptions& rl = options.rate_limits;
  if (!rl.enabled) {
    return;
  }
  limiter = std::make_unique<RateLimiter>(rl.max_entries);
  rate_seed = std::random_device{}() * 0x100000001ULL ^ std::random_device{}();
  auto& family = registry.AddCounter(
      "http_requests_rate_limited_total",
      "Requests answered 429 because a rate limit was reached, by route class and role.",
      {"class", "role"});
  limited.resize(rl.roles.size());
  for (size_t role = 0; role < rl.roles.size(); ++role) {
    for (size_t c = 0; c < kRateClasses; ++c) {
      limited[role][c] = &family.WithLabels({std::string(kClassNames[c]), rl.roles[role]});
    }
  }
  rate_epoch = std::chrono::steady_clock::now();
}

bool Server::Impl::RateLimited(const Request& request, const Route& route,
                               std::unique_ptr<Responder::Exchange>& exchange) {
  if (limiter == nullptr || route.options.rate_class == RateClass::kUnlimited) {
    return false;
  }
  RateClass rate_class = route.options.rate_class;
  if (rate_class == RateClass::kAuto) {
    rate_class = route.method == Method::kGet || route.method == Method::kHead
                     ? RateClass::kPublicRead
                     : RateClass::kWrite;
  }
  const size_t class_index = static_cast<size_t>(rate_class) - 1;
  const RateLimitOptions& rl = options.rate_limits;
  RateIdentity identity;
  if (rl.identify) {
    identity = rl.identify(request);
  }
  if (identity.role < 0 || static_cast<size_t>(identity.role) >= rl.limits.size()) {
    identity.role = 0;
  }
  const BucketLimit& limit = rl.limits[static_cast<size_t>(identity.role)][class_index];
  if (limit.unlimited()) {
    return false;
  }
  std::optional<std::array<uint8_t, 16>> address;
  if (identity.role == 0) {
    address = ClientAddress(request.peer_address, ForwardedFor(request), rl.trusted_proxies);
  }
  const uint64_t key = BucketKey(rate_seed, class_index, identity, address ? &*address : nullptr);
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - rate_epoch)
                             .count();
  const RateLimiter::Decision decision = limiter->Take(key, limit, now_ms);
  const std::string_view name = kClassNames[class_index];
  if (decision.allowed) {
    // Near the limit (a fifth of the quota left): say so, so that a client can slow down.
    if (decision.remaining < limit.burst / 5) {
      exchange->extra_headers.emplace_back("RateLimit-Policy", RateLimitPolicyField(name, limit));
      exchange->extra_headers.emplace_back("RateLimit", RateLimitField(name, decision));
    }
    return false;
  }
  limited[static_cast<size_t>(identity.role)][class_index]->Inc();
  Problem problem;
  problem.status = 429;
  problem.code = "rate-limited";
  problem.detail = "Too many " + std::string(name) + " requests from this " +
                   (identity.role == 0 ? "address" : "key") + "; retry after the time given.";
  problem.extra["policy"] = std::string(name);
  const auto retry = std::max(1LL, static_cast<long long>(std::ceil(decision.retry_after_s)));
  Response response = ProblemResponse(problem)
                          .WithHeader("Retry-After", std::to_string(retry))
                          .WithHeader("RateLimit-Policy", RateLimitPolicyField(name, limit))
                          .WithHeader("RateLimit", RateLimitField(name, decision));
  response.log_key = std::move(identity.log_key);
  Responder(std::move(exchange)).Send(std::move(response));
  return true;
}

Fields Server::Impl::AnswerHeaders(const Responder::Exchange& exchange) const {
  Fields headers = CorsHeaders(exchange);
  headers.insert(headers.end(), exchange.extra_headers.begin(), exchange.extra_headers.end());
  return headers;
}

}  // namespace civic::http
