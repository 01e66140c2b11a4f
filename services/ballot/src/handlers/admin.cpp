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
  if (auto unknown = UnknownQuery(request)) {
    return std::move(*unknown);
  }
  const auto award = ParseId(request.Param("award"));
  if (!award) {
    return NoAward(request.Param("award"));
  }
  // A body is the award's snapshot, pushed by the events API itself (the key both services hold
  // from their files): taken without a fetch back, so the change is live before the events API
  // answers its own client. Another admin key may ask for a sync, not hand the ballot a copy.
  std::optional<json> pushed;
  if (!request.body.empty()) {
    if (caller.prefix != kBootstrapAdmin) {
      return http::ErrorResponse(Error::Forbidden(
          "Only the events API (the ballot's admin key from its file) may push a snapshot; "
          "send no body to ask for a sync."));
    }
    if (!http::IsJsonMediaType(request.Header("content-type"))) {
      return http::ErrorResponse(
          Error::UnsupportedMediaType("A pushed snapshot is application/json."));
    }
    pushed = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (pushed->is_discarded()) {
      return http::ErrorResponse(Error::Malformed("The pushed snapshot is not JSON."));
    }
  }
  auto version = sync_.SyncAward(*award, http::CorrelationOf(request), pushed ? &*pushed : nullptr);
  if (pushed && !version.ok() && version.error().code == ErrorCode::kUnavailable) {
    return http::ErrorResponse(Error::Invalid("body", version.error().message));
  }
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
