#include "civic/domain/session.hpp"

#include <algorithm>
#include <set>

namespace civic {

namespace {

std::string Describe(const Session& session) {
  return "session " + std::to_string(session.id) + " «" + session.title + "»";
}

}  // namespace

const std::vector<std::string>& SessionKinds() {
  static const std::vector<std::string> kKinds = {"plenary",      "section",   "workshop",
                                                  "master_class", "talk_show", "consultation",
                                                  "case_session"};
  return kKinds;
}

void Validate(const Session& session, Violations& violations) {
  const auto& kinds = SessionKinds();
  if (std::find(kinds.begin(), kinds.end(), session.kind) == kinds.end()) {
    std::string list;
    for (const auto& kind : kinds) {
      list += (list.empty() ? "" : ", ") + kind;
    }
    violations.Add("kind", "must be one of: " + list);
  }
  violations.Text("title", session.title, 1, 300);
  violations.Text("description", session.description, 0, 5000);
  violations.Text("room", session.room, 0, 200);
  if (session.ends_at <= session.starts_at) {
    violations.Add("ends_at", "must be after starts_at");
  }
  if (session.capacity) {
    violations.Range("capacity", *session.capacity, 0, 1'000'000);
  }
  std::set<int64_t> speakers;
  for (size_t i = 0; i < session.speaker_ids.size(); ++i) {
    if (!speakers.insert(session.speaker_ids[i]).second) {
      violations.Add("speaker_ids[" + std::to_string(i) + "]", "is repeated");
    }
  }
  std::set<int64_t> moderators;
  for (size_t i = 0; i < session.moderator_ids.size(); ++i) {
    const std::string field = "moderator_ids[" + std::to_string(i) + "]";
    if (!moderators.insert(session.moderator_ids[i]).second) {
      violations.Add(field, "is repeated");
    } else if (speakers.count(session.moderator_ids[i]) != 0) {
      violations.Add(field, "is already a speaker of the session");
    }
  }
}

void ValidateInEvent(const Session& session, const Event& event, Violations& violations) {
  const std::string& zone = event.time_zone;
  if (session.starts_at < event.starts_at) {
    violations.Add("starts_at", "must not be before the event starts (" +
                                    LocalTime(event.starts_at, zone) + ")");
  } else if (session.starts_at >= event.ends_at) {
    violations.Add("starts_at",
                   "must be before the event ends (" + LocalTime(event.ends_at, zone) + ")");
  }
  if (session.ends_at > event.ends_at) {
    violations.Add("ends_at",
                   "must not be after the event ends (" + LocalTime(event.ends_at, zone) + ")");
  } else if (session.ends_at <= event.starts_at) {
    violations.Add("ends_at",
                   "must be after the event starts (" + LocalTime(event.starts_at, zone) + ")");
  }
  if (session.capacity && event.capacity && *session.capacity > *event.capacity) {
    violations.Add("capacity", "must not exceed the event's capacity (" +
                                   std::to_string(*event.capacity) + ")");
  }
}

void ValidateSessionsFit(const Event& event, const std::vector<Session>& sessions,
                         Violations& violations) {
  const std::string& zone = event.time_zone;
  for (const auto& session : sessions) {
    if (session.starts_at < event.starts_at) {
      violations.Add("starts_at", Describe(session) + " starts at " +
                                      LocalTime(session.starts_at, zone) +
                                      ", before this start; move or delete it first");
    }
    if (session.ends_at > event.ends_at) {
      violations.Add("ends_at", Describe(session) + " ends at " + LocalTime(session.ends_at, zone) +
                                    ", after this end; move or delete it first");
    }
    if (session.capacity && event.capacity && *session.capacity > *event.capacity) {
      violations.Add("capacity", Describe(session) + " has capacity " +
                                     std::to_string(*session.capacity) +
                                     "; lower it first or keep the event's capacity at least that");
    }
  }
}

}  // namespace civic
