// The importance hook's Σx² (squared_input_sums) against the ops upstream runs, and the
// one-entry cache that lets Linears fed the same input (q/k/v, gate/up) reduce it once.
#include <torch/torch.h>

#include <llmc/models/llama.hpp>
#include <llmc/nn/modules.hpp>
#include <llmc/observers/imatrix_mse.hpp>
#include <llmc/observers/squared_input_sums.hpp>
#include <memory>
#include <string>
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

TEST_CASE("one-pass CPU squared_input_sums adds in ATen's order for every column path, row count and thread count") {
  // Values over 24 binades, so that any other order of the additions shows in the fp32 sums.
  // The shapes cover each of ATen's column paths (blocks of 4 vectors, single vectors, scalar
  // columns; fewer columns than a vector), row counts on both sides of the cascade's level
  // steps (16, 256, 4096, and the wider steps of very long columns) and of its 4-way
  // interleave, and sizes on both sides of GRAIN_SIZE, where ATen starts splitting the columns
  // between threads (in 128-byte chunks).
  const int saved_threads = at::get_num_threads();
  std::vector<std::string> failures;
  int64_t cases = 0;
  uint64_t seed = 7;
  for (const int threads : {1, 2, 3}) {
    at::set_num_threads(threads);
    for (const auto dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
      for (const auto& shape : std::vector<std::vector<int64_t>>{
               {1, 5},        {3, 2},      {5, 7},       {17, 12},     {16, 64},
               {33, 99},      {257, 83},   {4, 300},     {1000, 35},   {63, 1024},
               {2, 150, 133}, {4099, 8},   {8, 4105},    {520, 200},   {3, 70, 1000},
               {2, 17, 4096}, {1, 700, 72}, {6000, 11},
               // Past 2^19 cascaded rows the level step grows (32 instead of 16).
               {600000, 4},   {2200000, 2}}) {
        at::manual_seed(seed++);
        const at::Tensor exponents = at::randint(-12, 12, shape).to(at::kFloat);
        const at::Tensor x =
            ((at::rand(shape) - 0.5) * at::pow(2.0, exponents)).to(dtype).contiguous();
        if (!llmc::squared_input_sums_one_pass(x)) {
          failures.push_back("one-pass path not taken for " + std::string(c10::toString(dtype)));
          continue;
        }
        ++cases;
        const at::Tensor got = llmc::squared_input_sums(x);
        const at::Tensor expected = upstream_sums(x);
        if (!at::equal(got, expected)) {
          const int64_t differing = (got != expected).sum().item<int64_t>();
          std::string where = std::string(c10::toString(dtype)) + " [";
          for (const int64_t d : shape) where += std::to_string(d) + ",";
          failures.push_back(where + "] threads " + std::to_string(threads) + ": " +
                             std::to_string(differing) + " columns differ");
        }
      }
    }
  }
  at::set_num_threads(saved_threads);
  for (size_t i = 0; i < failures.size() && i < 20; ++i) UNSCOPED_INFO(failures[i]);
  CHECK(failures.empty());
  CHECK(cases == 3 * 3 * 20);
}

TEST_CASE("squared_input_sums keeps the ATen ops where the one pass does not apply") {
  torch::manual_seed(3);
  const at::Tensor base = torch::randn({40, 96});
  const at::Tensor transposed = base.t();  // not contiguous: ATen reduces in another layout
  CHECK_FALSE(llmc::squared_input_sums_one_pass(transposed));
  LLMC_CHECK_BIT_EQUAL(llmc::squared_input_sums(transposed), upstream_sums(transposed), "sums");
  const at::Tensor one_column = torch::randn({300, 1});  // a single output: a full reduction
  CHECK_FALSE(llmc::squared_input_sums_one_pass(one_column));
  LLMC_CHECK_BIT_EQUAL(llmc::squared_input_sums(one_column), upstream_sums(one_column), "sums");
  const at::Tensor doubles = torch::randn({20, 30}, torch::kFloat64);
  CHECK_FALSE(llmc::squared_input_sums_one_pass(doubles));
  CHECK(llmc::squared_input_sums(doubles).scalar_type() == at::kFloat);
  const at::Tensor empty = torch::randn({0, 30});
  CHECK_FALSE(llmc::squared_input_sums_one_pass(empty));
  CHECK(at::equal(llmc::squared_input_sums(empty), torch::zeros({30})));
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
