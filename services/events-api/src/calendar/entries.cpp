#include "calendar/entries.hpp"

#include <algorithm>

namespace civic::events::calendar {

namespace {

std::string Joined(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const std::string_view part : parts) {
    if (!part.empty()) {
      out += (out.empty() ? "" : ", ") + std::string(part);
    }
  }
  return out;
}

}  // namespace

std::string EventUid(int64_t event_id) {
  return "event-" + std::to_string(event_id) + "@civic-platform";
}

std::string SessionUid(int64_t session_id) {
  return "session-" + std::to_string(session_id) + "@civic-platform";
}

Entry EventEntry(const Event& event, const std::string& city_name) {
  Entry entry;
  entry.uid = EventUid(event.id);
  entry.summary = event.title;
  entry.description = event.description;
  entry.location = Joined({event.venue, city_name});
  entry.starts_at = event.starts_at;
  entry.ends_at = event.ends_at;
  entry.time_zone = event.time_zone;
  entry.stamp = event.updated_at;
  entry.last_modified = event.updated_at;
  entry.cancelled = event.status == "cancelled";
  return entry;
}

Entry SessionEntry(const Session& session, const Event& event, const std::string& city_name) {
  Entry entry;
  entry.uid = SessionUid(session.id);
  entry.summary = session.title;
  entry.description = session.description;
  entry.location = Joined({session.room, event.venue, city_name});
  entry.related_to = EventUid(event.id);
  entry.starts_at = session.starts_at;
  entry.ends_at = session.ends_at;
  entry.time_zone = event.time_zone;
  entry.last_modified = std::max(session.updated_at, event.updated_at);
  entry.stamp = entry.last_modified;
  entry.cancelled = event.status == "cancelled";
  return entry;
}

}  // namespace civic::events::calendar
