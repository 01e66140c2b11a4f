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
//   static void Resolve(sqlite::Database&, Model&);  // fills members derived from other rows
//                                                    // (an event's time zone, from its city);
//                                                    // runs after FromJson, before
//                                                    // CheckReferences, on POST and PATCH

#include <spdlog/spdlog.h>

#include <string>

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
    return http::ProblemResponse(503, "The service is stopping; retry shortly.")
        .WithHeader("Retry-After", "1");
  } catch (const sqlite::Error& e) {
    if (e.IsBusy() || e.IsIo() || e.IsFull()) {
      spdlog::error("storage: {}", e.what());
      return http::ProblemResponse(503, "Storage is temporarily unavailable; retry shortly.")
          .WithHeader("Retry-After", "1");
    }
    throw;
  }
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

// The representation clients see: R::Present when R has one, else R::ToJson.
template <class R>
nlohmann::json Presented(const typename R::Model& model) {
  if constexpr (requires { R::Present(model); }) {
    return R::Present(model);
  } else {
    return R::ToJson(model);
  }
}

// Runs R::Resolve when R has one.
template <class R>
void Resolved(sqlite::Database& db, typename R::Model& model) {
  if constexpr (requires { R::Resolve(db, model); }) {
    R::Resolve(db, model);
  }
}

template <class R>
std::string CurrentETag(const typename R::Model& model) {
  return ETagOf(http::Response::Json(200, Presented<R>(model)).body);
}

// Runs a list query for R and answers the page.
template <class R>
http::Response ListOf(Store& store, const http::Request& request, const ListSpec& spec,
                      const ListQuery& query) {
  return store.Read([&](sqlite::Database& db) {
    const SqlWithParams sql = BuildListSql(spec, query);
    auto statement = db.Prepare(sql.sql);
    int index = 1;
    for (const auto& [is_text, value] : sql.params) {
      if (is_text) {
        statement.Bind(index++, value.first);
      } else {
        statement.Bind(index++, value.second);
      }
    }
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
      items.push_back(Presented<R>(R::FromRow(statement)));
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
// the path's {id}, with R's other filters, sort and pagination; 404 when no row of
// `parent_table` has that id.
template <class R>
void AddNestedList(http::Router& router, Store& store, const std::string& pattern,
                   const std::string& parent_table, const std::string& parent_name,
                   const std::string& filter_param) {
  router.Get(pattern,
             [&store, parent_table, parent_name, filter_param](const http::Request& original) {
               const auto id = PathId(original);
               if (!id) {
                 return NotFound(parent_name, original.Param("id"));
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
                       db.Prepare("SELECT 1 FROM \"" + parent_table + "\" WHERE id = ?");
                   statement.Bind(1, *id);
                   return statement.Step();
                 });
                 if (!exists) {
                   return NotFound(parent_name, original.Param("id"));
                 }
                 return ListOf<R>(store, request, R::List(), query.value());
               });
             },
             {.offload = true});
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
            model.created_at = model.updated_at = clock.Now();
            R::Insert(db, model);
            return Created(collection + "/" + std::to_string(model.id), Presented<R>(model));
          });
        });
      },
      json_route);

  router.Get(
      item,
      [&store](const http::Request& request) {
        const auto id = PathId(request);
        if (!id) {
          return NotFound(R::kName, request.Param("id"));
        }
        if (auto rejected = RejectQuery(request)) {
          return std::move(*rejected);
        }
        return Guarded([&] {
          auto model = store.Read([&](sqlite::Database& db) { return R::Get(db, *id); });
          if (!model) {
            return NotFound(R::kName, request.Param("id"));
          }
          return Conditional(request, http::Response::Json(200, Presented<R>(*model)));
        });
      },
      plain_route);

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
            if (!current) {
              return NotFound(R::kName, request.Param("id"));
            }
            if (auto failed = CheckIfMatch(request, CurrentETag<R>(*current))) {
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
            bool always_writes = false;
            if constexpr (requires { R::AlwaysWrites(request.json); }) {
              always_writes = R::AlwaysWrites(request.json);
            }
            if (!always_writes && R::ToJson(model) == R::ToJson(*current)) {
              // Nothing changed: keep updated_at and the ETag. The rules that guard a change
              // (references, frozen fields, a decided project's reviews) have nothing to refuse.
              return Ok(Presented<R>(*current));
            }
            Violations violations;
            CheckedReferences<R>(db, model, violations, clock);
            if (!violations.empty()) {
              return http::ErrorResponse(violations.ToError());
            }
            model.updated_at = clock.Now();
            R::Update(db, model);
            return Ok(Presented<R>(model));
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
            if (!current) {
              return NotFound(R::kName, request.Param("id"));
            }
            if (auto failed = CheckIfMatch(request, CurrentETag<R>(*current))) {
              return http::ErrorResponse(*failed);
            }
            std::optional<std::string> conflict;
            if constexpr (requires { R::DeleteConflict(db, *id, clock.Now()); }) {
              conflict = R::DeleteConflict(db, *id, clock.Now());
            } else {
              conflict = R::DeleteConflict(db, *id);
            }
            if (conflict) {
              return http::ErrorResponse(Error::Conflict(*conflict));
            }
            R::Delete(db, *id);
            return http::Response::Empty(204);
          });
        });
      },
      plain_route);

  router.Get(
      collection,
      [&store](const http::Request& request) {
        auto query = ParseListQuery(request, R::List());
        if (!query.ok()) {
          return http::ErrorResponse(query.error());
        }
        return Guarded([&] { return ListOf<R>(store, request, R::List(), query.value()); });
      },
      plain_route);
}

}  // namespace civic::events::rest
