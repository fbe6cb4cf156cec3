// The importance hook's Σx² (squared_input_sums) against the ops upstream runs, and the
// one-entry cache that lets Linears fed the same input (q/k/v, gate/up) reduce it once.
#include <torch/torch.h>

#include <llmc/models/llama.hpp>
#include <llmc/nn/modules.hpp>
#include <llmc/observers/imatrix_mse.hpp>
#include <llmc/observers/squared_input_sums.hpp>
#include <memory>
#include <vector>

#include "support/catch.hpp"
#include "support/oracle.hpp"

namespace {

// Upstream's statistic: x.float().pow(2).sum(every leading dim).
at::Tensor upstream_sums(const at::Tensor& x) {
  const at::Tensor squares = x.to(at::kFloat).pow(2);
  if (squares.dim() <= 1) return squares;
  std::vector<int64_t> dims;
  for (int64_t d = 0; d + 1 < squares.dim(); ++d) dims.push_back(d);
  return squares.sum(dims);
}

llmc::models::LlamaForCausalLM tiny_llama() {
  const nlohmann::json config = {{"model_type", "llama"},
                                 {"hidden_size", 64},
                                 {"intermediate_size", 96},
                                 {"num_hidden_layers", 2},
                                 {"num_attention_heads", 4},
                                 {"num_key_value_heads", 2},
                                 {"vocab_size", 128},
                                 {"max_position_embeddings", 64},
                                 {"rms_norm_eps", 1e-5},
                                 {"hidden_act", "silu"}};
  torch::manual_seed(0);
  return llmc::models::LlamaForCausalLM(
      llmc::models::LlamaConfig::from_json(config, "tiny_llama"));
}

}  // namespace

TEST_CASE("squared_input_sums equals upstream's x.float().pow(2).sum over leading dims bit for bit") {
  torch::manual_seed(1);
  for (const auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
    for (const auto& shape : std::vector<std::vector<int64_t>>{
             {1000}, {7, 33}, {2, 300, 1000}, {1, 256, 4096}}) {
      const at::Tensor x = (torch::randn(shape) * 3).to(dtype);
      CAPTURE(c10::toString(dtype), x.sizes());
      const at::Tensor before = x.clone();
      LLMC_CHECK_BIT_EQUAL(llmc::squared_input_sums(x), upstream_sums(x), "sums");
      CHECK(at::equal(x, before));  // the input is never squared in place
    }
  }
}

TEST_CASE("CUDA squared_input_sums stays on the activations' device and equals upstream's ops") {
  if (!at::hasCUDA()) {
    WARN("SKIPPED: no CUDA device; squared_input_sums was not run on a GPU");
    return;
  }
  torch::manual_seed(2);
  for (const auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
    for (const auto& shape : std::vector<std::vector<int64_t>>{{7, 33}, {2, 300, 1000}, {1, 256, 4096}}) {
      const at::Tensor x = (torch::randn(shape) * 3).to(dtype).cuda();
      CAPTURE(c10::toString(dtype), x.sizes());
      const at::Tensor sums = llmc::squared_input_sums(x);
      CHECK(sums.device() == x.device());
      CHECK(sums.scalar_type() == at::kFloat);
      LLMC_CHECK_BIT_EQUAL(sums.cpu(), upstream_sums(x).cpu(), "sums");
    }
  }
}

TEST_CASE("the sums cache reuses an unmodified input and recomputes for in-place changes or new tensors") {
  llmc::SquaredInputSumsCache cache;
  at::Tensor x = torch::randn({3, 16}).to(at::kBFloat16);
  const at::Tensor first = cache.sums_of(x);
  LLMC_CHECK_BIT_EQUAL(first, upstream_sums(x), "first");
  LLMC_CHECK_BIT_EQUAL(cache.sums_of(x), first, "reused");
  CHECK(cache.computed() == 1);
  CHECK(cache.reused() == 1);

  x.mul_(2);  // same tensor, new version: the cached sums are stale
  LLMC_CHECK_BIT_EQUAL(cache.sums_of(x), upstream_sums(x), "after mul_");
  CHECK(cache.computed() == 2);

  const at::Tensor copy = x.clone();  // equal values, another tensor
  LLMC_CHECK_BIT_EQUAL(cache.sums_of(copy), upstream_sums(x), "copy");
  CHECK(cache.computed() == 3);

  cache.clear();
  cache.sums_of(copy);
  CHECK(cache.computed() == 4);
  CHECK(cache.reused() == 1);
}

TEST_CASE("inference tensors are never served from the sums cache (no version counter)") {
  llmc::SquaredInputSumsCache cache;
  at::Tensor x;
  {
    c10::InferenceMode guard;
    x = torch::randn({4, 8});
  }
  cache.sums_of(x);
  cache.sums_of(x);
  CHECK(cache.computed() == 2);
  CHECK(cache.reused() == 0);
}

TEST_CASE("imatrix hooks sharing a cache reduce q/k/v and gate/up inputs once, with the same sums") {
  auto model = tiny_llama();
  model->eval();
  torch::NoGradGuard no_grad;
  const auto linears = llmc::nn::named_linears(*model);
  const auto ids = torch::randint(0, 128, {2, 12});
  const auto run = [&](const std::shared_ptr<llmc::SquaredInputSumsCache>& cache) {
    std::vector<std::shared_ptr<llmc::IMatrixMSEObserver>> observers;
    for (const auto& [name, linear] : linears) {
      auto observer = std::make_shared<llmc::IMatrixMSEObserver>(
          "weight", llmc::QuantizationArgs().num_bits(4).validated());
      if (cache) observer->share_squared_sums(cache);
      observer->attach(*linear);
      observers.push_back(observer);
    }
    model->forward(ids);
    model->forward(ids);
    for (size_t i = 0; i < observers.size(); ++i) observers[i]->detach(*linears[i].second);
    return observers;
  };
  const auto cache = std::make_shared<llmc::SquaredInputSumsCache>();
  const auto shared = run(cache);
  const auto separate = run(nullptr);
  for (size_t i = 0; i < linears.size(); ++i) {
    CAPTURE(linears[i].first);
    LLMC_CHECK_BIT_EQUAL(shared[i]->statistics().at(llmc::kIMatrixSum),
                         separate[i]->statistics().at(llmc::kIMatrixSum), linears[i].first);
    CHECK(at::equal(shared[i]->statistics().at(llmc::kIMatrixCount),
                    separate[i]->statistics().at(llmc::kIMatrixCount)));
  }
  // Per layer and forward: k_proj and v_proj reuse q_proj's input, up_proj gate_proj's.
  const int64_t hooked = 2 * static_cast<int64_t>(linears.size());
  CHECK(cache->reused() == 2 * 2 * 3);
  CHECK(cache->computed() == hooked - cache->reused());
}
