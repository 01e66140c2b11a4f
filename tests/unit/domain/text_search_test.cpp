// Text search, Russian first: words, stems, and the FTS5 expression a search becomes.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "civic/domain/text_search.hpp"
#include "storage/search.hpp"

using civic::SearchStem;
using civic::SearchStems;
using civic::SearchWords;

TEST_CASE("Search words: letters and digits, lower case, ё as е, the rest separates", "[search]") {
  CHECK(SearchWords("Фонд «Добрые города» — 2026!") ==
        std::vector<std::string>{"фонд", "добрые", "города", "2026"});
  CHECK(SearchWords("Ёлки, ЁЖИК и ещё") == std::vector<std::string>{"елки", "ежик", "и", "еще"});
  CHECK(SearchWords("Rosatom's TOS-school") ==
        std::vector<std::string>{"rosatom", "s", "tos", "school"});
  CHECK(SearchWords("Ünïcode ΔΗΜΟΣ") == std::vector<std::string>{"ünïcode", "δημοσ"});
  CHECK(SearchWords("  \t\n«»…").empty());
  CHECK(SearchWords("").empty());
  // Invalid UTF-8 separates words and never reads past the end.
  CHECK(SearchWords(std::string("аб\xff") + "вг\xd0") == std::vector<std::string>{"аб", "вг"});
}

TEST_CASE("Search stems: the forms of one Russian word share a stem", "[search]") {
  CHECK(SearchStem("город") == SearchStem("городе"));
  CHECK(SearchStem("город") == SearchStem("города"));
  CHECK(SearchStem("городов") == SearchStem("городами"));
  // «городской» stems longer than «город»: a prefix search of the stem finds it.
  CHECK(SearchStem("городской").rfind(SearchStem("город"), 0) == 0);
  CHECK(SearchStem("волонтеры") == SearchStem("волонтер"));
  CHECK(SearchStem("schools") == SearchStem("school"));
  CHECK(SearchStem("2026") == "2026");
  // The index holds each stem and, where it differs, the word.
  CHECK(SearchStems("Школа ТОС в Якутске") == "школ школа тос в якутск якутске");
}

TEST_CASE("Same names: any case, spacing and grammatical form of the same words",
          "[search][duplicates]") {
  using civic::SameName;
  for (const char* form : {"Вере Соседовой", "ВЕРА СОСЕДОВОЙ", "Вёра  Соседова", "вера, соседову",
                           "Веру Соседову", "Верой Соседовой"}) {
    INFO(form);
    CHECK(SameName("Вера Соседова", form));
    CHECK(SameName(form, "Вера Соседова"));
  }
  // Names whose Snowball stems differ from case to case.
  CHECK(SameName("Иван Петров", "Ивану Петрову"));
  CHECK(SameName("Иван Петров", "Ивана Петрова"));
  CHECK(SameName("Елена Лебедева", "Елене Лебедевой"));
  CHECK(SameName("Павел Сорокин", "Павел Сорокину"));
  CHECK(SameName("Лев Толстой", "Лев Толстого"));
  CHECK(SameName("Наталья Игоревна", "Натальей Игоревной"));
  CHECK(SameName("Алексей Иванов", "Алексея Иванова"));
  CHECK(SameName("Школа ТОС", "школы тос"));
  // Other names, other words, the words in another order, or another number of them: not.
  CHECK_FALSE(SameName("Вера Соседова", "Анна Соседова"));
  CHECK_FALSE(SameName("Анна Петрова", "Андрей Петров"));
  CHECK_FALSE(SameName("Мария Орлова", "Марина Орлова"));
  CHECK_FALSE(SameName("Вера Соседова", "Соседова Вера"));
  CHECK_FALSE(SameName("Вера Соседова", "Вера"));
  CHECK_FALSE(SameName("Ли Ким", "Лин Ким"));
  CHECK_FALSE(SameName("Пётр Петров", "Пётр Петренко"));
  CHECK(SameName("", ""));
}

TEST_CASE("Search expression: each word's stem as a prefix, all required", "[search]") {
  std::string error;
  CHECK(civic::events::SearchMatch("Добрые города", error) == std::string("\"добр\"* \"город\"*"));
  // FTS5 syntax in the query is only words to it.
  CHECK(civic::events::SearchMatch("\"OR\" NEAR(a b)*", error) ==
        std::string("\"or\"* \"near\"* \"a\"* \"b\"*"));
  CHECK_FALSE(civic::events::SearchMatch("«» — !!!", error));
  CHECK(error == "has no word to search for (letters or digits)");
  CHECK_FALSE(civic::events::SearchMatch("1 2 3 4 5 6 7 8 9 10 11", error));
  CHECK(error == "has 11 words; at most 10 are searched for");
  CHECK(civic::events::SearchMatch("1 2 3 4 5 6 7 8 9 10", error));
}
