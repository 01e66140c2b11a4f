#include "handlers/held.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "civic/domain/validation.hpp"
#include "civic/http/problem.hpp"
#include "handlers/common.hpp"

namespace civic::ballot {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

std::optional<HoldState> ParseState(const std::string& text) {
  if (text == "held") {
    return HoldState::kHeld;
  }
  if (text == "released") {
    return HoldState::kReleased;
  }
  if (text == "rejected") {
    return HoldState::kRejected;
  }
  return std::nullopt;
}

// The award of the path, known to the ballot; or the 404.
std::optional<Response> UnknownAward(const Request& request, const AwardCatalog& catalog,
                                     int64_t& award) {
  const auto id = ParseId(request.Param("award"));
  if (!id || catalog.Find(*id) == nullptr) {
    return NoAward(request.Param("award"));
  }
  award = *id;
  return std::nullopt;
}

}  // namespace

void AuditAdminWrite(AwardStore& store, const Caller& caller, const Request& request, int status) {
  // An admin's every answer, and a voting client's refusal (a key of ours trying an admin's
  // write is worth a record); without a known key there is no one to record.
  if (caller.kind != Caller::Kind::kAdmin && caller.kind != Caller::Kind::kVotingClient) {
    return;
  }
  AuditRecord record;
  record.key_prefix = caller.prefix;
  record.role = caller.kind == Caller::Kind::kAdmin ? "admin" : "voting_client";
  record.method = std::string(http::ToString(request.method));
  record.route = request.route;
  record.path = request.path;
  record.status = status;
  try {
    store.AppendAudit(record);
  } catch (const sqlite::Error& e) {
    spdlog::error("ballot: the audit record of {} ({}) was not written: {}", request.path, status,
                  e.what());
  }
}

Response ListHeldVotes::operator()(const Request& request) {
  if (auto refused =
          RequireAdmin(callers_.Identify(request.Header("authorization")), "Held votes")) {
    return std::move(*refused);
  }
  int64_t award = 0;
  if (auto missing = UnknownAward(request, catalog_, award)) {
    return std::move(*missing);
  }
  std::optional<HoldState> state = HoldState::kHeld;
  std::optional<HoldRule> rule;
  uint64_t after = 0;
  int limit = 100;
  Violations violations;
  for (const auto& [name, value] : request.query) {
    if (name == "state") {
      state = value == "any" ? std::nullopt : ParseState(value);
      if (value != "any" && !state) {
        violations.Add("state", "must be held, released, rejected or any");
      }
    } else if (name == "rule") {
      rule = ParseHoldRule(value);
      if (!rule) {
        violations.Add("rule", "must be device, address, address_block, voter or burst");
      }
    } else if (name == "after") {
      const auto number = ParseId(value);
      after = value == "0" ? 0 : static_cast<uint64_t>(number.value_or(0));
      if (value != "0" && !number) {
        violations.Add("after", "must be a vote id (0 for the first page)");
      }
    } else if (name == "limit") {
      const auto number = ParseId(value);
      limit = number && *number <= 1000 ? static_cast<int>(*number) : 0;
      if (limit == 0) {
        violations.Add("limit", "must be an integer from 1 to 1000");
      }
    } else {
      violations.Add(name, "is not a parameter of this route (state, rule, after, limit)");
    }
  }
  if (!violations.empty()) {
    return http::ErrorResponse(violations.ToError());
  }
  json items = json::array();
  uint64_t last = after;
  for (const HeldVoteView& view : held_.List(award, state, rule, after, limit)) {
    json item = {{"id", view.hold.seq},
                 {"nomination_id", view.nomination_id},
                 {"nominee_id", view.nominee_id},
                 {"cast_at", FormatUtc(Instant(std::chrono::milliseconds(view.cast_at_ms)))},
                 {"rule", std::string(ToString(view.hold.rule))},
                 {"evidence",
                  {{"count", view.hold.count},
                   {"limit", view.hold.limit},
                   {"window_s", view.hold.window_s}}},
                 {"state", std::string(ToString(view.hold.state))}};
    if (view.hold.state != HoldState::kHeld) {
      item["decided_at"] = FormatUtc(Instant(std::chrono::milliseconds(view.hold.decided_at_ms)));
      item["decided_by"] = view.hold.decided_by;
    }
    items.push_back(std::move(item));
    last = view.hold.seq;
  }
  const bool full = static_cast<int>(items.size()) == limit;
  return Response::Json(200, {{"award_id", award},
                              {"held", held_.HeldIn(award)},
                              {"items", std::move(items)},
                              {"next_after", full ? json(last) : json(nullptr)}});
}

Response DecideHeldVotes::operator()(const Request& request) {
  const Caller caller = callers_.Identify(request.Header("authorization"));
  Response response = Answer(request, caller);
  AuditAdminWrite(award_store_, caller, request, response.status);
  return response;
}

Response DecideHeldVotes::Answer(const Request& request, const Caller& caller) {
  if (auto refused = RequireAdmin(caller, "A decision on held votes")) {
    return std::move(*refused);
  }
  if (auto unknown = UnknownQuery(request)) {
    return std::move(*unknown);
  }
  int64_t award = 0;
  if (auto missing = UnknownAward(request, catalog_, award)) {
    return std::move(*missing);
  }
  const json& body = request.json;
  Violations violations;
  std::optional<HoldState> decision;
  std::vector<uint64_t> ids;
  std::optional<HoldRule> rule;
  if (!body.is_object()) {
    return http::ErrorResponse(Error::Invalid("", "must be a JSON object"));
  }
  for (const auto& [name, value] : body.items()) {
    if (name == "decision") {
      const std::string text = value.is_string() ? value.get<std::string>() : "";
      if (text == "release") {
        decision = HoldState::kReleased;
      } else if (text == "reject") {
        decision = HoldState::kRejected;
      }
      if (!decision) {
        violations.Add("decision", "must be release or reject");
      }
    } else if (name == "ids") {
      if (!value.is_array() || value.empty() || value.size() > 10'000) {
        violations.Add("ids", "must be an array of 1 to 10000 held vote ids");
        continue;
      }
      for (const json& id : value) {
        if (!id.is_number_unsigned() || id.get<uint64_t>() == 0) {
          violations.Add("ids", "must hold positive integers (the ids the list gives)");
          break;
        }
        ids.push_back(id.get<uint64_t>());
      }
    } else if (name == "rule") {
      if (value.is_string()) {
        rule = ParseHoldRule(value.get<std::string>());
      }
      if (!rule) {
        violations.Add("rule", "must be device, address, address_block, voter or burst");
      }
    } else {
      violations.Add(name, "is not a member of a decision (decision, ids, rule)");
    }
  }
  if (!body.contains("decision")) {
    violations.Add("decision", "is required");
  }
  if (body.contains("ids") == body.contains("rule")) {
    violations.Add("ids", "give either ids (some held votes) or rule (every one it held)");
  }
  if (!violations.empty()) {
    return http::ErrorResponse(violations.ToError());
  }
  const int64_t now_ms = clock_.Now().time_since_epoch().count();
  auto decided = held_.Decide(award, *decision, ids, rule, caller.prefix, now_ms);
  if (!decided.ok()) {
    return http::ErrorResponse(decided.error());
  }
  return Response::Json(200,
                        {{"award_id", award},
                         {"decision", *decision == HoldState::kReleased ? "release" : "reject"},
                         {"changed", decided.value().changed},
                         {"skipped", decided.value().skipped}});
}

Response VoteRulesRoute::operator()(const Request& request) {
  const Caller caller = callers_.Identify(request.Header("authorization"));
  Response response = Answer(request, caller);
  if (request.method == http::Method::kPut) {
    AuditAdminWrite(award_store_, caller, request, response.status);
  }
  return response;
}

Response VoteRulesRoute::Answer(const Request& request, const Caller& caller) {
  if (auto refused = RequireAdmin(caller, "The vote rules")) {
    return std::move(*refused);
  }
  if (auto unknown = UnknownQuery(request)) {
    return std::move(*unknown);
  }
  int64_t award = 0;
  if (auto missing = UnknownAward(request, catalog_, award)) {
    return std::move(*missing);
  }
  if (request.method == http::Method::kPut) {
    if (request.json.is_object() && request.json.empty()) {
      return http::ErrorResponse(Error::Invalid(
          "", "give at least one rule setting; the ones left out keep their values"));
    }
    auto settings = ParseRuleSettings(request.json, held_.SettingsFor(award));
    if (!settings.ok()) {
      return http::ErrorResponse(settings.error());
    }
    held_.SaveSettings(award, settings.value());
  }
  json doc = RuleSettingsJson(held_.SettingsFor(award));
  doc["award_id"] = award;
  doc["enabled"] = held_.rules_enabled();
  doc["source"] = held_.HasOwnSettings(award) ? "award" : "defaults";
  return Response::Json(200, doc);
}

}  // namespace civic::ballot
