#include "rest/conventions.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>

#include "civic/domain/time.hpp"
#include "civic/domain/validation.hpp"
#include "civic/http/problem.hpp"
#include "storage/search.hpp"

namespace civic::events::rest {

namespace {

uint64_t Fnv1a64(std::string_view data) {
  uint64_t hash = 14695981039346656037ULL;
  for (const char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::optional<int64_t> ParsePositive(std::string_view text) {
  if (text.empty() || text.size() > 19) {  // 9223372036854775807, the largest id, has 19
    return std::nullopt;
  }
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value <= 0) {
    return std::nullopt;
  }
  return value;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

std::optional<int64_t> PathId(const http::Request& request, std::string_view name) {
  return ParsePositive(request.Param(name));
}

http::Response NotFound(std::string_view what, std::string_view id) {
  return http::ErrorResponse(
      Error::NotFound("No " + std::string(what) + " with id " + std::string(id) + "."));
}

std::string ETagOf(std::string_view representation) {
  char buffer[19];
  std::snprintf(buffer, sizeof(buffer), "%016llx",
                static_cast<unsigned long long>(Fnv1a64(representation)));
  std::string etag;
  etag.reserve(18);
  etag.push_back('"');
  etag.append(buffer, 16);
  etag.push_back('"');
  return etag;
}

bool ETagListMatches(std::string_view header_value, std::string_view etag, bool strong) {
  size_t start = 0;
  while (start <= header_value.size()) {
    size_t end = header_value.find(',', start);
    if (end == std::string_view::npos) {
      end = header_value.size();
    }
    std::string item = Trim(header_value.substr(start, end - start));
    if (item == "*") {
      return true;
    }
    if (item.rfind("W/", 0) == 0) {
      if (strong) {  // a weak tag never matches in the strong comparison
        start = end + 1;
        continue;
      }
      item = item.substr(2);
    }
    if (item == etag) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

std::optional<http::Response> RejectQuery(const http::Request& request) {
  if (request.query.empty()) {
    return std::nullopt;
  }
  Violations violations;
  for (const auto& [name, value] : request.query) {
    violations.Add(name, "is not a known query parameter");
  }
  return http::ErrorResponse(violations.ToError());
}

http::Response Conditional(const http::Request& request, http::Response response) {
  if (response.status != 200) {
    return response;
  }
  const std::string etag = ETagOf(response.body);
  response.WithHeader("ETag", etag);
  if (auto header = request.Header("if-none-match"); header && ETagListMatches(*header, etag)) {
    http::Response not_modified = http::Response::Empty(304);
    not_modified.WithHeader("ETag", etag);
    return not_modified;
  }
  return response;
}

std::optional<Error> CheckIfMatch(const http::Request& request, std::string_view current_etag) {
  auto header = request.Header("if-match");
  if (!header || ETagListMatches(*header, current_etag, /*strong=*/true)) {
    return std::nullopt;
  }
  // The current ETag is not repeated: a client must read the resource as it is now before it
  // writes again, not retry blindly with a tag it has not seen the representation of.
  return Error{ErrorCode::kPreconditionFailed,
               "If-Match does not match the current version: the resource changed; GET it again "
               "and apply the change to what it shows now.",
               {}};
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  while (i + 2 < bytes.size()) {
    const uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
    i += 3;
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (rest == 2) {
    const uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') {
      return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
      return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
      return c - '0' + 52;
    }
    if (c == '-') {
      return 62;
    }
    if (c == '_') {
      return 63;
    }
    return -1;
  };
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = value(c);
    if (v < 0) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

namespace {

// The cursor in `text` when it is one MakeCursor could have made for a sort by a text
// (`text_sort`) or an integer column: base64url without padding of the JSON object
// {"f": string, "i": id >= 1, "v": a non-empty string or an integer}, those three members and no
// other, in the very bytes MakeCursor writes (no white space, no bytes after the object, no
// other spelling of the same value). Nothing otherwise.
bool IsInt64(const nlohmann::json& value) {
  return value.is_number_integer() &&
         (!value.is_number_unsigned() ||
          value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
}

std::optional<nlohmann::json> ReadCursor(const std::string& text, bool text_sort) {
  const auto decoded = Base64UrlDecode(text);
  if (!decoded) {
    return std::nullopt;
  }
  nlohmann::json cursor = nlohmann::json::parse(*decoded, nullptr, false);
  if (!cursor.is_object() || cursor.size() != 3 || !cursor.contains("f") || !cursor.contains("i") ||
      !cursor.contains("v") || !cursor["f"].is_string() || !IsInt64(cursor["i"]) ||
      cursor["i"].get<int64_t>() < 1) {
    return std::nullopt;
  }
  const nlohmann::json& value = cursor["v"];
  const bool value_ok =
      text_sort ? value.is_string() && !value.get<std::string>().empty() : IsInt64(value);
  // Written again, it must be the very text given: that refuses trailing bytes (a NUL ends
  // nlohmann's parse), white space and base64 with stray low bits.
  if (!value_ok || Base64UrlEncode(cursor.dump()) != text) {
    return std::nullopt;
  }
  return cursor;
}

// Why a text or search filter's value is refused ("" when it is 1 to 200 characters of valid
// UTF-8).
std::string FilterTextProblem(const std::string& value) {
  if (!IsValidUtf8(value)) {
    return "is not valid UTF-8";
  }
  if (value.empty() || Utf8Length(value) > 200) {
    return "must be 1 to 200 characters";
  }
  return "";
}

}  // namespace

Result<ListQuery> ParseListQuery(const http::Request& request, const ListSpec& spec) {
  Violations violations;
  ListQuery query;
  query.sort = &spec.sorts.front();
  std::map<std::string, std::string> seen;
  for (const auto& [name, value] : request.query) {
    if (!seen.emplace(name, value).second) {
      violations.Add(name, "is given more than once");
    }
  }
  for (const auto& [name, value] : seen) {
    if (name == "limit") {
      auto limit = ParsePositive(value);
      if (!limit || *limit > kMaxPageSize) {
        violations.Add("limit", "must be an integer from 1 to " + std::to_string(kMaxPageSize));
      } else {
        query.limit = static_cast<int>(*limit);
      }
      continue;
    }
    if (name == "sort") {
      std::string_view key = value;
      const bool descending = !key.empty() && key.front() == '-';
      if (descending) {
        key.remove_prefix(1);
      }
      const Sort* found = nullptr;
      for (const auto& sort : spec.sorts) {
        if (sort.name == key) {
          found = &sort;
        }
      }
      if (found == nullptr) {
        std::string names;
        for (const auto& sort : spec.sorts) {
          names += (names.empty() ? "" : ", ") + sort.name;
        }
        violations.Add("sort", "must be one of " + names + " (prefix - for descending)");
      } else {
        query.sort = found;
        query.descending = descending;
      }
      continue;
    }
    if (name == "cursor") {
      continue;  // read below, once the sort and filters are known
    }
    const Filter* filter = nullptr;
    for (const auto& candidate : spec.filters) {
      if (candidate.param == name) {
        filter = &candidate;
      }
    }
    if (filter == nullptr) {
      violations.Add(name, "is not a known query parameter");
      continue;
    }
    BoundFilter bound;
    bound.filter = filter;
    switch (filter->kind) {
      case Filter::Kind::kId: {
        auto id = ParsePositive(value);
        if (!id) {
          violations.Add(name, "must be a positive integer id");
          continue;
        }
        bound.number = *id;
        break;
      }
      case Filter::Kind::kInteger: {
        int64_t number = 0;
        const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
        if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() ||
            number < filter->min || number > filter->max) {
          violations.Add(name, "must be an integer between " + std::to_string(filter->min) +
                                   " and " + std::to_string(filter->max));
          continue;
        }
        bound.number = number;
        break;
      }
      case Filter::Kind::kText:
        if (const std::string problem = FilterTextProblem(value); !problem.empty()) {
          violations.Add(name, problem);
          continue;
        }
        bound.text = value;
        break;
      case Filter::Kind::kEnum: {
        bool ok = false;
        for (const auto& option : filter->values) {
          ok = ok || option == value;
        }
        if (!ok) {
          std::string list;
          for (const auto& option : filter->values) {
            list += (list.empty() ? "" : ", ") + option;
          }
          violations.Add(name, "must be one of: " + list);
          continue;
        }
        bound.text = value;
        break;
      }
      case Filter::Kind::kSearch: {
        if (const std::string problem = FilterTextProblem(value); !problem.empty()) {
          violations.Add(name, problem);
          continue;
        }
        std::string error;
        auto match = SearchMatch(value, error);
        if (!match) {
          violations.Add(name, error);
          continue;
        }
        bound.text = *match;
        break;
      }
      case Filter::Kind::kExpand: {
        std::string allowed;
        for (const auto& option : filter->values) {
          allowed += (allowed.empty() ? "" : ", ") + option;
        }
        size_t start = 0;
        while (start <= value.size()) {
          const size_t end = std::min(value.find(',', start), value.size());
          const std::string asked = value.substr(start, end - start);
          if (std::find(filter->values.begin(), filter->values.end(), asked) ==
              filter->values.end()) {
            violations.Add(name, "must be a comma-separated list of: " + allowed);
            break;
          }
          if (!query.Expands(asked)) {
            query.expand.push_back(asked);
          }
          start = end + 1;
        }
        continue;  // embeds rows, selects none
      }
      case Filter::Kind::kDate:
        if (!IsIsoDate(value)) {
          violations.Add(name, "must be a date YYYY-MM-DD");
          continue;
        }
        bound.text = value;
        break;
      case Filter::Kind::kInstant: {
        auto instant = ParseInstant(value);
        if (!instant) {
          violations.Add(
              name, "must be an RFC 3339 date-time with an offset, from the year 1900 to 9999");
          continue;
        }
        bound.number = instant->time_since_epoch().count();
        break;
      }
    }
    query.filters.push_back(std::move(bound));
  }
  // The route (the collection: /v1/people and /v1/cities sort alike), the sort and the
  // filters: a cursor is good for the very list that issued it.
  query.fingerprint =
      request.route + "?" + std::string(query.descending ? "-" : "") + query.sort->name;
  for (const auto& bound : query.filters) {
    query.fingerprint +=
        "&" + bound.filter->param + "=" + bound.text + ":" + std::to_string(bound.number);
  }
  if (auto it = seen.find("cursor"); it != seen.end()) {
    const std::optional<nlohmann::json> cursor = ReadCursor(it->second, query.sort->text);
    if (!cursor) {
      violations.Add("cursor", "is not a cursor this API issued");
    } else if ((*cursor)["f"].get<std::string>() != ETagOf(query.fingerprint)) {
      violations.Add("cursor", "belongs to another list, or to other filters or sort");
    } else {
      query.has_after = true;
      query.after_id = (*cursor)["i"].get<int64_t>();
      if (query.sort->text) {
        query.after_text = (*cursor)["v"].get<std::string>();
      } else {
        query.after_number = (*cursor)["v"].get<int64_t>();
      }
    }
  }
  if (!violations.empty()) {
    return Error::Invalid(violations.Take(), "The query has invalid parameters.");
  }
  return query;
}

std::string MakeCursor(const ListQuery& query, const std::string& text_value, int64_t number_value,
                       int64_t id) {
  nlohmann::json cursor = {{"f", ETagOf(query.fingerprint)}, {"i", id}};
  if (query.sort->text) {
    cursor["v"] = text_value;
  } else {
    cursor["v"] = number_value;
  }
  return Base64UrlEncode(cursor.dump());
}

Filter SearchFilter(const std::string& table) {
  const std::string index = table + "_search";
  return Filter{"q",
                "id IN (SELECT rowid FROM " + index + " WHERE " + index + " MATCH ?)",
                Filter::Kind::kSearch,
                {}};
}

SqlWithParams BuildListSql(const ListSpec& spec, const ListQuery& query,
                           const SqlWithParams& access) {
  SqlWithParams out;
  const std::string& column = query.sort->column;
  out.sql = "SELECT " + spec.columns + ", " + column + ", id FROM " + spec.table + " WHERE 1=1";
  if (!access.sql.empty()) {
    out.sql += " AND (" + access.sql + ")";
    out.params = access.params;
  }
  for (const auto& bound : query.filters) {
    out.sql += " AND " + bound.filter->condition;
    const bool text =
        bound.filter->kind == Filter::Kind::kText || bound.filter->kind == Filter::Kind::kDate ||
        bound.filter->kind == Filter::Kind::kEnum || bound.filter->kind == Filter::Kind::kSearch;
    out.params.push_back({text, {bound.text, bound.number}});
  }
  const char* direction = query.descending ? "DESC" : "ASC";
  if (query.has_after) {
    out.sql += " AND (" + column + ", id) " + (query.descending ? "<" : ">") + " (?, ?)";
    out.params.push_back({query.sort->text, {query.after_text, query.after_number}});
    out.params.push_back({false, {"", query.after_id}});
  }
  out.sql += " ORDER BY " + column + " " + direction + ", id " + direction + " LIMIT " +
             std::to_string(query.limit + 1);
  return out;
}

int BindParams(sqlite::Statement& statement, const SqlWithParams& sql, int first) {
  int index = first;
  for (const auto& [is_text, value] : sql.params) {
    if (is_text) {
      statement.Bind(index++, value.first);
    } else {
      statement.Bind(index++, value.second);
    }
  }
  return index;
}

http::Response ListResponse(const http::Request& request, nlohmann::json items,
                            const std::optional<std::string>& next, int limit) {
  nlohmann::json body = {{"items", std::move(items)}, {"limit", limit}};
  body["next"] = next ? nlohmann::json(*next) : nlohmann::json(nullptr);
  return Conditional(request, http::Response::Json(200, body));
}

}  // namespace civic::events::rest
