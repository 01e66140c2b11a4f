// Webhooks of the events API (issue #30): a receiver on loopback checks every signature with its
// own implementation of the Standard Webhooks scheme, and counts what it got, through failures,
// timeouts and a kill -9 of the service. The seeds' Yakutsk school of territorial public
// self-government (ТОС) is the event; people are invented.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::Eventually;
using civic::test::FromNow;
using civic::test::Has;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string Path(const std::string& base, int64_t id, const std::string& tail = "") {
  return base + "/" + std::to_string(id) + tail;
}

// Standard Webhooks, written from the specification: the secret is base64 after "whsec_"; the
// signature is base64(HMAC-SHA256(secret, id + "." + timestamp + "." + body)).
std::string DecodeBase64(const std::string& text) {
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  REQUIRE(n >= 0);
  size_t pad = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) {
    ++pad;
  }
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string ExpectedSignature(const std::string& secret, const std::string& id,
                              const std::string& timestamp, const std::string& body) {
  REQUIRE(secret.rfind("whsec_", 0) == 0);
  const std::string key = DecodeBase64(secret.substr(6));
  const std::string content = id + "." + timestamp + "." + body;
  unsigned char mac[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &length);
  std::string out(64, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, length);
  out.resize(static_cast<size_t>(n));
  return "v1," + out;
}

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  return parts;
}

// With CIVIC_CAPTURE_DIR set, records a webhook body for the contract test, which checks it
// against openapi.yaml's `webhooks` (tests/contract/validate-responses.mjs).
void Capture(const std::string& body) {
  const char* dir = std::getenv("CIVIC_CAPTURE_DIR");
  if (dir == nullptr || *dir == '\0') {
    return;
  }
  const json parsed = json::parse(body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("type")) {
    return;
  }
  const json line = {{"service", "webhook-receiver"}, {"webhook", parsed["type"]}, {"body", body}};
  std::filesystem::create_directories(dir);
  std::ofstream out(std::string(dir) + "/webhooks-" + std::to_string(getpid()) + ".ndjson",
                    std::ios::app);
  out << line.dump() << "\n";
}

// An HTTP receiver on 127.0.0.1 that answers as planned and keeps what it got.
class Receiver {
 public:
  struct Answer {
    int status = 200;
    std::chrono::milliseconds delay{0};
    bool hold = false;  // wait until Release() before answering
  };
  struct Message {
    std::string id;
    std::string timestamp;
    std::string signature;
    std::string body;
    int answered = 0;
  };

  Receiver() {
    server_.Post("/hooks/civic", [this](const httplib::Request& request,
                                        httplib::Response& response) {
      Answer answer;
      {
        std::unique_lock lock(mu_);
        if (!plan_.empty()) {
          answer = plan_.front();
          plan_.pop_front();
        }
        Capture(request.body);
        messages_.push_back(
            {request.get_header_value("webhook-id"), request.get_header_value("webhook-timestamp"),
             request.get_header_value("webhook-signature"), request.body, answer.status});
        if (answer.hold) {
          cv_.wait_for(lock, 20s, [this] { return released_; });
        }
      }
      std::this_thread::sleep_for(answer.delay);
      response.status = answer.status;
      response.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    Release();
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/civic"; }
  void Plan(std::vector<Answer> answers) {
    std::lock_guard lock(mu_);
    plan_.assign(answers.begin(), answers.end());
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  std::vector<Message> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  // The messages answered 2xx, by webhook-id (later copies of an id ignored).
  std::map<std::string, json> Delivered() {
    std::map<std::string, json> out;
    for (const auto& m : messages()) {
      if (m.answered >= 200 && m.answered < 300 && !out.contains(m.id)) {
        out[m.id] = json::parse(m.body);
      }
    }
    return out;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Answer> plan_;
  std::vector<Message> messages_;
  bool released_ = false;
};

// Whether one of the signatures in `m` is the one `secret` makes, and its timestamp is within
// five minutes of now.
bool SignedWith(const Receiver::Message& m, const std::string& secret) {
  const long long stamp = std::stoll(m.timestamp);
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  if (std::llabs(now - stamp) > 300) {
    return false;
  }
  const std::string expected = ExpectedSignature(secret, m.id, m.timestamp, m.body);
  for (const auto& signature : Split(m.signature, ' ')) {
    if (signature == expected) {
      return true;
    }
  }
  return false;
}

civic::test::ServiceOptions With(std::vector<std::string> args, std::string data_dir = "") {
  civic::test::ServiceOptions options;
  options.args = std::move(args);
  options.data_dir = std::move(data_dir);
  return options;
}

std::vector<std::string> FastRetries() {
  return {"--webhook-allow-hosts", "127.0.0.1", "--webhook-retry-schedule", "1s,1s,1s,1s",
          "--webhook-timeout-ms",  "1000"};
}

// A program with a published event in Yakutsk, and a person with contacts.
struct School {
  int64_t yakutsk = 0;
  int64_t program = 0;
  int64_t event = 0;

  School(httplib::Client& admin, const std::string& title) {
    yakutsk = Create(admin, "/v1/cities",
                     {{"name", "Якутск"},
                      {"region", "Республика Саха (Якутия)"},
                      {"time_zone", "Asia/Yakutsk"}})["id"];
    program = Create(admin, "/v1/programs",
                     {{"title", title}, {"kind", "education"}, {"starts_on", "2026-12-01"}})["id"];
    event = Create(admin, "/v1/events",
                   {{"kind", "school"},
                    {"title", "Школа ТОС: " + title},
                    {"program_id", program},
                    {"city_id", yakutsk},
                    {"format", "offline"},
                    {"starts_at", FromNow(24h * 30)},
                    {"ends_at", FromNow(24h * 31)},
                    {"capacity", 1},
                    {"status", "published"}})["id"];
  }

  int64_t Person(httplib::Client& admin, const std::string& name, const std::string& email) {
    return Create(
        admin, "/v1/people",
        {{"name", name}, {"city_id", yakutsk}, {"email", email}, {"phone", "+79140000000"}})["id"];
  }
};

json Subscribe(httplib::Client& client, const std::string& url, const json& types,
               const json& program = nullptr) {
  json body = {{"url", url}, {"event_types", types}, {"description", "портал города"}};
  if (!program.is_null()) {
    body["program_id"] = program;
  }
  return Create(client, "/v1/webhooks", body);
}

std::vector<std::string> TypesOf(const std::map<std::string, json>& delivered) {
  std::vector<std::string> types;
  for (const auto& [id, body] : delivered) {
    types.push_back(body["type"]);
  }
  std::sort(types.begin(), types.end());
  return types;
}

}  // namespace

TEST_CASE("Webhooks: every event arrives signed, once, after the receiver failed and timed out",
          "[events][webhooks]") {
  Receiver receiver;
  civic::test::Service service(civic::test::EventsApiBinary(), With(FastRetries()));
  auto admin = service.Client();
  School school(*admin, "Школа ТОС");
  const json subscription =
      Subscribe(*admin, receiver.url(),
                {"registration.created", "registration.confirmed", "registration.waitlisted",
                 "registration.promoted", "registration.cancelled"},
                school.program);
  const std::string secret = subscription["secret"];
  CHECK(secret.rfind("whsec_", 0) == 0);
  CHECK(subscription["enabled"] == true);
  // The secret is shown once.
  auto shown = Call(*admin, "GET", Path("/v1/webhooks", subscription["id"]));
  REQUIRE(shown.status == 200);
  CHECK_FALSE(shown.body.contains("secret"));

  // Two 500s, then an answer too slow for the 1 s timeout, then 200s.
  receiver.Plan({{500}, {500}, {200, 2500ms}});
  const int64_t first = school.Person(*admin, "Айаал Сивцев", "aiaal@example.ru");
  const int64_t second = school.Person(*admin, "Сардана Винокурова", "sardana@example.ru");
  const int64_t confirmed = Create(*admin, Path("/v1/events", school.event, "/registrations"),
                                   {{"person_id", first}})["id"];
  const int64_t waiting = Create(*admin, Path("/v1/events", school.event, "/registrations"),
                                 {{"person_id", second}})["id"];
  // A refused change sends nothing: a second registration of the same person is a 409.
  CHECK(Call(*admin, "POST", Path("/v1/events", school.event, "/registrations"),
             {{"person_id", first}})
            .status == 409);
  // Cancelling the first frees the place: the second is promoted.
  REQUIRE(Call(*admin, "DELETE", Path("/v1/registrations", confirmed)).status == 200);

  const std::vector<std::string> expected = {"registration.cancelled", "registration.confirmed",
                                             "registration.confirmed", "registration.created",
                                             "registration.created",   "registration.promoted",
                                             "registration.waitlisted"};
  REQUIRE(Eventually([&] { return receiver.Delivered().size() == expected.size(); }, 30s));
  const auto delivered = receiver.Delivered();
  CHECK(TypesOf(delivered) == expected);
  for (const auto& message : receiver.messages()) {
    CHECK(SignedWith(message, secret));
    CHECK(message.id.rfind("msg_", 0) == 0);
  }
  // Per subscription in order: the waitlisting of the second before its promotion.
  std::vector<std::string> order;
  std::set<std::string> seen;
  for (const auto& m : receiver.messages()) {
    if (m.answered == 200 && seen.insert(m.id).second) {
      const json body = json::parse(m.body);
      order.push_back(body["type"].get<std::string>() + ":" +
                      std::to_string(body["data"]["id"].get<int64_t>()));
    }
  }
  const auto at = [&](const std::string& what) {
    return std::find(order.begin(), order.end(), what) - order.begin();
  };
  CHECK(at("registration.waitlisted:" + std::to_string(waiting)) <
        at("registration.promoted:" + std::to_string(waiting)));
  // The cancellation that freed the place before the promotion it caused: a receiver counting
  // places never sees two confirmed for one.
  CHECK(at("registration.cancelled:" + std::to_string(confirmed)) <
        at("registration.promoted:" + std::to_string(waiting)));
  CHECK(at("registration.promoted:" + std::to_string(waiting)) <
        at("registration.confirmed:" + std::to_string(waiting)));
  // The payload: a stable event id, the type, the time, the object as the API shows it.
  for (const auto& [id, body] : delivered) {
    CHECK(body["id"].get<std::string>().rfind("evt_", 0) == 0);
    CHECK(body.contains("timestamp"));
    CHECK(body["data"]["event_id"] == school.event);
  }

  // The attempts of the first delivery: 500, 500, timeout, then 200.
  auto deliveries = Call(*admin, "GET", Path("/v1/webhooks", subscription["id"], "/deliveries"));
  REQUIRE(deliveries.status == 200);
  REQUIRE(deliveries.body["items"].size() == expected.size());
  const json head = deliveries.body["items"][0];
  CHECK(head["state"] == "delivered");
  CHECK(head["attempt_count"] == 4);
  auto detail = Call(*admin, "GET", Path("/v1/webhook-deliveries", head["id"]));
  REQUIRE(detail.status == 200);
  std::vector<std::string> outcomes;
  for (const auto& attempt : detail.body["attempts"]) {
    outcomes.push_back(attempt["outcome"]);
  }
  CHECK(outcomes == std::vector<std::string>{"http_error", "http_error", "timeout", "ok"});
  CHECK(detail.body["attempts"][0]["status_code"] == 500);
  CHECK(detail.body["attempts"][2]["status_code"].is_null());
  CHECK(detail.body["attempts"][2]["duration_ms"].get<int64_t>() >= 900);

  // Metrics: by outcome, the queue empty again (the last delivery is counted just after the
  // receiver answered it).
  const auto metric = [&](const std::string& line) {
    return Eventually([&] {
      auto text = admin->Get("/metrics");
      return text && text->body.find(line) != std::string::npos;
    });
  };
  CHECK(metric("events_outbox_attempts_total{channel=\"webhook\",outcome=\"http_error\"} 2"));
  CHECK(metric("events_outbox_attempts_total{channel=\"webhook\",outcome=\"timeout\"} 1"));
  CHECK(metric("events_outbox_deliveries_total{channel=\"webhook\",outcome=\"delivered\"} 7"));
  CHECK(metric("events_outbox_pending{channel=\"webhook\"} 0"));
}

TEST_CASE(
    "Webhooks: a kill -9 mid-delivery loses nothing, and the restart sends the same webhook-id",
    "[events][webhooks][crash]") {
  Receiver receiver;
  civic::test::TempDir data;
  const civic::test::ServiceOptions options = With(FastRetries(), data.path());
  std::string held_id;
  std::string secret;
  {
    civic::test::Service service(civic::test::EventsApiBinary(), options);
    auto admin = service.Client();
    School school(*admin, "Школа ТОС");
    secret = Subscribe(*admin, receiver.url(), {"registration.created"}, school.program)["secret"];
    receiver.Plan({{200, 0ms, true}});  // the first request is held until the service is dead
    for (const char* name : {"Айаал Сивцев", "Сардана Винокурова", "Туйаара Иванова"}) {
      const int64_t person = school.Person(*admin, name, "person@example.ru");
      const auto reply = Call(*admin, "POST", Path("/v1/events", school.event, "/registrations"),
                              {{"person_id", person}});
      REQUIRE(reply.status == 201);
    }
    REQUIRE(Eventually([&] { return !receiver.messages().empty(); }, 10s));
    held_id = receiver.messages().front().id;
    CHECK(service.Signal(SIGKILL) == 128 + SIGKILL);
  }
  receiver.Release();
  civic::test::Service restarted(civic::test::EventsApiBinary(), options);
  REQUIRE(Eventually([&] { return receiver.Delivered().size() == 3; }, 30s));
  // The held message came again with the same id: the receiver can tell the duplicate.
  int copies = 0;
  for (const auto& m : receiver.messages()) {
    copies += m.id == held_id ? 1 : 0;
    CHECK(SignedWith(m, secret));
  }
  CHECK(copies >= 2);
  CHECK(TypesOf(receiver.Delivered()) == std::vector<std::string>(3, "registration.created"));
}

TEST_CASE(
    "Webhooks: persistent failure disables the subscription, and once re-enabled a redelivery "
    "arrives",
    "[events][webhooks]") {
  Receiver receiver;
  civic::test::Service service(
      civic::test::EventsApiBinary(),
      With({"--webhook-allow-hosts", "127.0.0.1", "--webhook-retry-schedule", "1s,1s"}));
  auto admin = service.Client();
  School school(*admin, "Школа ТОС");
  const json subscription =
      Subscribe(*admin, receiver.url(), {"event.changed", "event.cancelled"}, school.program);
  receiver.Plan({{503}, {503}, {503}});
  REQUIRE(Call(*admin, "PATCH", Path("/v1/events", school.event), {{"venue", "Дом дружбы народов"}})
              .status == 200);
  json disabled;
  REQUIRE(Eventually(
      [&] {
        disabled = Call(*admin, "GET", Path("/v1/webhooks", subscription["id"])).body;
        return disabled["enabled"] == false;
      },
      20s));
  CHECK(disabled["disabled_reason"].get<std::string>().find("3 attempts") != std::string::npos);
  CHECK_FALSE(disabled["disabled_at"].is_null());
  auto deliveries = Call(*admin, "GET", Path("/v1/webhooks", subscription["id"], "/deliveries"));
  REQUIRE(deliveries.body["items"].size() == 1);
  const json failed = deliveries.body["items"][0];
  CHECK(failed["state"] == "failed");
  CHECK(failed["attempt_count"] == 3);
  CHECK(failed["last_status_code"] == 503);
  CHECK(receiver.messages().size() == 3);

  // Nothing is queued while it is disabled.
  REQUIRE(
      Call(*admin, "PATCH", Path("/v1/events", school.event), {{"status", "cancelled"}}).status ==
      200);
  // A failed delivery may be sent again; a pending one may not.
  REQUIRE(
      Call(*admin, "PATCH", Path("/v1/webhooks", subscription["id"]), {{"enabled", true}}).status ==
      200);
  auto again = Call(*admin, "POST", Path("/v1/webhook-deliveries", failed["id"], "/redeliver"));
  REQUIRE(again.status == 202);
  CHECK(again.body["redelivery_of"] == failed["id"]);
  CHECK(again.body["message_id"] == failed["message_id"]);
  REQUIRE(Eventually([&] { return receiver.Delivered().size() == 1; }, 10s));
  CHECK(receiver.Delivered().begin()->first == failed["message_id"]);
  CHECK(receiver.Delivered().begin()->second["type"] == "event.changed");
  CHECK(receiver.Delivered().begin()->second["data"]["venue"] == "Дом дружбы народов");
  auto shown = Call(*admin, "GET", Path("/v1/webhooks", subscription["id"]));
  CHECK(shown.body["enabled"] == true);
  CHECK(shown.body["disabled_reason"].is_null());
}

TEST_CASE(
    "Webhooks: an address that is loopback, private or link-local is refused when saved and when "
    "sent",
    "[events][webhooks][ssrf]") {
  Receiver receiver;
  civic::test::TempDir data;
  {
    civic::test::Service strict(civic::test::EventsApiBinary(), With({}, data.path()));
    auto admin = strict.Client();
    for (const std::string& url :
         {receiver.url(), std::string("http://localhost:9/x"), std::string("http://10.1.2.3/x"),
          std::string("http://192.168.0.10/x"), std::string("http://169.254.169.254/latest"),
          std::string("http://[::1]:8080/x"), std::string("http://[::ffff:127.0.0.1]/x"),
          std::string("http://0.0.0.0/x"), std::string("ftp://example.ru/x"),
          std::string("http://user:pw@example.ru/x")}) {
      auto refused =
          Call(*admin, "POST", "/v1/webhooks", {{"url", url}, {"event_types", {"event.changed"}}});
      INFO(url);
      CHECK(refused.status == 422);
      CHECK(Has(ErrorFields(refused), "url"));
    }
    // The refusal names the category, never the address a name resolves to (nor, apart from
    // that, whether it resolves): a key must not map the operator's network with it.
    const auto reason = [&](const std::string& url) {
      const auto refused =
          Call(*admin, "POST", "/v1/webhooks", {{"url", url}, {"event_types", {"event.changed"}}});
      REQUIRE(refused.status == 422);
      return refused.body["errors"][0]["reason"].get<std::string>();
    };
    const std::string named = reason("http://localhost:9/x");
    CHECK(named.find("non-public address") != std::string::npos);
    CHECK(named.find("127.0.0.1") == std::string::npos);
    CHECK(named.find("::1") == std::string::npos);
    CHECK(reason("http://10.1.2.3/x").find("non-public address") != std::string::npos);
    CHECK(Call(*admin, "GET", "/v1/webhooks").body["items"].empty());
  }
  // Saved while the operator allowed loopback; sent after the restart without the allow-list:
  // the check at delivery refuses it, and nothing reaches the receiver.
  json subscription;
  int64_t event = 0;
  {
    civic::test::Service allowing(civic::test::EventsApiBinary(),
                                  With({"--webhook-allow-hosts", "127.0.0.1"}, data.path()));
    auto admin = allowing.Client();
    School school(*admin, "Школа ТОС");
    event = school.event;
    subscription = Subscribe(*admin, receiver.url(), {"event.changed"});
    REQUIRE(allowing.Signal(SIGTERM) == 0);
  }
  civic::test::Service strict(civic::test::EventsApiBinary(),
                              With({"--webhook-retry-schedule", "1s,1s"}, data.path()));
  auto admin = strict.Client();
  REQUIRE(
      Call(*admin, "PATCH", Path("/v1/events", event), {{"venue", "Дом дружбы народов"}}).status ==
      200);
  json delivery;
  REQUIRE(Eventually(
      [&] {
        auto list = Call(*admin, "GET", Path("/v1/webhooks", subscription["id"], "/deliveries"));
        if (list.body["items"].empty()) {
          return false;
        }
        delivery = list.body["items"][0];
        return delivery["attempt_count"].get<int>() >= 1;
      },
      10s));
  CHECK(delivery["last_outcome"] == "refused");
  auto detail = Call(*admin, "GET", Path("/v1/webhook-deliveries", delivery["id"]));
  // The error names the category only, never the address the name resolved to.
  const std::string error = detail.body["attempts"][0]["error"];
  CHECK(error.find("non-public address") != std::string::npos);
  CHECK(error.find("127.0.0.1") == std::string::npos);
  CHECK(receiver.messages().empty());
}

TEST_CASE("Webhooks: each subscriber gets the object as its key reads it, within its programs",
          "[events][webhooks][access]") {
  Receiver receiver;
  civic::test::Service service(civic::test::EventsApiBinary(), With(FastRetries()));
  auto admin = service.Client();
  School school(*admin, "Школа ТОС");
  const int64_t other_program =
      Create(*admin, "/v1/programs",
             {{"title", "Другая программа"}, {"kind", "forum"}, {"starts_on", "2026-12-01"}})["id"];
  auto key = [&](const std::string& role, int64_t program) {
    return service.ClientWithKey(
        Create(*admin, "/v1/api-keys",
               {{"name", "ключ " + role}, {"role", role}, {"program_ids", {program}}})["token"]);
  };
  auto organizer = key("organizer", school.program);
  auto frontend = key("frontend", school.program);
  auto stranger = key("organizer", other_program);

  // Within their programs only.
  auto outside = Call(*organizer, "POST", "/v1/webhooks",
                      {{"url", receiver.url()},
                       {"event_types", {"registration.created"}},
                       {"program_id", other_program}});
  CHECK(outside.status == 403);
  // Without a program_id (only an admin's key subscribes to every program): the field is
  // required, a 422 naming it, for a null too.
  auto everywhere = Call(*organizer, "POST", "/v1/webhooks",
                         {{"url", receiver.url()}, {"event_types", {"registration.created"}}});
  CHECK(everywhere.status == 422);
  CHECK(Has(ErrorFields(everywhere), "program_id"));
  CHECK(Has(ErrorFields(Call(*frontend, "POST", "/v1/webhooks",
                             {{"url", receiver.url()},
                              {"event_types", {"registration.created"}},
                              {"program_id", nullptr}})),
            "program_id"));
  auto unknown = Call(*organizer, "POST", "/v1/webhooks",
                      {{"url", receiver.url()},
                       {"event_types", {"registration.exploded"}},
                       {"program_id", school.program}});
  CHECK(unknown.status == 422);
  CHECK(Has(ErrorFields(unknown), "event_types"));

  const json by_organizer = Subscribe(*organizer, receiver.url() + "?who=organizer",
                                      {"registration.created"}, school.program);
  const json by_frontend = Subscribe(*frontend, receiver.url() + "?who=frontend",
                                     {"registration.created"}, school.program);
  const json by_stranger = Subscribe(*stranger, receiver.url() + "?who=stranger",
                                     {"registration.created"}, other_program);
  // Another program's subscription is not found by the organizer.
  CHECK(Call(*organizer, "GET", Path("/v1/webhooks", by_stranger["id"])).status == 404);
  CHECK(Call(*organizer, "GET", "/v1/webhooks").body["items"].size() == 2);

  // The resident signs up through the program's frontend, which so gives the program's
  // organizers the contacts (docs/security.md, "Contacts").
  const int64_t person = school.Person(*frontend, "Айаал Сивцев", "aiaal@example.ru");
  REQUIRE(Call(*frontend, "POST", Path("/v1/events", school.event, "/registrations"),
               {{"person_id", person}})
              .status == 201);
  REQUIRE(Eventually([&] { return receiver.Delivered().size() == 2; }, 15s));
  std::map<std::string, std::string> secrets = {{by_organizer["secret"], "organizer"},
                                                {by_frontend["secret"], "frontend"}};
  int organizer_seen = 0;
  int frontend_seen = 0;
  for (const auto& m : receiver.messages()) {
    const json body = json::parse(m.body);
    CHECK(body["type"] == "registration.created");
    CHECK(body["data"]["person_id"] == person);
    if (SignedWith(m, by_organizer["secret"])) {
      // The organizer reads its participants' contacts.
      ++organizer_seen;
      CHECK(body["data"]["person"]["email"] == "aiaal@example.ru");
    } else {
      REQUIRE(SignedWith(m, by_frontend["secret"]));
      // A frontend may not read people: no person, no contacts anywhere in the payload.
      ++frontend_seen;
      CHECK(body["data"]["person"].is_null());
      CHECK(m.body.find("aiaal@example.ru") == std::string::npos);
      CHECK(m.body.find("+7914") == std::string::npos);
    }
  }
  CHECK(organizer_seen == 1);
  CHECK(frontend_seen == 1);

  // A frontend of the same program cannot reach the organizer's subscription (its payloads
  // hold contacts): not listed, not found, not changed, rotated, redelivered or deleted.
  const std::string theirs_path = Path("/v1/webhooks", by_organizer["id"]);
  const json listed = Call(*frontend, "GET", "/v1/webhooks").body;
  REQUIRE(listed["items"].size() == 1);
  CHECK(listed["items"][0]["id"] == by_frontend["id"]);
  CHECK(Call(*frontend, "GET", theirs_path).status == 404);
  CHECK(Call(*frontend, "PATCH", theirs_path, {{"url", receiver.url() + "?who=thief"}}).status ==
        404);
  CHECK(Call(*frontend, "POST", theirs_path + "/rotate-secret", json::object()).status == 404);
  CHECK(Call(*frontend, "GET", theirs_path + "/deliveries").status == 404);
  const json organizer_deliveries = Call(*organizer, "GET", theirs_path + "/deliveries").body;
  REQUIRE(organizer_deliveries["items"].size() == 1);
  const std::string delivery =
      Path("/v1/webhook-deliveries", organizer_deliveries["items"][0]["id"]);
  CHECK(Call(*frontend, "GET", delivery).status == 404);
  CHECK(Call(*frontend, "POST", delivery + "/redeliver", json::object()).status == 404);
  CHECK(Call(*frontend, "DELETE", theirs_path).status == 404);
  const json still = Call(*organizer, "GET", theirs_path).body;
  CHECK(still["url"] == receiver.url() + "?who=organizer");
  // The organizer manages the frontend's subscription of its program (it renders for the
  // frontend, so no contacts move).
  CHECK(Call(*organizer, "GET", Path("/v1/webhooks", by_frontend["id"])).status == 200);
  CHECK(Call(*frontend, "GET", Path("/v1/webhooks", by_frontend["id"])).status == 200);

  // The other program's subscriber got nothing, and has nothing queued.
  auto theirs = Call(*stranger, "GET", Path("/v1/webhooks", by_stranger["id"], "/deliveries"));
  REQUIRE(theirs.status == 200);
  CHECK(theirs.body["items"].empty());
}

TEST_CASE("Webhooks: a rotated secret signs beside the old one until the overlap ends",
          "[events][webhooks]") {
  Receiver receiver;
  civic::test::Service service(civic::test::EventsApiBinary(), With(FastRetries()));
  auto admin = service.Client();
  School school(*admin, "Школа ТОС");
  const json subscription = Subscribe(*admin, receiver.url(), {"event.changed"}, school.program);
  const std::string old_secret = subscription["secret"];
  auto rotated = Call(*admin, "POST", Path("/v1/webhooks", subscription["id"], "/rotate-secret"),
                      {{"overlap_seconds", 3600}});
  REQUIRE(rotated.status == 200);
  const std::string new_secret = rotated.body["secret"];
  CHECK(new_secret != old_secret);
  CHECK_FALSE(rotated.body["previous_secret_expires_at"].is_null());
  REQUIRE(Call(*admin, "PATCH", Path("/v1/events", school.event), {{"venue", "Дом дружбы народов"}})
              .status == 200);
  REQUIRE(Eventually([&] { return receiver.Delivered().size() == 1; }, 10s));
  const auto m = receiver.messages().front();
  CHECK(Split(m.signature, ' ').size() == 2);
  CHECK(SignedWith(m, new_secret));
  CHECK(SignedWith(m, old_secret));
  // Without an overlap the old secret stops at once.
  REQUIRE(Call(*admin, "POST", Path("/v1/webhooks", subscription["id"], "/rotate-secret"),
               {{"overlap_seconds", 0}})
              .status == 200);
  CHECK(Call(*admin, "GET", Path("/v1/webhooks", subscription["id"]))
            .body["previous_secret_expires_at"]
            .is_null());
}

TEST_CASE("Webhooks: sessions, projects, reviews and awards send their events too",
          "[events][webhooks]") {
  Receiver receiver;
  civic::test::Service service(civic::test::EventsApiBinary(), With(FastRetries()));
  auto admin = service.Client();
  School school(*admin, "Школа ТОС");
  // An admin's subscription without a program: every program's events.
  const json subscription =
      Subscribe(*admin, receiver.url(),
                {"event.published", "session.changed", "project.status_changed", "review.submitted",
                 "award.voting_opened", "registration.checked_in"});
  CHECK(subscription["program_id"].is_null());
  const int64_t draft = Create(*admin, "/v1/events",
                               {{"kind", "seminar"},
                                {"title", "Семинар лидеров ТОС"},
                                {"program_id", school.program},
                                {"city_id", school.yakutsk},
                                {"format", "offline"},
                                {"starts_at", FromNow(24h * 40)},
                                {"ends_at", FromNow(24h * 41)},
                                {"status", "draft"}})["id"];
  REQUIRE(Call(*admin, "PATCH", Path("/v1/events", draft), {{"status", "published"}}).status ==
          200);
  const int64_t session = Create(*admin, "/v1/sessions",
                                 {{"event_id", school.event},
                                  {"kind", "master_class"},
                                  {"title", "Как открыть ТОС"},
                                  {"starts_at", FromNow(24h * 30 + 2h)},
                                  {"ends_at", FromNow(24h * 30 + 3h)}})["id"];
  REQUIRE(Call(*admin, "PATCH", Path("/v1/sessions", session), {{"room", "Зал 2"}}).status == 200);
  REQUIRE(Call(*admin, "PATCH", Path("/v1/programs", school.program),
               {{"review_criteria", {{{"name", "Польза"}, {"weight", 1}}}}})
              .status == 200);
  const int64_t team = Create(*admin, "/v1/teams",
                              {{"name", "ТОС «Сайсары»"},
                               {"city_id", school.yakutsk},
                               {"program_id", school.program},
                               {"status", "active"}})["id"];
  const int64_t project =
      Create(*admin, "/v1/projects",
             {{"team_id", team}, {"title", "Соседский центр"}, {"status", "draft"}})["id"];
  REQUIRE(Call(*admin, "PATCH", Path("/v1/projects", project), {{"status", "submitted"}}).status ==
          200);
  const int64_t expert = school.Person(*admin, "Эксперт Петров", "expert@example.ru");
  REQUIRE(Call(*admin, "PUT", Path("/v1/projects", project, "/experts/" + std::to_string(expert)))
              .status == 201);
  Create(*admin, "/v1/reviews",
         {{"project_id", project}, {"expert_id", expert}, {"scores", {{"Польза", 8}}}});
  const int64_t award = Create(*admin, "/v1/awards",
                               {{"title", "Новые Созидатели"},
                                {"edition_year", 2026},
                                {"program_id", school.program},
                                {"voting_opens_at", FromNow(-1h)},
                                {"voting_closes_at", FromNow(24h * 10)},
                                {"status", "published"}})["id"];
  REQUIRE(Call(*admin, "PATCH", Path("/v1/awards", award), {{"status", "voting"}}).status == 200);

  const std::vector<std::string> expected = {"award.voting_opened", "event.published",
                                             "project.status_changed", "review.submitted",
                                             "session.changed"};
  REQUIRE(Eventually([&] { return receiver.Delivered().size() == expected.size(); }, 15s));
  CHECK(TypesOf(receiver.Delivered()) == expected);
  for (const auto& [id, body] : receiver.Delivered()) {
    const std::string type = body["type"];
    if (type == "session.changed") {
      CHECK(body["data"]["room"] == "Зал 2");
    } else if (type == "project.status_changed") {
      CHECK(body["data"]["status"] == "submitted");
    } else if (type == "award.voting_opened") {
      CHECK(body["data"]["status"] == "voting");
      CHECK(body["data"]["laureates"].empty());
    } else if (type == "event.published") {
      CHECK(body["data"]["id"] == draft);
    }
  }
}

TEST_CASE(
    "Webhooks: an application's submission and its moderator's decision reach moderators only",
    "[events][webhooks][applications]") {
  Receiver receiver;
  civic::test::Service service(civic::test::EventsApiBinary(), With(FastRetries()));
  auto admin = service.Client();
  School school(*admin, "Школа ТОС");
  const int64_t award = Create(*admin, "/v1/awards",
                               {{"title", "Новые Созидатели"},
                                {"edition_year", 2026},
                                {"program_id", school.program},
                                {"applications_open_at", FromNow(-1h)},
                                {"applications_close_at", FromNow(24h)},
                                {"voting_opens_at", FromNow(48h)},
                                {"voting_closes_at", FromNow(96h)},
                                {"status", "published"}})["id"];
  const int64_t nomination =
      Create(*admin, "/v1/nominations", {{"award_id", award}, {"title", "Лидер изменений"}})["id"];
  auto key = [&](const std::string& role) {
    return service.ClientWithKey(Create(
        *admin, "/v1/api-keys",
        {{"name", "ключ " + role}, {"role", role}, {"program_ids", {school.program}}})["token"]);
  };
  auto organizer = key("organizer");
  auto frontend = key("frontend");
  const json types = {"application.submitted", "application.decided"};
  const json by_organizer =
      Subscribe(*organizer, receiver.url() + "?who=organizer", types, school.program);
  // A frontend may subscribe to them, but may not read applications: it gets none.
  Subscribe(*frontend, receiver.url() + "?who=frontend", types, school.program);

  auto apply = [&](const std::string& name) {
    const auto reply =
        Call(*frontend, "POST", Path("/v1/awards", award, "/applications"),
             {{"nomination_id", nomination},
              {"kind", "person"},
              {"name", name},
              {"city_id", school.yakutsk},
              {"summary", "Открыла ТОС в своём квартале"},
              {"applicant", {{"name", "Сардана Иванова"}, {"email", "sardana@example.ru"}}},
              {"consent", {{"publication", true}, {"text", "Согласна на публикацию"}}}});
    REQUIRE(reply.status == 201);
    return reply.body;
  };
  const int64_t first_id = apply("Айына Егорова")["application"]["id"];
  const json second = apply("Туяра Попова");
  const int64_t second_id = second["application"]["id"];
  REQUIRE(Call(*organizer, "POST", Path("/v1/applications", first_id, "/approve"), json::object())
              .status == 200);
  REQUIRE(Call(*organizer, "POST", Path("/v1/applications", second_id, "/request-changes"),
               {{"reason", "Добавьте ссылку на новости ТОС"}})
              .status == 200);
  // The applicant sends it again with the link asked for: submitted once more.
  REQUIRE(Call(*service.ClientWithKey(""), "PATCH", "/v1/application-status",
               {{"links", {"https://ykt.example/tos/news"}}},
               {{"Application-Token", second["status_token"].get<std::string>()}})
              .status == 200);

  REQUIRE(Eventually([&] { return receiver.Delivered().size() == 5; }, 15s));
  std::vector<std::pair<std::string, int64_t>> seen;
  for (const auto& m : receiver.messages()) {
    REQUIRE(SignedWith(m, by_organizer["secret"]));  // nothing went to the frontend's
    const json body = json::parse(m.body);
    seen.emplace_back(body["type"], body["data"]["id"]);
    if (body["data"]["id"] == first_id && body["type"] == "application.decided") {
      CHECK(body["data"]["status"] == "approved");
      CHECK(body["data"]["nominee_id"].is_number_integer());
    }
    // As the moderators read it: with the applicant's contact.
    CHECK(body["data"]["applicant"]["email"] == "sardana@example.ru");
  }
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"application.submitted", first_id},
      {"application.submitted", second_id},
      {"application.decided", first_id},
      {"application.decided", second_id},
      {"application.submitted", second_id}};
  CHECK(seen == expected);
}

TEST_CASE(
    "Webhooks: PATCH with null is a 422 'is required' for url, event_types and enabled, and "
    "clears description",
    "[events][webhooks][patch]") {
  civic::test::Service service(civic::test::EventsApiBinary(),
                               With({"--webhook-allow-hosts", "127.0.0.1"}));
  auto admin = service.Client();
  const json created =
      Subscribe(*admin, "http://127.0.0.1:9/hooks", {"registration.created"}, nullptr);
  const std::string path = Path("/v1/webhooks", created["id"]);
  const json before = Call(*admin, "GET", path).body;
  for (const char* member : {"url", "event_types", "enabled"}) {
    INFO(member);
    const auto reply = Call(*admin, "PATCH", path, {{member, nullptr}});
    CHECK(reply.status == 422);
    REQUIRE(reply.body["errors"].size() == 1);
    CHECK(reply.body["errors"][0]["field"] == member);
    CHECK(reply.body["errors"][0]["reason"] == "is required");
  }
  // Refused: nothing changed.
  CHECK(Call(*admin, "GET", path).body == before);

  const auto cleared = Call(*admin, "PATCH", path, {{"description", nullptr}});
  CHECK(cleared.status == 200);
  CHECK(cleared.body["description"] == "");
  CHECK(Call(*admin, "GET", path).body["description"] == "");
}
