#include "award_json.hpp"

#include <string>
#include <string_view>

namespace civic::ballot {

namespace {

using nlohmann::json;

class Reader {
 public:
  explicit Reader(std::vector<FieldError>& errors) : errors_(errors) {}

  const json* Member(const json& object, const char* name, const std::string& path, bool required) {
    const auto it = object.find(name);
    if (it == object.end() || it->is_null()) {
      if (required) {
        errors_.push_back({path, "is required"});
      }
      return nullptr;
    }
    return &*it;
  }

  std::optional<int64_t> Int(const json& object, const char* name, const std::string& path,
                             bool required = true) {
    const json* v = Member(object, name, path, required);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (!v->is_number_integer()) {
      errors_.push_back({path, "must be an integer"});
      return std::nullopt;
    }
    return v->get<int64_t>();
  }

  std::optional<std::string> String(const json& object, const char* name, const std::string& path,
                                    bool required = true) {
    const json* v = Member(object, name, path, required);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (!v->is_string()) {
      errors_.push_back({path, "must be a string"});
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  std::optional<Instant> Time(const json& object, const char* name, const std::string& path) {
    const auto text = String(object, name, path, false);
    if (!text) {
      return std::nullopt;
    }
    auto instant = ParseInstant(*text);
    if (!instant) {
      errors_.push_back({path, "must be an RFC 3339 date-time with an offset"});
    }
    return instant;
  }

  void Fail(std::string path, std::string reason) {
    errors_.push_back({std::move(path), std::move(reason)});
  }

 private:
  std::vector<FieldError>& errors_;
};

std::string At(std::string_view array, size_t i, const char* member) {
  std::string path(array);
  path += "[";
  path += std::to_string(i);
  path += "].";
  path += member;
  return path;
}

// Calls fn(item, i) for each object of the array member `name` of `doc`; fails a member that is
// not an array and each item that is not an object.
template <typename Fn>
void ForEachObject(Reader& r, const json& doc, const char* name, bool required, Fn&& fn) {
  const json* items = r.Member(doc, name, name, required);
  if (items == nullptr) {
    return;
  }
  if (!items->is_array()) {
    r.Fail(name, "must be an array");
    return;
  }
  for (size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    if (!item.is_object()) {
      r.Fail(std::string(name) + "[" + std::to_string(i) + "]", "must be an object");
      continue;
    }
    fn(item, i);
  }
}

void ReadNominations(Reader& r, const json& doc, const char* name, bool required,
                     std::vector<Nomination>& out) {
  ForEachObject(r, doc, name, required, [&](const json& item, size_t i) {
    Nomination nomination;
    nomination.id = r.Int(item, "id", At(name, i, "id")).value_or(0);
    nomination.title = r.String(item, "title", At(name, i, "title"), false).value_or("");
    out.push_back(std::move(nomination));
  });
}

void ReadNominees(Reader& r, const json& doc, const char* name, bool required,
                  std::vector<Nominee>& out) {
  ForEachObject(r, doc, name, required, [&](const json& item, size_t i) {
    Nominee nominee;
    nominee.id = r.Int(item, "id", At(name, i, "id")).value_or(0);
    nominee.nomination_id = r.Int(item, "nomination_id", At(name, i, "nomination_id")).value_or(0);
    nominee.name = r.String(item, "name", At(name, i, "name"), false).value_or("");
    if (const json* city = r.Member(item, "city", At(name, i, "city"), false)) {
      if (!city->is_object()) {
        r.Fail(At(name, i, "city"), "must be an object or null");
      } else {
        City c;
        c.id = r.Int(*city, "id", At(name, i, "city.id")).value_or(0);
        c.name = r.String(*city, "name", At(name, i, "city.name"), false).value_or("");
        c.region = r.String(*city, "region", At(name, i, "city.region"), false).value_or("");
        nominee.city = std::move(c);
      }
    }
    nominee.summary = r.String(item, "summary", At(name, i, "summary"), false).value_or("");
    if (const json* photo = r.Member(item, "photo", At(name, i, "photo"), false)) {
      if (!photo->is_object()) {
        r.Fail(At(name, i, "photo"), "must be an object or null");
      } else {
        nominee.photo_url = r.String(*photo, "url", At(name, i, "photo.url")).value_or("");
        nominee.photo_alt = r.String(*photo, "alt", At(name, i, "photo.alt"), false).value_or("");
      }
    }
    if (const auto status = r.String(item, "status", At(name, i, "status"), false)) {
      if (const auto parsed = ParseNomineeStatus(*status)) {
        nominee.status = *parsed;
      } else {
        r.Fail(At(name, i, "status"), "must be active or withdrawn");
      }
    }
    out.push_back(std::move(nominee));
  });
}

}  // namespace

json PhotoJson(const Nominee& nominee) {
  if (nominee.photo_url.empty()) {
    return nullptr;
  }
  return {{"url", nominee.photo_url}, {"alt", nominee.photo_alt}};
}

namespace {

json NomineeJson(const Nominee& nominee) {
  json city = nullptr;
  if (nominee.city) {
    city = {
        {"id", nominee.city->id}, {"name", nominee.city->name}, {"region", nominee.city->region}};
  }
  return {{"id", nominee.id},
          {"nomination_id", nominee.nomination_id},
          {"name", nominee.name},
          {"city", std::move(city)},
          {"status", ToString(nominee.status)},
          {"summary", nominee.summary},
          {"photo", PhotoJson(nominee)}};
}

}  // namespace

Result<Award> ParseAwardSnapshot(const json& doc) {
  std::vector<FieldError> errors;
  if (!doc.is_object()) {
    return Error::Invalid("", "the snapshot must be a JSON object");
  }
  Reader r(errors);
  const auto protocol = r.Int(doc, "protocol", "protocol");
  if (protocol && *protocol != kProtocolVersion) {
    return Error::Invalid("protocol", "unknown protocol version " + std::to_string(*protocol));
  }
  Award award;
  award.id = r.Int(doc, "id", "id").value_or(0);
  award.version = r.Int(doc, "version", "version").value_or(0);
  award.title = r.String(doc, "title", "title", false).value_or("");
  award.edition_year =
      static_cast<int>(r.Int(doc, "edition_year", "edition_year", false).value_or(0));
  if (const auto status = r.String(doc, "status", "status")) {
    if (const auto parsed = ParseAwardStatus(*status)) {
      award.status = *parsed;
    } else {
      r.Fail("status", "must be one of draft, published, voting, closed, archived");
    }
  }
  award.voting_opens_at = r.Time(doc, "voting_opens_at", "voting_opens_at");
  award.voting_closes_at = r.Time(doc, "voting_closes_at", "voting_closes_at");
  award.max_choices_per_nomination = static_cast<int>(
      r.Int(doc, "max_choices_per_nomination", "max_choices_per_nomination", false).value_or(1));
  if (const auto visibility = r.String(doc, "results_visibility", "results_visibility", false)) {
    if (const auto parsed = ParseResultsVisibility(*visibility)) {
      award.results_visibility = *parsed;
    } else {
      r.Fail("results_visibility", "must be live or hidden_until_close");
    }
  }
  ReadNominations(r, doc, "nominations", true, award.nominations);
  ReadNominees(r, doc, "nominees", true, award.nominees);
  if (!errors.empty()) {
    return Error::Invalid(std::move(errors), "The award snapshot is malformed.");
  }
  if (auto status = ValidateAward(award); !status.ok()) {
    return std::move(status).error();
  }
  return award;
}

std::string StoredAwardJson(nlohmann::json snapshot, const Award& award) {
  json nominations = json::array();
  for (const Nomination& nomination : award.removed_nominations) {
    nominations.push_back({{"id", nomination.id}, {"title", nomination.title}});
  }
  json nominees = json::array();
  for (const Nominee& nominee : award.removed_nominees) {
    nominees.push_back(NomineeJson(nominee));
  }
  snapshot["removed_nominations"] = std::move(nominations);
  snapshot["removed_nominees"] = std::move(nominees);
  snapshot["max_choices_counted"] = award.max_choices_counted;
  return snapshot.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Award> ParseStoredAward(const nlohmann::json& doc) {
  Result<Award> award = ParseAwardSnapshot(doc);
  if (!award.ok()) {
    return award;
  }
  std::vector<FieldError> errors;
  Reader r(errors);
  ReadNominations(r, doc, "removed_nominations", false, award->removed_nominations);
  ReadNominees(r, doc, "removed_nominees", false, award->removed_nominees);
  award->max_choices_counted =
      static_cast<int>(r.Int(doc, "max_choices_counted", "max_choices_counted", false).value_or(0));
  if (!errors.empty()) {
    return Error::Invalid(std::move(errors), "The stored award is malformed.");
  }
  return award;
}

}  // namespace civic::ballot
