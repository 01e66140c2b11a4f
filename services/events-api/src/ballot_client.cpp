#include "ballot_client.hpp"

#include <httplib.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

namespace civic::events {

namespace {

constexpr time_t kConnectTimeoutSeconds = 2;
constexpr time_t kReadTimeoutSeconds = 10;
constexpr time_t kWriteTimeoutSeconds = 5;

// A non-negative integer member, or an error naming it.
std::optional<int64_t> Count(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer() || it->get<int64_t>() < 0) {
    return std::nullopt;
  }
  return it->get<int64_t>();
}

}  // namespace

BallotClient::BallotClient(BallotPeer peer, metrics::Family<metrics::Counter>* requests)
    : peer_(std::move(peer)), requests_(requests) {}

BallotAnswer BallotClient::FinalResults(int64_t award_id,
                                        const http::Correlation& correlation) const {
  return Send("final_results", false,
              "/v1/awards/" + std::to_string(award_id) + "/results?final=true", correlation);
}

BallotAnswer BallotClient::AwardChanged(int64_t award_id,
                                        const http::Correlation& correlation) const {
  return Send("award_changed", true, "/v1/awards/" + std::to_string(award_id) + "/sync",
              correlation);
}

BallotAnswer BallotClient::Send(const char* call, bool post, const std::string& path,
                                const http::Correlation& correlation) const {
  // One keep-alive connection per thread and ballot URL (an httplib::Client serialises its
  // requests). SIGPIPE is ignored process-wide by runtime::BlockTerminationSignals (main).
  thread_local std::map<std::string, std::unique_ptr<httplib::Client>> clients;
  auto& client = clients[peer_.url];
  if (!client) {
    client = std::make_unique<httplib::Client>(peer_.url);
    client->set_tcp_nodelay(true);
    client->set_keep_alive(true);
    client->set_connection_timeout(kConnectTimeoutSeconds, 0);
    client->set_read_timeout(kReadTimeoutSeconds, 0);
    client->set_write_timeout(kWriteTimeoutSeconds, 0);
  }
  httplib::Headers headers = {{"Accept", "application/json"},
                              {"Connection", "keep-alive"},
                              {"X-Civic-Protocol", kCivicProtocol},
                              {"Authorization", "Bearer " + peer_.admin_key}};
  for (auto& [name, value] : http::CorrelationHeaders(correlation)) {
    headers.emplace(std::move(name), std::move(value));
  }
  auto send = [&] {
    return post ? client->Post(path, headers, "", "application/json") : client->Get(path, headers);
  };
  const auto started = std::chrono::steady_clock::now();
  auto result = send();
  if (!result && result.error() != httplib::Error::Connection &&
      std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
    result = send();  // a quick failure: the kept-alive socket was closed by the ballot; once more
  }
  BallotAnswer answer;
  if (!result) {
    answer.error = httplib::to_string(result.error());
  } else {
    answer.status = result->status;
    answer.body = std::move(result->body);
  }
  if (requests_ != nullptr) {
    const char* outcome = answer.status == 0                            ? "unreachable"
                          : answer.status >= 200 && answer.status < 300 ? "ok"
                                                                        : "error";
    requests_->WithLabels({call, outcome}).Inc();
  }
  return answer;
}

Result<std::vector<NominationTally>> ParseFinalResults(std::string_view body, int64_t award_id) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) {
    return Error::Internal("the results are not a JSON object");
  }
  const auto award = json.find("award_id");
  if (award == json.end() || !award->is_number_integer() || award->get<int64_t>() != award_id) {
    return Error::Internal("the results are not those of award " + std::to_string(award_id));
  }
  const auto final_member = json.find("final");
  if (final_member == json.end() || *final_member != true) {
    return Error::Internal("the results are not final");
  }
  const auto nominations = json.find("nominations");
  if (nominations == json.end() || !nominations->is_array()) {
    return Error::Internal("the results have no nominations array");
  }
  std::vector<NominationTally> tallies;
  std::set<int64_t> seen_nominations;
  for (const auto& nomination : *nominations) {
    if (!nomination.is_object()) {
      return Error::Internal("a nomination of the results is not an object");
    }
    NominationTally tally;
    const auto id = Count(nomination, "id");
    const auto total = Count(nomination, "total_votes");
    const auto nominees = nomination.find("nominees");
    if (!id || !total || nominees == nomination.end() || !nominees->is_array()) {
      return Error::Internal("a nomination of the results lacks id, total_votes or nominees");
    }
    if (!seen_nominations.insert(*id).second) {
      return Error::Internal("nomination " + std::to_string(*id) + " is repeated in the results");
    }
    tally.nomination_id = *id;
    tally.total_votes = *total;
    const auto removed = nomination.find("removed");
    tally.removed = removed != nomination.end() && *removed == true;
    std::set<int64_t> seen_nominees;
    for (const auto& nominee : *nominees) {
      if (!nominee.is_object()) {
        return Error::Internal("a nominee of the results is not an object");
      }
      const auto nominee_id = Count(nominee, "id");
      const auto votes = Count(nominee, "votes");
      if (!nominee_id || !votes) {
        return Error::Internal("a nominee of nomination " + std::to_string(*id) +
                               " lacks id or votes");
      }
      if (!seen_nominees.insert(*nominee_id).second) {
        return Error::Internal("nominee " + std::to_string(*nominee_id) +
                               " is repeated in the results");
      }
      const auto status = nominee.find("status");
      tally.nominees.push_back(
          {*nominee_id, *votes, status != nominee.end() && *status == "removed"});
    }
    tallies.push_back(std::move(tally));
  }
  return tallies;
}

}  // namespace civic::events
