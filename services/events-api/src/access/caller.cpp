#include "access/caller.hpp"

#include <algorithm>

namespace civic::events::access {

namespace {

const Caller kPublicCaller{};
thread_local const Caller* current = nullptr;

}  // namespace

std::string_view ToString(Role role) {
  switch (role) {
    case Role::kPublic:
      return "public";
    case Role::kAdmin:
      return "admin";
    case Role::kOrganizer:
      return "organizer";
    case Role::kExpert:
      return "expert";
    case Role::kFrontend:
      return "frontend";
    case Role::kVotingClient:
      return "voting_client";
    case Role::kSync:
      return "sync";
  }
  return "public";
}

const std::vector<std::string>& KeyRoleNames() {
  static const std::vector<std::string> kNames = {"admin",    "organizer",     "expert",
                                                  "frontend", "voting_client", "sync"};
  return kNames;
}

std::optional<Role> ParseKeyRole(std::string_view name) {
  for (const Role role : {Role::kAdmin, Role::kOrganizer, Role::kExpert, Role::kFrontend,
                          Role::kVotingClient, Role::kSync}) {
    if (ToString(role) == name) {
      return role;
    }
  }
  return std::nullopt;
}

bool Caller::InProgram(int64_t program_id) const {
  return std::find(programs.begin(), programs.end(), program_id) != programs.end();
}

const Caller& Current() { return current != nullptr ? *current : kPublicCaller; }

CallerScope::CallerScope(const Caller& caller) : previous_(current) { current = &caller; }

CallerScope::~CallerScope() { current = previous_; }

}  // namespace civic::events::access
