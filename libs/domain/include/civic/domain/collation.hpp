#pragma once

// Russian alphabetical order for names (ICU's collator for the locale "ru", Debian libicu):
// case is looked at only when the letters tie («абрамов» before «Абрамова»), ё sorts as е and
// then after it when the words tie otherwise («елка», «Елка», «ёлка»), Cyrillic before Latin.

#include <string>
#include <string_view>

namespace civic {

// The sort key of `text` as lower-case hexadecimal: comparing two keys byte by byte (SQLite's
// BINARY collation, std::string's <) orders the texts as a Russian reader expects. Invalid UTF-8
// is read with U+FFFD for the bad bytes. Keys change with ICU's collation data (its version):
// they are stored with their rows and rebuilt by a migration when that changes.
// Thread-safe (a collator per thread).
std::string RussianSortKey(std::string_view text);

// ICU's collation data version for the keys above ("153.112"...).
std::string SortKeyVersion();

}  // namespace civic
