#pragma once

// Helpers of the ballot's functional tests: a fake of the events API (the peer of
// proto-docs/awards-sync.md, in this test process, on 127.0.0.1:0) and a real civic-ballot
// process configured against it. Header-only: the test CMake compiles *_test.cpp files.

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "harness.hpp"

namespace civic::test {

// Concatenates strings and numbers. (GCC 12 warns falsely, -Wrestrict, on "literal" +
// std::to_string(n) at -O2, which -Werror turns into an error.)
template <class... Parts>
std::string Str(const Parts&... parts) {
  std::string out;
  const auto append = [&out](const auto& part) {
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(part)>>) {
      out += std::to_string(part);
    } else {
      out.append(std::string_view(part));
    }
  };
  (append(parts), ...);
  return out;
}

inline constexpr const char* kVoterKey = "functional-test-voter-key-0123456789abcdef";
inline constexpr const char* kClientKey = "functional-test-client-key-0123";
inline constexpr const char* kAdminKey = "functional-test-admin-key-0123";

// "2026-...Z" for now + offset.
inline std::string UtcIn(std::chrono::seconds offset) {
  const auto t = std::chrono::system_clock::now() + offset;
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// Award 7 "Новые Созидатели": nomination 31 with nominees 501 (Саров), 502 (Озёрск) and 503
// (withdrawn), nomination 32 with nominee 601 (no city). Voting open from an hour ago for an hour.
inline nlohmann::json SampleAward(int64_t id = 7, int k = 1,
                                  const std::string& visibility = "live") {
  using nlohmann::json;
  return {{"id", id},
          {"title", "Новые Созидатели"},
          {"edition_year", 2026},
          {"status", "voting"},
          {"voting_opens_at", UtcIn(std::chrono::hours(-1))},
          {"voting_closes_at", UtcIn(std::chrono::hours(1))},
          {"max_choices_per_nomination", k},
          {"results_visibility", visibility},
          {"nominations", json::array({{{"id", 31}, {"title", "Лидер изменений"}},
                                       {{"id", 32}, {"title", "Команда года"}}})},
          {"nominees", json::array({{{"id", 501},
                                     {"nomination_id", 31},
                                     {"name", "Ирина Лебедева"},
                                     {"city", {{"id", 4}, {"name", "Саров"}}},
                                     {"status", "active"}},
                                    {{"id", 502},
                                     {"nomination_id", 31},
                                     {"name", "Олег Петров"},
                                     {"city", {{"id", 5}, {"name", "Озёрск"}}},
                                     {"status", "active"}},
                                    {{"id", 503},
                                     {"nomination_id", 31},
                                     {"name", "Анна Смирнова"},
                                     {"city", {{"id", 4}, {"name", "Саров"}}},
                                     {"status", "withdrawn"}},
                                    {{"id", 601},
                                     {"nomination_id", 32},
                                     {"name", "Команда Заречного"},
                                     {"city", nullptr},
                                     {"status", "active"}}})}};
}

// A fake of the events API's sync endpoints (proto-docs/awards-sync.md, messages 1 and 2), with
// ETags. Awards are changed by the test; each change bumps the award's version.
class FakeEventsApi {
 public:
  FakeEventsApi() {
    server_.Get("/v1/sync/awards", [this](const httplib::Request& req, httplib::Response& res) {
      std::unique_lock<std::mutex> lock(mu_);
      ++list_requests_;
      if (down_) {
        res.status = 503;
        return;
      }
      protocol_headers_.push_back(req.get_header_value("X-Civic-Protocol"));
      authorizations_.push_back(req.get_header_value("Authorization"));
      // As the events API's: from the list's content, so a list back to an earlier content
      // has the earlier ETag.
      std::string etag = "\"list";
      for (const auto& [id, award] : awards_) {
        etag += Str("-", id, ".", award["version"].get<int64_t>());
      }
      etag += "\"";
      res.set_header("ETag", etag);
      if (req.get_header_value("If-None-Match") == etag) {
        ++list_not_modified_;
        res.status = 304;
        return;
      }
      nlohmann::json awards = nlohmann::json::array();
      for (const auto& [id, award] : awards_) {
        awards.push_back({{"id", id},
                          {"version", award["version"]},
                          {"status", award["status"]},
                          {"updated_at", UtcIn(std::chrono::seconds(0))}});
      }
      res.set_content(nlohmann::json({{"protocol", 1}, {"awards", awards}}).dump(),
                      "application/json");
      HoldIfAsked(req, lock);
    });
    server_.Get(R"(/v1/sync/awards/(\d+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::unique_lock<std::mutex> lock(mu_);
                  ++award_requests_;
                  if (down_) {
                    res.status = 503;
                    return;
                  }
                  const auto it = awards_.find(std::stoll(req.matches[1]));
                  if (it == awards_.end()) {
                    res.status = 404;
                    res.set_content(R"({"status":404})", "application/problem+json");
                    return;
                  }
                  const std::string etag = Str("\"", it->second["version"].get<int64_t>(), "\"");
                  res.set_header("ETag", etag);
                  if (req.get_header_value("If-None-Match") == etag) {
                    res.status = 304;
                    return;
                  }
                  nlohmann::json snapshot = it->second;
                  snapshot["protocol"] = snapshot_protocol_;
                  res.set_content(snapshot.dump(), "application/json");
                  HoldIfAsked(req, lock);
                });
    // Message 5: the keys, with an ETag from their content.
    server_.Get("/v1/sync/keys", [this](const httplib::Request& req, httplib::Response& res) {
      std::unique_lock<std::mutex> lock(mu_);
      ++key_requests_;
      if (down_) {
        res.status = 503;
        return;
      }
      const std::string body = nlohmann::json({{"protocol", 1}, {"keys", keys_}}).dump();
      const std::string etag = Str("\"keys-", std::hash<std::string>{}(body), "\"");
      res.set_header("ETag", etag);
      if (req.get_header_value("If-None-Match") == etag) {
        res.status = 304;
        return;
      }
      res.set_content(body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~FakeEventsApi() {
    server_.stop();
    thread_.join();
  }
  FakeEventsApi(const FakeEventsApi&) = delete;
  FakeEventsApi& operator=(const FakeEventsApi&) = delete;

  std::string url() const { return Str("http://127.0.0.1:", port_); }

  // Publishes `award` (its "id" names it) with the next version.
  void Put(nlohmann::json award) {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t id = award["id"];
    award["protocol"] = 1;
    award["version"] = ++versions_[id];
    awards_[id] = std::move(award);
  }
  // Changes the award in place (through `edit`) and bumps its version.
  template <class F>
  void Edit(int64_t id, F edit) {
    nlohmann::json award;
    {
      std::lock_guard<std::mutex> lock(mu_);
      award = awards_.at(id);
    }
    edit(award);
    Put(std::move(award));
  }
  void Remove(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    awards_.erase(id);
  }
  // The "protocol" member of the snapshots served from now on.
  void SetSnapshotProtocol(int protocol) {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot_protocol_ = protocol;
  }
  // The keys of message 5 from now on: {"id", "prefix", "token_sha256", "role", "award_ids",
  // "expires_at", "revoked_at"} each.
  void SetKeys(nlohmann::json keys) {
    std::lock_guard<std::mutex> lock(mu_);
    keys_ = std::move(keys);
  }
  int key_requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return key_requests_;
  }
  // The Authorization header of each list request.
  std::vector<std::string> authorizations() {
    std::lock_guard<std::mutex> lock(mu_);
    return authorizations_;
  }
  // While down, every request is answered 503.
  void SetDown(bool down) {
    std::lock_guard<std::mutex> lock(mu_);
    down_ = down;
  }
  // The next 200 answer to GET `path` is made from the awards of that moment, then held until
  // Release() (at most 5 s): a sync in flight, with what it was sent going out of date.
  void HoldNext(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    hold_path_ = path;
  }
  bool WaitHeld() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [this] { return held_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  int list_requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return list_requests_;
  }
  int list_not_modified() {
    std::lock_guard<std::mutex> lock(mu_);
    return list_not_modified_;
  }
  std::vector<std::string> protocol_headers() {
    std::lock_guard<std::mutex> lock(mu_);
    return protocol_headers_;
  }

 private:
  void HoldIfAsked(const httplib::Request& req, std::unique_lock<std::mutex>& lock) {
    if (hold_path_.empty() || req.path != hold_path_) {
      return;
    }
    hold_path_.clear();
    held_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, std::chrono::seconds(5), [this] { return !held_; });
    held_ = false;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;  // guards everything below
  std::map<int64_t, nlohmann::json> awards_;
  std::map<int64_t, int64_t> versions_;
  std::condition_variable cv_;
  bool down_ = false;
  std::string hold_path_;
  bool held_ = false;
  int snapshot_protocol_ = 1;
  int list_requests_ = 0;
  int list_not_modified_ = 0;
  int award_requests_ = 0;
  int key_requests_ = 0;
  nlohmann::json keys_ = nlohmann::json::array();
  std::vector<std::string> protocol_headers_;
  std::vector<std::string> authorizations_;
};

inline ServiceOptions BallotOptions(const std::string& events_url, const std::string& data_dir = "",
                                    std::vector<std::string> extra = {},
                                    int sync_interval_ms = 200) {
  ServiceOptions options;
  options.data_dir = data_dir;
  options.args = {"--events-url", events_url, "--sync-interval-ms",
                  std::to_string(sync_interval_ms)};
  options.args.insert(options.args.end(), extra.begin(), extra.end());
  options.env = {{"CIVIC_BALLOT_VOTER_KEY", kVoterKey},
                 {"CIVIC_BALLOT_CLIENT_KEY", kClientKey},
                 {"CIVIC_BALLOT_ADMIN_KEY", kAdminKey}};
  return options;
}

inline httplib::Headers ClientAuth() {
  return {{"Authorization", std::string("Bearer ") + kClientKey}, {"Connection", "keep-alive"}};
}
inline httplib::Headers AdminAuth() {
  return {{"Authorization", std::string("Bearer ") + kAdminKey}, {"Connection", "keep-alive"}};
}

inline nlohmann::json VoteBody(const std::string& voter, int64_t nomination, int64_t nominee) {
  return {{"voter", voter}, {"nomination", nomination}, {"nominee", nominee}};
}

inline httplib::Result Vote(httplib::Client& client, int64_t award, const std::string& voter,
                            int64_t nomination, int64_t nominee) {
  return client.Post(Str("/v1/awards/", award, "/votes"), ClientAuth(),
                     VoteBody(voter, nomination, nominee).dump(), "application/json");
}

// Admin results of `award` (exact), or null JSON when not 200.
inline nlohmann::json Results(httplib::Client& client, int64_t award) {
  auto r = client.Get(Str("/v1/awards/", award, "/results"), AdminAuth());
  if (!r || r->status != 200) {
    return nullptr;
  }
  return nlohmann::json::parse(r->body);
}

// Waits until the ballot has award `award` at `version` or later.
inline bool WaitForAward(httplib::Client& client, int64_t award, int64_t version = 1) {
  return Eventually([&] {
    const auto results = Results(client, award);
    return !results.is_null() && results["award_version"].get<int64_t>() >= version;
  });
}

// nominee id -> votes, from a results document.
inline std::map<int64_t, int64_t> VotesByNominee(const nlohmann::json& results) {
  std::map<int64_t, int64_t> out;
  for (const auto& nomination : results["nominations"]) {
    for (const auto& nominee : nomination["nominees"]) {
      out[nominee["id"].get<int64_t>()] = nominee["votes"].get<int64_t>();
    }
  }
  return out;
}

// The value of an unlabelled sample `name` in a /metrics body, if it is there.
inline std::optional<double> MetricValue(const std::string& metrics, const std::string& name) {
  const std::string line_start = "\n" + name + " ";
  const size_t at = metrics.find(line_start);
  if (at == std::string::npos) {
    return std::nullopt;
  }
  return std::stod(metrics.substr(at + line_start.size()));
}

}  // namespace civic::test
