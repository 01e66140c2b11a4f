#include "civic/http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace civic::http {

namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  if (!path.empty() && path.front() == '/') {
    start = 1;
  }
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

Router& Router::AddRoute(Route route) {
  if (route.pattern.empty() || route.pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + route.pattern);
  }
  for (const auto& segment : SplitPath(route.pattern)) {
    route.segments.emplace_back(segment);
    if (!IsParam(segment)) {
      ++route.literal_count;
    }
  }
  for (const auto& existing : routes_) {
    if (existing.method == route.method && existing.pattern == route.pattern) {
      throw std::invalid_argument("duplicate route: " + route.pattern);
    }
  }
  routes_.push_back(std::move(route));
  return *this;
}

Router& Router::Add(Method method, std::string pattern, SyncHandler handler, RouteOptions options) {
  Route route;
  route.method = method;
  route.pattern = std::move(pattern);
  route.handler = std::move(handler);
  route.options = options;
  return AddRoute(std::move(route));
}

Router& Router::AddAsync(Method method, std::string pattern, AsyncHandler handler,
                         RouteOptions options) {
  if (options.offload) {
    throw std::invalid_argument("offload applies to synchronous routes only: " + pattern);
  }
  Route route;
  route.method = method;
  route.pattern = std::move(pattern);
  route.handler = std::move(handler);
  route.options = options;
  return AddRoute(std::move(route));
}

Router& Router::Get(std::string pattern, SyncHandler handler, RouteOptions options) {
  return Add(Method::kGet, std::move(pattern), std::move(handler), options);
}
Router& Router::Post(std::string pattern, SyncHandler handler, RouteOptions options) {
  return Add(Method::kPost, std::move(pattern), std::move(handler), options);
}
Router& Router::Patch(std::string pattern, SyncHandler handler, RouteOptions options) {
  return Add(Method::kPatch, std::move(pattern), std::move(handler), options);
}
Router& Router::Put(std::string pattern, SyncHandler handler, RouteOptions options) {
  return Add(Method::kPut, std::move(pattern), std::move(handler), options);
}
Router& Router::Delete(std::string pattern, SyncHandler handler, RouteOptions options) {
  return Add(Method::kDelete, std::move(pattern), std::move(handler), options);
}

Router::Match Router::Find(Method method, std::string_view path) {
  Match match;
  const auto segments = SplitPath(path);
  const Method wanted = method == Method::kHead ? Method::kGet : method;
  int best_literals = -1;
  int best_allowed_literals = -1;
  for (auto& route : routes_) {
    if (route.segments.size() != segments.size()) {
      continue;
    }
    bool matches = true;
    for (size_t i = 0; i < segments.size(); ++i) {
      const std::string& pattern_segment = route.segments[i];
      if (IsParam(pattern_segment)) {
        if (segments[i].empty()) {
          matches = false;
          break;
        }
      } else if (pattern_segment != segments[i]) {
        matches = false;
        break;
      }
    }
    if (!matches) {
      continue;
    }
    // Only the most specific path shape contributes to Allow.
    if (route.literal_count > best_allowed_literals) {
      best_allowed_literals = route.literal_count;
      match.allowed.clear();
    }
    if (route.literal_count == best_allowed_literals) {
      match.allowed.push_back(route.method);
    }
    if (route.method == wanted && route.literal_count > best_literals) {
      best_literals = route.literal_count;
      match.route = &route;
    }
  }
  if (match.route != nullptr && match.route->literal_count < best_allowed_literals) {
    // A more specific path exists but not for this method: treat as method not allowed.
    match.route = nullptr;
  }
  if (match.route != nullptr) {
    for (size_t i = 0; i < segments.size(); ++i) {
      const std::string& pattern_segment = match.route->segments[i];
      if (IsParam(pattern_segment)) {
        match.params.emplace_back(pattern_segment.substr(1, pattern_segment.size() - 2),
                                  PercentDecode(segments[i], false));
      }
    }
  }
  if (std::find(match.allowed.begin(), match.allowed.end(), Method::kGet) != match.allowed.end()) {
    match.allowed.push_back(Method::kHead);
  }
  if (!match.allowed.empty()) {
    match.allowed.push_back(Method::kOptions);
  }
  return match;
}

std::string AllowHeader(const std::vector<Method>& methods) {
  std::string out;
  for (const Method method : methods) {
    if (!out.empty()) {
      out += ", ";
    }
    out += ToString(method);
  }
  return out;
}

}  // namespace civic::http
