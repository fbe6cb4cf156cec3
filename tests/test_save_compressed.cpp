// compress_model (io/save_compressed.hpp): a model calibrated by oneshot becomes a
// compressed-tensors state dict and quantization_config: quantized Linears compressed in their
// scheme's format, the others listed in ignore and left as they were.
#include <torch/torch.h>

#include <llmc/entrypoints/oneshot.hpp>
#include <llmc/error.hpp>
#include <llmc/io/save_compressed.hpp>
#include <llmc/nn/linear.hpp>
#include <llmc/recipe/recipe.hpp>

#include "support/catch.hpp"
#include "support/error_of.hpp"

namespace {

struct TwoLayerImpl : torch::nn::Module {
  TwoLayerImpl() {
    fc1 = register_module("fc1", llmc::nn::Linear(llmc::nn::LinearOptions(128, 128).bias(false)));
    fc2 = register_module("fc2", llmc::nn::Linear(llmc::nn::LinearOptions(128, 64).bias(false)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(fc1(x)); }
  llmc::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(TwoLayer);

llmc::io::TensorMap tensors_of(torch::nn::Module& model) {
  llmc::io::TensorMap t;
  for (const auto& item : model.named_parameters()) t[item.key()] = item.value().detach();
  return t;
}

}  // namespace

TEST_CASE("compress_model packs the quantized Linears, lists the others in ignore and keeps "
          "their tensors") {
  torch::manual_seed(0);
  TwoLayer model;
  const auto fc2_weight = model->fc2->weight.detach().clone();
  llmc::oneshot(model.ptr(), {}, llmc::Recipe::from_string(
      "recipe:\n  - QuantizationModifier: {scheme: W4A16, targets: [Linear], ignore: [fc2]}\n"));
  const auto c = llmc::io::compress_model(*model, tensors_of(*model));
  CHECK(c.compressed_modules == std::vector<std::string>{"fc1"});
  CHECK(c.tensors.count("fc1.weight") == 0);
  CHECK(c.tensors.count("fc1.weight_packed") == 1);
  CHECK(c.tensors.count("fc1.weight_scale") == 1);
  CHECK(c.tensors.count("fc1.weight_shape") == 1);
  CHECK(torch::equal(c.tensors.at("fc2.weight"), fc2_weight));
  const auto& qc = c.quantization_config;
  CHECK(qc["format"] == "pack-quantized");
  CHECK(qc["quantization_status"] == "compressed");
  CHECK(qc["ignore"] == nlohmann::json::array({"fc2"}));
  REQUIRE(qc["config_groups"].size() == 1);
  CHECK(qc["config_groups"]["group_0"]["weights"]["num_bits"] == 4);
  CHECK(qc["config_groups"]["group_0"]["format"] == "pack-quantized");
}

TEST_CASE("compress_model names the module whose tensors are missing") {
  TwoLayer model;
  llmc::oneshot(model.ptr(), {}, llmc::Recipe::from_string(
      "recipe:\n  - QuantizationModifier: {scheme: W4A16, targets: [Linear]}\n"));
  auto tensors = tensors_of(*model);
  tensors.erase("fc2.weight_scale");
  CHECK_THAT(llmc::test::error_of([&] { llmc::io::compress_model(*model, tensors); }),
             Catch::Contains("fc2: the tensors to save lack weight_scale"));
}
