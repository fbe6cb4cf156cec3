// Observer properties ported from llm-compressor's tests (LC reference §9: test_min_max,
// test_mse, test_mse_vs_minmax, test_helpers, test_distributed) plus llmc's input checks.
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <llmc/observers/helpers.hpp>
#include <llmc/observers/min_max.hpp>
#include <llmc/observers/mse.hpp>
#include <llmc/observers/nvfp4_expanded_mse.hpp>
#include <llmc/observers/registry.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/quant/qparams.hpp>

#include "support/catch.hpp"
#include "support/error_of.hpp"

using llmc::QuantizationArgs;
using llmc::QuantizationStrategy;
using llmc::QuantizationType;
using llmc::test::error_of;

namespace {

QuantizationArgs int_args(int64_t bits, QuantizationStrategy strategy, bool symmetric,
                          std::optional<int64_t> group_size = std::nullopt) {
  const bool token = strategy == QuantizationStrategy::Token;  // static token is invalid
  return QuantizationArgs()
      .dynamic(token ? llmc::DynamicType::Dynamic : llmc::DynamicType::Static)
      .num_bits(bits)
      .strategy(strategy)
      .symmetric(symmetric)
      .group_size(group_size)
      .validated();
}

QuantizationArgs fp4_tensor_group(int64_t group_size) {
  return QuantizationArgs()
      .num_bits(4)
      .type(QuantizationType::Float)
      .strategy(QuantizationStrategy::TensorGroup)
      .symmetric(true)
      .group_size(group_size)
      .validated();
}

at::Tensor seeded_randn(at::IntArrayRef shape, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return at::randn(shape, gen);
}

double mean_squared_error(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kFloat) - b.to(at::kFloat)).pow(2).mean().item<double>();
}

}  // namespace

TEST_CASE("minmax int8 scale and zero point match upstream's golden values") {
  const at::Tensor ones = at::ones({5}, at::kLong);
  for (bool symmetric : {true, false}) {
    auto args = int_args(8, QuantizationStrategy::Tensor, symmetric);
    auto obs = llmc::load_observer("minmax", "weight", args);
    const auto q = (*obs)(ones).get_qparams();
    INFO("symmetric=" << symmetric);
    CHECK(std::round(q.scale.item<double>() * 1e4) / 1e4 == Approx(symmetric ? 0.0078 : 0.0039));
    CHECK(q.zero_point.item<int64_t>() == (symmetric ? 0 : -128));
  }
}

TEST_CASE("minmax symmetric int8 scale stays within 128/127.5 for values up to 127") {
  auto args = int_args(8, QuantizationStrategy::Tensor, true);
  auto obs = llmc::load_observer("minmax", "weight", args);
  const auto q = (*obs)(at::rand({4, 4}, at::detail::createCPUGenerator(3)) * 127).get_qparams();
  CHECK(q.scale.item<double>() <= 1.0039);
  CHECK(q.zero_point.item<int64_t>() == 0);
}

TEST_CASE("minmax moving average with averaging_constant 0.1 follows upstream's sequence") {
  auto args = int_args(8, QuantizationStrategy::Tensor, true);
  llmc::MinMaxObserver obs("input", args, {{"averaging_constant", 0.1}});
  const std::vector<std::vector<float>> inputs = {{0, 0}, {-3, 1}, {-1, 3}};
  const double expected_min[] = {0.0, -0.3, -0.37};
  const double expected_max[] = {0.0, 0.1, 0.39};
  for (size_t i = 0; i < inputs.size(); ++i) {
    obs(at::tensor(inputs[i]).reshape({1, 1, 2}));
    const auto stats = obs.get_statistics();
    CHECK(stats.at("min_vals").item<double>() == Approx(expected_min[i]).margin(1e-6));
    CHECK(stats.at("max_vals").item<double>() == Approx(expected_max[i]).margin(1e-6));
  }
}

TEST_CASE("minmax with the default averaging constant moves 1% towards each new range") {
  auto args = int_args(8, QuantizationStrategy::Tensor, true);
  auto obs = llmc::load_observer("minmax", "input", args);
  const at::Tensor inp = at::ones({1, 5}, at::kLong);
  at::Tensor update_max = inp.clone();
  update_max[0][0] = 127;
  at::Tensor update_min = inp.clone();
  update_min[0][0] = -128;
  const std::vector<at::Tensor> tensors = {inp, inp, update_max, inp, update_min};
  double curr_max = 1.0, curr_min = 1.0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    (*obs)(tensors[i]);
    const auto stats = obs->get_statistics();
    curr_max = std::max(curr_max, stats.at("max_vals")[0].item<double>());
    curr_min = std::min(curr_min, stats.at("min_vals")[0].item<double>());
    INFO("observation " << i);
    CHECK(curr_max == Approx(i < 2 ? 1.0 : 2.26).margin(1e-6));
    CHECK(curr_min == Approx(i < 4 ? 1.0 : -0.29).margin(1e-6));
  }
}

TEST_CASE("mse observer reaches upstream's exact losses on arange(24)/24") {
  struct Row {
    QuantizationStrategy strategy;
    bool symmetric;
    double loss;
  };
  const Row rows[] = {
      {QuantizationStrategy::Tensor, true, 4.8103e-06},
      {QuantizationStrategy::Tensor, false, 1.1258e-06},
      {QuantizationStrategy::Channel, true, 2.5675e-06},
      {QuantizationStrategy::Channel, false, 2.3696e-07},
      {QuantizationStrategy::Group, true, 3.1282e-06},
      {QuantizationStrategy::Group, false, 1.3794e-07},
      {QuantizationStrategy::Block, true, 2.8968e-06},
      {QuantizationStrategy::Block, false, 5.6068e-07},
  };
  const at::Tensor tensor = at::arange(24).reshape({6, 4}) / 24;
  for (const auto& row : rows) {
    QuantizationArgs args =
        QuantizationArgs().num_bits(8).strategy(row.strategy).symmetric(row.symmetric);
    if (row.strategy == QuantizationStrategy::Group) args.group_size(2);
    if (row.strategy == QuantizationStrategy::Block)
      args.block_structure(std::vector<int64_t>{3, 2});
    args = args.observer("mse").validated();
    auto obs = llmc::load_observer("mse", "weight", args);
    REQUIRE(dynamic_cast<llmc::MovingAverageMSEObserver*>(obs.get()) != nullptr);
    const auto q = (*obs)(tensor).get_qparams();
    const at::Tensor qdq = llmc::fake_quantize(tensor, q.scale, q.zero_point, args);
    const double loss = ((tensor - qdq).abs().pow(2).sum() / tensor.numel()).item<double>();
    INFO(llmc::to_string(row.strategy) << " symmetric=" << row.symmetric);
    CHECK(loss == Approx(row.loss).margin(1e-10));
  }
}

TEST_CASE("mse symmetric int8 scale stays within 128/127.5 with zero point 0") {
  auto args = int_args(8, QuantizationStrategy::Tensor, true);
  auto obs = llmc::load_observer("mse", "weight", args);
  const auto q = (*obs)(at::rand({4, 4}, at::detail::createCPUGenerator(5)) * 127).get_qparams();
  CHECK(q.scale.item<double>() <= 1.0039);
  CHECK(q.zero_point.item<int64_t>() == 0);
}

TEST_CASE("mse on FP4 tensor_group with group size 3 keeps the MSE under 0.0015") {
  const at::Tensor weight = at::arange(24, at::kBFloat16).reshape({4, 6}) / 24;
  const auto args = fp4_tensor_group(3);
  auto obs = llmc::load_observer("mse", "weight", args);
  const auto q = (*obs)(weight).get_qparams();
  REQUIRE(q.global_scale.has_value());
  const at::Tensor qdq = llmc::fake_quantize(weight, q.scale, q.zero_point, args, q.global_scale);
  CHECK(mean_squared_error(qdq, weight) <= 0.0015);
}

TEST_CASE("memoryless_mse error is at most minmax error (upstream's slack)") {
  struct Row {
    QuantizationStrategy strategy;
    bool symmetric;
    int64_t bits;
  };
  const Row rows[] = {
      {QuantizationStrategy::Tensor, true, 8},      {QuantizationStrategy::Tensor, false, 8},
      {QuantizationStrategy::Channel, true, 8},     {QuantizationStrategy::Channel, false, 8},
      {QuantizationStrategy::TensorGroup, true, 4}, {QuantizationStrategy::TensorGroup, false, 4},
      {QuantizationStrategy::Channel, true, 4},     {QuantizationStrategy::Channel, false, 4}};
  for (double std_dev : {0.05, 0.2, 1.0}) {
    const at::Tensor tensor = seeded_randn({128, 256}, 42) * std_dev;
    for (const auto& row : rows) {
      const bool tensor_group = row.strategy == QuantizationStrategy::TensorGroup;
      const auto args = int_args(row.bits, row.strategy, row.symmetric,
                                 tensor_group ? std::optional<int64_t>(32) : std::nullopt);
      double errors[2];
      int k = 0;
      for (const char* name : {"memoryless_minmax", "memoryless_mse"}) {
        auto obs = llmc::load_observer(name, "weight", args);
        const auto q = (*obs)(tensor).get_qparams();
        CHECK((q.scale >= 0).all().item<bool>());
        const at::Tensor qdq = llmc::fake_quantize(tensor, q.scale, q.zero_point, args,
                                                   tensor_group ? q.global_scale : std::nullopt);
        errors[k++] = mean_squared_error(qdq, tensor);
      }
      const bool exact = row.strategy == QuantizationStrategy::Tensor && row.symmetric;
      INFO("std " << std_dev << " " << llmc::to_string(row.strategy) << " sym=" << row.symmetric
                  << " bits=" << row.bits << ": mse " << errors[1] << " minmax " << errors[0]);
      CHECK(errors[1] <= errors[0] * (exact ? 1.0 : 1.10) + 1e-8);
    }
  }
}

TEST_CASE("memoryless_mse beats minmax on skewed, tiny, huge and 3-D weights") {
  const std::vector<at::Tensor> tensors = {
      seeded_randn({64, 128}, 1) * 0.01, seeded_randn({64, 128}, 2) * 100.0,
      at::cat({seeded_randn({64, 100}, 3) * 0.1, seeded_randn({64, 28}, 4) * 10.0}, 1),
      seeded_randn({256, 512}, 5) * 0.05, seeded_randn({32, 64, 128}, 6) * 0.05};
  const auto args = int_args(8, QuantizationStrategy::Channel, true);
  for (size_t i = 0; i < tensors.size(); ++i) {
    double errors[2];
    int k = 0;
    for (const char* name : {"memoryless_minmax", "memoryless_mse"}) {
      auto obs = llmc::load_observer(name, "weight", args);
      const auto q = (*obs)(tensors[i]).get_qparams();
      errors[k++] = mean_squared_error(llmc::fake_quantize(tensors[i], q.scale, q.zero_point, args),
                                       tensors[i]);
    }
    INFO("tensor " << i << ": mse " << errors[1] << " minmax " << errors[0]);
    CHECK(errors[1] <= errors[0] * 1.10 + 1e-8);
  }
}

TEST_CASE("flattened weight shape [1:-1] equals the qparam shape for every strategy") {
  const at::Tensor weight = at::randn({10, 48});
  std::vector<QuantizationArgs> all = {
      int_args(8, QuantizationStrategy::Tensor, true),
      int_args(8, QuantizationStrategy::Channel, false),
      int_args(4, QuantizationStrategy::Group, true, 16),
      fp4_tensor_group(16),
  };
  for (std::vector<int64_t> block : {std::vector<int64_t>{5, 16}, {4, 16}, {3, 7}, {16, 64}}) {
    all.push_back(QuantizationArgs()
                      .num_bits(8)
                      .type(QuantizationType::Float)
                      .strategy(QuantizationStrategy::Block)
                      .block_structure(block)
                      .validated());
  }
  for (const auto& args : all) {
    const at::Tensor flat = llmc::flatten_for_calibration(weight, "weight", args);
    const auto sizes = flat.sizes().vec();
    const std::vector<int64_t> middle(sizes.begin() + 1, sizes.end() - 1);
    INFO(args);
    CHECK(middle == llmc::qparam_shape(args, weight.sizes()));
  }
}

TEST_CASE("block flattening zero-pads and keeps each block row-major") {
  const at::Tensor weight = at::arange(1, 16, at::kFloat).reshape({3, 5});
  const auto args = QuantizationArgs()
                        .num_bits(8)
                        .type(QuantizationType::Float)
                        .strategy(QuantizationStrategy::Block)
                        .block_structure(std::vector<int64_t>{2, 2})
                        .validated();
  const at::Tensor flat = llmc::flatten_for_calibration(weight, "weight", args);
  REQUIRE((flat.sizes() == at::IntArrayRef({1, 2, 3, 4})));
  CHECK((at::equal(flat[0][0][0], at::tensor({1.f, 2.f, 6.f, 7.f}))));
  CHECK((at::equal(flat[0][1][2], at::tensor({15.f, 0.f, 0.f, 0.f}))));
}

TEST_CASE("activation and attention flattening follow upstream's layouts") {
  const at::Tensor act = at::randn({2, 3, 32});
  const at::Tensor attn = at::randn({2, 4, 3, 8});
  auto shape = [](const at::Tensor& t) { return t.sizes().vec(); };
  CHECK((shape(llmc::flatten_for_calibration(act, "input",
                                             int_args(8, QuantizationStrategy::Tensor, true))) ==
         std::vector<int64_t>{6, 1, 32}));
  CHECK((shape(llmc::flatten_for_calibration(act, "output",
                                             int_args(8, QuantizationStrategy::Group, true, 16))) ==
         std::vector<int64_t>{6, 2, 16}));
  CHECK((shape(llmc::flatten_for_calibration(attn, "k",
                                             int_args(8, QuantizationStrategy::Tensor, true))) ==
         std::vector<int64_t>{6, 1, 32}));
  CHECK((shape(llmc::flatten_for_calibration(attn, "q",
                                             int_args(8, QuantizationStrategy::AttnHead, true))) ==
         std::vector<int64_t>{6, 4, 1, 1, 8}));
}

TEST_CASE("flatten_for_calibration names the strategy it cannot apply") {
  const at::Tensor w = at::randn({4, 8});
  const at::Tensor act = at::randn({2, 3, 8});
  const at::Tensor attn = at::randn({2, 2, 3, 4});
  CHECK_THAT(error_of([&] {
               llmc::flatten_for_calibration(w, "weight",
                                             int_args(8, QuantizationStrategy::Token, true));
             }),
             Catch::Contains("token quantization cannot be applied to weights"));
  CHECK_THAT(error_of([&] {
               llmc::flatten_for_calibration(w, "weight",
                                             int_args(8, QuantizationStrategy::AttnHead, true));
             }),
             Catch::Contains("attn_head quantization cannot be applied to weights"));
  CHECK_THAT(error_of([&] {
               llmc::flatten_for_calibration(act, "input",
                                             int_args(8, QuantizationStrategy::Channel, true));
             }),
             Catch::Contains("channel quantization cannot be applied to activations"));
  CHECK_THAT(error_of([&] {
               llmc::flatten_for_calibration(attn, "v",
                                             int_args(8, QuantizationStrategy::Group, true, 2));
             }),
             Catch::Contains("group quantization cannot be applied to attention"));
  CHECK_THAT(error_of([&] {
               llmc::flatten_for_calibration(w, "weight",
                                             int_args(4, QuantizationStrategy::Group, true, 3));
             }),
             Catch::Contains("group_size 3 does not divide the 8 columns"));
  CHECK_THAT(error_of([&] {
               llmc::flatten_for_calibration(w, "bias",
                                             int_args(8, QuantizationStrategy::Tensor, true));
             }),
             Catch::Contains("unknown base name 'bias'"));
}

TEST_CASE("memoryless observers declare no accumulators, the others declare upstream's ops") {
  const auto args = int_args(8, QuantizationStrategy::Tensor, true);
  using Acc = std::vector<std::pair<std::string, llmc::ReduceOp>>;
  const Acc none;
  const Acc min_max = {{"min_vals", llmc::ReduceOp::Min}, {"max_vals", llmc::ReduceOp::Max}};
  const Acc avg = {{"min_vals", llmc::ReduceOp::Avg}, {"max_vals", llmc::ReduceOp::Avg}};
  CHECK(llmc::load_observer("memoryless_minmax", "input", args)->accumulators() == none);
  CHECK(llmc::load_observer("memoryless_mse", "input", args)->accumulators() == none);
  CHECK(llmc::load_observer("nvfp4_expanded_mse", "input", args)->accumulators() == none);
  CHECK(llmc::load_observer("static_minmax", "input", args)->accumulators() == min_max);
  CHECK(llmc::load_observer("minmax", "input", args)->accumulators() == avg);
  CHECK(llmc::load_observer("mse", "input", args)->accumulators() == avg);
}

TEST_CASE("get_qparams without statistics throws naming the observer") {
  const auto args = int_args(8, QuantizationStrategy::Tensor, true);
  for (const auto& name : llmc::observer_registry().names()) {
    auto obs = llmc::load_observer(name, "input", args);
    CHECK_THAT(error_of([&] { obs->get_qparams(); }),
               Catch::Contains("observer of input: get_qparams without statistics"));
  }
}

TEST_CASE("get_qparams deletes the statistics; a weight is observed only once until then") {
  const auto args = int_args(8, QuantizationStrategy::Channel, true);
  auto obs = llmc::load_observer("memoryless_minmax", "weight", args);
  (*obs)(at::ones({2, 4}));
  (*obs)(at::ones({2, 4}) * 5);  // ignored: statistics already exist
  CHECK(obs->get_statistics().at("max_vals").max().item<float>() == 1.0f);
  obs->get_qparams();
  CHECK_FALSE(obs->has_statistics());
  (*obs)(at::ones({2, 4}) * 5);
  CHECK(obs->get_statistics().at("max_vals").max().item<float>() == 5.0f);
}

TEST_CASE("TENSOR_GROUP observers yield a (1,) fp32 global scale, others none") {
  const at::Tensor w = seeded_randn({8, 32}, 9);
  auto tg = llmc::load_observer("memoryless_minmax", "weight", fp4_tensor_group(16));
  const auto q = (*tg)(w).get_qparams();
  REQUIRE(q.global_scale.has_value());
  CHECK(q.global_scale->scalar_type() == at::kFloat);
  CHECK((q.global_scale->sizes() == at::IntArrayRef({1})));
  auto group = llmc::load_observer("memoryless_minmax", "weight",
                                   int_args(4, QuantizationStrategy::Group, true, 16));
  CHECK_FALSE((*group)(w).get_qparams().global_scale.has_value());
}

TEST_CASE("observer registry normalises names and lists the known ones for unknown names") {
  const auto args = int_args(8, QuantizationStrategy::Tensor, true);
  CHECK(llmc::load_observer("Memoryless-MinMax", "weight", args)->name() == "memoryless_minmax");
  CHECK(llmc::load_observer("NVFP4 expanded MSE", "weight", args)->name() == "nvfp4_expanded_mse");
  const std::string message = error_of([&] { llmc::load_observer("maxmin", "weight", args); });
  CHECK_THAT(message, Catch::Contains("unknown observer 'maxmin'"));
  for (const char* known : {"memoryless_minmax", "static_minmax", "minmax", "memoryless_mse", "mse",
                            "nvfp4_expanded_mse", "fouroversix"}) {
    CHECK_THAT(message, Catch::Contains(known));
  }
}

TEST_CASE("fouroversix is nvfp4_expanded_mse with its expanded-range defaults") {
  auto obs = llmc::load_observer("fouroversix", "weight", fp4_tensor_group(16));
  auto* nvfp4 = dynamic_cast<llmc::NVFP4ExpandedMSEObserver*>(obs.get());
  REQUIRE(nvfp4 != nullptr);
  CHECK(nvfp4->options() == llmc::NVFP4ExpandedMSEObserver::default_options());
  CHECK(nvfp4->options().grid_search().num_candidates() == 111);
  CHECK(nvfp4->options().expand() == 1.8);
}

TEST_CASE("register_observer adds user observers and refuses duplicate names") {
  llmc::register_observer(
      "test_user_minmax",
      [](const std::string& base, const QuantizationArgs& args, const nlohmann::json& kwargs) {
        return std::make_unique<llmc::StaticMinMaxObserver>(base, args, kwargs);
      });
  const auto args = int_args(8, QuantizationStrategy::Tensor, true);
  CHECK(llmc::load_observer("Test-User-MinMax", "input", args)->name() == "static_minmax");
  CHECK_THAT(error_of([] {
               llmc::register_observer(
                   "MSE", [](const std::string&, const QuantizationArgs&, const nlohmann::json&) {
                     return std::unique_ptr<llmc::Observer>();
                   });
             }),
             Catch::Contains("already registered"));
}

TEST_CASE("observer kwargs are validated with the kwarg name and the allowed range") {
  const auto args = int_args(8, QuantizationStrategy::Tensor, true);
  auto error_for = [&](const char* observer, const nlohmann::json& kwargs) {
    return error_of([&] { llmc::load_observer(observer, "weight", args, kwargs); });
  };
  CHECK_THAT(error_for("memoryless_mse", {{"maxshrinks", 0.3}}),
             Catch::Contains("unknown observer_kwargs key 'maxshrinks'") &&
                 Catch::Contains("maxshrink, patience, grid, norm, expand"));
  CHECK_THAT(error_for("static_minmax", {{"averaging_constant", 0.1}}),
             Catch::Contains("key 'averaging_constant' (allowed: none)"));
  CHECK_THAT(error_for("memoryless_mse", {{"averaging_constant", 1.5}}),
             Catch::Contains("observer_kwargs.averaging_constant: 1.5 out of range"));
  CHECK_THAT(error_for("memoryless_minmax", {{"grid", 10}}),
             Catch::Contains("unknown observer_kwargs key 'grid' (allowed: averaging_constant)"));
  CHECK_THAT(error_for("memoryless_mse", {{"norm", 0}}),
             Catch::Contains("observer_kwargs.norm: 0 out of range (allowed: finite, > 0)"));
  CHECK_THAT(error_for("mse", {{"norm", -1.5}}), Catch::Contains("observer_kwargs.norm"));
  CHECK_THAT(error_for("memoryless_mse", {{"expand", 0.5}}),
             Catch::Contains("observer_kwargs.expand: 0.5 out of range (allowed: finite, >= 1)"));
  CHECK_THAT(error_for("memoryless_mse", {{"chunk_size", 0}}),
             Catch::Contains("observer_kwargs.chunk_size"));
  CHECK_THAT(error_for("memoryless_mse", {{"maxshrink", 1.5}}),
             Catch::Contains("observer_kwargs.maxshrink"));
  CHECK_THAT(error_for("memoryless_mse", {{"patience", -1}}),
             Catch::Contains("observer_kwargs.patience"));
  CHECK_THAT(error_for("memoryless_mse", {{"patience", 2.5}}),
             Catch::Contains("observer_kwargs.patience: expected an integer"));
  CHECK_THAT(error_for("nvfp4_expanded_mse", {{"grid", 0}}),
             Catch::Contains("'nvfp4_expanded_mse'") && Catch::Contains("observer_kwargs.grid"));
  CHECK_THAT(error_for("minmax", {{"averaging_constant", 2}}),
             Catch::Contains("observer_kwargs.averaging_constant: 2 out of range"));
  CHECK_THAT(error_for("minmax", {{"averaging_constant", "fast"}}),
             Catch::Contains("expected a number"));
}

TEST_CASE("observer kwargs override defaults and are merged into the args") {
  const auto args = int_args(8, QuantizationStrategy::Tensor, true);
  auto with_grid = args;
  with_grid.observer_kwargs({{"grid", 40}});
  llmc::MemorylessMSEObserver obs("weight", with_grid, {{"maxshrink", 0.5}, {"patience", 0}});
  CHECK(obs.options().grid() == 40.0);
  CHECK(obs.options().maxshrink() == 0.5);
  CHECK(obs.options().patience() == 0);
  CHECK(obs.options().norm() == 2.4);
  // Weight "minmax" / "mse" become their memoryless twins (LC §11.4): their EMA constant loads.
  CHECK_NOTHROW(
      llmc::load_observer("memoryless_minmax", "weight", args, {{"averaging_constant", 0.1}}));
  CHECK_NOTHROW(
      llmc::load_observer("memoryless_mse", "weight", args, {{"averaging_constant", 0.1}}));
  CHECK((obs.args().observer_kwargs() ==
         nlohmann::json({{"grid", 40}, {"maxshrink", 0.5}, {"patience", 0}})));
}

TEST_CASE("NaN weights and activations fail with an error naming the observer and base name") {
  at::Tensor w = at::randn({4, 16});
  w[1][3] = std::nan("");
  const auto args = int_args(4, QuantizationStrategy::Group, true, 8);
  for (const char* name : {"memoryless_minmax", "memoryless_mse", "mse"}) {
    auto obs = llmc::load_observer(name, "weight", args);
    CHECK_THAT(error_of([&] { (*obs)(w); }),
               Catch::Contains(std::string(name) + " observer of weight"));
  }
  const auto act_args = int_args(8, QuantizationStrategy::Tensor, false);
  auto act = llmc::load_observer("static_minmax", "input", act_args);
  (*act)(w.reshape({1, 4, 16}));
  CHECK_THAT(error_of([&] { act->get_qparams(); }),
             Catch::Contains("static_minmax observer of input: min_vals contain NaN"));
}

TEST_CASE("observers reject unknown base names") {
  CHECK_THAT(error_of([] {
               llmc::load_observer("minmax", "bias",
                                   int_args(8, QuantizationStrategy::Tensor, true));
             }),
             Catch::Contains("unknown base name 'bias'"));
}
