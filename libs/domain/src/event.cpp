#include "civic/domain/event.hpp"

#include <algorithm>
#include <set>

namespace civic {

namespace {

bool OneOf(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string List(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& value : values) {
    out += (out.empty() ? "" : ", ") + value;
  }
  return out;
}

}  // namespace

const std::vector<std::string>& EventKinds() {
  static const std::vector<std::string> kKinds = {"forum",        "seminar",  "conference",
                                                  "rally",        "school",   "module",
                                                  "case_session", "ceremony", "webinar"};
  return kKinds;
}

const std::vector<std::string>& EventFormats() {
  static const std::vector<std::string> kFormats = {"offline", "online", "hybrid"};
  return kFormats;
}

const std::vector<std::string>& EventStatuses() {
  static const std::vector<std::string> kStatuses = {"draft", "published", "cancelled",
                                                     "completed"};
  return kStatuses;
}

void Validate(const Event& event, Violations& violations) {
  ValidateFields(event, violations);
  ValidateSchedule(event, violations);
}

void ValidateFields(const Event& event, Violations& violations) {
  if (!OneOf(EventKinds(), event.kind)) {
    violations.Add("kind", "must be one of: " + List(EventKinds()));
  }
  violations.Text("title", event.title, 1, 300);
  violations.Text("description", event.description, 0, 10000);
  violations.Text("venue", event.venue, 0, 500);
  if (!OneOf(EventFormats(), event.format)) {
    violations.Add("format", "must be one of: " + List(EventFormats()));
  }
  if (!OneOf(EventStatuses(), event.status)) {
    violations.Add("status", "must be one of: " + List(EventStatuses()));
  }
  if (event.capacity) {
    violations.Range("capacity", *event.capacity, 0, 1'000'000);
  }
  std::set<int64_t> organizers;
  for (size_t i = 0; i < event.organizer_ids.size(); ++i) {
    if (!organizers.insert(event.organizer_ids[i]).second) {
      violations.Add("organizer_ids[" + std::to_string(i) + "]", "is repeated");
    }
  }
  std::set<int64_t> partners;
  for (size_t i = 0; i < event.partner_ids.size(); ++i) {
    const std::string field = "partner_ids[" + std::to_string(i) + "]";
    if (!partners.insert(event.partner_ids[i]).second) {
      violations.Add(field, "is repeated");
    } else if (organizers.count(event.partner_ids[i]) != 0) {
      violations.Add(field, "is already an organizer");
    }
  }
}

void ValidateSchedule(const Event& event, Violations& violations) {
  if (event.ends_at <= event.starts_at) {
    violations.Add("ends_at", "must be after starts_at");
  }
  if (event.registration_closes_at && *event.registration_closes_at > event.starts_at) {
    violations.Add("registration_closes_at", "must not be after starts_at");
  }
  if (event.registration_opens_at) {
    if (event.registration_closes_at) {
      if (*event.registration_opens_at >= *event.registration_closes_at) {
        violations.Add("registration_opens_at", "must be before registration_closes_at");
      }
    } else if (*event.registration_opens_at >= event.starts_at) {
      violations.Add("registration_opens_at", "must be before starts_at");
    }
  }
}

void ValidateInParent(const Event& event, const Event& parent, Violations& violations) {
  const std::string name = "event " + std::to_string(parent.id) + " «" + parent.title + "»";
  if (event.starts_at < parent.starts_at) {
    violations.Add("starts_at", "must not be before the start of " + name + ", " +
                                    LocalTime(parent.starts_at, parent.time_zone));
  }
  if (event.ends_at > parent.ends_at) {
    violations.Add("ends_at", "must not be after the end of " + name + ", " +
                                  LocalTime(parent.ends_at, parent.time_zone));
  }
}

void ValidateChildrenFit(const Event& event, const std::vector<Event>& children,
                         Violations& violations) {
  for (const Event& child : children) {
    const std::string name = "event " + std::to_string(child.id) + " «" + child.title + "»";
    if (child.starts_at < event.starts_at) {
      violations.Add("starts_at", name + " inside this one starts at " +
                                      LocalTime(child.starts_at, child.time_zone) +
                                      ", before this start; move it first");
    }
    if (child.ends_at > event.ends_at) {
      violations.Add("ends_at", name + " inside this one ends at " +
                                    LocalTime(child.ends_at, child.time_zone) +
                                    ", after this end; move it first");
    }
  }
}

std::optional<std::string> StatusChangeError(std::string_view from, std::string_view to) {
  if (from == to) {
    return std::nullopt;
  }
  const bool allowed = (from == "draft" && (to == "published" || to == "cancelled")) ||
                       (from == "published" && (to == "cancelled" || to == "completed"));
  if (allowed) {
    return std::nullopt;
  }
  std::string reason = "cannot change from " + std::string(from) + " to " + std::string(to);
  if (from == "cancelled" || from == "completed") {
    return reason + ": " + std::string(from) + " is final";
  }
  if (from == "draft") {
    return reason + ": a draft is published or cancelled";
  }
  return reason + ": a published event is cancelled or completed";
}

std::optional<std::string> InitialStatusError(std::string_view status) {
  if (status == "draft" || status == "published") {
    return std::nullopt;
  }
  return "a new event is draft or published, not " + std::string(status);
}

std::optional<std::string> DeleteError(const Event& event) {
  if (event.status == "draft") {
    return std::nullopt;
  }
  return "The event is " + event.status +
         "; only a draft can be deleted. It stays for history: cancel it instead "
         "(PATCH status to cancelled).";
}

std::string LocalTime(Instant instant, const std::string& zone) {
  if (zone.empty() || !IsValidTimeZone(zone)) {
    return FormatUtc(instant);
  }
  return FormatInZone(instant, zone);
}

}  // namespace civic
