#include "app.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <variant>

#include "access/api_keys.hpp"
#include "access/audit.hpp"
#include "access/policy.hpp"
#include "exports/routes.hpp"
#include "mail/smtp.hpp"
#include "migrations.hpp"
#include "outbox/outbox.hpp"
#include "resources/applications.hpp"
#include "resources/attendances.hpp"
#include "resources/award_close.hpp"
#include "resources/award_sync.hpp"
#include "resources/awards.hpp"
#include "resources/calendars.hpp"
#include "resources/cities.hpp"
#include "resources/events.hpp"
#include "resources/laureates.hpp"
#include "resources/nominations.hpp"
#include "resources/nominees.hpp"
#include "resources/organizations.hpp"
#include "resources/people.hpp"
#include "resources/programs.hpp"
#include "resources/projects.hpp"
#include "resources/registrations.hpp"
#include "resources/reviews.hpp"
#include "resources/session_registrations.hpp"
#include "resources/sessions.hpp"
#include "resources/statistics.hpp"
#include "resources/team_members.hpp"
#include "resources/teams.hpp"
#include "rest/crud.hpp"

namespace civic::events {

namespace {

std::string ValidateBallotUrl(std::string& url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  const size_t scheme = url.rfind("http://", 0) == 0 ? 7 : url.rfind("https://", 0) == 0 ? 8 : 0;
  const std::string host_port = url.substr(scheme);
  if (scheme == 0 || host_port.empty() || host_port.find_first_of("/?#@ \t") != std::string::npos) {
    return "must be http://HOST[:PORT] (no path), e.g. http://127.0.0.1:8081";
  }
  return "";
}

// Wraps the write routes of awards, nominations, nominees and cities (and the close action) so that
// a successful write tells `notifier` (their handlers return after the transaction committed):
// a change to an award whose voting has opened reaches the ballot before the answer, which says
// so in X-Civic-Ballot-Sync (award_notifier.hpp).
void NotifyBallotAfterAwardWrites(http::Router& router, AwardChangeNotifier& notifier) {
  for (auto& route : router.routes()) {
    const bool write = route.method == http::Method::kPost || route.method == http::Method::kPut ||
                       route.method == http::Method::kPatch ||
                       route.method == http::Method::kDelete;
    // Cities too: a snapshot names its nominees' cities.
    const bool award_data = route.pattern.rfind("/v1/awards", 0) == 0 ||
                            route.pattern.rfind("/v1/nominations", 0) == 0 ||
                            route.pattern.rfind("/v1/nominees", 0) == 0 ||
                            route.pattern.rfind("/v1/applications/", 0) == 0 ||
                            route.pattern.rfind("/v1/cities/", 0) == 0;
    // A public application changes no award data until a moderator approves it: its writer
    // never waits for the ballot.
    const bool application_submission = route.pattern == "/v1/awards/{id}/applications";
    auto* handler = std::get_if<http::SyncHandler>(&route.handler);
    if (!write || !award_data || application_submission || handler == nullptr) {
      continue;
    }
    *handler = [inner = std::move(*handler), &notifier](const http::Request& request) {
      http::Response response = inner(request);
      if (response.status >= 200 && response.status < 300) {
        const BallotSync sync = notifier.AfterWrite(http::CorrelationOf(request));
        if (sync != BallotSync::kNotNeeded) {
          response.WithHeader("X-Civic-Ballot-Sync", ToHeaderValue(sync));
        }
      }
      return response;
    };
  }
}

}  // namespace

const runtime::SecretSpec kBallotAdminKey{"--ballot-admin-key-file",
                                          "CIVIC_EVENTS_BALLOT_ADMIN_KEY_FILE",
                                          "CIVIC_EVENTS_BALLOT_ADMIN_KEY", 16, true};
const runtime::SecretSpec kAdminKey{"--admin-key-file", "CIVIC_EVENTS_ADMIN_KEY_FILE",
                                    "CIVIC_EVENTS_ADMIN_KEY", 32, true};
const runtime::SecretSpec kSmtpPassword{"--smtp-password-file", "CIVIC_EVENTS_SMTP_PASSWORD_FILE",
                                        "CIVIC_EVENTS_SMTP_PASSWORD", 1, false};

void AddEventsFlags(CLI::App& app, Config& config, std::string& ballot_admin_key_file,
                    std::string& admin_key_file, std::string& smtp_password_file) {
  app.add_option("--synchronous", config.synchronous,
                 "SQLite durability: full (every commit survives power loss) or normal (WAL: "
                 "survives a crash, may lose the last commits on power loss; faster writes)")
      ->envname("CIVIC_EVENTS_SYNCHRONOUS")
      ->check(CLI::IsMember({"full", "normal"}))
      ->capture_default_str();
  app.add_option("--ballot-url", config.ballot_url, "Base URL of the ballot service")
      ->envname("CIVIC_EVENTS_BALLOT_URL")
      ->check(CLI::Validator(ValidateBallotUrl, "URL", "http URL"))
      ->capture_default_str();
  app.add_option("--audit-retention-days", config.audit_retention_days,
                 "Days the audit trail keeps a record")
      ->envname("CIVIC_EVENTS_AUDIT_RETENTION_DAYS")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  app.add_option("--webhook-allow-hosts", config.webhook_allow_hosts,
                 "Comma-separated hosts webhooks may be sent to whatever address they resolve to "
                 "(loopback, private); by default only public addresses are allowed")
      ->envname("CIVIC_EVENTS_WEBHOOK_ALLOW_HOSTS")
      ->capture_default_str();
  app.add_option("--webhook-retry-schedule", config.webhook_retry_schedule,
                 "Waits before each retry of a failed webhook (units ms, s, m, h, d; each "
                 "jittered by +-20%); after the last the subscription is disabled")
      ->envname("CIVIC_EVENTS_WEBHOOK_RETRY_SCHEDULE")
      ->check(CLI::Validator(
          [](std::string& text) {
            std::string reason;
            return outbox::RetrySchedule::Parse(text, reason) ? std::string() : reason;
          },
          "DELAYS", "retry schedule"))
      ->capture_default_str();
  app.add_option("--webhook-timeout-ms", config.webhook_timeout_ms,
                 "Connect, write and read timeout of one webhook delivery, each")
      ->envname("CIVIC_EVENTS_WEBHOOK_TIMEOUT_MS")
      ->check(CLI::Range(100, 120'000))
      ->capture_default_str();
  app.add_option("--outbox-retention-days", config.outbox_retention_days,
                 "Days the outbox keeps an event whose deliveries have all ended (delivered or "
                 "failed), with its deliveries and attempts")
      ->envname("CIVIC_EVENTS_OUTBOX_RETENTION_DAYS")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  app.add_option("--smtp-url", config.smtp_url,
                 "SMTP server for e-mail to participants, smtp://HOST:PORT (STARTTLS when offered) "
                 "or smtps://HOST:PORT; empty: no e-mail")
      ->envname("CIVIC_EVENTS_SMTP_URL")
      ->check(CLI::Validator(
          [](std::string& url) {
            return url.empty() || url.rfind("smtp://", 0) == 0 || url.rfind("smtps://", 0) == 0
                       ? std::string()
                       : std::string("must be smtp://HOST:PORT or smtps://HOST:PORT");
          },
          "URL", "SMTP URL"));
  app.add_option("--smtp-from", config.smtp_from, "The From address of e-mails")
      ->envname("CIVIC_EVENTS_SMTP_FROM");
  app.add_option("--smtp-user", config.smtp_user, "SMTP AUTH user (none: no AUTH)")
      ->envname("CIVIC_EVENTS_SMTP_USER");
  app.add_option("--smtp-password-file", smtp_password_file,
                 "File holding the SMTP password (else env CIVIC_EVENTS_SMTP_PASSWORD)")
      ->envname(kSmtpPassword.file_env);
  app.add_option("--mail-templates-dir", config.mail_templates_dir,
                 "Directory of the e-mail templates (KIND.txt and KIND.html)")
      ->envname("CIVIC_EVENTS_MAIL_TEMPLATES_DIR")
      ->capture_default_str();
  app.add_option("--mail-reminder-hour", config.mail_reminder_hour,
                 "Reminders leave the day before an event from this hour of its time zone")
      ->envname("CIVIC_EVENTS_MAIL_REMINDER_HOUR")
      ->check(CLI::Range(0, 23))
      ->capture_default_str();
  app.add_option("--ballot-admin-key-file", ballot_admin_key_file,
                 "File holding the ballot's admin key (else env CIVIC_EVENTS_BALLOT_ADMIN_KEY); "
                 "needed to close awards, and the key the ballot syncs with")
      ->envname(kBallotAdminKey.file_env);
  app.add_option("--admin-key-file", admin_key_file,
                 "File holding the first admin API key (else env CIVIC_EVENTS_ADMIN_KEY); "
                 "needed to create API keys")
      ->envname(kAdminKey.file_env);
}

void LoadSecrets(Config& config, const std::string& ballot_admin_key_file,
                 const std::string& admin_key_file, const std::string& smtp_password_file,
                 const runtime::EnvLookup& env) {
  if (!config.smtp_user.empty()) {
    config.smtp_password = runtime::ReadSecret(kSmtpPassword, smtp_password_file, env);
  }
  if (!config.smtp_url.empty() && config.smtp_from.empty()) {
    throw std::runtime_error("--smtp-from (CIVIC_EVENTS_SMTP_FROM) is required with --smtp-url");
  }
  config.ballot_admin_key =
      runtime::ReadOptionalSecret(kBallotAdminKey, ballot_admin_key_file, env).value_or("");
  config.admin_key = runtime::ReadOptionalSecret(kAdminKey, admin_key_file, env).value_or("");
  if (!config.admin_key.empty() && config.admin_key == config.ballot_admin_key) {
    throw std::runtime_error(runtime::Where(kAdminKey) + " and " + runtime::Where(kBallotAdminKey) +
                             " must differ");
  }
}

App::App(const Config& config, metrics::Registry& registry) : config_(config) {
  const std::string path = (std::filesystem::path(config.server.data_dir) / "events.db").string();
  store_ = std::make_unique<Store>(
      path, config.server.workers + 1,
      config.synchronous == "normal" ? sqlite::Synchronous::kNormal : sqlite::Synchronous::kFull);
  auto& ballot_requests = registry.AddCounter(
      "events_ballot_requests_total",
      "Calls to the ballot by call (final_results, award_changed) and outcome (ok, error, "
      "unreachable).",
      {"call", "outcome"});
  auto& registrations = registry.AddCounter(
      "events_registrations_total",
      "Registrations for events, by outcome: confirmed (a new one that holds a place), "
      "waitlisted (a new one past the event's capacity), cancelled. Promotions from the waitlist "
      "are not counted.",
      {"outcome"});
  registrations_ =
      std::make_unique<resources::RegistrationCounters>(resources::RegistrationCounters{
          registrations.WithLabels({"confirmed"}), registrations.WithLabels({"waitlisted"}),
          registrations.WithLabels({"cancelled"})});
  ballot_ = std::make_unique<BallotClient>(BallotPeer{config.ballot_url, config.ballot_admin_key},
                                           &ballot_requests);
  notifier_ = std::make_unique<AwardChangeNotifier>(*store_, *ballot_, clock_);
  keys_ = std::make_unique<access::KeyRing>(clock_);
  if (!config.admin_key.empty()) {
    access::Caller admin;
    admin.role = access::Role::kAdmin;
    keys_->AddBootstrap(config.admin_key, admin);
  } else {
    spdlog::warn(
        "no admin key (--admin-key-file or CIVIC_EVENTS_ADMIN_KEY): only the keys already "
        "stored can call admin routes");
  }
  if (!config.ballot_admin_key.empty()) {
    // The ballot reads the sync protocol with the key both services share.
    access::Caller ballot;
    ballot.role = access::Role::kSync;
    keys_->AddBootstrap(config.ballot_admin_key, ballot);
  }
  store_->Read([this](sqlite::Database& db) {
    keys_->Load(db);
    return 0;
  });
  if (!ballot_->configured()) {
    spdlog::warn(
        "no ballot admin key (--ballot-admin-key-file or CIVIC_EVENTS_BALLOT_ADMIN_KEY): "
        "closing an award will answer 503");
  }
  outbox::SetClock(clock_);
  outbox::WorkerOptions worker_options;
  std::string reason;
  worker_options.schedule = *outbox::RetrySchedule::Parse(config.webhook_retry_schedule, reason);
  worker_options.allow.hosts = webhooks::ParseHostList(config.webhook_allow_hosts);
  worker_options.timeout = std::chrono::milliseconds(config.webhook_timeout_ms);
  worker_options.retention_days = config.outbox_retention_days;
  if (!config.smtp_url.empty()) {
    mail::MailSettings settings;
    settings.smtp_url = config.smtp_url;
    settings.from = config.smtp_from;
    settings.user = config.smtp_user;
    settings.password = config.smtp_password;
    settings.templates_dir = config.mail_templates_dir;
    settings.reminder_hour = config.mail_reminder_hour;
    mail::InitCurl();
    mail_ = std::make_unique<mail::Composer>(settings, mail::LoadTemplates(settings.templates_dir));
    outbox::SetMail(mail_.get());
    worker_options.mail = mail_.get();
  }
  webhooks_.allow = worker_options.allow;
  worker_ = std::make_unique<outbox::DeliveryWorker>(*store_, clock_, std::move(worker_options),
                                                     registry);
  webhooks_.wake_up = [this] { worker_->WakeUp(); };
  worker_->Start();
  registry.AddCallbackGauge("events_schema_version", "Schema version of the events database.",
                            [] { return static_cast<double>(Migrations().back().version); });
}

http::Router App::Routes() {
  http::Router router;
  Store& store = *store_;
  // Resources with the standard five endpoints (rest/crud.hpp).
  rest::AddCrudRoutes<resources::Cities>(router, store, clock_);
  rest::AddCrudRoutes<resources::Organizations>(router, store, clock_);
  rest::AddCrudRoutes<resources::People>(router, store, clock_);
  rest::AddCrudRoutes<resources::Programs>(router, store, clock_);
  rest::AddCrudRoutes<resources::Teams>(router, store, clock_);
  rest::AddCrudRoutes<resources::TeamMembers>(router, store, clock_);
  rest::AddNestedList<resources::TeamMembers, resources::Teams>(
      router, store, "/v1/teams/{id}/members", "team_id");
  resources::AddTeamCompositionRoute(router, store);
  rest::AddCrudRoutes<resources::Events>(router, store, clock_);
  rest::AddNestedList<resources::Events, resources::Events>(router, store, "/v1/events/{id}/events",
                                                            "parent_event_id");
  rest::AddCrudRoutes<resources::Sessions>(router, store, clock_);
  rest::AddNestedList<resources::Sessions, resources::Events>(
      router, store, "/v1/events/{id}/sessions", "event_id");
  resources::AddRegistrationRoutes(router, store, clock_, *registrations_);
  resources::AddSessionRegistrationRoutes(router, store, clock_);
  resources::AddStatisticsRoutes(router, store);
  resources::AddAttendanceRoutes(router, store, clock_);
  // Calendar feeds (iCalendar) of events, programs, cities and people.
  resources::AddCalendarRoutes(router, store, clock_);
  // Social projects and their expert reviews.
  rest::AddCrudRoutes<resources::Projects>(router, store, clock_);
  rest::AddNestedList<resources::Projects, resources::Teams>(router, store,
                                                             "/v1/teams/{id}/projects", "team_id");
  rest::AddCrudRoutes<resources::Reviews>(router, store, clock_);
  rest::AddNestedList<resources::Reviews, resources::Projects>(
      router, store, "/v1/projects/{id}/reviews", "project_id");
  resources::AddProjectExpertRoutes(router, store, clock_);
  resources::AddProjectAssessmentRoutes(router, store);
  // Awards (issue #3): awards, nominations, nominees; laureates are written by the close action.
  rest::AddCrudRoutes<resources::Awards>(router, store, clock_);
  rest::AddCrudRoutes<resources::Nominations>(router, store, clock_);
  rest::AddCrudRoutes<resources::Nominees>(router, store, clock_);
  resources::AddNomineePhotoRoutes(router, store, clock_);
  resources::AddApplicationRoutes(router, store, clock_);
  rest::AddNestedList<resources::Nominations, resources::Awards>(
      router, store, "/v1/awards/{id}/nominations", "award_id");
  rest::AddNestedList<resources::Nominees, resources::Awards>(
      router, store, "/v1/awards/{id}/nominees", "award_id");
  rest::AddNestedList<resources::Nominees, resources::Nominations>(
      router, store, "/v1/nominations/{id}/nominees", "nomination_id");
  rest::AddNestedList<resources::Laureates, resources::Awards>(
      router, store, "/v1/awards/{id}/laureates", "award_id");
  resources::AddAwardCloseRoute(router, store, clock_, *ballot_);
  // The ballot's sync protocol (proto-docs/awards-sync.md), and telling it what changed.
  resources::AddAwardSyncRoutes(router, store);
  // CSV exports for spreadsheets, streamed; one worker is always left for other requests.
  exports::AddExportRoutes(router, store, clock_, *ballot_, config_.server.workers - 1);
  // API keys and the audit trail; then every route gets its access policy (access/policy.cpp).
  access::AddApiKeyRoutes(router, store, clock_, *keys_);
  audit::AddAuditRoutes(router, store);
  // Webhook subscriptions and their deliveries (the outbox's worker sends them).
  webhooks::AddWebhookRoutes(router, store, clock_, webhooks_);
  NotifyBallotAfterAwardWrites(router, *notifier_);
  access::Secure(router, *keys_, store, clock_, config_.audit_retention_days);
  return router;
}

std::optional<std::string> App::NotReadyReason() { return store_->NotReadyReason(); }

void App::Close() {
  worker_->Stop();
  notifier_->Stop();
  store_->Close();
}

std::vector<std::string> App::RateRoles() { return access::KeyRoleNames(); }

http::RateIdentity App::RateIdentityOf(const http::Request& request) const {
  const auto authenticated =
      keys_->Authenticate(request.Header("authorization"), /*claim_use=*/false);
  if (authenticated.outcome != access::KeyRing::Authenticated::Outcome::kValid) {
    return {};
  }
  const auto& names = access::KeyRoleNames();
  const std::string_view role = access::ToString(authenticated.caller.role);
  http::RateIdentity identity;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == role) {
      identity.role = static_cast<int>(i) + 1;
    }
  }
  identity.key = std::hash<std::string>{}(authenticated.caller.key_prefix) ^
                 static_cast<uint64_t>(authenticated.caller.key_id);
  identity.log_key = access::LogKey(authenticated.caller);
  return identity;
}

}  // namespace civic::events
