#include "handlers/admin.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "civic/domain/validation.hpp"
#include "civic/http/problem.hpp"
#include "handlers/common.hpp"

namespace civic::ballot {

using http::Request;
using http::Response;
using nlohmann::json;

Response SyncAward::operator()(const Request& request) {
  const Caller caller = callers_.Identify(request.Header("authorization"));
  Response response = Answer(request, caller);
  response.log_key = caller.LogKey();
  if (caller.kind == Caller::Kind::kAdmin || caller.kind == Caller::Kind::kVotingClient) {
    // The admin surface's one write: recorded whatever it answered, for a known key.
    AuditRecord record;
    record.key_prefix = caller.prefix;
    record.role = caller.kind == Caller::Kind::kAdmin ? "admin" : "voting_client";
    record.method = "POST";
    record.route = request.route;
    record.path = request.path;
    record.status = response.status;
    try {
      award_store_.AppendAudit(record);
      award_store_.PurgeAudit(audit_retention_days_);
    } catch (const sqlite::Error& e) {
      spdlog::error("ballot: the audit record of {} ({}) was not written: {}", request.path,
                    response.status, e.what());
    }
  }
  return response;
}

Response SyncAward::Answer(const Request& request, const Caller& caller) {
  if (auto bad = CheckProtocol(request)) {
    return *bad;
  }
  if (auto refused = RequireAdmin(caller, "A sync request")) {
    return std::move(*refused);
  }
  const auto award = ParseId(request.Param("award"));
  if (!award) {
    return NoAward(request.Param("award"));
  }
  auto version = sync_.SyncAward(*award, http::CorrelationOf(request));
  if (!version.ok()) {
    if (version.error().code == ErrorCode::kUnavailable) {
      return http::ErrorResponse(Error::UpstreamFailed("The events API could not be synced with: " +
                                                       version.error().message));
    }
    const auto known = catalog_.Find(*award);
    if (known == nullptr) {
      return http::ErrorResponse(version.error());
    }
    return Response::Json(
        200,
        {{"award_id", *award}, {"version", known->award.version}, {"active", known->award.active}});
  }
  const auto known = catalog_.Find(*award);
  return Response::Json(200, {{"award_id", *award},
                              {"version", *version},
                              {"active", known != nullptr && known->award.active}});
}

Response ListAudit::operator()(const Request& request) {
  const Caller caller = callers_.Identify(request.Header("authorization"));
  Response response = Answer(request, caller);
  response.log_key = caller.LogKey();
  return response;
}

Response ListAudit::Answer(const Request& request, const Caller& caller) {
  if (auto refused = RequireAdmin(caller, "The audit trail")) {
    return std::move(*refused);
  }
  int64_t after = 0;
  int limit = 100;
  Violations violations;
  for (const auto& [name, value] : request.query) {
    const auto number = ParseId(value);
    if (name == "after") {
      after = value == "0" ? 0 : number.value_or(-1);
      if (after < 0) {
        violations.Add("after", "must be a record id (0 for the first page)");
      }
    } else if (name == "limit") {
      limit = number && *number <= 1000 ? static_cast<int>(*number) : 0;
      if (limit == 0) {
        violations.Add("limit", "must be an integer from 1 to 1000");
      }
    } else {
      violations.Add(name, "is not a parameter of this route (after, limit)");
    }
  }
  if (!violations.empty()) {
    return http::ErrorResponse(violations.ToError());
  }
  json items = json::array();
  int64_t last = after;
  for (const AuditRecord& record : award_store_.Audit(after, limit)) {
    items.push_back({{"id", record.id},
                     {"at", record.at},
                     {"key_prefix", record.key_prefix},
                     {"role", record.role},
                     {"method", record.method},
                     {"route", record.route},
                     {"path", record.path},
                     {"status", record.status}});
    last = record.id;
  }
  const bool full = static_cast<int>(items.size()) == limit;
  return Response::Json(
      200, {{"items", std::move(items)}, {"next_after", full ? json(last) : json(nullptr)}});
}

}  // namespace civic::ballot
