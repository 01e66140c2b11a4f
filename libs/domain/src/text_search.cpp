#include "civic/domain/text_search.hpp"

#include <libstemmer.h>

#include <algorithm>
#include <memory>

#include "civic/domain/validation.hpp"

namespace civic {

namespace {

void AppendUtf8(std::string& out, int32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The lower-case form of a word character, or -1 when `cp` separates words.
int32_t WordChar(int32_t cp) {
  if (cp >= '0' && cp <= '9') {
    return cp;
  }
  if (cp >= 'a' && cp <= 'z') {
    return cp;
  }
  if (cp >= 'A' && cp <= 'Z') {
    return cp + ('a' - 'A');
  }
  // Cyrillic: ё (and Ё) is read as е, as Russian writing mostly does.
  if (cp == 0x0401 || cp == 0x0451) {
    return 0x0435;
  }
  if (cp >= 0x0410 && cp <= 0x042F) {
    return cp + 0x20;
  }
  if (cp >= 0x0400 && cp <= 0x040F) {
    return cp + 0x50;
  }
  if ((cp >= 0x0430 && cp <= 0x045F)) {
    return cp;
  }
  if (cp >= 0x0460 && cp <= 0x0481) {
    return cp | 1;  // historic letters: upper case even, lower case odd
  }
  if (cp >= 0x048A && cp <= 0x04FF) {
    return cp == 0x04C0 ? 0x04CF
                        : ((cp >= 0x04C1 && cp <= 0x04CE) ? cp + ((cp & 1) ? 1 : 0) : cp | 1);
  }
  if (cp >= 0x0500 && cp <= 0x052F) {
    return cp | 1;
  }
  // Latin-1 and Latin Extended-A/B letters (not × and ÷).
  if (cp >= 0x00C0 && cp <= 0x00DE && cp != 0x00D7) {
    return cp + 0x20;
  }
  if (cp >= 0x00DF && cp <= 0x00FF && cp != 0x00F7) {
    return cp;
  }
  if (cp >= 0x0100 && cp <= 0x024F) {
    return cp;
  }
  // Greek letters.
  if (cp >= 0x0391 && cp <= 0x03A9 && cp != 0x03A2) {
    return cp + 0x20;
  }
  if (cp >= 0x03AC && cp <= 0x03CE) {
    return cp;
  }
  return -1;
}

bool IsCyrillic(const std::string& word) {
  // Every byte of a Cyrillic letter's UTF-8 form lies in 0xD0..0xD4 (lead) or 0x80..0xBF.
  for (const char c : word) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      return false;
    }
  }
  return !word.empty() && static_cast<unsigned char>(word[0]) >= 0xD0 &&
         static_cast<unsigned char>(word[0]) <= 0xD4;
}

bool IsAsciiLetters(const std::string& word) {
  for (const char c : word) {
    if (c < 'a' || c > 'z') {
      return false;
    }
  }
  return !word.empty();
}

struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};
using Stemmer = std::unique_ptr<sb_stemmer, StemmerDeleter>;

std::string Stem(sb_stemmer* stemmer, const std::string& word) {
  if (stemmer == nullptr) {
    return word;
  }
  const sb_symbol* stem = sb_stemmer_stem(stemmer, reinterpret_cast<const sb_symbol*>(word.data()),
                                          static_cast<int>(word.size()));
  if (stem == nullptr) {
    return word;  // out of memory: the word as it is still finds itself
  }
  const int length = sb_stemmer_length(stemmer);
  if (length <= 0) {
    return word;
  }
  return std::string(reinterpret_cast<const char*>(stem), static_cast<size_t>(length));
}

// Whether `tail` (lower case, ё as е) is empty or an ending Russian nouns, adjectives and names
// take in their cases and numbers.
bool IsCaseEnding(const std::string& tail) {
  static const std::vector<std::string> kEndings = {
      "",   "а",  "я",   "о",   "е",   "ы",   "и",   "у",   "ю",   "ь",  "й",
      "ой", "ей", "ом",  "ем",  "ов",  "ев",  "ам",  "ям",  "ах",  "ях", "ою",
      "ею", "ым", "им",  "ую",  "юю",  "ая",  "яя",  "ий",  "ый",  "ые", "ие",
      "ых", "их", "ого", "его", "ому", "ему", "ыми", "ими", "ами", "ями"};
  return std::find(kEndings.begin(), kEndings.end(), tail) != kEndings.end();
}

}  // namespace

std::vector<std::string> SearchWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  size_t i = 0;
  while (i < text.size()) {
    const int32_t cp = WordChar(DecodeUtf8(text, i));
    if (cp < 0) {
      if (!word.empty()) {
        words.push_back(std::move(word));
        word.clear();
      }
      continue;
    }
    AppendUtf8(word, cp);
  }
  if (!word.empty()) {
    words.push_back(std::move(word));
  }
  return words;
}

std::string SearchStem(const std::string& word) {
  thread_local Stemmer russian(sb_stemmer_new("russian", "UTF_8"));
  thread_local Stemmer english(sb_stemmer_new("english", "UTF_8"));
  if (IsCyrillic(word)) {
    return Stem(russian.get(), word);
  }
  if (IsAsciiLetters(word)) {
    return Stem(english.get(), word);
  }
  return word;  // digits, mixed or other scripts: as written
}

std::string SearchStems(std::string_view text) {
  std::string out;
  const auto add = [&out](const std::string& token) {
    if (!out.empty()) {
      out.push_back(' ');
    }
    out += token;
  };
  for (const std::string& word : SearchWords(text)) {
    const std::string stem = SearchStem(word);
    add(stem);
    if (stem != word) {
      add(word);
    }
  }
  return out;
}

bool SameName(std::string_view a, std::string_view b) {
  const std::vector<std::string> left = SearchWords(a);
  const std::vector<std::string> right = SearchWords(b);
  if (left.size() != right.size()) {
    return false;
  }
  const auto code_points = [](const std::string& word) {
    std::vector<int32_t> out;
    size_t i = 0;
    while (i < word.size()) {
      out.push_back(DecodeUtf8(word, i));
    }
    return out;
  };
  for (size_t w = 0; w < left.size(); ++w) {
    if (left[w] == right[w] || SearchStem(left[w]) == SearchStem(right[w])) {
      continue;
    }
    const std::vector<int32_t> x = code_points(left[w]);
    const std::vector<int32_t> y = code_points(right[w]);
    size_t common = 0;
    while (common < x.size() && common < y.size() && x[common] == y[common]) {
      ++common;
    }
    const auto ending = [common](const std::vector<int32_t>& word) {
      std::string out;
      for (size_t i = common; i < word.size(); ++i) {
        AppendUtf8(out, word[i]);
      }
      return out;
    };
    if (common < 3 || !IsCaseEnding(ending(x)) || !IsCaseEnding(ending(y))) {
      return false;
    }
  }
  return true;
}

}  // namespace civic
