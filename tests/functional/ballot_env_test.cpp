// Every civic-ballot process this test binary starts needs its three secrets (the binary refuses
// to start without them). Tests that start the ballot without ballot_fixture.hpp's options (the
// foundation tests) inherit these from the test process's environment; tests about missing
// secrets override them with empty values.
#include <cstdlib>

#include "ballot_fixture.hpp"

namespace {

[[maybe_unused]] const bool kSecretsSet = [] {
  // Key files named in the developer's own environment (scripts/run-local.sh) would win over the
  // keys the tests use.
  unsetenv("CIVIC_BALLOT_VOTER_KEY_FILE");
  unsetenv("CIVIC_BALLOT_CLIENT_KEY_FILE");
  unsetenv("CIVIC_BALLOT_ADMIN_KEY_FILE");
  setenv("CIVIC_BALLOT_VOTER_KEY", civic::test::kVoterKey, 1);
  setenv("CIVIC_BALLOT_CLIENT_KEY", civic::test::kClientKey, 1);
  setenv("CIVIC_BALLOT_ADMIN_KEY", civic::test::kAdminKey, 1);
  return true;
}();

}  // namespace
