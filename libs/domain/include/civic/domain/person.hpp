#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "civic/domain/time.hpp"
#include "civic/domain/validation.hpp"

namespace civic {

// A participant, expert, speaker or organiser. The contacts are private: never shown to the
// public (only to organisers of what the person takes part in, and administrators).
struct Person {
  int64_t id = 0;
  std::string name;  // 1..200 characters
  std::optional<int64_t> city_id;
  std::optional<int64_t> organization_id;
  std::string position;  // 0..200 characters
  std::string bio;       // 0..5000 characters
  std::string email;     // private; empty or a valid address (<= 254)
  std::string phone;     // private; empty or E.164, e.g. +79161234567
  Instant created_at{};
  Instant updated_at{};
};

void Validate(const Person& person, Violations& violations);

bool IsEmailAddress(std::string_view email);
// "+" then 8..15 digits (E.164).
bool IsE164Phone(std::string_view phone);

}  // namespace civic
