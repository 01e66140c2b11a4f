#include "resources/json_util.hpp"

namespace civic::events::resources {

std::string ToJsonText(const std::vector<std::string>& values) {
  return nlohmann::json(values).dump();
}

std::string ToJsonText(const std::vector<int64_t>& values) { return nlohmann::json(values).dump(); }

std::vector<std::string> StringsFromJsonText(const std::string& text) {
  if (text.empty()) {
    return {};
  }
  return nlohmann::json::parse(text).get<std::vector<std::string>>();
}

std::vector<int64_t> IdsFromJsonText(const std::string& text) {
  if (text.empty()) {
    return {};
  }
  return nlohmann::json::parse(text).get<std::vector<int64_t>>();
}

}  // namespace civic::events::resources
