#include <llmc/error.hpp>
#include <llmc/modifiers/group_size_validation.hpp>

namespace llmc {

std::optional<GroupSizeOffender> check_group_size(const std::string& name, int64_t columns,
                                                  const QuantizationArgs& weights) {
  const auto strategy = weights.strategy();
  if (strategy != QuantizationStrategy::Group && strategy != QuantizationStrategy::TensorGroup) {
    return std::nullopt;
  }
  if (!weights.group_size() || *weights.group_size() <= 0) return std::nullopt;
  const int64_t group_size = *weights.group_size();
  if (columns >= group_size && columns % group_size != 0) {
    return GroupSizeOffender{name, columns, group_size};
  }
  return std::nullopt;
}

std::string group_size_error_message(const std::vector<GroupSizeOffender>& offenders,
                                     const std::string& hint) {
  std::string message = "columns not divisible by the group size (vLLM cannot load such layers):";
  for (const auto& o : offenders) {
    message += "\n  " + o.name + " (columns=" + std::to_string(o.columns) +
               ", group_size=" + std::to_string(o.group_size) + ")";
  }
  return message + "\n" + hint;
}

void validate_group_size_divisibility(const std::vector<nn::NamedLinear>& linears,
                                      const std::string& hint) {
  std::vector<GroupSizeOffender> offenders;
  for (const auto& [name, linear] : linears) {
    if (!linear->quantization_scheme || !linear->quantization_scheme->weights()) continue;
    if (auto offender =
            check_group_size(name, linear->weight.size(1), *linear->quantization_scheme->weights())) {
      offenders.push_back(*offender);
    }
  }
  if (!offenders.empty()) throw Error(group_size_error_message(offenders, hint));
}

}  // namespace llmc
