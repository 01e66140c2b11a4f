#include "storage/search.hpp"

#include <sqlite3.h>

#include <sstream>
#include <vector>

#include "civic/domain/text_search.hpp"

namespace civic::events {

namespace {

void StemsFunction(sqlite3_context* context, int argc, sqlite3_value** argv) {
  try {
    std::string text;
    for (int i = 0; i < argc; ++i) {
      const unsigned char* value = sqlite3_value_text(argv[i]);
      if (value == nullptr) {
        continue;
      }
      const int size = sqlite3_value_bytes(argv[i]);
      if (!text.empty()) {
        text.push_back(' ');
      }
      text.append(reinterpret_cast<const char*>(value), static_cast<size_t>(size));
    }
    const std::string stems = SearchStems(text);
    sqlite3_result_text(context, stems.data(), static_cast<int>(stems.size()), SQLITE_TRANSIENT);
  } catch (const std::exception& e) {
    sqlite3_result_error(context, e.what(), -1);
  }
}

std::vector<std::string> Split(const std::string& columns) {
  std::vector<std::string> out;
  std::stringstream in(columns);
  std::string column;
  while (std::getline(in, column, ',')) {
    const size_t first = column.find_first_not_of(' ');
    const size_t last = column.find_last_not_of(' ');
    out.push_back(column.substr(first, last - first + 1));
  }
  return out;
}

}  // namespace

void RegisterSearchFunctions(sqlite::Database& db) {
  const int rc = sqlite3_create_function_v2(db.handle(), "civic_search_stems", -1,
                                            SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                            StemsFunction, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    throw sqlite::Error(
        rc, sqlite3_extended_errcode(db.handle()),
        std::string("cannot register civic_search_stems: ") + sqlite3_errmsg(db.handle()));
  }
}

std::optional<std::string> SearchMatch(std::string_view q, std::string& error) {
  const std::vector<std::string> words = SearchWords(q);
  if (words.empty()) {
    error = "has no word to search for (letters or digits)";
    return std::nullopt;
  }
  if (words.size() > kMaxSearchWords) {
    error = "has " + std::to_string(words.size()) + " words; at most " +
            std::to_string(kMaxSearchWords) + " are searched for";
    return std::nullopt;
  }
  // Stems hold letters and digits only, so quoting them is safe: FTS5 sees each as one string,
  // and `*` after it asks for every token it begins.
  std::string match;
  for (const std::string& word : words) {
    if (!match.empty()) {
      match.push_back(' ');
    }
    match += '"' + SearchStem(word) + "\"*";
  }
  return match;
}

std::string SearchIndexSql(const std::string& table, const std::string& columns) {
  const std::string index = table + "_search";
  std::string new_values;
  for (const std::string& column : Split(columns)) {
    new_values += (new_values.empty() ? "new." : ", new.") + column;
  }
  std::string sql;
  sql += "CREATE VIRTUAL TABLE " + index +
         " USING fts5(stems, tokenize = 'unicode61 remove_diacritics 0');\n";
  sql += "INSERT INTO " + index + "(rowid, stems) SELECT id, civic_search_stems(" + columns +
         ") FROM " + table + ";\n";
  sql += "CREATE TRIGGER " + index + "_insert AFTER INSERT ON " + table + " BEGIN INSERT INTO " +
         index + "(rowid, stems) VALUES (new.id, civic_search_stems(" + new_values + ")); END;\n";
  sql += "CREATE TRIGGER " + index + "_update AFTER UPDATE OF " + columns + " ON " + table +
         " BEGIN UPDATE " + index + " SET stems = civic_search_stems(" + new_values +
         ") WHERE rowid = new.id; END;\n";
  sql += "CREATE TRIGGER " + index + "_delete AFTER DELETE ON " + table + " BEGIN DELETE FROM " +
         index + " WHERE rowid = old.id; END;\n";
  return sql;
}

}  // namespace civic::events
