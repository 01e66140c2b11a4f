#include "civic/domain/person.hpp"

namespace civic {

bool IsEmailAddress(std::string_view email) {
  if (email.size() > 254) {
    return false;
  }
  const size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view domain = email.substr(at + 1);
  const size_t dot = domain.rfind('.');
  if (domain.empty() || dot == std::string_view::npos || dot == 0 || dot + 1 == domain.size()) {
    return false;
  }
  for (const char c : email) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == ',' || c == ';') {
      return false;
    }
  }
  return true;
}

bool IsE164Phone(std::string_view phone) {
  if (phone.size() < 9 || phone.size() > 16 || phone.front() != '+') {
    return false;
  }
  for (size_t i = 1; i < phone.size(); ++i) {
    if (phone[i] < '0' || phone[i] > '9') {
      return false;
    }
  }
  return phone[1] != '0';
}

void Validate(const Person& person, Violations& violations) {
  violations.Text("name", person.name, 1, 200);
  violations.Text("position", person.position, 0, 200);
  violations.Text("bio", person.bio, 0, 5000);
  if (!person.email.empty() && !IsEmailAddress(person.email)) {
    violations.Add("email", "must be an e-mail address");
  }
  if (!person.phone.empty() && !IsE164Phone(person.phone)) {
    violations.Add("phone", "must be an international number such as +79161234567");
  }
}

}  // namespace civic
