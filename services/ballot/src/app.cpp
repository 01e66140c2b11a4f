#include "app.hpp"

#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <thread>
#include <unordered_map>

#include <sqlite3.h>

#include "ballot_migrations.hpp"
#include "handlers/common.hpp"

namespace civic::ballot {

namespace {

// Each open stream is a connection, and each connection holds two descriptors (the HTTP
// server's and its dup). The server raises the soft limit to the hard one when it starts; past
// that, --max-streams would never be reached: connections would fail first, votes' included.
void WarnIfStreamsExceedDescriptors(int max_streams) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_max == RLIM_INFINITY) {
    return;
  }
  const auto needed = 2 * static_cast<rlim_t>(max_streams) + 256;
  if (limit.rlim_max < needed) {
    spdlog::warn(
        "ballot: --max-streams {} needs about {} descriptors, but the process may open {}: "
        "lower --max-streams or raise the descriptor limit (ulimit -Hn, LimitNOFILE=)",
        max_streams, needed, limit.rlim_max);
  }
}

std::string DbPath(const Config& config) {
  return (std::filesystem::path(config.server.data_dir) / "ballot.db").string();
}

// Migrates the database before anything else opens it for real work.
sqlite::Database OpenMigrated(const std::string& path) {
  sqlite::Database db = sqlite::Database::Open(path);
  sqlite::Migrate(db, Migrations());
  return db;
}

// A failure that says the file cannot be written now (space, permissions), not that it is
// damaged or of another kind.
bool IsWriteTrouble(const sqlite::Error& e) {
  const int code = e.code();
  return code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_READONLY ||
         code == SQLITE_CANTOPEN || code == SQLITE_PERM || code == SQLITE_AUTH;
}

// The WAL holds frames not yet in the database file (a crash): it must be read through it.
bool WalHasFrames(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path + "-wal", ec);
  return !ec && size > 0;
}

}  // namespace

RebuildStats Rebuild(const VoteReader& reader, DedupIndex& index, Tallies& tallies,
                     const std::unordered_map<uint64_t, HoldRecord>& holds) {
  // Two threads: this one reads the log in chunks, a helper fills the dedup index (prefetching
  // each chunk's slots first) and counts; a small queue between them bounds the memory.
  constexpr size_t kChunk = 32768;
  constexpr size_t kMaxQueued = 4;
  RebuildStats stats;
  stats.max_seq = reader.MaxSeq();
  index.ReserveCapacity(static_cast<size_t>(stats.max_seq));

  std::mutex mu;  // guards queue and done
  std::condition_variable cv;
  std::deque<std::vector<VoteRecord>> queue;
  bool done = false;
  TallyBatch counts;
  std::vector<DedupKey> keys;
  std::thread filler([&] {
    for (;;) {
      std::vector<VoteRecord> rows;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return done || !queue.empty(); });
        if (queue.empty()) {
          return;
        }
        rows = std::move(queue.front());
        queue.pop_front();
      }
      cv.notify_all();
      keys.resize(rows.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        keys[i] = MakeDedupKey(rows[i].voter_hash, rows[i].nomination_id);
        index.Prefetch(keys[i]);
      }
      for (size_t i = 0; i < rows.size(); ++i) {
        const VoteRecord& r = rows[i];
        if (!index.InsertCommitted(keys[i], static_cast<uint32_t>(r.nominee_id), r.seq)) {
          ++stats.duplicates;
        }
        if (!holds.empty()) {
          const auto hold = holds.find(r.seq);
          if (hold != holds.end() && hold->second.state != HoldState::kReleased) {
            // Held or rejected: stored, in the index, not counted (admins see how many).
            const bool held = hold->second.state == HoldState::kHeld;
            tallies.AddHolds(r.award_id, r.nomination_id, r.nominee_id, held ? 1 : 0, held ? 0 : 1);
            continue;
          }
        }
        counts.Add(r.award_id, r.nomination_id, r.nominee_id);
      }
      stats.votes += rows.size();
    }
  });
  try {
    reader.ForEachChunk(kChunk, [&](std::vector<VoteRecord>& rows) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return queue.size() < kMaxQueued; });
      queue.push_back(std::move(rows));
      cv.notify_all();
    });
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
    }
    cv.notify_all();
    filler.join();
    throw;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  filler.join();
  // The log is the truth: every stored row counts, as recount counts it.
  counts.AddTo(tallies);
  return stats;
}

std::optional<sqlite::Database> App::OpenAtStart(const std::string& path, StartState& start) {
  try {
    return OpenMigrated(path);
  } catch (const sqlite::Error& e) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || size == 0 || !IsWriteTrouble(e)) {
      throw;  // nothing to serve, or not a matter of space or permission
    }
    start.immutable = !WalHasFrames(path);
    sqlite::Options options;
    options.read_only = true;
    options.immutable = start.immutable;
    try {
      const sqlite::Database db = sqlite::Database::Open(path, options);
      start.schema_version = sqlite::SchemaVersion(db);
    } catch (const sqlite::Error& read) {
      throw sqlite::Error(e.code(), e.extended_code(),
                          std::string(e.what()) + "; nor can it be read: " + read.what());
    }
    const int expected = Migrations().back().version;
    if (start.schema_version != expected) {
      throw sqlite::Error(e.code(), e.extended_code(),
                          std::string(e.what()) + "; and its schema (version " +
                              std::to_string(start.schema_version) + ") needs migrating to " +
                              std::to_string(expected));
    }
    start.problem = StorageProblem(path, e);
    spdlog::error(
        "ballot: {} cannot be written ({}): starting not ready, reading it {}; votes are refused "
        "until storage works again: {}",
        path, *start.problem, start.immutable ? "immutable" : "read-only", e.what());
    return std::nullopt;
  }
}

std::unique_ptr<VoteLog> App::OpenWriter() {
  {
    std::lock_guard<std::mutex> lock(db_mu_);
    if (storage_closed_) {
      throw std::runtime_error("ballot: storage is closed");
    }
    if (!db_) {
      // Kept open from now on: with it, the -shm the readers need stays.
      db_.emplace(OpenMigrated(db_path_));
    }
  }
  // Before anything writes: no immutable read may be running when the WAL starts to fill.
  reader_.SetWritable();
  award_store_.SetWritable();
  if (held_) {
    held_->SetWritable();
  }
  auto log = std::make_unique<VoteLog>(db_path_);
  if (!checkpointer_started_) {
    checkpointer_->Start();
    checkpointer_started_ = true;
  }
  spdlog::info("ballot: {} can be written again; the vote log is open", db_path_);
  return log;
}

App::App(const Config& config, metrics::Registry& registry, const Clock& clock)
    : config_(config),
      clock_(clock),
      db_path_(DbPath(config)),
      metrics_(registry),
      keys_(config.voter_key),
      api_keys_(config.client_key, config.admin_key, clock),
      db_(OpenAtStart(db_path_, start_)),
      catalog_(&metrics_.votes_accepted),
      award_store_(db_path_, start_.immutable),
      reader_(db_path_, start_.immutable) {
  sync_ = std::make_unique<AwardSync>(config_.events_url, config_.admin_key,
                                      std::chrono::milliseconds(config_.sync_interval_ms), catalog_,
                                      award_store_, api_keys_, metrics_, clock_);
  const size_t loaded = sync_->LoadStored();
  if (!start_.problem) {
    try {
      award_store_.PurgeAudit(config_.audit_retention_days);
    } catch (const sqlite::Error& e) {
      spdlog::warn("ballot: old audit records were not removed: {}", e.what());
    }
  }

  const HoldRulesConfig hold_rules = ParseHoldRules(config_);
  held_ = std::make_unique<HeldVotes>(db_path_, tallies_, metrics_, start_.immutable);
  held_->SetDefaults(hold_rules.defaults, hold_rules.enabled);
  held_->LoadSettings();
  const auto holds = reader_.Holds();
  held_->Load(holds);
  rules_ = std::make_unique<VoteRules>(config_.hold_rule_slots);

  const auto started = std::chrono::steady_clock::now();
  rebuilt_ = Rebuild(reader_, index_, tallies_, holds);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  spdlog::info("ballot: {} stored awards; rebuilt {} votes (dedup and tallies) in {} ms", loaded,
               rebuilt_.votes, took);
  if (rebuilt_.duplicates > 0) {
    spdlog::error("ballot: the vote log holds {} duplicate votes; run civic-ballot recount",
                  rebuilt_.duplicates);
  }

  std::unique_ptr<VoteLog> log;
  if (!start_.problem) {
    // A database that opens may still refuse writes (a crash left a WAL on a disk now full):
    // one probe says whether votes can be taken.
    try {
      log = std::make_unique<VoteLog>(db_path_);
      log->Probe();
    } catch (const std::exception& e) {
      start_.problem = StorageProblem(db_path_, e);
      spdlog::error("ballot: {} cannot be written ({}): starting not ready: {}", db_path_,
                    *start_.problem, e.what());
    }
  }
  sink_ =
      std::make_unique<DeferredVoteLog>(db_path_, std::move(log), [this] { return OpenWriter(); });
  checkpointer_ = std::make_unique<Checkpointer>(db_path_, std::chrono::milliseconds(250));
  CommitterOptions options;
  options.max_batch = static_cast<size_t>(config_.commit_max_batch);
  options.max_delay = std::chrono::milliseconds(config_.commit_max_delay_ms);
  committer_ =
      std::make_unique<Committer>(*sink_, index_, tallies_, keys_, metrics_, options, answers_);
  committer_->AttachHeldVotes(*held_);
  if (start_.problem) {
    committer_->StartUnhealthy(*start_.problem);
  }
  votes_ = std::make_unique<VoteService>(catalog_, index_, *committer_, keys_, clock_, metrics_,
                                         rebuilt_.max_seq + 1);
  votes_->EnableRules(*rules_, *held_);
  results_ = std::make_unique<ResultsService>(catalog_, tallies_, clock_);
  StreamOptions stream_options;
  stream_options.max_subscribers = static_cast<size_t>(config_.max_streams);
  streams_ = std::make_unique<ResultsStreams>(*results_, metrics_, stream_options);
  WarnIfStreamsExceedDescriptors(config_.max_streams);

  cast_vote_ = std::make_unique<CastVote>(api_keys_, *votes_, metrics_);
  cast_batch_ = std::make_unique<CastBatch>(api_keys_, *votes_, metrics_);
  get_results_ = std::make_unique<GetResults>(api_keys_, *results_);
  stream_results_ = std::make_unique<StreamResults>(api_keys_, *results_, *streams_);
  export_votes_ = std::make_unique<ExportVotes>(api_keys_, catalog_, tallies_, reader_, keys_);
  get_receipt_ = std::make_unique<GetReceipt>(reader_, keys_);
  sync_award_ = std::make_unique<SyncAward>(api_keys_, *sync_, catalog_, award_store_,
                                            config_.audit_retention_days);
  list_audit_ = std::make_unique<ListAudit>(api_keys_, award_store_);
  list_held_ = std::make_unique<ListHeldVotes>(api_keys_, catalog_, *held_);
  decide_held_ =
      std::make_unique<DecideHeldVotes>(api_keys_, catalog_, *held_, award_store_, clock_);
  vote_rules_ = std::make_unique<VoteRulesRoute>(api_keys_, catalog_, *held_, award_store_);

  registry.AddCallbackGauge(
      "ballot_schema_version", "Schema version of the ballot database.", [this] {
        std::lock_guard<std::mutex> lock(db_mu_);
        if (storage_closed_) {
          return 0.0;
        }
        return static_cast<double>(db_ ? sqlite::SchemaVersion(*db_) : start_.schema_version);
      });
  registry.AddCallbackGauge("ballot_commit_queue_depth", "Votes queued for the next group commit.",
                            [this] { return static_cast<double>(committer_->queued()); });
  registry.AddCallbackGauge("ballot_votes_not_durable",
                            "Votes reserved in the dedup index whose commit has not finished.",
                            [this] { return static_cast<double>(index_.pending()); });
  registry.AddCallbackGauge("ballot_dedup_entries",
                            "Entries in the in-memory dedup index (one per counted vote).",
                            [this] { return static_cast<double>(index_.size()); });
  registry.AddCallbackGauge("ballot_dedup_memory_bytes",
                            "Bytes allocated for the dedup index's tables.",
                            [this] { return static_cast<double>(index_.memory_bytes()); });
  registry.AddCallbackGauge("ballot_awards_loaded",
                            "Awards the ballot knows (from the events API or its stored copy).",
                            [this] { return static_cast<double>(catalog_.size()); });
  registry.AddCallbackGauge("ballot_vote_rules_memory_bytes",
                            "Bytes allocated for the hold rules' tables (touched as they fill).",
                            [this] { return static_cast<double>(rules_->memory_bytes()); });
  registry.AddCallbackGauge("ballot_votes_counted",
                            "Votes counted in the live tallies (stored in the log).",
                            [this] { return static_cast<double>(tallies_.Total()); });

  committer_->Start();
  if (db_) {
    checkpointer_->Start();
    checkpointer_started_ = true;
  }
  streams_->Start();
  sync_->Start();
}

App::~App() { Close(); }

http::Router App::Routes() {
  using http::Method;
  http::Router router;
  // Each route's handler is the object of the same name in handlers/.
  const auto async = [](auto& handler) {
    return
        [&handler](http::Request&& r, http::Responder w) { handler(std::move(r), std::move(w)); };
  };
  const auto sync = [](auto& handler) {
    return [&handler](const http::Request& r) { return handler(r); };
  };
  // Votes: decided on the network thread, answered by the committer after the commit.
  router.AddAsync(Method::kPost, "/v1/awards/{award}/votes", async(*cast_vote_),
                  {.max_body_bytes = 4096, .rate_class = http::RateClass::kVote});
  router.AddAsync(Method::kPost, "/v1/votes/batch", async(*cast_batch_),
                  {.max_body_bytes = 1024 * 1024, .rate_class = http::RateClass::kVote});
  // Results: from the in-memory tallies, O(nominees).
  router.Get("/v1/awards/{award}/results", sync(*get_results_));
  router.AddAsync(Method::kGet, "/v1/awards/{award}/results/stream", async(*stream_results_),
                  {.rate_class = http::RateClass::kStream});
  // Audit and sync: SQLite and outbound HTTP run on worker threads.
  router.AddAsync(Method::kGet, "/v1/awards/{award}/votes.ndjson", async(*export_votes_),
                  {.rate_class = http::RateClass::kExport});
  router.Get("/v1/receipts/{receipt}", sync(*get_receipt_), {.offload = true});
  // The events API may push the award's snapshot with it (proto-docs/awards-sync.md, message 3).
  router.Post("/v1/awards/{award}/sync", sync(*sync_award_),
              {.offload = true, .max_body_bytes = kMaxPushedSnapshotBytes});
  router.Get("/v1/ballot/audit-events", sync(*list_audit_), {.offload = true});
  // Held votes and the rules that hold them (admins): SQLite, on worker threads. A missing or
  // refused key is a 401 before the body is read (the key ring is in memory); the handler
  // checks the role.
  const auto needs_key = [this](const http::Request& request) -> std::optional<http::Response> {
    const Caller caller = api_keys_.Identify(request.Header("authorization"));
    if (caller.kind == Caller::Kind::kNone || caller.kind == Caller::Kind::kRefused) {
      return RequireAdmin(caller, "This route");
    }
    return std::nullopt;
  };
  router.Get("/v1/awards/{award}/held-votes", sync(*list_held_), {.offload = true});
  // Up to 10,000 ids of up to 20 digits each: more than the default body limit.
  router.Post(
      "/v1/awards/{award}/held-votes/decisions", sync(*decide_held_),
      {.json_body = true, .offload = true, .max_body_bytes = 256 * 1024, .gate = needs_key});
  router.Get("/v1/awards/{award}/vote-rules", sync(*vote_rules_), {.offload = true});
  router.Put("/v1/awards/{award}/vote-rules", sync(*vote_rules_),
             {.json_body = true, .offload = true, .gate = needs_key});
  return router;
}

std::optional<std::string> App::NotReadyReason() {
  {
    std::lock_guard<std::mutex> lock(db_mu_);
    if (storage_closed_) {
      return "storage is closed";
    }
    if (db_) {
      try {
        const int version = sqlite::SchemaVersion(*db_);
        const int expected = Migrations().back().version;
        if (version != expected) {
          return "database schema is at version " + std::to_string(version) + ", expected " +
                 std::to_string(expected);
        }
      } catch (const std::exception& e) {
        spdlog::debug("ballot: readiness check failed: {}", e.what());
        return StorageProblem(db_path_, e);
      }
    }
  }
  return committer_->unhealthy_reason();
}

void App::Close() {
  std::call_once(closed_, [this] {
    export_votes_->BeginStop();  // first: no export starts while the rest stops
    sync_->Stop();
    streams_->Stop();
    export_votes_->Stop();
    committer_->Stop();  // commits and answers what is queued
    checkpointer_->Stop();
    std::lock_guard<std::mutex> lock(db_mu_);
    storage_closed_ = true;
    db_.reset();
  });
}

std::vector<std::string> App::RateRoles() { return {"voting_client", "admin"}; }

http::RateIdentity App::RateIdentityOf(const http::Request& request) const {
  const Caller caller = api_keys_.Identify(request.Header("authorization"));
  http::RateIdentity identity;
  if (caller.kind == Caller::Kind::kVotingClient) {
    identity.role = 1;
  } else if (caller.kind == Caller::Kind::kAdmin) {
    identity.role = 2;
  } else {
    return identity;
  }
  identity.key = std::hash<std::string>{}(caller.prefix);
  identity.log_key = caller.LogKey();
  return identity;
}

}  // namespace civic::ballot
