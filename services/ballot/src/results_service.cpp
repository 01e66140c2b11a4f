#include "results_service.hpp"

#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "award_json.hpp"
#include "civic/domain/ballot_results.hpp"

namespace civic::ballot {

namespace {

using nlohmann::json;

json CityJson(const std::optional<City>& city) {
  if (!city) {
    return nullptr;
  }
  return {{"id", city->id}, {"name", city->name}, {"region", city->region}};
}

json ByCityJson(const std::vector<CityVotes>& cities) {
  json out = json::array();
  for (const CityVotes& c : cities) {
    out.push_back({{"city", CityJson(c.city)}, {"votes", c.votes}, {"share", c.share}});
  }
  return out;
}

json OptionalTime(const std::optional<Instant>& instant) {
  if (!instant) {
    return nullptr;
  }
  return FormatUtc(*instant);
}

}  // namespace

std::string SerializeResults(const AwardView& view, const AwardResults& results, bool voting_over,
                             uint64_t tally_version, const std::vector<NomineeHolds>* holds) {
  const Award& award = view.award;
  // Held and rejected votes per nominee, per nomination and in all (admins only).
  std::unordered_map<uint64_t, std::pair<int64_t, int64_t>> by_nominee;
  std::unordered_map<int64_t, std::pair<int64_t, int64_t>> by_nomination;
  std::pair<int64_t, int64_t> in_all{0, 0};
  if (holds != nullptr) {
    for (const NomineeHolds& h : *holds) {
      auto& nominee = by_nominee[NomineeKey(h.nomination_id, h.nominee_id)];
      nominee.first += h.held;
      nominee.second += h.rejected;
      auto& nomination = by_nomination[h.nomination_id];
      nomination.first += h.held;
      nomination.second += h.rejected;
      in_all.first += h.held;
      in_all.second += h.rejected;
    }
  }
  const auto add_holds = [&](json& object, const std::pair<int64_t, int64_t>& counts) {
    if (holds != nullptr) {
      object["held_votes"] = counts.first;
      object["rejected_votes"] = counts.second;
    }
  };
  const auto find = [](const auto& map, const auto& key) {
    const auto it = map.find(key);
    return it == map.end() ? std::pair<int64_t, int64_t>{0, 0} : it->second;
  };
  json nominations = json::array();
  for (const NominationResults& n : results.nominations) {
    json nominees = json::array();
    for (const RankedNominee& r : n.nominees) {
      json nominee = {{"id", r.nominee->id},
                      {"name", r.nominee->name},
                      {"city", CityJson(r.nominee->city)},
                      {"summary", r.nominee->summary},
                      {"photo", PhotoJson(*r.nominee)},
                      {"status", r.removed ? "removed" : ToString(r.nominee->status)},
                      {"votes", r.votes},
                      {"share", r.share},
                      {"rank", r.rank}};
      add_holds(nominee, find(by_nominee, NomineeKey(n.nomination->id, r.nominee->id)));
      nominees.push_back(std::move(nominee));
    }
    json nomination = {{"id", n.nomination->id},
                       {"title", n.nomination->title},
                       {"removed", n.removed},
                       {"total_votes", n.total_votes},
                       {"nominees", std::move(nominees)},
                       {"by_city", ByCityJson(n.by_city)}};
    add_holds(nomination, find(by_nomination, n.nomination->id));
    nominations.push_back(std::move(nomination));
  }
  json doc = {{"award_id", award.id},
              {"award_version", award.version},
              {"title", award.title},
              {"status", ToString(award.status)},
              {"active", award.active},
              {"voting_opens_at", OptionalTime(award.voting_opens_at)},
              {"voting_closes_at", OptionalTime(award.voting_closes_at)},
              {"max_choices_per_nomination", award.max_choices_per_nomination},
              {"results_visibility", ToString(award.results_visibility)},
              {"final", voting_over},
              {"tally_version", tally_version},
              {"total_votes", results.total_votes},
              {"nominations", std::move(nominations)},
              {"by_city", ByCityJson(results.by_city)}};
  add_holds(doc, in_all);
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

ResultsService::ResultsService(const AwardCatalog& catalog, const Tallies& tallies,
                               const Clock& clock, std::chrono::milliseconds max_staleness)
    : catalog_(catalog), tallies_(tallies), clock_(clock), max_staleness_(max_staleness) {}

Result<ResultsService::Document> ResultsService::Get(int64_t award_id, bool admin, bool final) {
  std::shared_ptr<const AwardView> view = catalog_.Find(award_id);
  if (view == nullptr) {
    return Error::NotFound("No award " + std::to_string(award_id) + ".");
  }
  const Instant now = clock_.Now();
  if (!ResultsVisibleTo(view->award, now, admin)) {
    return Error{
        ErrorCode::kForbidden, "The results of this award are hidden until voting closes.", {}};
  }
  const bool voting_over = IsVotingOver(view->award, now);
  if (final && !voting_over) {
    return Error::Conflict("Voting is still open: final results are not available yet.")
        .WithKind("results-not-final");
  }
  const bool exact = admin || final;

  std::shared_ptr<Entry> entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = entries_[admin ? 1 : 0][award_id];
    if (!slot) {
      slot = std::make_shared<Entry>();
    }
    entry = slot;
  }
  std::lock_guard<std::mutex> lock(entry->mu);
  const uint64_t version = tallies_.Version(award_id);
  const auto steady_now = std::chrono::steady_clock::now();
  const bool same_award = entry->award == view && entry->voting_over == voting_over;
  const bool fresh =
      entry->tally_version == version || (!exact && steady_now - entry->built_at < max_staleness_);
  if (entry->json && same_award && fresh) {
    return Document{entry->json, entry->tally_version, view->award.version, voting_over};
  }
  const AwardResults results = ComputeResults(view->award, tallies_.Of(award_id));
  std::vector<NomineeHolds> holds;
  if (admin) {
    holds = tallies_.HoldsOf(award_id);
  }
  entry->json = std::make_shared<const std::string>(
      SerializeResults(*view, results, voting_over, version, admin ? &holds : nullptr));
  entry->award = view;
  entry->voting_over = voting_over;
  entry->tally_version = version;
  entry->built_at = steady_now;
  return Document{entry->json, version, view->award.version, voting_over};
}

}  // namespace civic::ballot
