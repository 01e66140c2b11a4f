#pragma once

// The five endpoints every resource has, written once: create (POST, Idempotency-Key), read
// (GET, ETag/304), partial update (PATCH, JSON Merge Patch, If-Match/412), delete (DELETE,
// If-Match/412, 409 when referenced) and list (GET, filters, sort, cursor pagination).
//
// A resource type R supplies:
//   using Model = ...;                      // has id, created_at, updated_at
//   static constexpr const char* kName;     // "city", for messages
//   static constexpr const char* kPath;     // "/v1/cities" (items at kPath + "/{id}")
//   static Result<Model> FromJson(const nlohmann::json&, rest::JsonReader::Mode);
//   static nlohmann::json ToJson(const Model&);
//   static void CheckReferences(sqlite::Database&, const Model&, Violations&);
//                                      // or (..., Violations&, Instant now) when the rules
//                                      // depend on the time (an award whose voting opened)
//   static std::optional<Model> Get(sqlite::Database&, int64_t id);
//   static void Insert(sqlite::Database&, Model&);           // sets model.id
//   static void Update(sqlite::Database&, const Model&);
//   static std::optional<std::string> DeleteConflict(sqlite::Database&, int64_t id);
//                                      // or (sqlite::Database&, int64_t id, Instant now) when
//                                      // the answer depends on the time
//   static void Delete(sqlite::Database&, int64_t id);
//   static const rest::ListSpec& List();
//   static Model FromRow(sqlite::Statement&);               // columns of List().columns
// and optionally:
//   static nlohmann::json Present(const Model&);  // the public representation, when it leaves
//                                                 // out private members of ToJson (contacts);
//                                                 // ToJson stays the full document PATCH merges
//   static void Expand(sqlite::Database&, const Model&, const rest::ListQuery&, nlohmann::json&);
//                                      // embeds the related rows a list's ?expand= names
//                                      // (a Filter of Kind::kExpand) in an item
//   static void Resolve(sqlite::Database&, Model&);  // fills members derived from other rows
//                                                    // (an event's time zone, from its city);
//                                                    // runs after FromJson, before
//                                                    // CheckReferences, on POST and PATCH
//   static nlohmann::json PresentFor(sqlite::Database&, const Model&);
//                                      // the representation for access::Current(), when it
//                                      // depends on the caller (a person's contacts)
//   static std::optional<int64_t> ProgramOf(sqlite::Database&, const Model&);
//                                      // the program an object belongs to: organizers write
//                                      // the objects of their programs (access/scope.hpp)
//   static bool MayWrite(sqlite::Database&, const Model&, const access::Caller&);
//                                      // instead of ProgramOf, when the rule is another
//                                      // (an expert's own reviews)
// Without ProgramOf or MayWrite the route's roles alone decide who writes (a directory).
// Rows are read as List().access allows; a row the caller may not read is a 404.

#include <spdlog/spdlog.h>

#include <string>

#include "access/audit.hpp"
#include "access/caller.hpp"
#include "access/scope.hpp"
#include "civic/domain/time.hpp"
#include "civic/domain/validation.hpp"
#include "civic/http/problem.hpp"
#include "civic/http/router.hpp"
#include "rest/conventions.hpp"
#include "rest/idempotency.hpp"
#include "rest/json_reader.hpp"
#include "storage/store.hpp"

namespace civic::events::rest {

// Runs `fn`, answering 503 when storage is closed or failing (busy, I/O): the request may be
// retried. Anything else propagates to the server's catch-all (500).
template <class F>
http::Response Guarded(F&& fn) {
  try {
    return fn();
  } catch (const StoreClosed&) {
    return http::ErrorResponse(Error::Unavailable("The service is stopping; retry shortly.", 1));
  } catch (const sqlite::Error& e) {
    if (e.IsBusy() || e.IsIo() || e.IsFull()) {
      spdlog::error("storage: {}", e.what());
      return http::ErrorResponse(
          Error::Unavailable("Storage is temporarily unavailable; retry shortly.", 1));
    }
    throw;
  }
}

// 403 for a creation the caller's scope does not cover.
inline http::Response CreateDenied(std::string_view what) {
  const access::Caller& caller = access::Current();
  std::string detail = "This key (" + std::string(access::ToString(caller.role)) +
                       ") may not create this " + std::string(what);
  if (!caller.programs.empty()) {
    detail += ": it belongs to no program of the key's (" + access::IdList(caller.programs) + ")";
  }
  return access::Forbidden(detail + ".");
}

inline http::Response Created(const std::string& location, const nlohmann::json& body) {
  http::Response response = http::Response::Json(201, body);
  response.WithHeader("Location", location);
  response.WithHeader("ETag", ETagOf(response.body));
  return response;
}

inline http::Response Ok(const nlohmann::json& body) {
  http::Response response = http::Response::Json(200, body);
  response.WithHeader("ETag", ETagOf(response.body));
  return response;
}

// The representation clients see: R::PresentFor or R::Present when R has one, else R::ToJson.
template <class R>
nlohmann::json Presented(sqlite::Database& db, const typename R::Model& model) {
  if constexpr (requires { R::PresentFor(db, model); }) {
    return R::PresentFor(db, model);
  } else if constexpr (requires { R::Present(model); }) {
    return R::Present(model);
  } else {
    return R::ToJson(model);
  }
}

// Whether access::Current() may write `model` (see the top of this file).
template <class R>
bool MayWrite(sqlite::Database& db, const typename R::Model& model) {
  const access::Caller& caller = access::Current();
  if constexpr (requires { R::MayWrite(db, model, caller); }) {
    return R::MayWrite(db, model, caller);
  } else if constexpr (requires { R::ProgramOf(db, model); }) {
    return access::MayWriteIn(caller, R::ProgramOf(db, model));
  } else {
    return true;
  }
}

// Whether access::Current() may read row `id` of R.
template <class R>
bool MayRead(sqlite::Database& db, int64_t id) {
  return access::MayRead(db, R::List().table, R::List().access, id, access::Current());
}

// Runs R::Resolve when R has one.
template <class R>
void Resolved(sqlite::Database& db, typename R::Model& model) {
  if constexpr (requires { R::Resolve(db, model); }) {
    R::Resolve(db, model);
  }
}

template <class R>
std::string CurrentETag(sqlite::Database& db, const typename R::Model& model) {
  return ETagOf(http::Response::Json(200, Presented<R>(db, model)).body);
}

// Runs a list query for R and answers the page.
template <class R>
http::Response ListOf(Store& store, const http::Request& request, const ListSpec& spec,
                      const ListQuery& query) {
  return store.Read([&](sqlite::Database& db) {
    const SqlWithParams sql =
        BuildListSql(spec, query, access::ReadCondition(spec.access, access::Current()));
    auto statement = db.Prepare(sql.sql);
    BindParams(statement, sql);
    nlohmann::json items = nlohmann::json::array();
    std::optional<std::string> next;
    int count = 0;
    std::string last_text;
    int64_t last_number = 0;
    int64_t last_id = 0;
    while (statement.Step()) {
      if (count == query.limit) {
        next = MakeCursor(query, last_text, last_number, last_id);
        break;
      }
      const typename R::Model model = R::FromRow(statement);
      nlohmann::json item = Presented<R>(db, model);
      if constexpr (requires { R::Expand(db, model, query, item); }) {
        R::Expand(db, model, query, item);
      }
      items.push_back(std::move(item));
      const int sort_column = statement.ColumnCount() - 2;
      if (query.sort->text) {
        last_text = statement.ColumnText(sort_column);
      } else {
        last_number = statement.ColumnInt64(sort_column);
      }
      last_id = statement.ColumnInt64(sort_column + 1);
      ++count;
    }
    return ListResponse(request, std::move(items), next, query.limit);
  });
}

// GET `pattern` (e.g. "/v1/events/{id}/sessions"): the list of R whose `filter_param` equals
// the path's {id}, with R's other filters, sort and pagination; 404 when there is no Parent
// with that id that the caller may read. The list holds the rows the caller may read.
template <class R, class Parent>
void AddNestedList(http::Router& router, Store& store, const std::string& pattern,
                   const std::string& filter_param) {
  router.Get(pattern,
             [&store, filter_param](const http::Request& original) {
               const auto id = PathId(original);
               if (!id) {
                 return NotFound(Parent::kName, original.Param("id"));
               }
               http::Request request = original;
               for (const auto& [name, value] : request.query) {
                 if (name == filter_param) {
                   return http::ErrorResponse(Error::Invalid(
                       filter_param, "is given by the path; leave it out of the query"));
                 }
               }
               request.query.emplace_back(filter_param, std::to_string(*id));
               auto query = ParseListQuery(request, R::List());
               if (!query.ok()) {
                 return http::ErrorResponse(query.error());
               }
               return Guarded([&] {
                 const bool exists = store.Read([&](sqlite::Database& db) {
                   auto statement =
                       db.Prepare("SELECT 1 FROM " + Parent::List().table + " WHERE id = ?");
                   statement.Bind(1, *id);
                   return statement.Step() && MayRead<Parent>(db, *id);
                 });
                 if (!exists) {
                   return NotFound(Parent::kName, original.Param("id"));
                 }
                 return ListOf<R>(store, request, R::List(), query.value());
               });
             },
             {.offload = true});
}

// GET `pattern` (a collection, e.g. "/v1/webhooks"): R's list with its filters, sort and
// pagination, holding the rows the caller may read.
template <class R>
void AddListRoute(http::Router& router, Store& store, const std::string& pattern) {
  router.Get(pattern,
             [&store](const http::Request& request) {
               auto query = ParseListQuery(request, R::List());
               if (!query.ok()) {
                 return http::ErrorResponse(query.error());
               }
               return Guarded([&] { return ListOf<R>(store, request, R::List(), query.value()); });
             },
             {.offload = true});
}

// GET `pattern` (an item, e.g. "/v1/webhooks/{id}"): the R with the path's {id} as
// `show(db, model)` presents it, with an ETag and If-None-Match; 404 when there is none the
// caller may read.
template <class R, class Show>
void AddItemRoute(http::Router& router, Store& store, const std::string& pattern, Show show) {
  router.Get(pattern,
             [&store, show](const http::Request& request) {
               const auto id = PathId(request);
               if (!id) {
                 return NotFound(R::kName, request.Param("id"));
               }
               if (auto rejected = RejectQuery(request)) {
                 return std::move(*rejected);
               }
               return Guarded([&] {
                 auto shown =
                     store.Read([&](sqlite::Database& db) -> std::optional<nlohmann::json> {
                       auto model = R::Get(db, *id);
                       if (!model || !MayRead<R>(db, *id)) {
                         return std::nullopt;
                       }
                       return show(db, *model);
                     });
                 if (!shown) {
                   return NotFound(R::kName, request.Param("id"));
                 }
                 return Conditional(request, http::Response::Json(200, *shown));
               });
             },
             {.offload = true});
}

template <class R>
void AddItemRoute(http::Router& router, Store& store, const std::string& pattern) {
  AddItemRoute<R>(router, store, pattern, [](sqlite::Database& db, const typename R::Model& model) {
    return Presented<R>(db, model);
  });
}

// R::CheckReferences, given the time when it takes it.
template <class R>
void CheckedReferences(sqlite::Database& db, const typename R::Model& model, Violations& violations,
                       const Clock& clock) {
  if constexpr (requires { R::CheckReferences(db, model, violations, clock.Now()); }) {
    R::CheckReferences(db, model, violations, clock.Now());
  } else {
    R::CheckReferences(db, model, violations);
  }
}

template <class R>
void AddCrudRoutes(http::Router& router, Store& store, const Clock& clock) {
  using Model = typename R::Model;
  const std::string collection = R::kPath;
  const std::string item = collection + "/{id}";
  const http::RouteOptions json_route{.json_body = true, .offload = true};
  const http::RouteOptions plain_route{.offload = true};

  router.Post(
      collection,
      [&store, &clock, collection](const http::Request& request) {
        if (!request.json.is_object()) {  // alone: no member of it can be checked
          return http::ErrorResponse(Error::Invalid("body", "must be a JSON object"));
        }
        auto parsed = R::FromJson(request.json, JsonReader::Mode::kCreate);
        if (!parsed.ok()) {
          return http::ErrorResponse(parsed.error());
        }
        return Guarded([&] {
          return Idempotent(store, clock, request, [&](sqlite::Database& db) {
            Model model = std::move(parsed.value());
            Resolved<R>(db, model);
            Violations violations;
            CheckedReferences<R>(db, model, violations, clock);
            if (!violations.empty()) {
              return http::ErrorResponse(violations.ToError());
            }
            if (!MayWrite<R>(db, model)) {
              return CreateDenied(R::kName);
            }
            model.created_at = model.updated_at = clock.Now();
            R::Insert(db, model);
            // Recorded first: the record notes which programs now hold a person's contacts
            // (access::NoteContactHolders), and the answer shows what a GET would show next.
            audit::Record(db, R::kName, model.id, nullptr, R::ToJson(model), 201);
            return Created(collection + "/" + std::to_string(model.id), Presented<R>(db, model));
          });
        });
      },
      json_route);

  AddItemRoute<R>(router, store, item);

  router.Patch(
      item,
      [&store, &clock](const http::Request& request) {
        const auto id = PathId(request);
        if (!id) {
          return NotFound(R::kName, request.Param("id"));
        }
        if (!request.json.is_object()) {
          return http::ErrorResponse(
              Error::Invalid("body", "must be a JSON object (a JSON Merge Patch, RFC 7396)"));
        }
        return Guarded([&] {
          return store.Write([&](sqlite::Database& db) {
            auto current = R::Get(db, *id);
            if (!current || !MayRead<R>(db, *id)) {
              return NotFound(R::kName, request.Param("id"));
            }
            if (!MayWrite<R>(db, *current)) {
              return access::WriteDenied(access::Current(), true, R::kName, request.Param("id"));
            }
            if (auto failed = CheckIfMatch(request, CurrentETag<R>(db, *current))) {
              return http::ErrorResponse(*failed);
            }
            nlohmann::json merged = R::ToJson(*current);
            merged.merge_patch(request.json);
            auto parsed = R::FromJson(merged, JsonReader::Mode::kMerged);
            if (!parsed.ok()) {
              return http::ErrorResponse(parsed.error());
            }
            Model model = std::move(parsed.value());
            model.id = current->id;
            model.created_at = current->created_at;
            Resolved<R>(db, model);
            model.updated_at = current->updated_at;
            if (R::ToJson(model) == R::ToJson(*current)) {
              // Nothing changed: keep updated_at and the ETag. The rules that guard a change
              // (references, frozen fields, a decided project's reviews) have nothing to refuse.
              return Ok(Presented<R>(db, *current));
            }
            Violations violations;
            CheckedReferences<R>(db, model, violations, clock);
            if (!violations.empty()) {
              return http::ErrorResponse(violations.ToError());
            }
            if (!MayWrite<R>(db, model)) {
              return access::Forbidden(std::string("This key may not move the ") + R::kName +
                                       " to where the change puts it (a program not its own).");
            }
            model.updated_at = clock.Now();
            R::Update(db, model);
            audit::Record(db, R::kName, model.id, R::ToJson(*current), R::ToJson(model), 200);
            return Ok(Presented<R>(db, model));
          });
        });
      },
      json_route);

  router.Delete(
      item,
      [&store, &clock](const http::Request& request) {
        const auto id = PathId(request);
        if (!id) {
          return NotFound(R::kName, request.Param("id"));
        }
        return Guarded([&] {
          return store.Write([&](sqlite::Database& db) {
            auto current = R::Get(db, *id);
            if (!current || !MayRead<R>(db, *id)) {
              return NotFound(R::kName, request.Param("id"));
            }
            if (!MayWrite<R>(db, *current)) {
              return access::WriteDenied(access::Current(), true, R::kName, request.Param("id"));
            }
            if (auto failed = CheckIfMatch(request, CurrentETag<R>(db, *current))) {
              return http::ErrorResponse(*failed);
            }
            std::optional<std::string> conflict;
            if constexpr (requires { R::DeleteConflict(db, *id, clock.Now()); }) {
              conflict = R::DeleteConflict(db, *id, clock.Now());
            } else {
              conflict = R::DeleteConflict(db, *id);
            }
            if (conflict) {
              return http::ErrorResponse(Error::Conflict(*conflict).WithKind("referenced"));
            }
            R::Delete(db, *id);
            audit::Record(db, R::kName, *id, R::ToJson(*current), nullptr, 204);
            return http::Response::Empty(204);
          });
        });
      },
      plain_route);

  AddListRoute<R>(router, store, collection);
}

}  // namespace civic::events::rest
