#include "resources/award_close.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <set>

#include "civic/http/problem.hpp"
#include "resources/awards.hpp"
#include "resources/json_util.hpp"
#include "resources/laureates.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

http::Response Unavailable(const std::string& detail) {
  return http::ErrorResponse(Error::Unavailable(detail, 5));
}

http::Response Closed(const Award& award, const std::vector<Laureate>& laureates) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& laureate : laureates) {
    items.push_back(Laureates::ToJson(laureate));
  }
  return rest::Ok({{"award", Awards::ToJson(award)}, {"laureates", std::move(items)}});
}

}  // namespace

Result<std::vector<NominationTally>> FetchFinalResults(const BallotClient& ballot, int64_t id,
                                                       const http::Correlation& correlation,
                                                       http::Response& problem) {
  if (!ballot.configured()) {
    problem = http::ErrorResponse(Error::Unavailable(
        "The ballot admin key is not configured (--ballot-admin-key-file or "
        "CIVIC_EVENTS_BALLOT_ADMIN_KEY), so the final results cannot be fetched."));
    return Error::Unavailable("not configured");
  }
  const BallotAnswer answer = ballot.FinalResults(id, correlation);
  if (answer.status == 0) {
    spdlog::warn("close of award {} (request id {}): the ballot at {} did not answer: {}", id,
                 correlation.request_id, ballot.url(), answer.error);
    problem = Unavailable("The ballot could not be reached (" + answer.error +
                          "); nothing changed. Retry shortly.");
    return Error::Unavailable(answer.error);
  }
  if (answer.status == 409) {
    // The ballot's copy of the window (or its clock) says voting is still open.
    problem = Unavailable(
        "The ballot has not closed voting on this award yet (its copy of the window may be "
        "behind); nothing changed. Retry shortly.");
    return Error::Unavailable("ballot 409");
  }
  if (answer.status != 200) {
    spdlog::warn("close of award {} (request id {}): the ballot answered {}", id,
                 correlation.request_id, answer.status);
    problem = http::ErrorResponse(
        Error::UpstreamFailed("The ballot answered " + std::to_string(answer.status) +
                              " to the final results request; nothing changed."));
    return Error::Internal("ballot status");
  }
  auto results = ParseFinalResults(answer.body, id);
  if (!results.ok()) {
    spdlog::warn("close of award {} (request id {}): unusable results from the ballot: {}", id,
                 correlation.request_id, results.error().message);
    problem =
        http::ErrorResponse(Error::UpstreamFailed("The ballot's final results are unusable (" +
                                                  results.error().message + "); nothing changed."));
  }
  return results;
}

Result<std::vector<Laureate>> RecordLaureates(sqlite::Database& db, int64_t award_id,
                                              const std::vector<NominationTally>& results,
                                              Instant now) {
  // The award's nominees by nomination, and which of them may win (active).
  std::map<int64_t, std::set<int64_t>> nominees_of;
  std::set<int64_t> active;
  auto nominations = db.Prepare("SELECT id FROM nominations WHERE award_id = ?");
  nominations.Bind(1, award_id);
  while (nominations.Step()) {
    nominees_of[nominations.ColumnInt64(0)];
  }
  auto nominees = db.Prepare(
      "SELECT n.id, n.nomination_id, n.status FROM nominees AS n "
      "JOIN nominations AS m ON m.id = n.nomination_id WHERE m.award_id = ?");
  nominees.Bind(1, award_id);
  while (nominees.Step()) {
    nominees_of[nominees.ColumnInt64(1)].insert(nominees.ColumnInt64(0));
    if (nominees.ColumnText(2) == "active") {
      active.insert(nominees.ColumnInt64(0));
    }
  }
  std::vector<Laureate> laureates;
  for (const auto& tally : results) {
    // A nomination the ballot reports as removed (deleted here after the ballot's older copy
    // took votes in it) has no laureate.
    if (tally.removed) {
      continue;
    }
    const auto own = nominees_of.find(tally.nomination_id);
    if (own == nominees_of.end()) {
      return Error::Internal("nomination " + std::to_string(tally.nomination_id) +
                             " is not one of the award's");
    }
    // The nomination's active nominees may win; removed ones (deleted, or moved to another
    // nomination, after the ballot's older copy took votes for them here) count for the ranks
    // only. Any other nominee the award does not have here means the results are not ours.
    std::set<int64_t> eligible;
    for (const auto& nominee : tally.nominees) {
      if (nominee.removed) {
        continue;
      }
      if (own->second.count(nominee.nominee_id) == 0) {
        return Error::Internal("nominee " + std::to_string(nominee.nominee_id) +
                               " is not in nomination " + std::to_string(tally.nomination_id));
      }
      if (active.count(nominee.nominee_id) != 0) {
        eligible.insert(nominee.nominee_id);
      }
    }
    for (auto& laureate : SelectLaureates(tally, eligible)) {
      laureate.award_id = award_id;
      laureate.created_at = laureate.updated_at = now;
      laureates.push_back(laureate);
    }
  }
  Laureates::InsertAll(db, laureates);
  db.Prepare(
        "UPDATE awards SET status = 'closed', updated_at = ?, version = version + 1 WHERE id = ?")
      .Bind(1, Millis(now))
      .Bind(2, award_id)
      .Run();
  return laureates;
}

void AddAwardCloseRoute(http::Router& router, Store& store, const Clock& clock,
                        const BallotClient& ballot) {
  router.Post(
      "/v1/awards/{id}/close",
      [&store, &clock, &ballot](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound("award", request.Param("id"));
        }
        return rest::Guarded([&] {
          // 1. Ask the ballot only when the award is closable now, and outside any transaction
          // (the call may take seconds; the write lock must not wait on the network).
          std::optional<http::Response> denied;
          const auto award = store.Read([&](sqlite::Database& db) -> std::optional<Award> {
            auto found = Awards::Get(db, *id);
            if (!found || !rest::MayRead<Awards>(db, *id)) {
              denied = rest::NotFound("award", request.Param("id"));
            } else if (!rest::MayWrite<Awards>(db, *found)) {
              denied = access::WriteDenied(access::Current(), true, "award", request.Param("id"));
            }
            return found;
          });
          if (denied) {
            return std::move(*denied);
          }
          std::optional<std::vector<NominationTally>> results;
          if (award && !CloseError(*award, clock.Now())) {
            http::Response problem;
            auto fetched = FetchFinalResults(ballot, *id, http::CorrelationOf(request), problem);
            if (!fetched.ok()) {
              return problem;  // 5xx: not remembered under the Idempotency-Key
            }
            results = std::move(fetched.value());
          }
          // 2. Record, once per Idempotency-Key (a replay answers the first response).
          return rest::Idempotent(store, clock, request, [&](sqlite::Database& db) {
            auto current = Awards::Get(db, *id);
            if (!current) {
              return rest::NotFound("award", request.Param("id"));
            }
            const Instant now = clock.Now();
            if (auto reason = CloseError(*current, now)) {
              return http::ErrorResponse(Error::Conflict(*reason).WithKind("award-not-closable"));
            }
            if (!results) {
              return Unavailable("The award changed while it was being closed; retry.");
            }
            auto laureates = RecordLaureates(db, *id, *results, now);
            if (!laureates.ok()) {  // checked before anything was written
              spdlog::warn("close of award {}: the ballot's results do not match: {}", *id,
                           laureates.error().message);
              return http::ErrorResponse(
                  Error::UpstreamFailed("The ballot's final results do not match the award (" +
                                        laureates.error().message + "); nothing changed."));
            }
            const nlohmann::json before = Awards::ToJson(*current);
            current->status = "closed";
            current->updated_at = now;
            audit::Record(db, Awards::kName, *id, before, Awards::ToJson(*current), 200);
            spdlog::info("award {} closed with {} laureate(s)", *id, laureates->size());
            return Closed(*current, laureates.value());
          });
        });
      },
      {.offload = true});
}

}  // namespace civic::events::resources
