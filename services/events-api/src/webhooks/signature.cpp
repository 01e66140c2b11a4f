#include "webhooks/signature.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace civic::events::webhooks {

namespace {
constexpr std::string_view kPrefix = "whsec_";
constexpr size_t kSecretBytes = 32;
}  // namespace

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  out.resize(static_cast<size_t>(written));
  return out;
}

std::optional<std::string> FromBase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) {
    return std::nullopt;
  }
  for (const char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || c == '=';
    if (!ok) {
      return std::nullopt;
    }
  }
  std::string out(3 * text.size() / 4, '\0');
  const int written =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(text.data()), text.size());
  if (written < 0) {
    return std::nullopt;
  }
  size_t padding = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) {
    ++padding;
  }
  if (padding > 2) {
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(written) - padding);
  return out;
}

std::string NewSecret() {
  unsigned char bytes[kSecretBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw std::runtime_error("the random generator failed");
  }
  return std::string(kPrefix) +
         Base64(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::optional<std::string> SecretBytes(std::string_view secret) {
  if (secret.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  auto bytes = FromBase64(secret.substr(kPrefix.size()));
  if (!bytes || bytes->empty()) {
    return std::nullopt;
  }
  return bytes;
}

std::string Sign(std::string_view key, std::string_view id, int64_t timestamp,
                 std::string_view body) {
  std::string content;
  content.reserve(id.size() + body.size() + 24);
  content.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &length);
  return Base64(std::string_view(reinterpret_cast<const char*>(mac), length));
}

std::string SignatureHeader(const std::vector<std::string>& secrets, std::string_view id,
                            int64_t timestamp, std::string_view body) {
  std::string header;
  for (const auto& secret : secrets) {
    const auto key = SecretBytes(secret);
    if (!key) {
      continue;
    }
    if (!header.empty()) {
      header += ' ';
    }
    header += "v1," + Sign(*key, id, timestamp, body);
  }
  return header;
}

}  // namespace civic::events::webhooks
