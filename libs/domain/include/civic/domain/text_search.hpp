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

// Whether two names (or titles) are probably the same, in any letter case (ё as е), spacing and
// punctuation and in another grammatical form: the same number of words (SearchWords), in the
// same order, each pair alike. Two words are alike when they are equal, when their stems are
// (SearchStem), or when they share a prefix of at least 3 letters after which each has nothing
// or a Russian case ending («Иван», «Ивану»; «Петров», «Петровой»; «Алексей», «Алексея»),
// since Snowball's stems of names are not consistent across cases («иван» "ива", «иваном»
// "иван"). So «Вера Соседова» and «Вере Соседовой» are alike; «Анна» and «Андрей», «Мария» and
// «Марина» are not; a man's and a woman's form of one surname («Петров», «Петрова») are, and a
// name with a fleeting vowel in another case («Павел», «Павлу») is not.
bool SameName(std::string_view a, std::string_view b);

}  // namespace civic
