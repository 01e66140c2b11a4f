#include "civic/http/message.hpp"

#include <cctype>

namespace civic::http {

std::string_view ToString(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kTrace:
      return "TRACE";
    case Method::kConnect:
      return "CONNECT";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) {
      return false;
    }
  }
  return true;
}

namespace {

std::optional<std::string> Find(const Fields& fields, std::string_view name, bool ignore_case) {
  for (const auto& [key, value] : fields) {
    if (ignore_case ? EqualsIgnoreCase(key, name) : key == name) {
      return value;
    }
  }
  return std::nullopt;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::optional<std::string> Request::Header(std::string_view name) const {
  return Find(headers, name, true);
}

std::optional<std::string> Request::Query(std::string_view name) const {
  return Find(query, name, false);
}

const std::string& Request::Param(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [key, value] : params) {
    if (key == name) {
      return value;
    }
  }
  return kEmpty;
}

Response Response::Json(int status, const nlohmann::json& body) {
  Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

Response Response::Text(int status, std::string content_type, std::string body) {
  Response response;
  response.status = status;
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  return response;
}

Response Response::Empty(int status) {
  Response response;
  response.status = status;
  return response;
}

Response& Response::WithHeader(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::optional<std::string> Response::Header(std::string_view name) const {
  return Find(headers, name, true);
}

std::string PercentDecode(std::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    if (c == '+' && plus_as_space) {
      out.push_back(' ');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

Fields ParseQueryString(std::string_view query) {
  Fields out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) {
      end = query.size();
    }
    const std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(PercentDecode(pair, true), "");
      } else {
        out.emplace_back(PercentDecode(pair.substr(0, eq), true),
                         PercentDecode(pair.substr(eq + 1), true));
      }
    }
    start = end + 1;
  }
  return out;
}

}  // namespace civic::http
