// The pure parts of webhooks and the outbox: Standard Webhooks signatures (the specification's
// own example), which addresses are refused, the retry schedule, the events a change means,
// and that the outbox writes nothing when the change's transaction rolls back.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>

#include "civic/metrics/metrics.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "eventually.hpp"
#include "migrations.hpp"
#include "outbox/outbox.hpp"
#include "outbox/retry.hpp"
#include "outbox/worker.hpp"
#include "storage/local_dates.hpp"
#include "storage/search.hpp"
#include "storage/sort_keys.hpp"
#include "webhooks/signature.hpp"
#include "webhooks/ssrf.hpp"

using civic::events::outbox::RetrySchedule;
using civic::events::outbox::TypesOf;
using civic::events::webhooks::ForbiddenAddress;
using civic::events::webhooks::ParseUrl;
using nlohmann::json;

TEST_CASE("Webhook signature: the Standard Webhooks example signs as the specification says",
          "[events][webhooks]") {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const std::string header = civic::events::webhooks::SignatureHeader(
      {secret}, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})");
  CHECK(header == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  // Two live secrets: two signatures, space-separated, the newest first.
  const std::string fresh = civic::events::webhooks::NewSecret();
  const std::string both = civic::events::webhooks::SignatureHeader(
      {fresh, secret}, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})");
  CHECK(both.size() == header.size() * 2 + 1);
  CHECK(both.substr(both.find(' ') + 1) == header);
  CHECK(fresh.rfind("whsec_", 0) == 0);
  CHECK(civic::events::webhooks::SecretBytes(fresh)->size() == 32);
  CHECK_FALSE(civic::events::webhooks::SecretBytes("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
}

TEST_CASE("Webhook addresses: loopback, private, link-local and metadata addresses are refused",
          "[events][webhooks][ssrf]") {
  for (const char* refused : {"127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.0.1", "172.31.255.255",
                              "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                              "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1",
                              "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "ff02::1"}) {
    INFO(refused);
    CHECK(ForbiddenAddress(refused));
  }
  for (const char* allowed : {"8.8.8.8", "77.88.8.8", "172.32.0.1", "2a02:6b8::feed:0ff",
                              "::ffff:77.88.8.8", "100.128.0.1"}) {
    INFO(allowed);
    CHECK_FALSE(ForbiddenAddress(allowed));
  }
}

TEST_CASE("Webhook URLs: http(s) only, no user information, a port in range",
          "[events][webhooks][ssrf]") {
  std::string reason;
  auto url = ParseUrl("https://Portal.Example.ru:8443/hooks?city=yakutsk", reason);
  REQUIRE(url);
  CHECK(url->https);
  CHECK(url->host == "portal.example.ru");
  CHECK(url->port == 8443);
  CHECK(url->target == "/hooks?city=yakutsk");
  url = ParseUrl("http://[::1]/x", reason);
  REQUIRE(url);
  CHECK(url->host == "::1");
  CHECK(url->port == 80);
  for (const char* bad : {"ftp://example.ru/", "http://user:pw@example.ru/", "http://example.ru:0/",
                          "http://example.ru:70000/", "http:///x", "http://exa mple.ru/",
                          "http://example.ru/#frag", "//example.ru/"}) {
    INFO(bad);
    CHECK_FALSE(ParseUrl(bad, reason));
  }
  civic::events::webhooks::AllowList allow{
      civic::events::webhooks::ParseHostList(" 127.0.0.1, LocalHost ,[::1]")};
  CHECK(allow.Allows("localhost"));
  CHECK(allow.Allows("::1"));
  CHECK_FALSE(allow.Allows("example.ru"));
}

TEST_CASE("Webhook retries: the default schedule tries for more than 24 hours, with jitter",
          "[events][webhooks]") {
  const RetrySchedule schedule = RetrySchedule::Default();
  CHECK(schedule.Span() > std::chrono::hours(24));
  CHECK(schedule.MaxAttempts() == 8);
  std::mt19937_64 random(7);
  for (int attempt = 1; attempt < schedule.MaxAttempts(); ++attempt) {
    const auto wait = schedule.After(attempt, random);
    REQUIRE(wait);
    const auto base = schedule.delays[static_cast<size_t>(attempt - 1)];
    CHECK(wait->count() >= base.count() * 0.8 - 1);
    CHECK(wait->count() <= base.count() * 1.2 + 1);
  }
  CHECK_FALSE(schedule.After(schedule.MaxAttempts(), random));
  std::string reason;
  const auto parsed = RetrySchedule::Parse("500ms,2s,1m,1h,1d", reason);
  REQUIRE(parsed);
  CHECK(parsed->delays.size() == 5);
  CHECK(parsed->Span() == std::chrono::milliseconds(500 + 2000 + 60'000 + 3'600'000 + 86'400'000));
  for (const char* bad : {"", "5", "5x", "s", "1s,,2s", "8d", "0s"}) {
    INFO(bad);
    CHECK_FALSE(RetrySchedule::Parse(bad, reason));
  }
}

TEST_CASE("Outbox events: what a change of a registration, event or award means",
          "[events][webhooks]") {
  using Types = std::vector<std::string>;
  CHECK(TypesOf("registration", nullptr, {{"status", "confirmed"}}) ==
        Types{"registration.created", "registration.confirmed"});
  CHECK(TypesOf("registration", nullptr, {{"status", "waitlisted"}}) ==
        Types{"registration.created", "registration.waitlisted"});
  CHECK(TypesOf("registration", {{"status", "confirmed"}, {"checked_in_at", nullptr}},
                {{"status", "confirmed"}, {"checked_in_at", "2026-12-01T01:00:00Z"}}) ==
        Types{"registration.checked_in"});
  // A cancellation is recorded by the registration flow itself, before the promotions it causes.
  CHECK(TypesOf("registration", {{"status", "confirmed"}, {"checked_in_at", nullptr}},
                {{"status", "cancelled"}, {"checked_in_at", nullptr}})
            .empty());
  CHECK(TypesOf("event", nullptr, {{"status", "draft"}}).empty());
  CHECK(TypesOf("event", {{"status", "draft"}}, {{"status", "published"}}) ==
        Types{"event.published"});
  CHECK(TypesOf("event", {{"status", "published"}, {"venue", "А"}},
                {{"status", "published"}, {"venue", "Б"}}) == Types{"event.changed"});
  CHECK(TypesOf("event", {{"status", "published"}, {"title", "А"}},
                {{"status", "published"}, {"title", "Б"}})
            .empty());
  CHECK(TypesOf("event", {{"status", "published"}, {"venue", "А"}},
                {{"status", "cancelled"}, {"venue", "Б"}}) == Types{"event.cancelled"});
  CHECK(TypesOf("award", {{"status", "voting"}}, {{"status", "closed"}}) ==
        Types{"award.voting_closed", "award.laureates_recorded"});
  CHECK(TypesOf("award", {{"status", "published"}}, {{"status", "voting"}}) ==
        Types{"award.voting_opened"});
  CHECK(TypesOf("review", nullptr, {{"id", 1}}) == Types{"review.submitted"});
  // An application: submitted when made or sent again; decided by a moderator.
  CHECK(TypesOf("application", nullptr, {{"status", "submitted"}}) ==
        Types{"application.submitted"});
  CHECK(TypesOf("application", {{"status", "submitted"}}, {{"status", "approved"}}) ==
        Types{"application.decided"});
  CHECK(TypesOf("application", {{"status", "submitted"}}, {{"status", "changes_requested"}}) ==
        Types{"application.decided"});
  CHECK(TypesOf("application", {{"status", "changes_requested"}}, {{"status", "submitted"}}) ==
        Types{"application.submitted"});
  CHECK(TypesOf("application", {{"status", "submitted"}}, {{"status", "submitted"}}).empty());
  // A check-in for a day or a session: the registration checked in; an undone one: nothing.
  CHECK(TypesOf("attendance", nullptr, {{"id", 1}, {"day", "2026-12-01"}}) ==
        Types{"registration.checked_in"});
  CHECK(TypesOf("attendance", {{"id", 1}, {"session_id", 2}}, nullptr).empty());
  CHECK(TypesOf("event", {{"status", "published"}}, nullptr).empty());
  CHECK(TypesOf("api_key", nullptr, {{"id", 1}}).empty());
}

TEST_CASE("Outbox: a change that rolls back leaves no event and no delivery",
          "[events][webhooks]") {
  auto db = civic::sqlite::Database::Open(":memory:");
  civic::events::RegisterSearchFunctions(db);
  civic::events::RegisterSortKeyFunction(db);
  civic::events::RegisterLocalDateFunction(db);
  civic::sqlite::Migrate(db, civic::events::Migrations());
  db.Exec(
      "INSERT INTO webhook_subscriptions(url, event_types, owner_key_id, secret, created_at, "
      "updated_at) VALUES ('http://127.0.0.1:9/', '[\"event.published\"]', 0, 'whsec_AAAA', 0, "
      "0);"
      "INSERT INTO cities(name, time_zone, created_at, updated_at) VALUES ('Якутск', "
      "'Asia/Yakutsk', 0, 0);"
      "INSERT INTO events(kind, title, city_id, format, starts_at, ends_at, status, created_at, "
      "updated_at) VALUES ('school', 'Школа ТОС', 1, 'offline', 0, 1, 'published', 0, 0);");
  const auto count = [&](const char* table) {
    auto statement = db.Prepare(std::string("SELECT count(*) FROM ") + table);
    statement.Step();
    return statement.ColumnInt64(0);
  };
  try {
    civic::sqlite::Transaction txn(db, civic::sqlite::TransactionMode::kImmediate);
    civic::events::outbox::Record(db, "event.published", "event", 1);
    REQUIRE(count("outbox_deliveries") == 1);
    throw std::runtime_error("the change fails after the event was recorded");
  } catch (const std::runtime_error&) {
  }
  CHECK(count("outbox_events") == 0);
  CHECK(count("outbox_deliveries") == 0);
  {
    civic::sqlite::Transaction txn(db, civic::sqlite::TransactionMode::kImmediate);
    civic::events::outbox::Record(db, "event.published", "event", 1);
    txn.Commit();
  }
  CHECK(count("outbox_events") == 1);
  CHECK(count("outbox_deliveries") == 1);
}

namespace {

class FixedClock : public civic::Clock {
 public:
  explicit FixedClock(civic::Instant now) : now_(now) {}
  civic::Instant Now() const override { return now_; }

 private:
  civic::Instant now_;
};

}  // namespace

TEST_CASE("Outbox retention: finished events past the retention go, pending ones stay",
          "[events][webhooks]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("civic-outbox-" + civic::events::outbox::NewId(""));
  std::filesystem::create_directories(dir);
  {
    civic::events::Store store((dir / "events.db").string(), 2);
    const int64_t day = 86'400'000;
    store.Write([&](civic::sqlite::Database& db) {
      db.Exec(
          "INSERT INTO webhook_subscriptions(id, url, event_types, owner_key_id, secret, enabled, "
          "created_at, updated_at) VALUES (1, 'http://127.0.0.1:9/', '[]', 0, 'whsec_AAAA', 0, 0, "
          "0);"
          "INSERT INTO outbox_events(id, uid, type, object_type, object_id, occurred_at) VALUES "
          "(1, 'evt_old_done', 'event.changed', 'event', 1, 0), "
          "(2, 'evt_old_pending', 'event.changed', 'event', 1, 0), "
          "(3, 'evt_recent', 'event.changed', 'event', 1, " +
          std::to_string(40 * day) +
          ");"
          "INSERT INTO outbox_deliveries(event_id, channel, subscription_id, message_id, body, "
          "state, next_attempt_at, created_at) VALUES "
          "(1, 'webhook', 1, 'msg_1', '{}', 'delivered', 0, 0), "
          "(2, 'webhook', 1, 'msg_2', '{}', 'pending', 0, 0), "
          "(3, 'webhook', 1, 'msg_3', '{}', 'failed', 0, 0);"
          "INSERT INTO outbox_attempts(delivery_id, at, duration_ms, outcome) VALUES "
          "(1, 0, 5, 'ok');");
      return 0;
    });
    FixedClock clock(civic::Instant{std::chrono::milliseconds(45 * day)});
    civic::metrics::Registry registry;
    civic::events::outbox::WorkerOptions options;
    options.retention_days = 30;
    civic::events::outbox::DeliveryWorker worker(store, clock, options, registry);
    worker.Start();
    const auto uids = [&] {
      return store.Read([](civic::sqlite::Database& db) {
        std::vector<std::string> out;
        auto rows = db.Prepare("SELECT uid FROM outbox_events ORDER BY id");
        while (rows.Step()) {
          out.push_back(rows.ColumnText(0));
        }
        return out;
      });
    };
    CHECK(civic::test::Eventually([&] { return uids().size() == 2; }));
    worker.Stop();
    CHECK(uids() == std::vector<std::string>{"evt_old_pending", "evt_recent"});
    const auto attempts = store.Read([](civic::sqlite::Database& db) {
      auto count = db.Prepare("SELECT count(*) FROM outbox_attempts");
      count.Step();
      return count.ColumnInt64(0);
    });
    CHECK(attempts == 0);
    store.Close();
  }
  std::filesystem::remove_all(dir);
}
