#include "handlers/receipts.hpp"

#include <chrono>

#include "civic/domain/time.hpp"
#include "civic/http/problem.hpp"
#include "handlers/common.hpp"

namespace civic::ballot {

using http::Request;
using http::Response;

Response GetReceipt::operator()(const Request& request) {
  if (auto unknown = UnknownQuery(request)) {
    return std::move(*unknown);
  }
  const std::string& receipt = request.Param("receipt");
  const auto not_found = [] {
    return http::ErrorResponse(Error::NotFound("No stored vote has this receipt."));
  };
  const auto seq = Keys::ReceiptSeq(receipt);
  if (!seq) {
    return not_found();
  }
  const std::optional<VoteRecord> record = reader_.BySeq(*seq);
  if (!record) {
    return not_found();
  }
  const ReceiptFields fields{record->seq, record->award_id, record->nomination_id,
                             record->nominee_id, record->voter_hash};
  if (!crypto_.VerifyReceipt(receipt, fields)) {
    return not_found();
  }
  // Base32 is case-insensitive: answer with the canonical (lower-case) spelling.
  std::string canonical = receipt;
  for (char& c : canonical) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  const Standing standing = record->standing;
  return Response::Json(
      200, {{"receipt", canonical},
            {"counted", standing == Standing::kCounted},
            {"status", standing == Standing::kCounted ? "counted"
                       : standing == Standing::kHeld  ? "held"
                                                      : "rejected"},
            {"award_id", record->award_id},
            {"nomination_id", record->nomination_id},
            {"nominee_id", record->nominee_id},
            {"cast_at", FormatUtc(Instant(std::chrono::milliseconds(record->cast_at_ms)))}});
}

}  // namespace civic::ballot
