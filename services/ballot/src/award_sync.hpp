#pragma once

// The ballot side of proto-docs/awards-sync.md: learns awards from the events API over HTTP
// (cpp-httplib, ETags), at start, every interval (doubled per consecutive failure, up to 60 s)
// and on demand; keeps the last snapshot of each in its own database so that known awards keep
// taking votes while the events API is down.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "award_catalog.hpp"
#include "award_store.hpp"
#include "ballot_metrics.hpp"
#include "civic/domain/error.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/correlation.hpp"
#include "key_ring.hpp"

namespace httplib {
class Client;
}

namespace civic::ballot {

class AwardSync {
 public:
  // `key` is the bearer token the events API knows the ballot by (the ballot's admin key, which
  // both services hold).
  // `keys` learns the events API's admin and voting-client keys (message 5).
  AwardSync(std::string events_url, std::string key, std::chrono::milliseconds interval,
            AwardCatalog& catalog, AwardStore& store, KeyRing& keys, BallotMetrics& metrics,
            const Clock& clock);
  ~AwardSync();
  AwardSync(const AwardSync&) = delete;
  AwardSync& operator=(const AwardSync&) = delete;

  // Publishes the stored snapshots in the catalog and the stored keys in the key ring (at start,
  // before serving). Returns how many awards.
  size_t LoadStored();
  // Starts the background thread: a full sync now, then one per interval.
  void Start();
  void Stop();

  // Fetches one award now (on demand). Returns its version held afterwards. kNotFound when
  // neither side knows it; kUnavailable when the events API could not be asked or answered
  // wrongly (the copy is kept). The call carries `correlation` (the request asking for it).
  Result<int64_t> SyncAward(int64_t award_id, const http::Correlation& correlation);
  // One full sync (the keys, the list, then each changed award), on the calling thread; its
  // calls share one new request id. False on a failure.
  bool SyncAll();
  // The keys (message 5), on the calling thread: stored and published when they changed. False
  // on a failure (the keys held are kept).
  bool SyncKeys(const http::Correlation& correlation);

 private:
  struct Fetch;
  // GETs `path` with our headers and `correlation`'s. Thread-safe (serialises on client_mu_).
  Fetch Get(const std::string& path, const std::optional<std::string>& if_none_match,
            const http::Correlation& correlation);
  // Fetches and publishes one award. kNotFound when the events API said 404 (then marked
  // inactive if known); kUnavailable when it could not be asked or answered wrongly, with
  // *rejected set when it answered a snapshot the ballot refuses (malformed, unusable).
  // `on_demand`: called by SyncAward, not by the periodic sync (see on_demand_publishes_).
  Result<int64_t> FetchAward(int64_t award_id, bool* rejected, bool on_demand,
                             const http::Correlation& correlation);
  // Marks the award inactive, unless an on-demand sync published a copy since the periodic sync
  // read `publishes` from on_demand_publishes_ (the list it acts on may predate that copy).
  void MarkInactive(int64_t award_id, std::optional<uint64_t> publishes = std::nullopt);
  // The events API could not be reached or answered wrongly: counted, and the sync backs off.
  void Failed(const std::string& what);
  // A snapshot of `award_id` was refused: counted, and logged when the award's reason changes,
  // without back-off.
  void Rejected(int64_t award_id, const std::string& what);
  // The award's snapshot was taken: a later refusal is logged again.
  void Accepted(int64_t award_id);
  void Run();

  const std::string events_url_;
  const std::string authorization_;  // "Bearer <key>"
  const std::chrono::milliseconds interval_;
  AwardCatalog& catalog_;
  AwardStore& store_;
  KeyRing& keys_;
  BallotMetrics& metrics_;
  const Clock& clock_;

  // Serialises replacing a copy in the store and the catalog (read, carry over, write), so that
  // two syncs of one award never drop what the other carried over.
  std::mutex publish_mu_;
  // Copies published by on-demand syncs (guarded by publish_mu_ for writers). The periodic sync
  // acts on a list fetched before it reads the catalog: a copy published on demand meanwhile may
  // be missing from that list, so then it neither marks awards inactive nor keeps the list's ETag
  // (the next interval reads the whole list).
  std::atomic<uint64_t> on_demand_publishes_{0};

  std::mutex client_mu_;  // guards client_, list_etag_ and keys_etag_
  std::unique_ptr<httplib::Client> client_;
  std::string list_etag_;
  std::string keys_etag_;

  std::mutex mu_;  // guards stopping_, consecutive_failures_ and last_rejection_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<int64_t, std::string> last_rejection_;  // by award: the last refusal logged
  int consecutive_failures_ = 0;
  std::thread thread_;
};

}  // namespace civic::ballot
