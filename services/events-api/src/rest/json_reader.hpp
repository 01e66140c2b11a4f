#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "civic/domain/time.hpp"
#include "civic/domain/validation.hpp"

namespace civic::events::rest {

// Reads a JSON object member by member into typed values, recording every problem in
// `violations` with the member's path ("team_rules.min_size"). A JSON null counts as absent
// (so a merge patch that sets a member to null clears it). Members not read by the end are
// reported by RejectUnknown().
class JsonReader {
 public:
  enum class Mode {
    kCreate,  // a POST body: read-only members (id, created_at, updated_at) are errors
    kMerged,  // a merged PATCH document: read-only members are ignored
  };

  JsonReader(const nlohmann::json& object, Violations& violations, Mode mode,
             std::string prefix = "");

  std::optional<std::string> String(const std::string& name, bool required);
  std::optional<int64_t> Integer(const std::string& name, bool required);
  std::optional<bool> Bool(const std::string& name, bool required);
  std::optional<std::string> Enum(const std::string& name, const std::vector<std::string>& allowed,
                                  bool required);
  // A positive integer id.
  std::optional<int64_t> Id(const std::string& name, bool required);
  std::optional<Instant> Time(const std::string& name, bool required);
  std::optional<std::vector<std::string>> StringArray(const std::string& name, bool required,
                                                      size_t max_items);
  std::optional<std::vector<int64_t>> IdArray(const std::string& name, bool required,
                                              size_t max_items);
  // A nested object (null if absent or not an object; the error is recorded).
  const nlohmann::json* Object(const std::string& name, bool required);
  // A nested array (null if absent or not an array; the error is recorded).
  const nlohmann::json* Array(const std::string& name, bool required, size_t max_items);

  // A member the server computes (a review's `score`): an error in a POST body, ignored in a
  // merged PATCH document (which holds what GET returned).
  void ReadOnly(const std::string& name);

  // Records "unknown field" for every member that was not read.
  void RejectUnknown();

  std::string Path(const std::string& name) const { return prefix_ + name; }
  Violations& violations() { return violations_; }
  Mode mode() const { return mode_; }

 private:
  const nlohmann::json* Find(const std::string& name, bool required);

  const nlohmann::json& object_;
  Violations& violations_;
  Mode mode_;
  std::string prefix_;
  std::set<std::string> read_;
  bool is_object_ = true;
};

}  // namespace civic::events::rest
