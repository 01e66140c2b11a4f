#pragma once

#include <memory>
#include <optional>
#include <string>

#include "access/api_keys.hpp"
#include "award_notifier.hpp"
#include "ballot_client.hpp"
#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "civic/metrics/metrics.hpp"
#include "civic/runtime/config.hpp"
#include "civic/runtime/secret.hpp"
#include "mail/composer.hpp"
#include "outbox/worker.hpp"
#include "resources/registrations.hpp"
#include "storage/store.hpp"
#include "webhooks/routes.hpp"

namespace civic::events {

struct Config {
  runtime::ServerConfig server;
  std::string synchronous = "full";                  // "full" or "normal": see Store
  std::string ballot_url = "http://127.0.0.1:8081";  // base URL of the ballot service
  int audit_retention_days = 365;                    // audit records older than this are removed
  // Webhooks: hosts that may resolve to private addresses, the retry schedule, the timeout.
  std::string webhook_allow_hosts;
  std::string webhook_retry_schedule = "5s,5m,30m,2h,5h,10h,10h";
  int webhook_timeout_ms = 10'000;
  int outbox_retention_days = 30;  // finished outbox events older than this are removed
  // E-mail: off unless smtp_url is set. The SMTP password is a secret (file or environment).
  std::string smtp_url;
  std::string smtp_from;
  std::string smtp_user;
  std::string smtp_password;
  std::string mail_templates_dir = CIVIC_MAIL_TEMPLATES_DIR;
  int mail_reminder_hour = 9;
  // Secrets, from a file or the environment only; never logged.
  std::string ballot_admin_key;  // the ballot's admin key: closes awards, and syncs with us
  std::string admin_key;         // the first admin API key (bootstrap)
};

extern const runtime::SecretSpec kBallotAdminKey;
extern const runtime::SecretSpec kAdminKey;
extern const runtime::SecretSpec kSmtpPassword;

// Registers the events-API flags (--synchronous, --ballot-url, --audit-retention-days, the
// --webhook-* settings and the two key files) on `app`; the key files' paths land in the two
// strings.
void AddEventsFlags(CLI::App& app, Config& config, std::string& ballot_admin_key_file,
                    std::string& admin_key_file, std::string& smtp_password_file);

// Sets config.ballot_admin_key and config.admin_key, each from its file when given, else from
// its environment variable (kBallotAdminKey, kAdminKey); leaves a key empty when neither is set.
// Throws std::runtime_error naming the flag and variable when a key is unreadable, empty, too
// short or not printable ASCII.
// config.smtp_password likewise (kSmtpPassword), when an SMTP user is configured.
void LoadSecrets(Config& config, const std::string& ballot_admin_key_file,
                 const std::string& admin_key_file, const std::string& smtp_password_file,
                 const runtime::EnvLookup& env);

// The events API: its storage and its route table.
class App {
 public:
  // Opens (creating and migrating) DATA_DIR/events.db. Throws on failure with a message that
  // names the file and the reason.
  App(const Config& config, metrics::Registry& registry);

  // Every route of the service, in one table. The App must outlive the router.
  http::Router Routes();
  // Nothing when ready; otherwise why not (storage closed, schema not at the expected version).
  std::optional<std::string> NotReadyReason();
  // Closes storage (after in-flight requests). Later requests that need it get 503.
  void Close();

  // The key roles the rate limits know (after "public"), and who a request comes from for them:
  // a valid key's role and key, else public. Any thread.
  static std::vector<std::string> RateRoles();
  http::RateIdentity RateIdentityOf(const http::Request& request) const;

 private:
  Config config_;
  SystemClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<BallotClient> ballot_;
  std::unique_ptr<AwardChangeNotifier> notifier_;  // after store_ and ballot_: stops first
  std::unique_ptr<access::KeyRing> keys_;
  std::unique_ptr<resources::RegistrationCounters> registrations_;
  webhooks::RouteContext webhooks_;
  std::unique_ptr<mail::Composer> mail_;            // null: no e-mail
  std::unique_ptr<outbox::DeliveryWorker> worker_;  // after store_: stops first
};

}  // namespace civic::events
