#include "webhooks/ssrf.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace civic::events::webhooks {

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Whether the first `bits` bits of `a` and `b` agree.
bool InPrefix(const unsigned char* a, const std::array<unsigned char, 16>& b, int bits) {
  for (int i = 0; i < bits / 8; ++i) {
    if (a[i] != b[static_cast<size_t>(i)]) {
      return false;
    }
  }
  const int rest = bits % 8;
  if (rest == 0) {
    return true;
  }
  const unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (a[bits / 8] & mask) == (b[static_cast<size_t>(bits / 8)] & mask);
}

struct Range {
  std::array<unsigned char, 16> prefix;
  int bits;
  const char* what;
};

std::optional<std::string> ForbiddenV4(const unsigned char* a) {
  static const Range kRanges[] = {
      {{0}, 8, "an unspecified (0.0.0.0/8) address"},
      {{10}, 8, "a private (10.0.0.0/8) address"},
      {{100, 64}, 10, "a carrier-grade NAT (100.64.0.0/10) address"},
      {{127}, 8, "a loopback address"},
      {{169, 254}, 16, "a link-local or cloud metadata (169.254.0.0/16) address"},
      {{172, 16}, 12, "a private (172.16.0.0/12) address"},
      {{192, 0, 0}, 24, "an IETF protocol (192.0.0.0/24) address"},
      {{192, 0, 2}, 24, "a documentation address"},
      {{192, 168}, 16, "a private (192.168.0.0/16) address"},
      {{198, 18}, 15, "a benchmarking (198.18.0.0/15) address"},
      {{198, 51, 100}, 24, "a documentation address"},
      {{203, 0, 113}, 24, "a documentation address"},
      {{224}, 4, "a multicast address"},
      {{240}, 4, "a reserved or broadcast address"},
  };
  for (const auto& range : kRanges) {
    if (InPrefix(a, range.prefix, range.bits)) {
      return range.what;
    }
  }
  return std::nullopt;
}

std::optional<std::string> ForbiddenV6(const unsigned char* a) {
  static const std::array<unsigned char, 16> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  static const std::array<unsigned char, 16> kZero = {};
  if (InPrefix(a, kMapped, 96)) {
    return ForbiddenV4(a + 12);
  }
  if (InPrefix(a, kZero, 96)) {  // ::, ::1 and the deprecated IPv4-compatible addresses
    return a[15] == 1 && InPrefix(a, kZero, 120) ? "a loopback address"
                                                 : "an unspecified or IPv4-compatible address";
  }
  static const Range kRanges[] = {
      {{0x00, 0x64, 0xFF, 0x9B}, 96, "a NAT64 (64:ff9b::/96) address"},
      {{0x01, 0x00}, 64, "a discard-only (100::/64) address"},
      {{0x20, 0x01, 0x0D, 0xB8}, 32, "a documentation address"},
      {{0x20, 0x02}, 16, "a 6to4 (2002::/16) address"},
      {{0xFC}, 7, "a unique local (fc00::/7) address"},
      {{0xFE, 0x80}, 10, "a link-local (fe80::/10) address"},
      {{0xFE, 0xC0}, 10, "a site-local (fec0::/10) address"},
      {{0xFF}, 8, "a multicast address"},
  };
  for (const auto& range : kRanges) {
    if (InPrefix(a, range.prefix, range.bits)) {
      return range.what;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<Url> ParseUrl(std::string_view text, std::string& reason) {
  if (text.size() > 2000) {
    reason = "must be at most 2000 bytes";
    return std::nullopt;
  }
  for (const char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
      reason = "must not hold spaces or control characters";
      return std::nullopt;
    }
  }
  Url url;
  std::string_view rest;
  const std::string lower = Lower(text.substr(0, 8));
  if (lower.rfind("https://", 0) == 0) {
    url.https = true;
    url.port = 443;
    rest = text.substr(8);
  } else if (lower.rfind("http://", 0) == 0) {
    url.port = 80;
    rest = text.substr(7);
  } else {
    reason = "must be an http:// or https:// URL";
    return std::nullopt;
  }
  if (text.find('#') != std::string_view::npos) {
    reason = "must not have a fragment (#...)";
    return std::nullopt;
  }
  const size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  if (end != std::string_view::npos) {
    url.target = std::string(rest.substr(end));
    if (url.target.front() == '?') {
      url.target = "/" + url.target;
    }
  }
  if (authority.find('@') != std::string_view::npos) {
    reason = "must not hold user information (user:password@)";
    return std::nullopt;
  }
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      reason = "has an IPv6 address without its closing ]";
      return std::nullopt;
    }
    url.host = Lower(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        reason = "has characters after the IPv6 address";
        return std::nullopt;
      }
      port_text = after.substr(1);
      has_port = true;
    }
    in6_addr probe{};
    if (inet_pton(AF_INET6, url.host.c_str(), &probe) != 1) {
      reason = "has an IPv6 address that does not parse";
      return std::nullopt;
    }
  } else {
    const size_t colon = authority.find(':');
    url.host = Lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    for (const char c : url.host) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
        reason = "has a host name with characters other than letters, digits, '-' and '.'";
        return std::nullopt;
      }
    }
  }
  if (url.host.empty()) {
    reason = "has no host";
    return std::nullopt;
  }
  if (has_port) {
    if (port_text.empty() || port_text.size() > 5 ||
        !std::all_of(port_text.begin(), port_text.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; })) {
      reason = "has a port that is not a number from 1 to 65535";
      return std::nullopt;
    }
    url.port = std::stoi(std::string(port_text));
    if (url.port < 1 || url.port > 65535) {
      reason = "has a port that is not a number from 1 to 65535";
      return std::nullopt;
    }
  }
  return url;
}

std::optional<std::string> ForbiddenAddress(std::string_view address) {
  const std::string text(address);
  unsigned char bytes[16];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    return ForbiddenV4(bytes);
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    return ForbiddenV6(bytes);
  }
  return "not a numeric address";
}

bool AllowList::Allows(std::string_view host) const {
  const std::string lower = Lower(host);
  return std::find(hosts.begin(), hosts.end(), lower) != hosts.end();
}

std::optional<std::string> ResolveChecked(const Url& url, const AllowList& allow,
                                          std::string& reason) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(url.port);
  // The caller learns only the category of a refusal: the address a name resolves to, or
  // whether it resolves at all, would map the operator's internal network for it. The log has
  // the detail, for the operator.
  unsigned char literal[sizeof(in6_addr)];
  const bool numeric = inet_pton(AF_INET, url.host.c_str(), literal) == 1 ||
                       inet_pton(AF_INET6, url.host.c_str(), literal) == 1;
  const auto refuse = [&](const std::string& detail) {
    spdlog::info("webhooks: a URL's host {} is refused: {}", url.host, detail);
    reason = numeric ? "has a host that is a non-public address (loopback, private, link-local "
                       "or reserved); webhooks go to public addresses only"
                     : "has a host that does not resolve to public addresses only (it resolves "
                       "to a non-public address, or not at all); webhooks go to public "
                       "addresses only";
  };
  const int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    refuse(std::string("it does not resolve (") + gai_strerror(rc) + ")");
    return std::nullopt;
  }
  std::vector<std::string> addresses;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (ai->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, text, sizeof text);
    } else if (ai->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, text,
                sizeof text);
    } else {
      continue;
    }
    addresses.emplace_back(text);
  }
  freeaddrinfo(found);
  if (addresses.empty()) {
    refuse("it has no IPv4 or IPv6 address");
    return std::nullopt;
  }
  if (!allow.Allows(url.host)) {
    for (const auto& address : addresses) {
      if (auto why = ForbiddenAddress(address)) {
        refuse("it resolves to " + *why + " (" + address + ")");
        return std::nullopt;
      }
    }
  }
  return addresses.front();
}

std::vector<std::string> ParseHostList(std::string_view text) {
  std::vector<std::string> hosts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    while (!item.empty() && item.back() == ' ') {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      std::string host = Lower(item);
      if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      hosts.push_back(host);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return hosts;
}

}  // namespace civic::events::webhooks
