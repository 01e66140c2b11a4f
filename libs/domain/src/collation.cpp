#include "civic/domain/collation.hpp"

#include <unicode/coll.h>
#include <unicode/unistr.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace civic {

namespace {

icu::Collator& ThreadCollator() {
  thread_local std::unique_ptr<icu::Collator> collator = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Collator> made(icu::Collator::createInstance(icu::Locale("ru"), status));
    if (U_FAILURE(status) || made == nullptr) {
      throw std::runtime_error(std::string("ICU: no collator for ru: ") + u_errorName(status));
    }
    // Tertiary strength (ICU's default): letters first, then accents (ё after е), then case.
    made->setStrength(icu::Collator::TERTIARY);
    return made;
  }();
  return *collator;
}

}  // namespace

std::string RussianSortKey(std::string_view text) {
  const icu::UnicodeString unicode = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::Collator& collator = ThreadCollator();
  std::vector<uint8_t> key(64 + static_cast<size_t>(unicode.length()) * 4);
  int32_t size = collator.getSortKey(unicode, key.data(), static_cast<int32_t>(key.size()));
  if (size > static_cast<int32_t>(key.size())) {
    key.resize(static_cast<size_t>(size));
    size = collator.getSortKey(unicode, key.data(), size);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  // The key ends in a 0 byte, left out.
  const size_t length = size > 0 ? static_cast<size_t>(size) - 1 : 0;
  out.reserve(length * 2);
  for (size_t i = 0; i < length; ++i) {
    out.push_back(kHex[key[i] >> 4]);
    out.push_back(kHex[key[i] & 15]);
  }
  return out;
}

std::string SortKeyVersion() {
  UVersionInfo version;
  ThreadCollator().getVersion(version);
  char text[U_MAX_VERSION_STRING_LENGTH];
  u_versionToString(version, text);
  return text;
}

}  // namespace civic
