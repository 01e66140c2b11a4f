// JSON request bodies: the checks a JSON route's body passes before its handler sees it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace civic::http {

// A JSON body may nest this deep, no deeper (a 400 over it, before it is parsed).
constexpr int kMaxJsonDepth = 64;

// Depth of [ and { nesting outside strings; stops counting past `limit`.
int JsonDepth(std::string_view text, int limit);

// Parses a JSON body as nlohmann::json::parse does, and names the first member an object gives
// more than once ("team_rules.min_size", "review_criteria[1].weight"), which the parse alone
// would settle silently for the last value. Throws what nlohmann::json::parse throws.
nlohmann::json ParseJsonBody(const std::string& body, std::string& repeated);

}  // namespace civic::http
