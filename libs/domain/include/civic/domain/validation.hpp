#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/error.hpp"

namespace civic {

// Number of Unicode code points in valid UTF-8 `text` ("Саров" is 5, not 10).
size_t Utf8Length(std::string_view text);
bool IsValidUtf8(std::string_view text);
// Decodes the code point at text[i] (i < text.size()) and moves i past it; -1, with i moved one
// byte, for an invalid sequence (a bad or missing byte, an overlong form, a surrogate).
int32_t DecodeUtf8(std::string_view text, size_t& i);
// Lower-case ASCII letters, digits and single hyphens between them: "atom-city".
bool IsSlug(std::string_view text);
// Whether the text has leading or trailing white space.
bool HasOuterSpace(std::string_view text);

// Collects field errors for one request; rules append here and the caller turns a non-empty
// list into Error::Invalid.
class Violations {
 public:
  // Records that `field` is wrong; a field already recorded keeps its first reason.
  void Add(std::string field, std::string reason);
  // Checks length in code points and that the text is trimmed and free of control characters.
  void Text(const std::string& field, std::string_view value, size_t min_length, size_t max_length);
  void Range(const std::string& field, long long value, long long min, long long max);
  bool empty() const { return errors_.empty(); }
  const std::vector<FieldError>& errors() const { return errors_; }
  std::vector<FieldError> Take() { return std::move(errors_); }
  // Error::Invalid with the collected fields. REQUIRES: !empty().
  Error ToError() const;

 private:
  std::vector<FieldError> errors_;
};

}  // namespace civic
