#pragma once

// Secrets (keys, tokens) come from a file named by a flag (or its *_FILE environment variable)
// or from an environment variable holding the value itself; never from a flag's value, and they
// are never logged.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace civic::runtime {

struct SecretSpec {
  std::string flag;      // "--admin-key-file"
  std::string file_env;  // "CIVIC_EVENTS_ADMIN_KEY_FILE" (the flag's environment variable)
  std::string env;       // "CIVIC_EVENTS_ADMIN_KEY" (the value itself)
  size_t min_bytes = 1;
  bool printable = false;  // the value must be printable ASCII without spaces (a bearer token)
};

// Looks up an environment variable; ProcessEnv reads the process's own.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> ProcessEnv(const std::string& name);

// "--admin-key-file (CIVIC_EVENTS_ADMIN_KEY_FILE) or CIVIC_EVENTS_ADMIN_KEY", for messages.
std::string Where(const SecretSpec& spec);

// The secret from `file` when it is not empty, else from the environment variable spec.env;
// nothing when neither is set. Trailing white space (a file's newline) is dropped.
// A file that others may read is warned about. Throws std::runtime_error naming the flag and the
// variable, never the value, when the file is unreadable or the value is empty, shorter than
// spec.min_bytes or (spec.printable) not printable ASCII.
std::optional<std::string> ReadOptionalSecret(const SecretSpec& spec, const std::string& file,
                                              const EnvLookup& env);
// The same, and throws "missing secret: set ..." when neither is set.
std::string ReadSecret(const SecretSpec& spec, const std::string& file, const EnvLookup& env);

}  // namespace civic::runtime

namespace civic::runtime {

// The SHA-256 of a token as 64 lowercase hex digits: the form in which API keys are stored and
// looked up. About 50 ns: OpenSSL 3's one-shot SHA256() fetches the algorithm from its provider
// on every call (about 1.1 µs with two threads hashing), which a per-request key check cannot
// afford.
std::string TokenSha256Hex(std::string_view token);

}  // namespace civic::runtime
