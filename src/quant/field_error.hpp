// Internal: the one way quant/ reports a bad field, so every message reads
// "<Owner>.<field>: <problem> (allowed: <values>)" (STYLE.md "Errors").
#pragma once

#include <llmc/error.hpp>
#include <string>

namespace llmc::detail {

[[noreturn]] inline void field_error(const std::string& field, const std::string& problem,
                                     const std::string& allowed = "") {
  std::string message = field + ": " + problem;
  if (!allowed.empty()) message += " (allowed: " + allowed + ")";
  throw Error(message);
}

}  // namespace llmc::detail
