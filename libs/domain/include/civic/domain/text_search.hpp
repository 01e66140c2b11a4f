#pragma once

// Text search, Russian first: words are cut from UTF-8 text, lower-cased (ё read as е) and
// reduced to their stems with Snowball's stemmers (libstemmer: Russian for Cyrillic words,
// English for Latin ones), so that a search for «город» finds «городе», «Города» and, as a
// prefix of its stem, «городской».

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace civic {

// At most this many words in one search.
inline constexpr size_t kMaxSearchWords = 10;

// The words of `text`, lower-cased, ё as е: runs of letters (Latin, Cyrillic, Greek) and digits;
// everything else separates them. Invalid UTF-8 separates too.
std::vector<std::string> SearchWords(std::string_view text);

// The stem of one word as SearchWords gives it. Thread-safe (a stemmer per thread).
std::string SearchStem(const std::string& word);

// What a search index holds of `text`: each word's stem and, when it differs, the word itself,
// joined by single spaces. A search matches its words' stems as prefixes, so a form that stems
// longer than the stored one («Росатома» → «росатом», stored «Росатом» → «росат») still finds
// the stored word.
std::string SearchStems(std::string_view text);

}  // namespace civic
