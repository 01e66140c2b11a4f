#include "civic/runtime/secret.hpp"

// SHA256_CTX is deprecated in OpenSSL 3 in favour of EVP, but needs no fetch or allocation.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace civic::runtime {

namespace {

// Without trailing white space (a file's newline). Leading bytes stay: they may be part of a
// binary HMAC key.
std::string Trimmed(const std::string& text) {
  const auto end = text.find_last_not_of(" \t\r\n");
  return end == std::string::npos ? "" : text.substr(0, end + 1);
}

}  // namespace

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

std::string Where(const SecretSpec& spec) {
  return spec.flag + " (" + spec.file_env + ") or " + spec.env;
}

std::optional<std::string> ReadOptionalSecret(const SecretSpec& spec, const std::string& file,
                                              const EnvLookup& env) {
  std::string value;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      throw std::runtime_error(spec.flag + ": cannot read " + file);
    }
    std::ostringstream text;
    text << in.rdbuf();
    value = Trimmed(text.str());
    struct stat info {};
    if (stat(file.c_str(), &info) == 0 && (info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      spdlog::warn("{} {}: the file is readable by other users; chmod 600 it", spec.flag, file);
    }
  } else if (auto from_env = env(spec.env)) {
    value = Trimmed(*from_env);
  } else {
    return std::nullopt;
  }
  if (value.empty()) {
    throw std::runtime_error(Where(spec) + ": the secret is empty");
  }
  if (value.size() < spec.min_bytes) {
    throw std::runtime_error(Where(spec) + ": the secret must be at least " +
                             std::to_string(spec.min_bytes) + " bytes");
  }
  if (spec.printable) {
    for (const char c : value) {
      if (c < 0x21 || c > 0x7E) {
        throw std::runtime_error(Where(spec) +
                                 ": the secret must be printable ASCII without spaces");
      }
    }
  }
  return value;
}

std::string ReadSecret(const SecretSpec& spec, const std::string& file, const EnvLookup& env) {
  auto value = ReadOptionalSecret(spec, file, env);
  if (!value) {
    throw std::runtime_error("missing secret: set " + Where(spec));
  }
  return std::move(*value);
}

std::string TokenSha256Hex(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, token.data(), token.size()) != 1 ||
      SHA256_Final(digest, &ctx) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * sizeof digest, '0');
  for (size_t i = 0; i < sizeof digest; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return hex;
}

}  // namespace civic::runtime
