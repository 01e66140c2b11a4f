#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "award_catalog.hpp"
#include "award_store.hpp"
#include "award_sync.hpp"
#include "ballot_metrics.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "civic/http/server.hpp"
#include "civic/metrics/metrics.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "committer.hpp"
#include "config.hpp"
#include "crypto.hpp"
#include "dedup_index.hpp"
#include "handlers/admin.hpp"
#include "handlers/exports.hpp"
#include "handlers/held.hpp"
#include "handlers/receipts.hpp"
#include "handlers/results.hpp"
#include "handlers/votes.hpp"
#include "held_votes.hpp"
#include "http_answers.hpp"
#include "key_ring.hpp"
#include "results_service.hpp"
#include "results_stream.hpp"
#include "tallies.hpp"
#include "vote_log.hpp"
#include "vote_service.hpp"

namespace civic::ballot {

// What the log held at start.
struct RebuildStats {
  uint64_t votes = 0;
  uint64_t max_seq = 0;
  uint64_t duplicates = 0;  // rows whose (voter, nomination, nominee) was already seen: a bug
};

// Rebuilds the dedup index and the tallies from the vote log; the votes `holds` holds or
// rejected take their voters' places but are not counted. Throws sqlite::Error.
RebuildStats Rebuild(const VoteReader& reader, DedupIndex& index, Tallies& tallies,
                     const std::unordered_map<uint64_t, HoldRecord>& holds = {});

// The ballot service's composition root: it opens storage, builds the vote path, results, sync
// and the handlers, and wires the handlers to the route table. No handler code lives here.
class App {
 public:
  // Opens (creating and migrating) DATA_DIR/ballot.db, loads the stored award snapshots,
  // rebuilds dedup and tallies from the log, and starts the committer, the results ticker and
  // the award sync. Throws with the file and the reason. `config` must hold the secrets
  // (LoadSecrets). `clock` must outlive the App.
  //
  // An existing database at the current schema that cannot be written (a full disk, a
  // read-only file system) does not stop the start: the App reads it without writing (see
  // OpenAtStart), serves results, receipts and streams from what it rebuilt, refuses votes
  // (503) and is not ready, and its committer's probe opens the writer when storage works
  // again (OpenWriter).
  App(const Config& config, metrics::Registry& registry, const Clock& clock);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Every route of the service, in one table.
  http::Router Routes();
  // Nothing when ready; otherwise why not (storage closed or failing, schema mismatch).
  std::optional<std::string> NotReadyReason();
  // Stops sync, streams and exports, commits and answers what is queued, closes storage. Later
  // votes get 503. Idempotent.
  void Close();

  // The key roles the rate limits know (after "public"), and who a request comes from for them:
  // a valid key's role and key, else public. Any thread.
  static std::vector<std::string> RateRoles();
  http::RateIdentity RateIdentityOf(const http::Request& request) const;

  const RebuildStats& rebuilt() const { return rebuilt_; }
  // For in-process tests that provoke storage failures. REQUIRES: no commit in progress, the
  // log open.
  VoteLog& vote_log() { return *sink_->log(); }

  // How storage was found at start.
  struct StartState {
    std::optional<std::string> problem;  // why it could not be written ("storage: disk full")
    bool immutable = false;              // readers open the file immutable (no WAL to read)
    int schema_version = 0;              // read without writing
  };

 private:
  // Opens `path` for writing, migrated. When that fails for want of space or permission on an
  // existing database at the current schema, fills `start` and returns nothing: the file is
  // then read immutable if its WAL holds no frames, read-only otherwise. Throws otherwise.
  static std::optional<sqlite::Database> OpenAtStart(const std::string& path, StartState& start);
  // The committer's probe, while the log is not open: opens the writer, switches the readers to
  // the WAL, reopens the award store for writing, starts the checkpointer. Throws while
  // storage still fails. Committer thread only.
  std::unique_ptr<VoteLog> OpenWriter();

  Config config_;
  const Clock& clock_;
  const std::string db_path_;
  BallotMetrics metrics_;
  Keys keys_;
  KeyRing api_keys_;  // who may vote and who is an admin

  StartState start_;
  std::mutex db_mu_;                    // guards db_ and storage_closed_ (readiness checks)
  std::optional<sqlite::Database> db_;  // open for writing (and kept so) once storage works
  bool storage_closed_ = false;

  AwardCatalog catalog_;
  AwardStore award_store_;
  DedupIndex index_;
  Tallies tallies_;
  VoteReader reader_;
  RebuildStats rebuilt_;
  std::unique_ptr<DeferredVoteLog> sink_;
  std::unique_ptr<Checkpointer> checkpointer_;
  bool checkpointer_started_ = false;  // constructor, then the committer thread
  HttpAnswers answers_;  // the committer's answers leave through the HTTP layer's batches
  std::unique_ptr<Committer> committer_;
  std::unique_ptr<VoteRules> rules_;
  std::unique_ptr<HeldVotes> held_;
  std::unique_ptr<VoteService> votes_;
  std::unique_ptr<ResultsService> results_;
  std::unique_ptr<ResultsStreams> streams_;
  std::unique_ptr<AwardSync> sync_;

  // The handlers, one per route (handlers/): App only wires them to the route table.
  std::unique_ptr<CastVote> cast_vote_;
  std::unique_ptr<CastBatch> cast_batch_;
  std::unique_ptr<GetResults> get_results_;
  std::unique_ptr<StreamResults> stream_results_;
  std::unique_ptr<ExportVotes> export_votes_;
  std::unique_ptr<GetReceipt> get_receipt_;
  std::unique_ptr<SyncAward> sync_award_;
  std::unique_ptr<ListAudit> list_audit_;
  std::unique_ptr<ListHeldVotes> list_held_;
  std::unique_ptr<DecideHeldVotes> decide_held_;
  std::unique_ptr<VoteRulesRoute> vote_rules_;
  std::once_flag closed_;
};

}  // namespace civic::ballot
