#include "civic/domain/error.hpp"

namespace civic {

std::string_view ToString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kPreconditionFailed:
      return "precondition_failed";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kMalformed:
      return "malformed";
    case ErrorCode::kUnsupportedMediaType:
      return "unsupported_media_type";
    case ErrorCode::kUpstreamFailed:
      return "upstream_failed";
  }
  return "internal";
}

Error Error::Invalid(std::vector<FieldError> fields, std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message), std::move(fields)};
}

Error Error::Invalid(std::string field, std::string reason) {
  std::vector<FieldError> fields;
  fields.push_back(FieldError{std::move(field), std::move(reason)});
  return Invalid(std::move(fields));
}

Error Error::NotFound(std::string message) {
  return Error{ErrorCode::kNotFound, std::move(message), {}};
}

Error Error::Conflict(std::string message) {
  return Error{ErrorCode::kConflict, std::move(message), {}};
}

Error Error::Unavailable(std::string message, int retry_after_seconds) {
  Error error{ErrorCode::kUnavailable, std::move(message), {}};
  error.retry_after_seconds = retry_after_seconds;
  return error;
}

Error Error::Internal(std::string message) {
  return Error{ErrorCode::kInternal, std::move(message), {}};
}

Error Error::Malformed(std::string message) {
  return Error{ErrorCode::kMalformed, std::move(message), {}};
}

Error Error::UnsupportedMediaType(std::string message) {
  return Error{ErrorCode::kUnsupportedMediaType, std::move(message), {}};
}

Error Error::UpstreamFailed(std::string message, int retry_after_seconds) {
  Error error{ErrorCode::kUpstreamFailed, std::move(message), {}};
  error.retry_after_seconds = retry_after_seconds;
  return error;
}

Error Error::Unauthenticated(std::string message, bool credential_given) {
  Error error{ErrorCode::kUnauthenticated, std::move(message), {}};
  error.credential_given = credential_given;
  return error;
}

Error Error::Forbidden(std::string message) {
  return Error{ErrorCode::kForbidden, std::move(message), {}};
}

}  // namespace civic
