#pragma once

// Which e-mails an outbox event means, and their bytes (README, "E-mail").

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/time.hpp"
#include "civic/sqlite/sqlite.hpp"

namespace civic::events::mail {

struct MailSettings {
  std::string smtp_url;  // smtp://host:port or smtps://host:port; empty: no e-mail
  std::string from;      // the From address
  std::string user;      // SMTP AUTH user; empty: none
  std::string password;  // a secret: from a file or the environment only
  std::string templates_dir;
  int reminder_hour = 9;  // reminders leave from this hour, the day before, in the event's zone
  std::chrono::milliseconds timeout{30'000};
  bool enabled() const { return !smtp_url.empty(); }
};

struct Template {
  std::string subject;  // the text template's first line, after "Subject: "
  std::string text;
  std::string html;
};

// The kinds of e-mail, each a pair of files KIND.txt and KIND.html in the templates directory.
const std::vector<std::string>& Kinds();

// Reads every template of Kinds() from `dir`. Throws std::runtime_error naming the file that is
// missing, unreadable or without its "Subject: " line.
std::map<std::string, Template> LoadTemplates(const std::string& dir);

struct Email {
  std::string recipient;  // the address (never logged)
  std::string message;    // RFC 5322 bytes
  std::string message_id;
};

// Composes the e-mails outbox event `type` about (`object_type`, `object_id`) means, one per
// recipient with an address: registration.created (confirmed or waitlisted), .promoted and
// .cancelled to the registrant; event.changed and event.cancelled to everyone registered and not
// cancelled; event.reminder to everyone confirmed. REQUIRES: db in a transaction.
class Composer {
 public:
  Composer(MailSettings settings, std::map<std::string, Template> templates);
  std::vector<Email> Compose(sqlite::Database& db, std::string_view type,
                             std::string_view object_type, int64_t object_id, Instant now) const;
  const MailSettings& settings() const { return settings_; }

 private:
  MailSettings settings_;
  std::map<std::string, Template> templates_;
};

// "05.03.2026 10:00 (UTC+09:00)": the instant in the zone's local time.
std::string LocalTime(Instant instant, const std::string& zone);

}  // namespace civic::events::mail
