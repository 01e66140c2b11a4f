#include "civic/domain/organization.hpp"

#include <algorithm>

namespace civic {

const std::vector<std::string>& Sectors() {
  static const std::vector<std::string> kSectors = {"government", "ngo",   "business", "volunteer",
                                                    "education",  "media", "other"};
  return kSectors;
}

bool IsHttpUrl(std::string_view url) {
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return false;
  }
  const size_t host_end = rest.find_first_of("/?#");
  const std::string_view host = rest.substr(0, host_end);
  if (host.empty() || host.find('.') == std::string_view::npos) {
    return false;
  }
  return std::none_of(url.begin(), url.end(), [](char c) {
    return c == ' ' || c == '"' || c == '<' || c == '>' || static_cast<unsigned char>(c) < 0x20;
  });
}

void Validate(const Organization& organization, Violations& violations) {
  violations.Text("name", organization.name, 1, 300);
  const auto& sectors = Sectors();
  if (std::find(sectors.begin(), sectors.end(), organization.sector) == sectors.end()) {
    violations.Add("sector", "must be one of the sectors");
  }
  if (!organization.website.empty() &&
      (organization.website.size() > 500 || !IsHttpUrl(organization.website))) {
    violations.Add("website", "must be an http(s) URL of at most 500 characters");
  }
}

}  // namespace civic
