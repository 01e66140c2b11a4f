#include "civic/domain/award.hpp"

#include <algorithm>

namespace civic {

namespace {

bool OneOf(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Position of `status` in AwardStatuses(), or -1.
int StatusRank(const std::string& status) {
  const auto& statuses = AwardStatuses();
  const auto it = std::find(statuses.begin(), statuses.end(), status);
  return it == statuses.end() ? -1 : static_cast<int>(it - statuses.begin());
}

}  // namespace

const std::vector<std::string>& AwardStatuses() {
  static const std::vector<std::string> kStatuses = {"draft", "published", "voting", "closed",
                                                     "archived"};
  return kStatuses;
}

const std::vector<std::string>& ResultsVisibilities() {
  static const std::vector<std::string> kValues = {"live", "hidden_until_close"};
  return kValues;
}

const std::vector<std::string>& NomineeKinds() {
  static const std::vector<std::string> kKinds = {"person", "project"};
  return kKinds;
}

const std::vector<std::string>& NomineeStatuses() {
  static const std::vector<std::string> kStatuses = {"active", "withdrawn"};
  return kStatuses;
}

void Validate(const Award& award, Violations& violations) {
  violations.Text("title", award.title, 1, 300);
  violations.Range("edition_year", award.edition_year, 2000, 2100);
  violations.Text("description", award.description, 0, 5000);
  if (award.voting_closes_at <= award.voting_opens_at) {
    violations.Add("voting_closes_at", "must be after voting_opens_at");
  }
  violations.Range("max_choices_per_nomination", award.max_choices_per_nomination, 1, 10);
  if (!OneOf(ResultsVisibilities(), award.results_visibility)) {
    violations.Add("results_visibility", "must be one of: live, hidden_until_close");
  }
  if (!OneOf(AwardStatuses(), award.status)) {
    violations.Add("status", "must be one of: draft, published, voting, closed, archived");
  }
  if (award.applications_open_at.has_value() != award.applications_close_at.has_value()) {
    violations.Add(award.applications_open_at ? "applications_close_at" : "applications_open_at",
                   "is required with the other end of the application window");
  } else if (award.applications_open_at) {
    if (*award.applications_close_at <= *award.applications_open_at) {
      violations.Add("applications_close_at", "must be after applications_open_at");
    } else if (*award.applications_close_at > award.voting_opens_at) {
      violations.Add("applications_close_at",
                     "must be at or before voting_opens_at (applications close before voting)");
    }
  }
}

bool ApplicationsOpen(const Award& award, Instant now) {
  return (award.status == "published" || award.status == "voting") && award.applications_open_at &&
         award.applications_close_at && *award.applications_open_at <= now &&
         now < *award.applications_close_at;
}

std::optional<std::string> StatusChangeError(const std::string& from, const std::string& to) {
  if (from == to) {
    return std::nullopt;
  }
  if (to == "closed") {
    return "becomes closed only through POST /v1/awards/{id}/close, which records the laureates";
  }
  if (from.empty()) {
    if (to == "archived") {
      return "a new award starts as draft, published or voting";
    }
    return std::nullopt;
  }
  if (StatusRank(to) < StatusRank(from)) {
    return "cannot go back from " + from + " to " + to;
  }
  if (to == "archived" && from != "closed" && from != "draft") {
    return "close the award (POST /v1/awards/{id}/close) before archiving it";
  }
  return std::nullopt;
}

bool VotingHasOpened(const Award& award, Instant now) {
  if (award.status == "draft") {
    return false;
  }
  if (award.status == "published" || award.status == "voting") {
    // The ballot takes votes only inside the window, whatever the status says.
    return now >= award.voting_opens_at;
  }
  return true;
}

bool IsFinal(const Award& award) { return award.status == "closed" || award.status == "archived"; }

std::optional<std::string> CloseError(const Award& award, Instant now) {
  if (award.status == "draft") {
    return "The award is a draft: voters never saw it, so there is nothing to close.";
  }
  if (IsFinal(award)) {
    return "The award is already " + award.status + "; its laureates are recorded.";
  }
  if (now < award.voting_closes_at) {
    return "Voting is open until " + FormatUtc(award.voting_closes_at) +
           "; the award can be closed after that.";
  }
  return std::nullopt;
}

void Validate(const Nomination& nomination, Violations& violations) {
  violations.Text("title", nomination.title, 1, 300);
  violations.Text("description", nomination.description, 0, 5000);
}

void Validate(const Nominee& nominee, Violations& violations) {
  if (!OneOf(NomineeKinds(), nominee.kind)) {
    violations.Add("kind", "must be one of: person, project");
  } else if (nominee.kind == "person") {
    if (!nominee.person_id) {
      violations.Add("person_id", "is required for a person");
    }
    if (!nominee.project_title.empty()) {
      violations.Add("project_title", "must be absent for a person");
    }
  } else {
    if (nominee.person_id) {
      violations.Add("person_id", "must be absent for a project");
    }
    if (nominee.project_title.empty()) {
      violations.Add("project_title", "is required for a project");
    } else {
      violations.Text("project_title", nominee.project_title, 1, 300);
    }
  }
  violations.Text("name", nominee.name, 1, 200);
  if (!OneOf(NomineeStatuses(), nominee.status)) {
    violations.Add("status", "must be one of: active, withdrawn");
  }
  violations.Text("summary", nominee.summary, 0, 300);
  violations.Text("story", nominee.story, 0, 5000);
  violations.Text("photo_alt", nominee.photo_alt, 0, 300);
  if (nominee.kind == "person" && !nominee.project_summary.empty()) {
    violations.Add("project_summary", "must be absent for a person");
  } else {
    violations.Text("project_summary", nominee.project_summary, 0, 2000);
  }
  if (nominee.links.size() > 5) {
    violations.Add("links", "must hold at most 5 links");
  }
  for (size_t i = 0; i < nominee.links.size(); ++i) {
    if (auto reason = LinkError(nominee.links[i])) {
      violations.Add("links[" + std::to_string(i) + "]", *reason);
    }
  }
  if (nominee.has_photo && nominee.photo_alt.empty()) {
    violations.Add("photo_alt", "is required while the nominee has a photo (its text alternative)");
  }
}

const std::vector<std::string>& PhotoTypes() {
  static const std::vector<std::string> kTypes = {"image/jpeg", "image/png", "image/webp"};
  return kTypes;
}

std::optional<std::string> PhotoError(const std::string& content_type, std::string_view bytes) {
  if (!OneOf(PhotoTypes(), content_type)) {
    return "must be image/jpeg, image/png or image/webp";
  }
  if (bytes.empty()) {
    return "is empty";
  }
  if (bytes.size() > kMaxPhotoBytes) {
    return "is larger than " + std::to_string(kMaxPhotoBytes) + " bytes";
  }
  const auto starts = [&](std::string_view prefix, size_t at = 0) {
    return bytes.size() >= at + prefix.size() && bytes.substr(at, prefix.size()) == prefix;
  };
  bool matches = false;
  if (content_type == "image/jpeg") {
    matches = starts("\xFF\xD8\xFF");
  } else if (content_type == "image/png") {
    matches = starts("\x89PNG\r\n\x1A\n");
  } else {
    matches = starts("RIFF") && starts("WEBP", 8);
  }
  if (!matches) {
    return "the bytes are not a " + content_type + " image";
  }
  return std::nullopt;
}

std::optional<std::string> LinkError(std::string_view url) {
  if (url.size() < 8 || url.size() > 2000) {
    return "must be 8 to 2000 characters";
  }
  const size_t scheme = url.rfind("https://", 0) == 0 ? 8 : url.rfind("http://", 0) == 0 ? 7 : 0;
  if (scheme == 0) {
    return "must be an http:// or https:// URL";
  }
  if (url.size() == scheme || url[scheme] == '/') {
    return "must name a host after the scheme";
  }
  for (const unsigned char c : url) {
    if (c <= 0x20 || c == 0x7F || c == '"' || c == '<' || c == '>' || c == '\\') {
      return "must not hold spaces, quotes, angle brackets or control characters";
    }
  }
  return std::nullopt;
}

std::vector<Laureate> SelectLaureates(const NominationTally& tally,
                                      const std::set<int64_t>& eligible) {
  int64_t best = 0;
  for (const auto& nominee : tally.nominees) {
    if (eligible.count(nominee.nominee_id) != 0) {
      best = std::max(best, nominee.votes);
    }
  }
  std::vector<Laureate> laureates;
  if (best == 0) {
    return laureates;
  }
  int64_t ahead = 0;  // nominees of the nomination, eligible or not, with more votes
  for (const auto& nominee : tally.nominees) {
    if (nominee.votes > best) {
      ++ahead;
    }
  }
  for (const auto& nominee : tally.nominees) {
    if (nominee.votes == best && eligible.count(nominee.nominee_id) != 0) {
      Laureate laureate;
      laureate.nomination_id = tally.nomination_id;
      laureate.nominee_id = nominee.nominee_id;
      laureate.votes = nominee.votes;
      laureate.rank = ahead + 1;
      laureates.push_back(laureate);
    }
  }
  return laureates;
}

}  // namespace civic
