// The seed every test case run starts from (tests/support/seed_listener.cpp).
#pragma once

#include <cstdint>

namespace llmc::testing {

inline constexpr uint64_t kTestCaseSeed = 20261206;

}  // namespace llmc::testing
