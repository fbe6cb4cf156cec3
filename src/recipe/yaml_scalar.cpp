#include "yaml_scalar.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cmath>
#include <limits>
#include <regex>

namespace llmc::recipe_detail {
namespace {

std::string without_underscores(std::string text) {
  text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
  return text;
}

// PyYAML's int resolver (resolver.py, YAML 1.1) minus sexagesimal.
bool resolve_int(const std::string& text, nlohmann::ordered_json& out) {
  static const std::regex pattern(
      "[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+");
  if (!std::regex_match(text, pattern)) return false;
  std::string digits = without_underscores(text);
  const bool negative = digits[0] == '-';
  if (digits[0] == '-' || digits[0] == '+') digits.erase(0, 1);
  int base = 10;
  if (digits.rfind("0b", 0) == 0) {
    base = 2;
    digits.erase(0, 2);
  } else if (digits.rfind("0x", 0) == 0) {
    base = 16;
    digits.erase(0, 2);
  } else if (digits.size() > 1 && digits[0] == '0') {
    base = 8;
  }
  if (digits.empty()) digits = "0";  // "0b_" style degenerate spellings
  errno = 0;
  const unsigned long long magnitude = std::strtoull(digits.c_str(), nullptr, base);
  constexpr auto max_signed = static_cast<unsigned long long>(std::numeric_limits<int64_t>::max());
  if (errno == ERANGE || magnitude > max_signed + (negative ? 1 : 0)) {
    out = std::stod(text);  // beyond int64: Python keeps a bignum; a double is the closest we hold
    return true;
  }
  if (negative) {
    out = static_cast<int64_t>(0 - magnitude);
  } else {
    out = static_cast<int64_t>(magnitude);
  }
  return true;
}

bool resolve_float(const std::string& text, nlohmann::ordered_json& out) {
  static const std::regex pattern(
      "[-+]?([0-9][0-9_]*)\\.[0-9_]*([eE][-+][0-9]+)?|\\.[0-9][0-9_]*([eE][-+][0-9]+)?"
      // ours: exponent forms without '.' (see header)
      "|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+");
  static const std::regex infinity("[-+]?\\.(inf|Inf|INF)");
  static const std::regex not_a_number("\\.(nan|NaN|NAN)");
  if (std::regex_match(text, infinity)) {
    out = text[0] == '-' ? -std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::infinity();
    return true;
  }
  if (std::regex_match(text, not_a_number)) {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (!std::regex_match(text, pattern)) return false;
  out = std::strtod(without_underscores(text).c_str(), nullptr);
  return true;
}

}  // namespace

nlohmann::ordered_json resolve_plain_scalar(const std::string& text) {
  static const std::regex null_pattern("~|null|Null|NULL|");
  static const std::regex true_pattern("yes|Yes|YES|true|True|TRUE|on|On|ON");
  static const std::regex false_pattern("no|No|NO|false|False|FALSE|off|Off|OFF");
  if (std::regex_match(text, null_pattern)) return nullptr;
  if (std::regex_match(text, true_pattern)) return true;
  if (std::regex_match(text, false_pattern)) return false;
  nlohmann::ordered_json number;
  if (resolve_int(text, number) || resolve_float(text, number)) return number;
  return text;
}

}  // namespace llmc::recipe_detail
