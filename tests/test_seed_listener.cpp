// The suite's listener reseeds ATen at every test case run, so unseeded draws repeat.
#include <ATen/ATen.h>

#include "support/catch.hpp"
#include "support/test_seed.hpp"

namespace {

at::Tensor draws_after_seeding() {
  at::manual_seed(llmc::testing::kTestCaseSeed);
  return at::randn({16});
}

}  // namespace

TEST_CASE("every test case run draws from the same ATen seed, sections included") {
  const at::Tensor first = at::randn({16});  // before anything in this test seeds
  SECTION("the first run") { CHECK(at::equal(first, draws_after_seeding())); }
  SECTION("a second run of the test case is reseeded too") {
    CHECK(at::equal(first, draws_after_seeding()));
  }
}

TEST_CASE("a test's own seed before its sections stays in force inside them") {
  at::manual_seed(7);
  const at::Tensor expected = at::randn({4});
  at::manual_seed(7);
  SECTION("one") { CHECK(at::equal(at::randn({4}), expected)); }
  SECTION("two") { CHECK(at::equal(at::randn({4}), expected)); }
}
