#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace civic {

// The one catalogue of error codes for domain and application code. The transport layer maps
// each code to an HTTP status in one place (civic::http::StatusFor).
enum class ErrorCode {
  kInvalidArgument,       // a request field is wrong; `fields` says which and why
  kNotFound,              // the addressed thing does not exist
  kConflict,              // the state forbids it (duplicate, referenced by others, ...)
  kPreconditionFailed,    // If-Match / version check failed
  kUnauthenticated,       // no or bad credentials
  kForbidden,             // authenticated but not allowed, or outside a time window
  kUnavailable,           // temporarily cannot serve (storage down, draining)
  kInternal,              // a bug or an unexpected failure
  kMalformed,             // the request cannot be read: malformed JSON, an unknown protocol
  kUnsupportedMediaType,  // the body is not of a media type the operation reads
  kUpstreamFailed,        // another service answered wrongly (or unusably)
};

std::string_view ToString(ErrorCode code);

struct FieldError {
  std::string field;   // JSON-pointer-like path of the field, e.g. "team_rules.min_size"
  std::string reason;  // human-readable, e.g. "must be at least 1"
};

struct Error {
  Error() = default;
  Error(ErrorCode code_in, std::string message_in, std::vector<FieldError> fields_in = {})
      : code(code_in), message(std::move(message_in)), fields(std::move(fields_in)) {}

  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::vector<FieldError> fields;
  // Seconds after which a retry may succeed (kUnavailable, kUpstreamFailed); 0: no advice.
  int retry_after_seconds = 0;
  // Integer members the answer carries besides the message, e.g. {"offset", 17}: the byte
  // where malformed JSON failed.
  std::vector<std::pair<std::string, int64_t>> numbers;
  // kUnauthenticated: a credential was given and refused (not missing).
  bool credential_given = false;
  // The stable name of the problem a client may branch on (`code` and the tail of `type` in
  // the problem body), e.g. "already-registered"; empty: the general kind of `code`
  // (civic::http::ProblemCode). Names are lower-case words joined by '-', listed in
  // openapi.yaml's `ProblemCode`.
  std::string kind;

  // Returns the error with `kind` set.
  Error WithKind(std::string kind_in) && {
    kind = std::move(kind_in);
    return std::move(*this);
  }

  static Error Invalid(std::vector<FieldError> fields,
                       std::string message = "The request has invalid fields.");
  static Error Invalid(std::string field, std::string reason);
  static Error NotFound(std::string message);
  static Error Conflict(std::string message);
  static Error Unavailable(std::string message, int retry_after_seconds = 0);
  static Error Internal(std::string message);
  static Error Malformed(std::string message);
  static Error UnsupportedMediaType(std::string message);
  static Error UpstreamFailed(std::string message, int retry_after_seconds = 0);
  static Error Unauthenticated(std::string message, bool credential_given);
  static Error Forbidden(std::string message);
};

// A value or an Error. Small on purpose: the project targets C++20 (no std::expected).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // REQUIRES: !ok()
  const Error& error() const& { return std::get<1>(data_); }
  Error&& error() && { return std::get<1>(std::move(data_)); }

 private:
  std::variant<T, Error> data_;
};

// Result of an operation that returns nothing on success.
struct Ok {};
using Status = Result<Ok>;
inline Status OkStatus() { return Ok{}; }

}  // namespace civic
