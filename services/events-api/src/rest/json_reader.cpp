#include "rest/json_reader.hpp"

namespace civic::events::rest {

namespace {

const std::set<std::string>& ReadOnlyMembers() {
  static const std::set<std::string> kMembers = {"id", "created_at", "updated_at"};
  return kMembers;
}

}  // namespace

JsonReader::JsonReader(const nlohmann::json& object, Violations& violations, Mode mode,
                       std::string prefix)
    : object_(object), violations_(violations), mode_(mode), prefix_(std::move(prefix)) {
  if (!object_.is_object()) {
    is_object_ = false;
    violations_.Add(prefix_.empty() ? "body" : prefix_.substr(0, prefix_.size() - 1),
                    "must be a JSON object");
  }
}

const nlohmann::json* JsonReader::Find(const std::string& name, bool required) {
  read_.insert(name);
  if (!is_object_) {
    return nullptr;
  }
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) {
    if (required) {
      violations_.Add(Path(name), "is required");
    }
    return nullptr;
  }
  return &*it;
}

void JsonReader::ReadOnly(const std::string& name) {
  const auto* value = Find(name, false);
  if (value != nullptr && mode_ == Mode::kCreate) {
    violations_.Add(Path(name), "is read-only");
  }
}

std::optional<std::string> JsonReader::String(const std::string& name, bool required) {
  const auto* value = Find(name, required);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!value->is_string()) {
    violations_.Add(Path(name), "must be a string");
    return std::nullopt;
  }
  return value->get<std::string>();
}

std::optional<int64_t> JsonReader::Integer(const std::string& name, bool required) {
  const auto* value = Find(name, required);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_number_integer()) {
    return value->get<int64_t>();
  }
  if (value->is_number_float()) {
    const double d = value->get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d)) && d > -9e15 && d < 9e15) {
      return static_cast<int64_t>(d);
    }
  }
  violations_.Add(Path(name), "must be an integer");
  return std::nullopt;
}

std::optional<bool> JsonReader::Bool(const std::string& name, bool required) {
  const auto* value = Find(name, required);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!value->is_boolean()) {
    violations_.Add(Path(name), "must be true or false");
    return std::nullopt;
  }
  return value->get<bool>();
}

std::optional<std::string> JsonReader::Enum(const std::string& name,
                                            const std::vector<std::string>& allowed,
                                            bool required) {
  auto value = String(name, required);
  if (!value) {
    return std::nullopt;
  }
  for (const auto& option : allowed) {
    if (*value == option) {
      return value;
    }
  }
  std::string list;
  for (const auto& option : allowed) {
    list += (list.empty() ? "" : ", ") + option;
  }
  violations_.Add(Path(name), "must be one of: " + list);
  return std::nullopt;
}

std::optional<int64_t> JsonReader::Id(const std::string& name, bool required) {
  const auto* value = Find(name, required);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!value->is_number_integer() || value->get<int64_t>() <= 0) {
    violations_.Add(Path(name), "must be a positive integer id");
    return std::nullopt;
  }
  return value->get<int64_t>();
}

std::optional<Instant> JsonReader::Time(const std::string& name, bool required) {
  auto text = String(name, required);
  if (!text) {
    return std::nullopt;
  }
  auto instant = ParseInstant(*text);
  if (!instant) {
    violations_.Add(Path(name),
                    "must be an RFC 3339 date-time with an offset, from the year 1900 to 9999, "
                    "e.g. 2026-03-05T10:00:00+09:00");
    return std::nullopt;
  }
  return instant;
}

std::optional<std::vector<std::string>> JsonReader::StringArray(const std::string& name,
                                                                bool required, size_t max_items) {
  const auto* value = Array(name, required, max_items);
  if (value == nullptr) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < value->size(); ++i) {
    if (!(*value)[i].is_string()) {
      violations_.Add(Path(name) + "[" + std::to_string(i) + "]", "must be a string");
      return std::nullopt;
    }
    out.push_back((*value)[i].get<std::string>());
  }
  return out;
}

std::optional<std::vector<int64_t>> JsonReader::IdArray(const std::string& name, bool required,
                                                        size_t max_items) {
  const auto* value = Array(name, required, max_items);
  if (value == nullptr) {
    return std::nullopt;
  }
  std::vector<int64_t> out;
  for (size_t i = 0; i < value->size(); ++i) {
    const auto& item = (*value)[i];
    if (!item.is_number_integer() || item.get<int64_t>() <= 0) {
      violations_.Add(Path(name) + "[" + std::to_string(i) + "]", "must be a positive integer id");
      return std::nullopt;
    }
    out.push_back(item.get<int64_t>());
  }
  return out;
}

const nlohmann::json* JsonReader::Object(const std::string& name, bool required) {
  const auto* value = Find(name, required);
  if (value == nullptr) {
    return nullptr;
  }
  if (!value->is_object()) {
    violations_.Add(Path(name), "must be a JSON object");
    return nullptr;
  }
  return value;
}

const nlohmann::json* JsonReader::Array(const std::string& name, bool required, size_t max_items) {
  const auto* value = Find(name, required);
  if (value == nullptr) {
    return nullptr;
  }
  if (!value->is_array()) {
    violations_.Add(Path(name), "must be an array");
    return nullptr;
  }
  if (value->size() > max_items) {
    violations_.Add(Path(name), "must have at most " + std::to_string(max_items) + " items");
    return nullptr;
  }
  return value;
}

void JsonReader::RejectUnknown() {
  if (!is_object_) {
    return;
  }
  for (const auto& [key, value] : object_.items()) {
    if (read_.count(key) != 0) {
      continue;
    }
    if (prefix_.empty() && ReadOnlyMembers().count(key) != 0) {
      if (mode_ == Mode::kCreate && !value.is_null()) {
        violations_.Add(Path(key), "is read-only");
      }
      continue;
    }
    violations_.Add(Path(key), "is not a known field");
  }
}

}  // namespace civic::events::rest
