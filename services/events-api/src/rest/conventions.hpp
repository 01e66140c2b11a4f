#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/error.hpp"
#include "civic/http/message.hpp"
#include "civic/sqlite/sqlite.hpp"

namespace civic::events::rest {

// ---- Identifiers ------------------------------------------------------------------------------

// The positive integer in path parameter `name`, or nothing ("/v1/cities/abc" is a 404).
std::optional<int64_t> PathId(const http::Request& request, std::string_view name = "id");
http::Response NotFound(std::string_view what, std::string_view id);
// For a route that takes no query parameters: a 422 naming each one given; nothing otherwise.
std::optional<http::Response> RejectQuery(const http::Request& request);

// ---- ETags and conditional requests -------------------------------------------------------------

// A strong ETag for a representation: "\"<16 hex digits>\"", stable across restarts.
std::string ETagOf(std::string_view representation);
// Whether an If-None-Match / If-Match header value lists `etag` (or is "*"). `strong`: the
// strong comparison of If-Match (RFC 9110 section 13.1.1), where a weak W/"..." never matches;
// otherwise the weak comparison of If-None-Match, where W/"x" matches "x".
bool ETagListMatches(std::string_view header_value, std::string_view etag, bool strong = false);
// For a GET: sets ETag on a 200 JSON response, and turns it into 304 when If-None-Match matches.
http::Response Conditional(const http::Request& request, http::Response response);
// For PATCH/PUT/DELETE: an Error (412) when If-Match is present and does not match the current
// representation's ETag by the strong comparison; nothing otherwise.
std::optional<Error> CheckIfMatch(const http::Request& request, std::string_view current_etag);

// ---- Cursor pagination
// -----------------------------------------------------------------------------

std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

inline constexpr int kDefaultPageSize = 20;
inline constexpr int kMaxPageSize = 100;

// A filter a list endpoint accepts: `?param=value` becomes SQL `condition` with one `?`.
struct Filter {
  enum class Kind {
    kId,       // positive integer
    kInteger,  // an integer from `min` to `max`
    kText,     // any string (1..200 characters)
    kEnum,     // one of `values`
    kInstant,  // RFC 3339 with offset, bound as milliseconds since the epoch
    kDate,     // a calendar date YYYY-MM-DD (civic::IsIsoDate), bound as text
    kSearch,   // words to search for (1..200 characters), bound as an FTS5 MATCH expression
    kExpand,   // `?expand=a,b`: related rows to embed, each one of `values`; no condition
  };
  std::string param;
  std::string condition;  // e.g. "city_id = ?", "starts_at >= ?"
  Kind kind = Kind::kId;
  std::vector<std::string> values;
  int64_t min = 0;  // kInteger only
  int64_t max = 0;
};

// `?q=`: the rows of `table` whose text holds every word of q (storage/search.hpp).
Filter SearchFilter(const std::string& table);

// A sort order a list endpoint accepts: `?sort=name` (ascending) or `?sort=-name`.
struct Sort {
  std::string name;
  std::string column;  // a NOT NULL column; ties are broken by id
  bool text = false;   // text column (else integer)
};

// Which rows of a resource a caller may read, besides what the route's roles allow
// (access/scope.hpp turns it into a condition for the caller at hand; admins read every row).
struct RowAccess {
  std::string program_sql;      // the row's program id, an SQL expression over its columns, e.g.
                                // "(SELECT program_id FROM events WHERE id = event_id)"; empty: the
                                // rows belong to no program
  std::string public_sql;       // rows anyone may read, e.g. "status <> 'draft'"; empty: every row;
                                // "0": none (only what the caller's scope gives)
  std::string expert_sql;       // rows an expert reads too, with one ? for the expert's person id
  bool frontend_reads = false;  // a frontend reads the rows of its programs (its registrations)
  std::string frontend_own_sql;  // with frontend_reads: of those, only the rows it owns, with one ?
                                 // for its key id, e.g. "owner_key_id = ?"; empty: all of them
};

struct ListSpec {
  std::string table;    // FROM clause, e.g. "cities"
  std::string columns;  // SELECT list the row reader expects, e.g. "id, name, ..."
  std::vector<Filter> filters;
  std::vector<Sort> sorts;  // the first is the default
  RowAccess access;
};

struct BoundFilter {
  const Filter* filter = nullptr;
  std::string text;
  int64_t number = 0;
};

struct ListQuery {
  int limit = kDefaultPageSize;
  const Sort* sort = nullptr;
  bool descending = false;
  std::vector<BoundFilter> filters;
  // Position after which the page starts (from the cursor).
  bool has_after = false;
  std::string after_text;
  int64_t after_number = 0;
  int64_t after_id = 0;
  std::string fingerprint;  // the route, sort and filters, so a cursor cannot be reused elsewhere
  std::vector<std::string> expand;  // the expansions asked for (Filter::Kind::kExpand), each once

  bool Expands(std::string_view name) const {
    for (const auto& asked : expand) {
      if (asked == name) {
        return true;
      }
    }
    return false;
  }
};

// Parses limit, sort, cursor and the spec's filters; unknown parameters are a 422.
Result<ListQuery> ParseListQuery(const http::Request& request, const ListSpec& spec);
// The cursor that continues after a row with this sort value and id.
std::string MakeCursor(const ListQuery& query, const std::string& text_value, int64_t number_value,
                       int64_t id);
// SQL and the values to bind to its ?s in order (strings or integers).
struct SqlWithParams {
  std::string sql;
  std::vector<std::pair<bool, std::pair<std::string, int64_t>>> params;  // (is_text, value)
};
// "SELECT <columns>, <sort column>, id FROM ... WHERE (access) AND ... ORDER BY ... LIMIT
// limit+1"; `access` is a condition on the rows the caller may read (empty: every row).
SqlWithParams BuildListSql(const ListSpec& spec, const ListQuery& query,
                           const SqlWithParams& access = {});
// Binds `params` to `statement` from parameter `first` on; returns the next parameter's index.
int BindParams(sqlite::Statement& statement, const SqlWithParams& sql, int first = 1);

// {"items": [...], "next": cursor|null, "limit": n}
http::Response ListResponse(const http::Request& request, nlohmann::json items,
                            const std::optional<std::string>& next, int limit);

}  // namespace civic::events::rest
