#include "award_sync.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <set>

#include "award_json.hpp"
#include "civic/runtime/thread_name.hpp"

namespace civic::ballot {

namespace {

// service_meta: the last keys document (message 5) taken.
constexpr const char* kStoredKeys = "synced_keys";

using nlohmann::json;

constexpr auto kMaxBackoff = std::chrono::seconds(60);

std::string Quoted(int64_t version) { return "\"" + std::to_string(version) + "\""; }

double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

struct AwardSync::Fetch {
  int status = 0;  // 0: no answer (connection error, timeout)
  std::string body;
  std::string etag;
  std::string error;
};

AwardSync::AwardSync(std::string events_url, std::string key, std::chrono::milliseconds interval,
                     AwardCatalog& catalog, AwardStore& store, KeyRing& keys,
                     BallotMetrics& metrics, const Clock& clock)
    : events_url_(std::move(events_url)),
      authorization_("Bearer " + key),
      interval_(interval),
      catalog_(catalog),
      store_(store),
      keys_(keys),
      metrics_(metrics),
      clock_(clock) {
  client_ = std::make_unique<httplib::Client>(events_url_);
  client_->set_keep_alive(true);
  client_->set_tcp_nodelay(true);
  client_->set_connection_timeout(2, 0);
  client_->set_read_timeout(5, 0);
  client_->set_write_timeout(5, 0);
}

AwardSync::~AwardSync() { Stop(); }

size_t AwardSync::LoadStored() {
  if (auto stored = store_.Meta(kStoredKeys)) {
    auto keys = ParseKeyList(json::parse(*stored, nullptr, false));
    if (keys.ok()) {
      keys_.Replace(std::move(keys).value());
    } else {
      spdlog::error("ballot: the stored keys are unusable ({}); only the key files serve",
                    keys.error().message);
    }
  }
  size_t loaded = 0;
  for (const StoredAward& stored : store_.LoadAll()) {
    Result<Award> award = Error::Internal("unparsed");
    try {
      award = ParseStoredAward(json::parse(stored.snapshot));
    } catch (const json::exception& e) {
      award = Error::Internal(e.what());
    }
    if (!award.ok()) {
      spdlog::error("ballot: stored snapshot of award {} is unusable ({}); skipped",
                    stored.award_id, award.error().message);
      continue;
    }
    award->active = stored.active;
    catalog_.Put(std::move(award).value());
    ++loaded;
  }
  return loaded;
}

void AwardSync::Start() {
  thread_ = std::thread([this] {
    runtime::NameThisThread("ballot-sync");
    Run();
  });
}

void AwardSync::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  client_->stop();  // cuts a request in progress short
  if (thread_.joinable()) {
    thread_.join();
  }
}

AwardSync::Fetch AwardSync::Get(const std::string& path,
                                const std::optional<std::string>& if_none_match,
                                const http::Correlation& correlation) {
  httplib::Headers headers = {{"Accept", "application/json"},
                              {"Authorization", authorization_},
                              {"Connection", "keep-alive"},
                              {"X-Civic-Protocol", std::to_string(kProtocolVersion)}};
  if (if_none_match) {
    headers.emplace("If-None-Match", *if_none_match);
  }
  for (auto& [name, value] : http::CorrelationHeaders(correlation)) {
    headers.emplace(std::move(name), std::move(value));
  }
  Fetch fetch;
  std::lock_guard<std::mutex> lock(client_mu_);
  // A stale keep-alive socket fails once: retry a connection error one time.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto res = client_->Get(path, headers);
    if (res) {
      fetch.status = res->status;
      fetch.body = std::move(res->body);
      fetch.etag = res->get_header_value("ETag");
      return fetch;
    }
    fetch.error = httplib::to_string(res.error());
  }
  return fetch;
}

void AwardSync::Failed(const std::string& what) {
  metrics_.sync_failures.Inc();
  int failures = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    failures = ++consecutive_failures_;
  }
  // Rate-limited: the first failure, then at powers of two.
  if ((failures & (failures - 1)) == 0) {
    spdlog::warn("ballot: award sync with {} failed ({} in a row): {}", events_url_, failures,
                 what);
  }
}

void AwardSync::Rejected(int64_t award_id, const std::string& what) {
  metrics_.sync_failures.Inc();
  std::lock_guard<std::mutex> lock(mu_);
  // Logged when it changes: the same snapshot is refused again every interval.
  std::string& last = last_rejection_[award_id];
  if (what != last) {
    spdlog::warn("ballot: award sync with {}: {}", events_url_, what);
    last = what;
  }
}

void AwardSync::Accepted(int64_t award_id) {
  std::lock_guard<std::mutex> lock(mu_);
  last_rejection_.erase(award_id);
}

void AwardSync::MarkInactive(int64_t award_id, std::optional<uint64_t> publishes) {
  std::lock_guard<std::mutex> publish(publish_mu_);
  if (publishes && on_demand_publishes_.load() != *publishes) {
    return;
  }
  const auto view = catalog_.Find(award_id);
  if (view == nullptr || !view->award.active) {
    return;
  }
  Award award = view->award;
  award.active = false;
  store_.SetActive(award_id, false);
  catalog_.Put(std::move(award));
  spdlog::info("ballot: award {} is no longer listed by the events API; it takes no votes",
               award_id);
}

Result<int64_t> AwardSync::FetchAward(int64_t award_id, bool* rejected, bool on_demand,
                                      const http::Correlation& correlation) {
  const auto reject = [rejected](std::string what) {
    if (rejected != nullptr) {
      *rejected = true;
    }
    return Error::Unavailable(std::move(what));
  };
  const auto known = catalog_.Find(award_id);
  std::optional<std::string> if_none_match;
  if (known != nullptr) {
    if_none_match = Quoted(known->award.version);
  }
  Fetch fetch = Get("/v1/sync/awards/" + std::to_string(award_id), if_none_match, correlation);
  if (fetch.status == 304 && known != nullptr) {
    std::lock_guard<std::mutex> publish(publish_mu_);
    const auto current = catalog_.Find(award_id);
    if (current != nullptr && !current->award.active) {
      Award award = current->award;
      award.active = true;
      store_.SetActive(award_id, true);
      catalog_.Put(std::move(award));
      if (on_demand) {
        ++on_demand_publishes_;
      }
    }
    return current != nullptr ? current->award.version : known->award.version;
  }
  if (fetch.status == 404) {
    MarkInactive(award_id);
    return Error::NotFound("The events API does not offer award " + std::to_string(award_id) + ".");
  }
  if (fetch.status != 200) {
    const std::string what = fetch.status == 0 ? "no answer (" + fetch.error + ")"
                                               : "status " + std::to_string(fetch.status);
    return Error::Unavailable("GET /v1/sync/awards/" + std::to_string(award_id) + ": " + what);
  }
  Result<Award> award = Error::Internal("unparsed");
  json doc;
  try {
    doc = json::parse(fetch.body);
    award = ParseAwardSnapshot(doc);
  } catch (const json::exception& e) {
    return reject("award " + std::to_string(award_id) + ": malformed JSON: " + e.what());
  }
  if (!award.ok()) {
    std::string detail = award.error().message;
    for (const auto& field : award.error().fields) {
      detail += " " + field.field + ": " + field.reason + ";";
    }
    return reject("award " + std::to_string(award_id) + " rejected: " + detail);
  }
  if (award->id != award_id) {
    return reject("GET /v1/sync/awards/" + std::to_string(award_id) + " answered award " +
                  std::to_string(award->id));
  }
  award->active = true;
  std::lock_guard<std::mutex> publish(publish_mu_);
  const auto current = catalog_.Find(award_id);
  if (current != nullptr) {
    if (current->award.version > award->version) {
      return current->award.version;  // a concurrent sync already published a newer copy
    }
    // Votes may have been taken through the copy being replaced (it can lag the events API):
    // whatever it listed and this snapshot drops or moves stays, as removed, with its votes.
    CarryOverRemoved(current->award, *award);
    CarryOverChoicesCounted(current->award, *award, clock_.Now());
  }
  const int64_t version = award->version;
  store_.Save(StoredAward{award_id, version, true, StoredAwardJson(std::move(doc), *award)});
  catalog_.Put(std::move(award).value());
  if (on_demand) {
    ++on_demand_publishes_;
  }
  return version;
}

Result<int64_t> AwardSync::SyncAward(int64_t award_id, const http::Correlation& correlation) {
  bool rejected = false;
  Result<int64_t> result = FetchAward(award_id, &rejected, /*on_demand=*/true, correlation);
  {
    // The catalog may now hold an award the last list did not: the next periodic sync reads
    // the whole list, so that a list back to its old content (the award deleted meanwhile) is
    // not answered 304 and the award is marked inactive.
    std::lock_guard<std::mutex> lock(client_mu_);
    list_etag_.clear();
  }
  if (result.ok()) {
    Accepted(award_id);
  } else if (result.error().code == ErrorCode::kUnavailable) {
    if (rejected) {
      Rejected(award_id, result.error().message);
    } else {
      Failed(result.error().message);
    }
  }
  return result;
}

bool AwardSync::SyncKeys(const http::Correlation& correlation) {
  std::optional<std::string> etag;
  {
    std::lock_guard<std::mutex> lock(client_mu_);
    if (!keys_etag_.empty()) {
      etag = keys_etag_;
    }
  }
  Fetch fetch = Get("/v1/sync/keys", etag, correlation);
  if (fetch.status == 304) {
    return true;
  }
  if (fetch.status != 200) {
    Failed(fetch.status == 0 ? "GET /v1/sync/keys: no answer (" + fetch.error + ")"
                             : "GET /v1/sync/keys: status " + std::to_string(fetch.status));
    return false;
  }
  const json doc = json::parse(fetch.body, nullptr, false);
  auto keys = ParseKeyList(doc);
  if (!keys.ok()) {
    Failed("GET /v1/sync/keys: " + keys.error().message);
    return false;
  }
  try {
    store_.SetMeta(kStoredKeys, fetch.body);
  } catch (const sqlite::Error& e) {
    // Published all the same: a revoked key is refused now; the stored copy catches up.
    spdlog::error("ballot: the synced keys were not stored: {}", e.what());
  }
  keys_.Replace(std::move(keys).value());
  std::lock_guard<std::mutex> lock(client_mu_);
  keys_etag_ = fetch.etag;
  return true;
}

bool AwardSync::SyncAll() {
  const http::Correlation round = http::NewCorrelation();
  const bool keys_synced = SyncKeys(round);
  const uint64_t publishes = on_demand_publishes_.load();
  std::optional<std::string> etag;
  {
    std::lock_guard<std::mutex> lock(client_mu_);
    if (!list_etag_.empty()) {
      etag = list_etag_;
    }
  }
  Fetch fetch = Get("/v1/sync/awards", etag, round);
  std::vector<std::pair<int64_t, int64_t>> listed;  // (id, version)
  if (fetch.status == 304) {
    // Unchanged since our last full list: nothing to fetch unless a fetch failed then, in
    // which case the etag was cleared and we would not be here.
    if (!keys_synced) {
      return false;
    }
    metrics_.sync_last_success.Set(UnixSeconds());
    std::lock_guard<std::mutex> lock(mu_);
    consecutive_failures_ = 0;
    return true;
  }
  if (fetch.status != 200) {
    Failed(fetch.status == 0 ? "GET /v1/sync/awards: no answer (" + fetch.error + ")"
                             : "GET /v1/sync/awards: status " + std::to_string(fetch.status));
    return false;
  }
  try {
    const json doc = json::parse(fetch.body);
    if (doc.value("protocol", 0) != kProtocolVersion) {
      Failed("GET /v1/sync/awards: unknown protocol " + doc.value("protocol", json()).dump());
      return false;
    }
    for (const json& item : doc.at("awards")) {
      listed.emplace_back(item.at("id").get<int64_t>(), item.at("version").get<int64_t>());
    }
  } catch (const json::exception& e) {
    Failed(std::string("GET /v1/sync/awards: malformed: ") + e.what());
    return false;
  }
  bool all_fetched = true;
  bool reached = true;  // every request got an answer (a refused snapshot is an answer)
  std::set<int64_t> listed_ids;
  for (const auto& [id, version] : listed) {
    listed_ids.insert(id);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        return false;
      }
    }
    const auto known = catalog_.Find(id);
    if (known != nullptr && known->award.version == version && known->award.active) {
      continue;
    }
    bool rejected = false;
    Result<int64_t> fetched = FetchAward(id, &rejected, /*on_demand=*/false, round);
    if (fetched.ok()) {
      Accepted(id);
    } else if (fetched.error().code != ErrorCode::kNotFound) {
      all_fetched = false;
      if (rejected) {
        Rejected(id, fetched.error().message);
      } else {
        Failed(fetched.error().message);
        reached = false;
      }
    }
  }
  for (const auto& view : catalog_.All()) {
    if (listed_ids.count(view->award.id) == 0) {
      MarkInactive(view->award.id, publishes);
    }
  }
  {
    std::lock_guard<std::mutex> lock(client_mu_);
    // Only a list we fully acted on, and that no copy published on demand since may be missing
    // from, may be answered 304 next time. (SyncAward clears the ETag after it publishes, under
    // this lock: either it clears ours or we see its count.)
    const bool current = on_demand_publishes_.load() == publishes;
    list_etag_ = all_fetched && current ? fetch.etag : std::string();
  }
  if (!reached || !keys_synced) {
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!all_fetched) {
    // Only snapshots were refused: the events API answers, so the other awards keep their pace
    // (no back-off); the refused ones are fetched again next interval.
    consecutive_failures_ = 0;
    return false;
  }
  metrics_.sync_last_success.Set(UnixSeconds());
  if (consecutive_failures_ > 0) {
    spdlog::info("ballot: award sync with {} works again", events_url_);
  }
  consecutive_failures_ = 0;
  return true;
}

void AwardSync::Run() {
  for (;;) {
    SyncAll();
    std::unique_lock<std::mutex> lock(mu_);
    const std::chrono::milliseconds cap =
        std::max<std::chrono::milliseconds>(interval_, kMaxBackoff);
    auto wait = interval_;
    for (int i = 0; i < consecutive_failures_ && wait < cap; ++i) {
      wait *= 2;
    }
    wait = std::min(wait, cap);
    cv_.wait_for(lock, wait, [this] { return stopping_; });
    if (stopping_) {
      return;
    }
  }
}

}  // namespace civic::ballot
