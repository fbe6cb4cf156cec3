// Seeds ATen's default generators at the start of every test case run, so that a test which
// draws random data without seeding it sees the same data on every run and in every process.
// ATen seeds its default CPU generator from a non-deterministic source, so such a test could
// otherwise fail in one run in many (it did: a fresh-clone CI run drew e4m3 values past their
// range). Tests that call at::manual_seed themselves still choose their own data.
#include <ATen/Context.h>

// Catch2 v2 declares its listener base only for translation units that ask for it.
#define CATCH_CONFIG_EXTERNAL_INTERFACES

#include "support/catch.hpp"
#include "support/test_seed.hpp"

namespace {

class SeedAtenPerTestCase : public Catch::TestEventListenerBase {
 public:
  using Catch::TestEventListenerBase::TestEventListenerBase;

  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    test_case_name_ = info.name;
    TestEventListenerBase::testCaseStarting(info);
  }

  // Catch2 runs a test case once per leaf section; each run opens the test case's own root
  // section first. Seeding there (and not in nested sections) gives every run the same data
  // and leaves a test's own at::manual_seed calls before its sections in force.
  void sectionStarting(const Catch::SectionInfo& section) override {
    if (section.name == test_case_name_) at::manual_seed(llmc::testing::kTestCaseSeed);
    TestEventListenerBase::sectionStarting(section);
  }

 private:
  std::string test_case_name_;
};

}  // namespace

CATCH_REGISTER_LISTENER(SeedAtenPerTestCase)
