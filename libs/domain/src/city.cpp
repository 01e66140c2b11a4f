#include "civic/domain/city.hpp"

#include <set>

namespace civic {

void ValidateTags(const std::string& field, const std::vector<std::string>& tags, size_t max_count,
                  Violations& violations) {
  if (tags.size() > max_count) {
    violations.Add(field, "must have at most " + std::to_string(max_count) + " items");
    return;
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < tags.size(); ++i) {
    const std::string item = field + "[" + std::to_string(i) + "]";
    if (tags[i].size() > 50 || !IsSlug(tags[i])) {
      violations.Add(item, "must be a slug of lower-case letters, digits and hyphens (max 50)");
    } else if (!seen.insert(tags[i]).second) {
      violations.Add(item, "is repeated");
    }
  }
}

void Validate(const City& city, Violations& violations) {
  violations.Text("name", city.name, 1, 200);
  violations.Text("region", city.region, 0, 200);
  if (!IsValidTimeZone(city.time_zone)) {
    violations.Add("time_zone", "must be an IANA time zone such as Asia/Yakutsk");
  }
  if (city.population) {
    violations.Range("population", *city.population, 0, 100'000'000);
  }
  ValidateTags("tags", city.tags, 20, violations);
}

}  // namespace civic
