#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "civic/domain/time.hpp"

namespace civic::events::resources {

// JSON text of a list of strings or ids, for a TEXT column; and back.
std::string ToJsonText(const std::vector<std::string>& values);
std::string ToJsonText(const std::vector<int64_t>& values);
std::vector<std::string> StringsFromJsonText(const std::string& text);
std::vector<int64_t> IdsFromJsonText(const std::string& text);

inline int64_t Millis(Instant instant) { return instant.time_since_epoch().count(); }
inline Instant FromMillis(int64_t ms) { return Instant{std::chrono::milliseconds(ms)}; }
inline std::optional<int64_t> OptionalMillis(const std::optional<Instant>& instant) {
  return instant ? std::optional<int64_t>(Millis(*instant)) : std::nullopt;
}
inline std::optional<Instant> OptionalInstant(const std::optional<int64_t>& ms) {
  return ms ? std::optional<Instant>(FromMillis(*ms)) : std::nullopt;
}

template <class T>
nlohmann::json OrNull(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace civic::events::resources
