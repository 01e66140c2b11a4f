#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/error.hpp"
#include "civic/http/message.hpp"

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
// Whether an If-None-Match / If-Match header value lists `etag` (or is "*").
bool ETagListMatches(std::string_view header_value, std::string_view etag);
// For a GET: sets ETag on a 200 JSON response, and turns it into 304 when If-None-Match matches.
http::Response Conditional(const http::Request& request, http::Response response);
// For PATCH/DELETE: an Error (412) when If-Match is present and does not match the current
// representation's ETag; nothing otherwise.
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
    kSearch,   // words to search for (1..200 characters), bound as an FTS5 MATCH expression
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

struct ListSpec {
  std::string table;    // FROM clause, e.g. "cities"
  std::string columns;  // SELECT list the row reader expects, e.g. "id, name, ..."
  std::vector<Filter> filters;
  std::vector<Sort> sorts;  // the first is the default
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
  std::string fingerprint;  // the sort and filters, so a cursor cannot be reused elsewhere
};

// Parses limit, sort, cursor and the spec's filters; unknown parameters are a 422.
Result<ListQuery> ParseListQuery(const http::Request& request, const ListSpec& spec);
// The cursor that continues after a row with this sort value and id.
std::string MakeCursor(const ListQuery& query, const std::string& text_value, int64_t number_value,
                       int64_t id);
// "SELECT <columns>, <sort column>, id FROM ... WHERE ... ORDER BY ... LIMIT limit+1" and the
// values to bind in order (strings or integers).
struct SqlWithParams {
  std::string sql;
  std::vector<std::pair<bool, std::pair<std::string, int64_t>>> params;  // (is_text, value)
};
SqlWithParams BuildListSql(const ListSpec& spec, const ListQuery& query);

// {"items": [...], "next": cursor|null, "limit": n}
http::Response ListResponse(const http::Request& request, nlohmann::json items,
                            const std::optional<std::string>& next, int limit);

}  // namespace civic::events::rest
