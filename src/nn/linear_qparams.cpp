// Qparam storage of llmc::nn::LinearImpl under compressed-tensors' parameter names.
#include <algorithm>
#include <array>
#include <llmc/error.hpp>
#include <llmc/nn/linear.hpp>

namespace llmc::nn {

namespace {

constexpr std::array<const char*, 3> kBases = {"input", "weight", "output"};
constexpr std::array<const char*, 4> kKinds = {"scale", "zero_point", "global_scale", "g_idx"};

bool is_qparam_name(const std::string& name) {
  for (const char* base : kBases) {
    for (const char* kind : kKinds) {
      if (name == std::string(base) + "_" + kind) return true;
    }
  }
  return false;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

}  // namespace

torch::Tensor& LinearImpl::register_qparam(const std::string& name, torch::Tensor value) {
  if (!is_qparam_name(name)) {
    throw Error("llmc::nn::Linear.register_qparam: '" + name +
                "' is not a compressed-tensors qparam name (<input|weight|output>_<scale|"
                "zero_point|global_scale|g_idx>)");
  }
  if (!value.defined()) {
    throw Error("llmc::nn::Linear.register_qparam: '" + name + "' is an undefined tensor");
  }
  remove_qparam(name);
  qparam_names_.push_back(name);
  return register_parameter(name, std::move(value), /*requires_grad=*/false);
}

bool LinearImpl::has_qparam(const std::string& name) const {
  return std::find(qparam_names_.begin(), qparam_names_.end(), name) != qparam_names_.end();
}

const torch::Tensor& LinearImpl::qparam(const std::string& name) const {
  if (!has_qparam(name)) {
    throw Error("llmc::nn::Linear: no qparam '" + name + "' (registered: " + join(qparam_names_) +
                "); initialize the module for quantization first");
  }
  return parameters_[name];
}

std::optional<torch::Tensor> LinearImpl::find_qparam(const std::string& name) const {
  if (!has_qparam(name)) return std::nullopt;
  return parameters_[name];
}

void LinearImpl::remove_qparam(const std::string& name) {
  auto it = std::find(qparam_names_.begin(), qparam_names_.end(), name);
  if (it == qparam_names_.end()) return;
  qparam_names_.erase(it);
  parameters_.erase(name);
}

void LinearImpl::clear_qparams() {
  for (const auto& name : std::vector<std::string>(qparam_names_)) remove_qparam(name);
}

}  // namespace llmc::nn
