#include "storage/local_dates.hpp"

#include <sqlite3.h>

#include <string>

#include "civic/domain/time.hpp"

namespace civic::events {

namespace {

void LocalDateFunction(sqlite3_context* context, int /*argc*/, sqlite3_value** argv) {
  try {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
      sqlite3_result_null(context);
      return;
    }
    const Instant instant{std::chrono::milliseconds(sqlite3_value_int64(argv[0]))};
    const unsigned char* zone = sqlite3_value_text(argv[1]);
    const std::string date =
        LocalDate(instant, zone == nullptr ? std::string() : reinterpret_cast<const char*>(zone));
    sqlite3_result_text(context, date.data(), static_cast<int>(date.size()), SQLITE_TRANSIENT);
  } catch (const std::exception& e) {
    sqlite3_result_error(context, e.what(), -1);
  }
}

}  // namespace

void RegisterLocalDateFunction(sqlite::Database& db) {
  const int rc = sqlite3_create_function_v2(db.handle(), "civic_local_date", 2,
                                            SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                            LocalDateFunction, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    throw sqlite::Error(
        rc, sqlite3_extended_errcode(db.handle()),
        std::string("cannot register civic_local_date: ") + sqlite3_errmsg(db.handle()));
  }
}

}  // namespace civic::events
