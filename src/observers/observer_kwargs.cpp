#include <algorithm>
#include <cmath>
#include <llmc/error.hpp>
#include <llmc/observers/observer_kwargs.hpp>
#include <sstream>

namespace llmc {

ObserverKwargs::ObserverKwargs(const nlohmann::json& kwargs, std::string observer,
                               std::vector<std::string> allowed)
    : kwargs_(kwargs.is_null() ? nlohmann::json::object() : kwargs),
      observer_(std::move(observer)) {
  if (!kwargs_.is_object()) {
    throw Error("observer '" + observer_ + "': observer_kwargs must be a mapping, got " +
                kwargs_.dump());
  }
  for (const auto& item : kwargs_.items()) {
    if (std::find(allowed.begin(), allowed.end(), item.key()) != allowed.end()) continue;
    std::string known;
    for (const auto& name : allowed) known += (known.empty() ? "" : ", ") + name;
    throw Error("observer '" + observer_ + "': unknown observer_kwargs key '" + item.key() +
                "' (allowed: " + (known.empty() ? "none" : known) + ")");
  }
}

bool ObserverKwargs::contains(const std::string& key) const { return kwargs_.contains(key); }

double ObserverKwargs::number(const std::string& key, double fallback) const {
  if (!contains(key)) return fallback;
  const auto& value = kwargs_.at(key);
  if (!value.is_number()) wrong_type(key, "a number");
  return value.get<double>();
}

int64_t ObserverKwargs::integer(const std::string& key, int64_t fallback) const {
  if (!contains(key)) return fallback;
  const auto& value = kwargs_.at(key);
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double real = value.get<double>();
    if (std::isfinite(real) && std::floor(real) == real && std::fabs(real) < 9.0e15) {
      return static_cast<int64_t>(real);
    }
  }
  wrong_type(key, "an integer");
}

bool ObserverKwargs::boolean(const std::string& key, bool fallback) const {
  if (!contains(key)) return fallback;
  const auto& value = kwargs_.at(key);
  if (!value.is_boolean()) wrong_type(key, "true or false");
  return value.get<bool>();
}

void ObserverKwargs::out_of_range(const std::string& key, double value,
                                  const std::string& allowed) const {
  std::ostringstream msg;
  msg << "observer '" << observer_ << "': observer_kwargs." << key << ": " << value
      << " out of range (allowed: " << allowed << ")";
  throw Error(msg.str());
}

void ObserverKwargs::wrong_type(const std::string& key, const char* expected) const {
  throw Error("observer '" + observer_ + "': observer_kwargs." + key + ": expected " + expected +
              ", got " + kwargs_.at(key).dump());
}

}  // namespace llmc
