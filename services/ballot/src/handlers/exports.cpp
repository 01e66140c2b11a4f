#include "handlers/exports.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "civic/domain/time.hpp"
#include "civic/http/problem.hpp"
#include "civic/runtime/thread_name.hpp"
#include "handlers/common.hpp"

namespace civic::ballot {

using http::Request;
using http::Responder;
using http::Response;

namespace {

constexpr int kMaxConcurrentExports = 2;
constexpr size_t kExportChunkBytes = 256 * 1024;
constexpr size_t kExportMaxBuffered = 4 * 1024 * 1024;

std::string ExportLine(const VoteRecord& r, const std::string& receipt, std::string_view status) {
  std::string line;
  line.reserve(256);
  line += "{\"seq\":";
  line += std::to_string(r.seq);
  line += ",\"award_id\":";
  line += std::to_string(r.award_id);
  line += ",\"nomination_id\":";
  line += std::to_string(r.nomination_id);
  line += ",\"nominee_id\":";
  line += std::to_string(r.nominee_id);
  line += ",\"voter_hash\":\"";
  line += HexEncode(r.voter_hash.data(), r.voter_hash.size());
  line += "\",\"cast_at\":\"";
  line += FormatUtc(Instant(std::chrono::milliseconds(r.cast_at_ms)));
  line += "\",\"receipt\":\"";
  line += receipt;
  line += "\",\"status\":\"";
  line += status;
  line += "\"}\n";
  return line;
}

}  // namespace

void ExportVotes::operator()(Request&& request, Responder responder) {
  const Caller caller = callers_.Identify(request.Header("authorization"));
  responder.SetLogKey(caller.LogKey());
  if (auto refused = RequireAdmin(caller, "The export")) {
    responder.Send(std::move(*refused));
    return;
  }
  if (auto unknown = UnknownQuery(request)) {
    responder.Send(std::move(*unknown));
    return;
  }
  const auto award = ParseId(request.Param("award"));
  if (!award || (catalog_.Find(*award) == nullptr && tallies_.Version(*award) == 0)) {
    responder.Send(NoAward(request.Param("award")));
    return;
  }
  std::lock_guard<std::mutex> lock(exports_mu_);
  if (closing_ || active_exports_.load() >= kMaxConcurrentExports) {
    responder.Send(
        http::ErrorResponse(Error::Unavailable("Too many exports in progress; retry later.", 5)));
    return;
  }
  // Finished export threads are joined here, so the list stays short.
  std::erase_if(exports_, [](ExportJob& job) {
    if (!job.done->load()) {
      return false;
    }
    job.thread.join();
    return true;
  });
  std::shared_ptr<http::ResponseStream> stream = responder.StartStream(
      200, "application/x-ndjson",
      {{"Cache-Control", "no-store"},
       {"Content-Disposition",
        "attachment; filename=\"award-" + std::to_string(*award) + "-votes.ndjson\""}});
  auto done = std::make_shared<std::atomic<bool>>(false);
  ++active_exports_;
  exports_.push_back(ExportJob{std::thread([this, id = *award, stream, done] {
                                 runtime::NameThisThread("ballot-export");
                                 Run(id, *stream);
                                 --active_exports_;
                                 done->store(true);
                               }),
                               done});
}

void ExportVotes::Run(int64_t award_id, http::ResponseStream& stream) {
  std::string buffer;
  buffer.reserve(kExportChunkBytes + 512);
  const auto flush = [&]() {
    if (!stream.Write(buffer)) {
      return false;
    }
    buffer.clear();
    // Backpressure: wait while the client has not taken what was sent.
    while (stream.buffered() > kExportMaxBuffered && stream.open() && !closing_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return stream.open() && !closing_;
  };
  try {
    bool ok = true;
    reader_.ForEachInAward(award_id, [&](const VoteRecord& r) {
      const ReceiptFields fields{r.seq, r.award_id, r.nomination_id, r.nominee_id, r.voter_hash};
      const std::string_view status = r.standing == Standing::kCounted ? "counted"
                                      : r.standing == Standing::kHeld  ? "held"
                                                                       : "rejected";
      buffer += ExportLine(r, crypto_.Receipt(fields), status);
      if (buffer.size() >= kExportChunkBytes) {
        ok = flush();
      }
      return ok;
    });
    if (ok && !buffer.empty()) {
      flush();
    }
  } catch (const std::exception& e) {
    spdlog::error("ballot: export of award {} failed: {}", award_id, e.what());
  }
  stream.End();
}

void ExportVotes::BeginStop() { closing_ = true; }

void ExportVotes::Stop() {
  BeginStop();
  std::vector<ExportJob> jobs;
  {
    // Taken out under the lock, joined without it: an export request meanwhile is refused at
    // once (closing_) instead of waiting on the lock for every export to end.
    std::lock_guard<std::mutex> lock(exports_mu_);
    jobs.swap(exports_);
  }
  for (auto& job : jobs) {
    job.thread.join();
  }
}

}  // namespace civic::ballot
