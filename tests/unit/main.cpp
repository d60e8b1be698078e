#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "test_support.h"

namespace {

int assertions_in_case = 0;

// Counts the running test case's assertions (WARN messages are not assertions), so that
// FACETRAIN_SKIP can refuse to skip a case that has already checked something: ctest reports a case
// whose output says "SKIPPED:" as Skipped whatever its exit status, so a skip after a failed check
// would hide the failure.
struct AssertionCounter : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    TestEventListenerBase::testCaseStarting(info);
    assertions_in_case = 0;
  }
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    const auto type = stats.assertionResult.getResultType();
    if (type != Catch::ResultWas::Warning && type != Catch::ResultWas::Info) ++assertions_in_case;
    return TestEventListenerBase::assertionEnded(stats);
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(AssertionCounter)

int facetrain::testing::assertions_so_far() { return assertions_in_case; }
