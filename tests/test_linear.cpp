// llmc::nn::Linear against torch::nn::Linear (parameters, state dict, init, forward) and its
// quantized forward against compressed-tensors' QDQ (CT set_forward_quantized, LC §6.6).
#include <torch/nn/functional/linear.h>
#include <torch/nn/modules/linear.h>

#include <llmc/nn/linear.hpp>
#include <llmc/nn/quantization_init.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/quant/presets.hpp>
#include <llmc/quant/qparams.hpp>

#include "support/catch.hpp"
#include "support/error_of.hpp"

using llmc::nn::Linear;
using llmc::nn::LinearOptions;
using llmc::nn::QuantizationStatus;
using llmc::test::error_of;
namespace F = torch::nn::functional;

namespace {

std::vector<std::string> keys(const torch::OrderedDict<std::string, torch::Tensor>& dict) {
  return dict.keys();
}

// Per-group min/max qparams of `w` for group args, written into the module's registered ones.
void set_group_qparams(llmc::nn::LinearImpl& fc, const llmc::QuantizationArgs& args) {
  const int64_t group = *args.group_size();
  auto grouped = fc.weight.detach().reshape({fc.weight.size(0), -1, group});
  auto [scale, zero_point] =
      llmc::calculate_qparams(std::get<0>(grouped.min(-1)), std::get<0>(grouped.max(-1)), args);
  fc.qparam("weight_scale").copy_(scale);
  fc.qparam("weight_zero_point").copy_(zero_point);
}

// One tensor-wide qparam pair for `base` from `x`'s min and max.
void set_tensor_qparams(llmc::nn::LinearImpl& fc, const std::string& base, const torch::Tensor& x,
                        const llmc::QuantizationArgs& args) {
  auto [scale, zero_point] =
      llmc::calculate_qparams(x.min().reshape({1}), x.max().reshape({1}), args);
  fc.qparam(base + "_scale").copy_(scale);
  fc.qparam(base + "_zero_point").copy_(zero_point);
}

}  // namespace

TEST_CASE("Linear has torch::nn::Linear's parameter and state-dict names, with and without bias") {
  for (bool bias : {true, false}) {
    Linear ours(LinearOptions(6, 3).bias(bias));
    torch::nn::Linear theirs(torch::nn::LinearOptions(6, 3).bias(bias));
    CHECK(keys(ours->named_parameters()) == keys(theirs->named_parameters()));
    CHECK(keys(ours->named_buffers()) == keys(theirs->named_buffers()));
    CHECK(ours->weight.sizes() == theirs->weight.sizes());
  }
}

TEST_CASE("Linear initialises exactly like torch::nn::Linear for the same seed") {
  torch::manual_seed(7);
  torch::nn::Linear theirs(5, 4);
  torch::manual_seed(7);
  Linear ours(5, 4);
  CHECK(torch::equal(ours->weight, theirs->weight));
  CHECK(torch::equal(ours->bias, theirs->bias));
}

TEST_CASE("Linear forward equals torch::nn::Linear's without a quantization scheme") {
  torch::manual_seed(1);
  torch::nn::Linear theirs(16, 8);
  Linear ours(16, 8);
  torch::NoGradGuard no_grad;
  ours->weight.copy_(theirs->weight);
  ours->bias.copy_(theirs->bias);
  const auto x = torch::randn({2, 5, 16});
  CHECK(torch::equal(ours(x), theirs(x)));
}

TEST_CASE("W4A16 forward equals F.linear(x, fake_quantize(weight)) with the module's qparams") {
  torch::manual_seed(2);
  Linear fc(256, 8);
  llmc::nn::initialize_module_for_quantization(*fc, llmc::preset_name_to_scheme("W4A16", {}));
  const auto args = *fc->quantization_scheme->weights();
  set_group_qparams(*fc, args);
  const auto x = torch::randn({3, 256});
  const auto w_qdq = llmc::fake_quantize(fc->weight.detach(), fc->qparam("weight_scale"),
                                         fc->qparam("weight_zero_point"), args);
  CHECK_FALSE(torch::equal(w_qdq, fc->weight));
  CHECK(torch::equal(fc(x), F::linear(x, w_qdq, fc->bias)));
}

TEST_CASE("Quantization disabled, or weights Compressed, runs the plain linear") {
  torch::manual_seed(3);
  Linear fc(256, 8);
  llmc::nn::initialize_module_for_quantization(*fc, llmc::preset_name_to_scheme("W4A16", {}));
  set_group_qparams(*fc, *fc->quantization_scheme->weights());
  const auto x = torch::randn({3, 256});
  const auto plain = F::linear(x, fc->weight, fc->bias);
  CHECK_FALSE(torch::equal(fc(x), plain));
  fc->quantization_enabled = false;
  CHECK(torch::equal(fc(x), plain));
  fc->quantization_enabled = true;
  fc->quantization_status = QuantizationStatus::Compressed;
  CHECK(torch::equal(fc(x), plain));
}

TEST_CASE("A static input scheme (FP8) fake-quantizes the input with input_scale") {
  torch::manual_seed(4);
  Linear fc(32, 8);
  llmc::nn::initialize_module_for_quantization(*fc, llmc::preset_name_to_scheme("FP8", {}));
  const auto& scheme = *fc->quantization_scheme;
  const auto x = torch::randn({4, 32});
  set_tensor_qparams(*fc, "input", x, *scheme.input_activations());
  set_tensor_qparams(*fc, "weight", fc->weight.detach(), *scheme.weights());
  const auto x_qdq = llmc::fake_quantize(
      x, fc->qparam("input_scale"), fc->qparam("input_zero_point"), *scheme.input_activations());
  const auto w_qdq = llmc::fake_quantize(fc->weight.detach(), fc->qparam("weight_scale"),
                                         fc->qparam("weight_zero_point"), *scheme.weights());
  CHECK(torch::equal(fc(x), F::linear(x_qdq, w_qdq, fc->bias)));
}

TEST_CASE("initialize_module_for_quantization registers compressed-tensors' qparams (LC §6.6)") {
  Linear fc(LinearOptions(256, 8).bias(false));
  fc->to(torch::kBFloat16);
  llmc::nn::initialize_module_for_quantization(*fc, llmc::preset_name_to_scheme("W4A16", {}));
  CHECK(keys(fc->named_parameters()) ==
        std::vector<std::string>{"weight", "weight_scale", "weight_zero_point"});
  CHECK(fc->qparam("weight_scale").sizes() == torch::IntArrayRef({8, 2}));
  CHECK(fc->qparam("weight_scale").scalar_type() == torch::kBFloat16);
  CHECK(fc->qparam("weight_zero_point").scalar_type() == torch::kInt8);
  CHECK_FALSE(fc->qparam("weight_scale").requires_grad());
  CHECK(fc->quantization_status == QuantizationStatus::Initialized);

  llmc::nn::initialize_module_for_quantization(*fc, llmc::preset_name_to_scheme("NVFP4", {}));
  CHECK(keys(fc->named_parameters()) ==
        std::vector<std::string>{"weight", "input_global_scale", "weight_global_scale",
                                 "weight_scale", "weight_zero_point"});
  CHECK(fc->qparam("weight_global_scale").sizes() == torch::IntArrayRef({1}));
  CHECK(fc->qparam("weight_scale").sizes() == torch::IntArrayRef({8, 16}));
}

TEST_CASE("register_qparam accepts only compressed-tensors qparam names") {
  Linear fc(4, 2);
  CHECK_THAT(error_of([&] { fc->register_qparam("weight_scales", torch::ones({1})); }),
             Catch::Contains("not a compressed-tensors qparam name"));
  CHECK_THAT(error_of([&] { fc->qparam("input_scale"); }),
             Catch::Contains("no qparam 'input_scale'"));
}

TEST_CASE("A static scheme without its qparams fails the forward naming the missing qparam") {
  Linear fc(32, 8);
  fc->quantization_scheme = llmc::preset_name_to_scheme("W4A16", {}).validated();
  fc->quantization_status = QuantizationStatus::Initialized;
  CHECK_THAT(error_of([&] {
               fc(torch::ones({1, 32}));
             }),
             Catch::Contains("no qparam 'weight_scale'"));
}
