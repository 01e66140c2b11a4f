#include "resources/calendars.hpp"

#include <openssl/rand.h>

#include <map>
#include <stdexcept>

#include "access/audit.hpp"
#include "access/scope.hpp"
#include "calendar/entries.hpp"
#include "calendar/ical.hpp"
#include "civic/http/problem.hpp"
#include "civic/runtime/secret.hpp"
#include "resources/cities.hpp"
#include "resources/events.hpp"
#include "resources/json_util.hpp"
#include "resources/people.hpp"
#include "resources/programs.hpp"
#include "resources/sessions.hpp"
#include "rest/crud.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kTokenTag = "calf_";
constexpr size_t kTokenBytes = 32;
constexpr size_t kTokenLength = 5 + 43;  // the tag and 32 bytes in unpadded base64url
constexpr const char* kContentType = "text/calendar; charset=utf-8";
constexpr int kRefreshMinutes = 60;
// A feed read without a key is the same for everyone: shared caches may keep it a while. One
// read with a key may hold what only that key sees (drafts); one read with a token is personal.
constexpr const char* kPublicCache = "public, max-age=300";
constexpr const char* kKeyCache = "private, no-cache";
constexpr const char* kTokenCache = "private, max-age=300";

std::string NewFeedToken() {
  unsigned char random[kTokenBytes];
  if (RAND_bytes(random, sizeof random) != 1) {
    throw std::runtime_error("no random bytes for a token");
  }
  return kTokenTag + rest::Base64UrlEncode(
                         std::string_view(reinterpret_cast<const char*>(random), kTokenBytes));
}

// Builds a calendar from events and sessions, naming each city once.
class FeedBuilder {
 public:
  FeedBuilder(sqlite::Database& db, std::string name) : db_(db) {
    calendar_.name = std::move(name);
    calendar_.refresh_minutes = kRefreshMinutes;
  }

  void Add(const Event& event) {
    calendar_.entries.push_back(calendar::EventEntry(event, CityName(event.city_id)));
  }
  void Add(const Session& session, const Event& event) {
    calendar_.entries.push_back(calendar::SessionEntry(session, event, CityName(event.city_id)));
  }
  const calendar::Calendar& calendar() const { return calendar_; }

 private:
  const std::string& CityName(int64_t city_id) {
    auto it = city_names_.find(city_id);
    if (it == city_names_.end()) {
      auto statement = db_.Prepare("SELECT name FROM cities WHERE id = ?");
      statement.Bind(1, city_id);
      it = city_names_.emplace(city_id, statement.Step() ? statement.ColumnText(0) : "").first;
    }
    return it->second;
  }

  sqlite::Database& db_;
  calendar::Calendar calendar_;
  std::map<int64_t, std::string> city_names_;
};

// The events `where` selects (one ? bound to `id`) that `access` lets the caller read and that
// end at most kFeedPastDays before `now`: kFeedMaxEvents at most, earliest first.
std::vector<Event> FeedEvents(sqlite::Database& db, const std::string& where, int64_t id,
                              Instant now, const rest::SqlWithParams& access) {
  std::string sql = std::string("SELECT ") + Events::List().columns + " FROM events WHERE (" +
                    where + ") AND ends_at >= ?";
  if (!access.sql.empty()) {
    sql += " AND (" + access.sql + ")";
  }
  sql += " ORDER BY starts_at, id LIMIT ?";
  auto statement = db.Prepare(sql);
  statement.Bind(1, id);
  statement.Bind(2, Millis(now - std::chrono::hours(24 * kFeedPastDays)));
  const int next = rest::BindParams(statement, access, 3);
  statement.Bind(next, static_cast<int64_t>(kFeedMaxEvents));
  std::vector<Event> events;
  while (statement.Step()) {
    events.push_back(Events::FromRow(statement));
  }
  return events;
}

// The sessions `where` selects (one ? bound to `id`), earliest first.
std::vector<Session> FeedSessions(sqlite::Database& db, const std::string& where, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + Sessions::List().columns +
                              " FROM sessions WHERE " + where + " ORDER BY starts_at, id");
  statement.Bind(1, id);
  std::vector<Session> sessions;
  while (statement.Step()) {
    sessions.push_back(Sessions::FromRow(statement));
  }
  return sessions;
}

http::Response Answer(const http::Request& request, const calendar::Calendar& calendar,
                      const char* cache_control) {
  http::Response response = rest::Conditional(
      request, http::Response::Text(200, kContentType, calendar::Write(calendar)));
  response.WithHeader("Cache-Control", cache_control);
  return response;
}

const char* CacheForCaller() { return access::Current().has_key() ? kKeyCache : kPublicCache; }

// The person's confirmed registrations (and session sign-ups) of events that are not drafts,
// only of `programs`' events when given.
calendar::Calendar PersonCalendar(sqlite::Database& db, const Person& person, Instant now,
                                  const std::optional<std::vector<int64_t>>& programs) {
  std::string where =
      "id IN (SELECT event_id FROM registrations WHERE person_id = ? AND status = 'confirmed') "
      "AND status <> 'draft'";
  if (programs) {
    where += " AND program_id IN (" + access::IdList(*programs) + ")";
  }
  const std::vector<Event> events = FeedEvents(db, where, person.id, now, {});
  FeedBuilder feed(db, "Мероприятия: " + person.name);
  std::map<int64_t, const Event*> by_id;
  std::vector<int64_t> ids;
  for (const Event& event : events) {
    feed.Add(event);
    by_id.emplace(event.id, &event);
    ids.push_back(event.id);
  }
  if (!ids.empty()) {
    for (const Session& session :
         FeedSessions(db,
                      "id IN (SELECT session_id FROM session_registrations WHERE person_id = ? AND "
                      "status = 'confirmed') AND event_id IN (" +
                          access::IdList(ids) + ")",
                      person.id)) {
      feed.Add(session, *by_id.at(session.event_id));
    }
  }
  return feed.calendar();
}

// Why the current caller may not read or manage person `person_id`'s calendar, or nothing:
// admins may; organisers of a program the person takes part in may read it (their programs'
// events). A feed token opens the person's whole feed, so only those who hold the person's
// contacts (access::MaySeeContacts) may issue or withdraw one (`manage`).
std::optional<http::Response> PersonDenied(sqlite::Database& db, int64_t person_id,
                                           std::string_view what, bool manage = false) {
  const access::Caller& caller = access::Current();
  if (caller.is_admin()) {
    return std::nullopt;
  }
  if (manage) {
    if (access::MaySeeContacts(db, caller, person_id)) {
      return std::nullopt;
    }
    return access::Forbidden("This key (" + caller.key_prefix + ", role " +
                             std::string(access::ToString(caller.role)) + ") may not " +
                             std::string(what) + " of person " + std::to_string(person_id) +
                             ": none of its programs holds the person's contacts.");
  }
  if (caller.role == access::Role::kOrganizer &&
      access::PersonInPrograms(db, person_id, caller.programs)) {
    return std::nullopt;
  }
  return access::Forbidden("This key (" + caller.key_prefix + ", role " +
                           std::string(access::ToString(caller.role)) + ") may not " +
                           std::string(what) + " of person " + std::to_string(person_id) +
                           ": the person takes part in none of its programs.");
}

nlohmann::json FeedAudit(int64_t person_id, Instant created_at) {
  return {{"person_id", person_id}, {"created_at", FormatUtc(created_at)}};
}

// The stored token's record of the person, for the audit trail (never the token), or null.
nlohmann::json StoredFeed(sqlite::Database& db, int64_t person_id) {
  auto statement = db.Prepare("SELECT created_at FROM calendar_feed_tokens WHERE person_id = ?");
  statement.Bind(1, person_id);
  return statement.Step() ? FeedAudit(person_id, FromMillis(statement.ColumnInt64(0)))
                          : nlohmann::json(nullptr);
}

// GET `pattern`: the feed of the events whose `column` is the path's {id} (a program's, a
// city's), as the caller reads them; 404 when there is no R with that id the caller may read.
template <class R, class Title>
void AddEventsFeed(http::Router& router, Store& store, const Clock& clock,
                   const std::string& pattern, const std::string& column, Title title) {
  router.Get(pattern,
             [&store, &clock, column, title](const http::Request& request) {
               const auto id = rest::PathId(request);
               if (!id) {
                 return rest::NotFound(R::kName, request.Param("id"));
               }
               if (auto rejected = rest::RejectQuery(request)) {
                 return std::move(*rejected);
               }
               return rest::Guarded([&] {
                 return store.Read([&](sqlite::Database& db) {
                   const auto owner = R::Get(db, *id);
                   if (!owner || !rest::MayRead<R>(db, *id)) {
                     return rest::NotFound(R::kName, request.Param("id"));
                   }
                   FeedBuilder feed(db, title(*owner));
                   for (const Event& event : FeedEvents(
                            db, column + " = ?", *id, clock.Now(),
                            access::ReadCondition(Events::List().access, access::Current()))) {
                     feed.Add(event);
                   }
                   return Answer(request, feed.calendar(), CacheForCaller());
                 });
               });
             },
             {.offload = true});
}

}  // namespace

void AddCalendarRoutes(http::Router& router, Store& store, const Clock& clock) {
  const http::RouteOptions plain_route{.offload = true};

  router.Get(
      "/v1/events/{id}/calendar.ics",
      [&store](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(Events::kName, request.Param("id"));
        }
        if (auto rejected = rest::RejectQuery(request)) {
          return std::move(*rejected);
        }
        return rest::Guarded([&] {
          return store.Read([&](sqlite::Database& db) {
            const auto event = Events::Get(db, *id);
            if (!event || !rest::MayRead<Events>(db, *id)) {
              return rest::NotFound(Events::kName, request.Param("id"));
            }
            FeedBuilder feed(db, event->title);
            feed.Add(*event);
            for (const Session& session : FeedSessions(db, "event_id = ?", *id)) {
              feed.Add(session, *event);
            }
            return Answer(request, feed.calendar(), CacheForCaller());
          });
        });
      },
      plain_route);

  AddEventsFeed<Programs>(router, store, clock, "/v1/programs/{id}/calendar.ics", "program_id",
                          [](const Program& program) { return program.title; });
  AddEventsFeed<Cities>(router, store, clock, "/v1/cities/{id}/calendar.ics", "city_id",
                        [](const City& city) { return "Мероприятия: " + city.name; });

  router.Get(
      "/v1/people/{id}/calendar.ics",
      [&store, &clock](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(People::kName, request.Param("id"));
        }
        if (auto rejected = rest::RejectQuery(request)) {
          return std::move(*rejected);
        }
        return rest::Guarded([&] {
          return store.Read([&](sqlite::Database& db) {
            const auto person = People::Get(db, *id);
            if (!person) {
              return rest::NotFound(People::kName, request.Param("id"));
            }
            if (auto denied = PersonDenied(db, *id, "read the calendar")) {
              return std::move(*denied);
            }
            const access::Caller& caller = access::Current();
            const auto programs = caller.is_admin()
                                      ? std::nullopt
                                      : std::optional<std::vector<int64_t>>(caller.programs);
            return Answer(request, PersonCalendar(db, *person, clock.Now(), programs), kKeyCache);
          });
        });
      },
      plain_route);

  router.Get(
      "/v1/calendar-feeds/{token}",
      [&store, &clock](const http::Request& request) {
        if (auto rejected = rest::RejectQuery(request)) {
          return std::move(*rejected);
        }
        // Never repeated in an answer or a log line: the token opens a person's calendar.
        const std::string& token = request.Param("token");
        const auto no_feed = [] {
          return http::ErrorResponse(Error::NotFound(
              "No calendar feed has this token: it is mistyped, or a newer token replaced it "
              "(ask the organiser for the new link)."));
        };
        if (token.size() != kTokenLength || token.rfind(kTokenTag, 0) != 0) {
          return no_feed();
        }
        return rest::Guarded([&] {
          return store.Read([&](sqlite::Database& db) {
            auto lookup =
                db.Prepare("SELECT person_id FROM calendar_feed_tokens WHERE token_sha256 = ?");
            lookup.Bind(1, runtime::TokenSha256Hex(token));
            if (!lookup.Step()) {
              return no_feed();
            }
            const auto person = People::Get(db, lookup.ColumnInt64(0));
            if (!person) {
              return no_feed();
            }
            return Answer(request, PersonCalendar(db, *person, clock.Now(), std::nullopt),
                          kTokenCache);
          });
        });
      },
      plain_route);

  router.Post(
      "/v1/people/{id}/calendar-feed",
      [&store, &clock](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(People::kName, request.Param("id"));
        }
        if (auto rejected = rest::RejectQuery(request)) {
          return std::move(*rejected);
        }
        const std::string token = NewFeedToken();
        return rest::Guarded([&] {
          // Not through Idempotent(): a stored answer would keep the token in the database.
          return store.Write([&](sqlite::Database& db) {
            if (!People::Get(db, *id)) {
              return rest::NotFound(People::kName, request.Param("id"));
            }
            if (auto denied = PersonDenied(db, *id, "issue a calendar feed token", true)) {
              return std::move(*denied);
            }
            const nlohmann::json before = StoredFeed(db, *id);
            const Instant now = clock.Now();
            db.Prepare(
                  "INSERT INTO calendar_feed_tokens(person_id, token_sha256, created_by_key, "
                  "created_at) VALUES (?, ?, ?, ?) ON CONFLICT(person_id) DO UPDATE SET "
                  "token_sha256 = excluded.token_sha256, created_by_key = "
                  "excluded.created_by_key, created_at = excluded.created_at")
                .Bind(1, *id)
                .Bind(2, runtime::TokenSha256Hex(token))
                .Bind(3, access::Current().key_id)
                .Bind(4, Millis(now))
                .Run();
            audit::Record(db, "calendar_feed", *id, before, FeedAudit(*id, now), 201);
            return http::Response::Json(201, {{"person_id", *id},
                                              {"token", token},
                                              {"path", "/v1/calendar-feeds/" + token},
                                              {"created_at", FormatUtc(now)},
                                              {"replaced", !before.is_null()}})
                .WithHeader("Cache-Control", "no-store");
          });
        });
      },
      plain_route);

  router.Delete(
      "/v1/people/{id}/calendar-feed",
      [&store](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound(People::kName, request.Param("id"));
        }
        if (auto rejected = rest::RejectQuery(request)) {
          return std::move(*rejected);
        }
        return rest::Guarded([&] {
          return store.Write([&](sqlite::Database& db) {
            if (!People::Get(db, *id)) {
              return rest::NotFound(People::kName, request.Param("id"));
            }
            if (auto denied = PersonDenied(db, *id, "withdraw the calendar feed token", true)) {
              return std::move(*denied);
            }
            const nlohmann::json before = StoredFeed(db, *id);
            if (!before.is_null()) {
              db.Prepare("DELETE FROM calendar_feed_tokens WHERE person_id = ?").Bind(1, *id).Run();
              audit::Record(db, "calendar_feed", *id, before, nullptr, 204);
            }
            return http::Response::Empty(204);
          });
        });
      },
      plain_route);
}

}  // namespace civic::events::resources
