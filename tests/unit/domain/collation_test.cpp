// Russian alphabetical order of names (ICU collation keys).
#include "civic/domain/collation.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace {

std::vector<std::string> Sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return civic::RussianSortKey(a) < civic::RussianSortKey(b);
  });
  return names;
}

}  // namespace

TEST_CASE("Collation: names sort as a Russian reader expects, case-insensitive first, ё after е",
          "[domain][collation]") {
  // Byte order gives «Ёлкина, Абрамова, Елисеев, Юдина, абрамов».
  CHECK(Sorted({"Ёлкина", "Абрамова", "Елисеев", "Юдина", "абрамов"}) ==
        std::vector<std::string>{"абрамов", "Абрамова", "Елисеев", "Ёлкина", "Юдина"});
  // Letters first; then ё after е; then lower case before upper case.
  CHECK(Sorted({"ёлка", "Елка", "елка", "ель"}) ==
        std::vector<std::string>{"елка", "Елка", "ёлка", "ель"});
  // Cyrillic before Latin; an empty name first.
  CHECK(Sorted({"Smith", "Яковлев", ""}) == std::vector<std::string>{"", "Яковлев", "Smith"});
}

TEST_CASE("Collation: keys are lower-case hex, equal for equal names, and take bad UTF-8",
          "[domain][collation]") {
  const std::string key = civic::RussianSortKey("Юдина");
  CHECK_FALSE(key.empty());
  CHECK(key.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(key == civic::RussianSortKey("Юдина"));
  CHECK(civic::RussianSortKey("") < civic::RussianSortKey("а"));
  CHECK_FALSE(civic::RussianSortKey(std::string("\xff\xfe", 2)).empty());
  CHECK_FALSE(civic::SortKeyVersion().empty());
}
