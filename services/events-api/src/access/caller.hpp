#pragma once

// Who is calling: the role and scope of the API key a request carries (docs/security.md).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace civic::events::access {

enum class Role {
  kPublic,        // no key
  kAdmin,         // everything
  kOrganizer,     // writes what belongs to its programs; reads their participants and contacts
  kExpert,        // reads the projects assigned to its person; writes that person's reviews
  kFrontend,      // registers people for its programs' published events, cancels those
  kVotingClient,  // casts votes in its awards (at the ballot)
  kSync,          // the ballot: reads the sync protocol (awards, voting keys)
};

// "admin", "organizer", ...; the names the API shows.
std::string_view ToString(Role role);
// The role named `name` among those a key may have (not "public").
std::optional<Role> ParseKeyRole(std::string_view name);
// The names ParseKeyRole takes, in order.
const std::vector<std::string>& KeyRoleNames();

struct Caller {
  Role role = Role::kPublic;
  int64_t key_id = 0;                // 0: no key, or a bootstrap key given at start
  std::string key_prefix;            // the token's visible prefix ("civ_3fQk9a2B"); empty: no key
  std::vector<int64_t> programs;     // organizer, frontend: the programs it acts for
  std::vector<int64_t> awards;       // voting client: the awards it may vote in
  std::optional<int64_t> person_id;  // expert: the person it acts as

  bool has_key() const { return !key_prefix.empty(); }
  bool is_admin() const { return role == Role::kAdmin; }
  bool InProgram(int64_t program_id) const;
};

// The caller of the request being handled on this thread. REQUIRES: a secured route's handler is
// running on this thread (access::Secure sets it); elsewhere it is the public caller.
const Caller& Current();

// Makes `caller` the current one on this thread until destroyed.
class CallerScope {
 public:
  explicit CallerScope(const Caller& caller);
  ~CallerScope();
  CallerScope(const CallerScope&) = delete;
  CallerScope& operator=(const CallerScope&) = delete;

 private:
  const Caller* previous_;
};

}  // namespace civic::events::access
