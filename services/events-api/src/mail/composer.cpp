#include "mail/composer.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "mail/message.hpp"
#include "outbox/outbox.hpp"
#include "resources/events.hpp"
#include "resources/registrations.hpp"

namespace civic::events::mail {

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("mail template " + path + " cannot be read");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Recipient {
  int64_t person_id = 0;
  std::string name;
  std::string email;
};

std::optional<Recipient> PersonOf(sqlite::Database& db, int64_t person_id) {
  auto row = db.Prepare("SELECT name, email FROM people WHERE id = ?");
  row.Bind(1, person_id);
  if (!row.Step() || row.ColumnText(1).empty()) {
    return std::nullopt;
  }
  return Recipient{person_id, row.ColumnText(0), row.ColumnText(1)};
}

std::string CityOf(sqlite::Database& db, int64_t city_id) {
  auto row = db.Prepare("SELECT name FROM cities WHERE id = ?");
  row.Bind(1, city_id);
  return row.Step() ? row.ColumnText(0) : "";
}

}  // namespace

const std::vector<std::string>& Kinds() {
  static const std::vector<std::string> kKinds = {"confirmed", "waitlisted",    "promoted",
                                                  "cancelled", "event_changed", "event_cancelled",
                                                  "reminder"};
  return kKinds;
}

std::map<std::string, Template> LoadTemplates(const std::string& dir) {
  std::map<std::string, Template> templates;
  for (const auto& kind : Kinds()) {
    const std::string text_path = dir + "/" + kind + ".txt";
    std::string text = ReadFile(text_path);
    const size_t end = text.find('\n');
    if (text.rfind("Subject: ", 0) != 0 || end == std::string::npos) {
      throw std::runtime_error("mail template " + text_path +
                               " must begin with a line \"Subject: ...\"");
    }
    Template t;
    t.subject = text.substr(9, end - 9);
    size_t body = end + 1;
    if (body < text.size() && text[body] == '\n') {
      ++body;
    }
    t.text = text.substr(body);
    t.html = ReadFile(dir + "/" + kind + ".html");
    templates.emplace(kind, std::move(t));
  }
  return templates;
}

std::string LocalTime(Instant instant, const std::string& zone) {
  if (zone.empty()) {
    return FormatUtc(instant);
  }
  // "2026-03-05T10:00:00.000+09:00": the offset is the last 6 characters.
  const std::string iso = FormatInZone(instant, zone);
  return iso.substr(8, 2) + "." + iso.substr(5, 2) + "." + iso.substr(0, 4) + " " +
         iso.substr(11, 5) + " (UTC" + iso.substr(iso.size() - 6) + ")";
}

Composer::Composer(MailSettings settings, std::map<std::string, Template> templates)
    : settings_(std::move(settings)), templates_(std::move(templates)) {}

std::vector<Email> Composer::Compose(sqlite::Database& db, std::string_view type,
                                     std::string_view object_type, int64_t object_id,
                                     Instant now) const {
  std::string kind;
  std::optional<Event> event;
  std::vector<int64_t> people;
  if (object_type == resources::Registrations::kName) {
    const auto registration = resources::Registrations::Get(db, object_id);
    if (!registration) {
      return {};
    }
    if (type == "registration.created") {
      kind = registration->status == "waitlisted" ? "waitlisted" : "confirmed";
    } else if (type == "registration.promoted") {
      kind = "promoted";
    } else if (type == "registration.cancelled") {
      kind = "cancelled";
    } else {
      return {};
    }
    event = resources::Events::Get(db, registration->event_id);
    people.push_back(registration->person_id);
  } else if (object_type == resources::Events::kName) {
    const char* statuses = "";
    if (type == "event.changed") {
      kind = "event_changed";
      statuses = "('confirmed', 'waitlisted')";
    } else if (type == "event.cancelled") {
      kind = "event_cancelled";
      statuses = "('confirmed', 'waitlisted')";
    } else if (type == "event.reminder") {
      kind = "reminder";
      statuses = "('confirmed')";
    } else {
      return {};
    }
    event = resources::Events::Get(db, object_id);
    auto rows = db.Prepare(std::string("SELECT person_id FROM registrations WHERE event_id = ? AND "
                                       "status IN ") +
                           statuses + " ORDER BY id");
    rows.Bind(1, object_id);
    while (rows.Step()) {
      people.push_back(rows.ColumnInt64(0));
    }
  } else {
    return {};
  }
  const auto found = templates_.find(kind);
  if (!event || found == templates_.end()) {
    return {};
  }
  const Template& t = found->second;
  const std::string city = CityOf(db, event->city_id);
  const std::string ics = Ics(*event, city, now);
  std::vector<Email> emails;
  for (const int64_t person_id : people) {
    const auto recipient = PersonOf(db, person_id);
    if (!recipient) {
      continue;
    }
    const std::map<std::string, std::string> values = {
        {"name", recipient->name},
        {"event_title", event->title},
        {"event_start", LocalTime(event->starts_at, event->time_zone)},
        {"event_end", LocalTime(event->ends_at, event->time_zone)},
        {"venue", event->venue.empty() ? "уточняется" : event->venue},
        {"city", city},
    };
    Message message;
    message.from = settings_.from;
    message.to = recipient->email;
    message.subject = Fill(t.subject, values, false);
    message.text = Fill(t.text, values, false);
    message.html = Fill(t.html, values, true);
    message.ics = ics;
    message.message_id = outbox::NewId("msg_") + "@civic-events-api";
    message.date = now;
    emails.push_back({recipient->email, Render(message), message.message_id});
  }
  return emails;
}

}  // namespace civic::events::mail
