// llmc::Error: the one exception type llmc throws for bad input or misuse.
// Messages carry their context chain, e.g. "QuantizationArgs.num_bits: 9 out of range (allowed: 1..8)".
#pragma once

#include <stdexcept>
#include <string>

namespace llmc {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Prefixes an error message with a context ("file.yaml:12", "model.layers.0.q_proj") and
// rethrows; keeps the innermost message intact so the chain reads outer → inner.
[[noreturn]] inline void rethrow_with_context(const std::string& context, const std::exception& e) {
  throw Error(context + ": " + e.what());
}

}  // namespace llmc
