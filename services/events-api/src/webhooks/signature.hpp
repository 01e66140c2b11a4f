#pragma once

// Signing as the Standard Webhooks specification says (github.com/standard-webhooks): the
// signature of a message is base64(HMAC-SHA256(secret, "{webhook-id}.{webhook-timestamp}.{body}")),
// sent as "v1,<signature>" in webhook-signature, space-separated when several secrets are live.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace civic::events::webhooks {

// "whsec_" + base64 of 32 random bytes (OpenSSL's RAND_bytes). Throws std::runtime_error when the
// random generator fails.
std::string NewSecret();

// The key bytes of a "whsec_<base64>" secret; nothing when it is not one.
std::optional<std::string> SecretBytes(std::string_view secret);

// base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
std::string Sign(std::string_view key, std::string_view id, int64_t timestamp,
                 std::string_view body);

// The webhook-signature header value: "v1,<sig>" for each of `secrets` ("whsec_..."), in order,
// separated by single spaces. Secrets that are not whsec_ values are skipped.
std::string SignatureHeader(const std::vector<std::string>& secrets, std::string_view id,
                            int64_t timestamp, std::string_view body);

std::string Base64(std::string_view bytes);
std::optional<std::string> FromBase64(std::string_view text);

}  // namespace civic::events::webhooks
