// Every civic-ballot process this test binary starts needs its three secrets (the binary refuses
// to start without them). Tests that start the ballot without ballot_fixture.hpp's options (the
// foundation tests) inherit these from the test process's environment; tests about missing
// secrets override them with empty values.
#include <cstdlib>

#include "ballot_fixture.hpp"

namespace {

[[maybe_unused]] const bool kSecretsSet = [] {
  setenv("CIVIC_BALLOT_VOTER_KEY", civic::test::kVoterKey, 0);
  setenv("CIVIC_BALLOT_CLIENT_KEY", civic::test::kClientKey, 0);
  setenv("CIVIC_BALLOT_ADMIN_KEY", civic::test::kAdminKey, 0);
  return true;
}();

}  // namespace
