#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "civic/domain/time.hpp"
#include "civic/domain/validation.hpp"

namespace civic {

// A municipality taking part in programs ("Саров", "Якутск").
struct City {
  int64_t id = 0;
  std::string name;       // 1..200 characters
  std::string region;     // 0..200 characters ("Нижегородская область")
  std::string time_zone;  // IANA zone, e.g. "Asia/Yakutsk"; events are shown in it
  std::optional<int64_t> population;  // 0..100,000,000
  std::vector<std::string> tags;      // slugs ("atom-city"), at most 20, unique
  Instant created_at{};
  Instant updated_at{};
};

// Appends every rule the city breaks to `violations` (field names as in the API).
void Validate(const City& city, Violations& violations);

// Tags are slugs of at most 50 characters, at most `max_count`, without repeats.
void ValidateTags(const std::string& field, const std::vector<std::string>& tags, size_t max_count,
                  Violations& violations);

}  // namespace civic
