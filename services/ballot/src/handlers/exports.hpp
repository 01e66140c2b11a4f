#pragma once

// GET /v1/awards/{award}/votes.ndjson (admins): every counted vote of an award with its receipt,
// streamed from the vote log by a thread of its own, at most kMaxConcurrentExports at once.

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "award_catalog.hpp"
#include "civic/http/message.hpp"
#include "civic/http/server.hpp"
#include "crypto.hpp"
#include "key_ring.hpp"
#include "tallies.hpp"
#include "vote_log.hpp"

namespace civic::ballot {

class ExportVotes {
 public:
  ExportVotes(const KeyRing& callers, const AwardCatalog& catalog, const Tallies& tallies,
              const VoteReader& reader, const Keys& crypto)
      : callers_(callers), catalog_(catalog), tallies_(tallies), reader_(reader), crypto_(crypto) {}
  ~ExportVotes() { Stop(); }
  ExportVotes(const ExportVotes&) = delete;
  ExportVotes& operator=(const ExportVotes&) = delete;

  void operator()(http::Request&& request, http::Responder responder);
  // Refuses new exports (503) and makes the ones in progress end early, at once.
  void BeginStop();
  // BeginStop, then waits for the exports in progress to end. Idempotent.
  void Stop();

 private:
  void Run(int64_t award_id, http::ResponseStream& stream);

  const KeyRing& callers_;
  const AwardCatalog& catalog_;
  const Tallies& tallies_;
  const VoteReader& reader_;
  const Keys& crypto_;

  struct ExportJob {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::mutex exports_mu_;  // guards exports_
  std::vector<ExportJob> exports_;
  std::atomic<int> active_exports_{0};
  std::atomic<bool> closing_{false};
};

}  // namespace civic::ballot
