#include "civic/domain/validation.hpp"

namespace civic {

int32_t DecodeUtf8(std::string_view text, size_t& i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  size_t extra = 0;
  int32_t code = 0;
  if ((c & 0xE0) == 0xC0) {
    extra = 1;
    code = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    extra = 2;
    code = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    extra = 3;
    code = c & 0x07;
  } else {
    ++i;
    return -1;
  }
  if (i + extra >= text.size()) {
    ++i;
    return -1;
  }
  for (size_t k = 1; k <= extra; ++k) {
    const auto cc = static_cast<unsigned char>(text[i + k]);
    if ((cc & 0xC0) != 0x80) {
      ++i;
      return -1;
    }
    code = (code << 6) | (cc & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid.
  if ((extra == 1 && code < 0x80) || (extra == 2 && code < 0x800) ||
      (extra == 3 && code < 0x10000) || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
    ++i;
    return -1;
  }
  i += extra + 1;
  return code;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (DecodeUtf8(text, i) < 0) {
      return false;
    }
  }
  return true;
}

size_t Utf8Length(std::string_view text) {
  size_t count = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++count;
    }
  }
  return count;
}

bool IsSlug(std::string_view text) {
  if (text.empty() || text.front() == '-' || text.back() == '-') {
    return false;
  }
  char previous = 0;
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && previous == '-')) {
      return false;
    }
    previous = c;
  }
  return true;
}

bool HasOuterSpace(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  return !text.empty() && (space(text.front()) || space(text.back()));
}

void Violations::Add(std::string field, std::string reason) {
  for (const auto& existing : errors_) {
    if (existing.field == field) {
      return;  // one reason per field: the first found
    }
  }
  errors_.push_back(FieldError{std::move(field), std::move(reason)});
}

void Violations::Text(const std::string& field, std::string_view value, size_t min_length,
                      size_t max_length) {
  if (!IsValidUtf8(value)) {
    Add(field, "must be valid UTF-8");
    return;
  }
  const size_t length = Utf8Length(value);
  if (length < min_length) {
    Add(field, min_length == 1 ? "must not be empty"
                               : "must be at least " + std::to_string(min_length) + " characters");
    return;
  }
  if (length > max_length) {
    Add(field, "must be at most " + std::to_string(max_length) + " characters");
    return;
  }
  if (HasOuterSpace(value)) {
    Add(field, "must not start or end with white space");
    return;
  }
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\n' && c != '\t') {
      Add(field, "must not contain control characters");
      return;
    }
  }
}

void Violations::Range(const std::string& field, long long value, long long min, long long max) {
  if (value < min || value > max) {
    Add(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
}

Error Violations::ToError() const { return Error::Invalid(errors_); }

}  // namespace civic
