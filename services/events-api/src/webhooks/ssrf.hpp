#pragma once

// Where a webhook may be sent (docs/security.md, "Webhooks and SSRF"): http or https URLs whose
// host resolves only to public addresses, unless the operator allows the host by name.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/error.hpp"

namespace civic::events::webhooks {

struct Url {
  bool https = false;
  std::string host;          // as written, lower-cased; an IPv6 literal without its brackets
  int port = 0;              // the default of the scheme when the URL gives none
  std::string target = "/";  // path and query
};

// Parses an absolute http(s) URL without user information or fragment, at most 2,000 bytes.
// The error names the reason ("must use http or https").
std::optional<Url> ParseUrl(std::string_view text, std::string& reason);

// Why a connection to the numeric address `address` (IPv4 or IPv6 text) is refused, or nothing
// when it is a public unicast address: loopback, private (RFC 1918, unique local), link-local
// (the cloud metadata address 169.254.169.254 among them), carrier-grade NAT, unspecified,
// multicast, broadcast, reserved and documentation ranges, and IPv4 mapped into IPv6 as its
// IPv4 address.
std::optional<std::string> ForbiddenAddress(std::string_view address);

// The operator's allow-list: host names or address literals that may be any address.
struct AllowList {
  std::vector<std::string> hosts;  // lower-case
  bool Allows(std::string_view host) const;
};

// Resolves `url.host` (getaddrinfo) and returns the one address to connect to: the first
// address, after checking every address the name has, so that a name with one private address
// among public ones is refused. An allowed host skips the check. Fails with the reason, which
// names only the category (a non-public address literal; a name that does not resolve to public
// addresses only), never the addresses or whether the name resolves: the log (info) has those.
// Connect to the returned address, never to the name again (a second resolution may answer
// differently: DNS rebinding).
std::optional<std::string> ResolveChecked(const Url& url, const AllowList& allow,
                                          std::string& reason);

// Parses the --webhook-allow-hosts value: comma-separated host names or addresses.
std::vector<std::string> ParseHostList(std::string_view text);

}  // namespace civic::events::webhooks
