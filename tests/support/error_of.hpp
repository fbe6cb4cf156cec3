// Test support: the message of the llmc::Error a call throws, so a test can assert both that
// it throws the right type and that the message names the field and the allowed values.
//
//   CHECK_THAT(llmc::test::error_of([] { parse(...); }), Catch::Contains("num_bits"));
#pragma once

#include <exception>
#include <llmc/error.hpp>
#include <string>

namespace llmc::test {

// "<no error>" when fn returns, "<other exception: ...>" for anything but llmc::Error.
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const llmc::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<other exception: ") + e.what() + ">";
  }
  return "<no error>";
}

}  // namespace llmc::test
