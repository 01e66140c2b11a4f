#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "civic/domain/time.hpp"
#include "civic/domain/validation.hpp"

namespace civic {

// The sectors a city team mixes: a program may require some of them.
const std::vector<std::string>& Sectors();  // government, ngo, business, volunteer, education,
                                            // media, other

struct Organization {
  int64_t id = 0;
  std::string name;                // 1..300 characters
  std::string sector;              // one of Sectors()
  std::optional<int64_t> city_id;  // where it is based
  std::string website;             // empty, or an http(s) URL up to 500 characters
  Instant created_at{};
  Instant updated_at{};
};

void Validate(const Organization& organization, Violations& violations);

// Whether `url` is an absolute http or https URL with a host and no spaces.
bool IsHttpUrl(std::string_view url);

}  // namespace civic
