// Request ids and traceparent (see correlation.hpp).
#include "civic/http/correlation.hpp"

#include <sys/random.h>

#include <chrono>
#include <cstdint>
#include <thread>

namespace civic::http {

namespace {

bool IsIdChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '-':
    case '_':
    case '.':
    case ':':
    case '+':
    case '/':
    case '=':
    case '@':
      return true;
    default:
      return false;
  }
}

bool IsLowerHex(std::string_view text) {
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

bool AllZero(std::string_view text) {
  return text.find_first_not_of('0') == std::string_view::npos;
}

// splitmix64: a small, fast generator; each thread has its own, seeded from the kernel.
uint64_t NextRandom() {
  thread_local uint64_t state = [] {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
      seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
             std::hash<std::thread::id>{}(std::this_thread::get_id());
    }
    return seed;
  }();
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdBytes) {
    return false;
  }
  for (const char c : id) {
    if (!IsIdChar(c)) {
      return false;
    }
  }
  return true;
}

std::string MakeRequestId() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = NextRandom();
    for (int i = 0; i < 16; ++i) {
      id[static_cast<size_t>(half * 16 + i)] = kHex[bits & 0xF];
      bits >>= 4;
    }
  }
  return id;
}

std::optional<std::string> TraceIdOf(std::string_view traceparent) {
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters.
  constexpr size_t kLength = 55;
  if (traceparent.size() < kLength || traceparent[2] != '-' || traceparent[35] != '-' ||
      traceparent[52] != '-') {
    return std::nullopt;
  }
  const std::string_view version = traceparent.substr(0, 2);
  const std::string_view trace_id = traceparent.substr(3, 32);
  const std::string_view parent_id = traceparent.substr(36, 16);
  const std::string_view flags = traceparent.substr(53, 2);
  if (!IsLowerHex(version) || !IsLowerHex(trace_id) || !IsLowerHex(parent_id) ||
      !IsLowerHex(flags) || version == "ff" || AllZero(trace_id) || AllZero(parent_id)) {
    return std::nullopt;
  }
  // Version 00 has exactly these fields; a later version may add fields after a '-'.
  if (traceparent.size() > kLength && (version == "00" || traceparent[kLength] != '-')) {
    return std::nullopt;
  }
  return std::string(trace_id);
}

Correlation CorrelationOf(const Request& request) {
  return Correlation{request.request_id, request.traceparent};
}

Correlation NewCorrelation() { return Correlation{MakeRequestId(), ""}; }

Fields CorrelationHeaders(const Correlation& correlation) {
  Fields headers;
  headers.emplace_back("X-Request-Id",
                       correlation.request_id.empty() ? MakeRequestId() : correlation.request_id);
  if (!correlation.traceparent.empty()) {
    headers.emplace_back("traceparent", correlation.traceparent);
  }
  return headers;
}

}  // namespace civic::http
