// imatrix_mse end to end through llmc::oneshot against llm-compressor
// (tests/oracle/imatrix_e2e.py): a user's fc1 → relu → fc2 model of llmc::nn::Linear, calibrated on
// skewed inputs with the flat recipe (IMatrixGatherer + QuantizationModifier), upstream's stage
// form and the modifier alone; module qparams bit-identical to upstream's observer +
// update_qparams, nothing left behind, and a lower error than memoryless_mse / memoryless_minmax
// (LC §5.4, §5.8, §9 test_e2e_integration).
#include <torch/nn/functional/linear.h>

#include <functional>
#include <llmc/entrypoints/oneshot.hpp>
#include <llmc/nn/linear.hpp>
#include <llmc/nn/modules.hpp>
#include <llmc/observers/imatrix_mse.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/recipe/recipe.hpp>
#include <map>
#include <sstream>
#include <vector>

#include "support/catch.hpp"
#include "support/mismatches.hpp"
#include "support/oracle.hpp"

using llmc::test::Oracle;
using Json = nlohmann::json;
namespace F = torch::nn::functional;

namespace {

// The user's model: two bias-free llmc::nn::Linear layers around a ReLU.
struct MLPImpl : torch::nn::Module {
  MLPImpl() {
    fc1 = register_module("fc1", llmc::nn::Linear(llmc::nn::LinearOptions(64, 128).bias(false)));
    fc2 = register_module("fc2", llmc::nn::Linear(llmc::nn::LinearOptions(128, 64).bias(false)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::relu(fc1(x))); }
  llmc::nn::LinearImpl& layer(const std::string& name) { return name == "fc1" ? *fc1 : *fc2; }
  llmc::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(MLP);

const Oracle& oracle() { return Oracle::get("imatrix_e2e"); }

const Json& case_by_id(const std::string& id) {
  for (const auto& c : oracle().cases()) {
    if (c.at("id") == id) return c;
  }
  throw std::runtime_error("imatrix_e2e oracle has no case " + id);
}

std::vector<const Json*> e2e_cases() {
  std::vector<const Json*> cases;
  for (const auto& c : oracle().cases()) {
    if (c.at("id").get<std::string>().rfind("e2e.", 0) == 0) cases.push_back(&c);
  }
  return cases;
}

llmc::QuantizationArgs weights_args(const Json& c) {
  return llmc::QuantizationArgs::from_json(c.at("config_groups").at("group_0").at("weights"));
}

c10::ScalarType dtype_of(const Json& c) {
  return c.at("dtype") == "bfloat16" ? at::kBFloat16 : at::kFloat;
}

// The oracle's weights, cast to the case's dtype as the script casts them.
MLP make_model(c10::ScalarType dtype) {
  const Json& data = case_by_id("model");
  MLP model;
  torch::NoGradGuard no_grad;
  model->fc1->weight.set_data(oracle().tensor(data, "w1").to(dtype));
  model->fc2->weight.set_data(oracle().tensor(data, "w2").to(dtype));
  return model;
}

llmc::CalibrationData batches(c10::ScalarType dtype) {
  const Json& data = case_by_id("model");
  llmc::CalibrationData out;
  for (int64_t i = 0; i < data.at("batches").get<int64_t>(); ++i) {
    out.push_back(oracle().tensor(data, "x" + std::to_string(i)).to(dtype));
  }
  return out;
}

// JSON written as a one-line YAML flow collection, the way a user would inline it in a recipe.
std::string yaml_flow(const Json& value) {
  std::ostringstream out;
  if (value.is_object()) {
    out << "{";
    const char* sep = "";
    for (const auto& [key, item] : value.items()) {
      out << sep << key << ": " << yaml_flow(item);
      sep = ", ";
    }
    out << "}";
  } else if (value.is_array()) {
    out << "[";
    const char* sep = "";
    for (const auto& item : value) {
      out << sep << yaml_flow(item);
      sep = ", ";
    }
    out << "]";
  } else if (value.is_string()) {
    out << value.get<std::string>();
  } else {
    out << value.dump();
  }
  return out.str();
}

enum class RecipeForm { FlatWithGatherer, Stage, FlatModifierOnly };

const char* to_string(RecipeForm form) {
  switch (form) {
    case RecipeForm::FlatWithGatherer:
      return "flat IMatrixGatherer + QuantizationModifier";
    case RecipeForm::Stage:
      return "stage form, QuantizationModifier only";
    case RecipeForm::FlatModifierOnly:
      return "flat, QuantizationModifier only";
  }
  return "?";
}

std::string recipe_text(const Json& c, RecipeForm form) {
  const std::string groups = yaml_flow(c.at("config_groups"));
  switch (form) {
    case RecipeForm::FlatWithGatherer:
      return "recipe:\n  - IMatrixGatherer: {ignore: [lm_head]}\n"
             "  - QuantizationModifier: {config_groups: " +
             groups + "}\n";
    case RecipeForm::Stage:
      return "quant_stage:\n  quant_modifiers:\n    QuantizationModifier:\n"
             "      config_groups: " +
             groups + "\n";
    case RecipeForm::FlatModifierOnly:
      return "recipe:\n  - QuantizationModifier: {config_groups: " + groups + "}\n";
  }
  return "";
}

constexpr RecipeForm kForms[] = {RecipeForm::FlatWithGatherer, RecipeForm::Stage,
                                 RecipeForm::FlatModifierOnly};

struct Run {
  MLP model{nullptr};
  llmc::OneshotResult result;
};

Run run_oneshot(const Json& c, const std::string& recipe) {
  Run run{make_model(dtype_of(c)), {}};
  run.result =
      llmc::oneshot(run.model.ptr(), batches(dtype_of(c)), llmc::Recipe::from_string(recipe));
  return run;
}

using llmc::test::Mismatches;

constexpr const char* kQParams[] = {"scale", "zero_point", "global_scale"};

// The module's weight_<kind> against the oracle's "<layer>.<kind>" (upstream's module
// parameters after update_qparams), presence included.
void check_module_qparams(MLP& model, const Json& c, const std::string& what, Mismatches& m) {
  for (const std::string layer : {"fc1", "fc2"}) {
    const auto& linear = model->layer(layer);
    for (const std::string kind : kQParams) {
      const std::string key = layer + "." + kind;
      const bool expected = oracle().has_tensor(c, key);
      if (linear.has_qparam("weight_" + kind) != expected) {
        m.fail(what + " " + layer + ": weight_" + kind + " presence differs");
      } else if (expected) {
        m.check(linear.qparam("weight_" + kind), oracle().tensor(c, key), what + " " + key);
      }
    }
  }
}

void check_form_matches_oracle(RecipeForm form) {
  Mismatches m;
  for (const Json* c : e2e_cases()) {
    const std::string what = c->at("id").get<std::string>() + " (" + to_string(form) + ")";
    try {
      Run run = run_oneshot(*c, recipe_text(*c, form));
      check_module_qparams(run.model, *c, what, m);
    } catch (const std::exception& e) {
      m.fail(what + ": threw " + e.what());
    }
  }
  INFO(m.summary());
  REQUIRE(m.compared > 0);
  CHECK(m.lines.empty());
}

// Σ over batches of ||f_q(x) - f(x)||² in fp64 (the oracle's output_error).
double output_error(const std::function<at::Tensor(const at::Tensor&)>& quantized, MLP& reference,
                    const llmc::CalibrationData& xs) {
  torch::NoGradGuard no_grad;
  double total = 0.0;
  for (const auto& x : xs) {
    const at::Tensor diff = quantized(x).to(at::kDouble) - reference->forward(x).to(at::kDouble);
    total += diff.pow(2).sum().item<double>();
  }
  return total;
}

}  // namespace

TEST_CASE(
    "imatrix_mse attached to the C++ model sums llm-compressor's Σx² and token counts and "
    "returns its get_qparams") {
  Mismatches m;
  for (const Json* c : e2e_cases()) {
    const auto dtype = dtype_of(*c);
    MLP model = make_model(dtype);
    const auto args = weights_args(*c);
    std::vector<std::unique_ptr<llmc::Observer>> observers;
    for (const std::string layer : {"fc1", "fc2"}) {
      observers.push_back(llmc::load_observer("imatrix_mse", "weight", args));
      observers.back()->attach(model->layer(layer));
    }
    {
      torch::NoGradGuard no_grad;
      for (const auto& x : batches(dtype)) model->forward(x);
    }
    int index = 0;
    for (const std::string layer : {"fc1", "fc2"}) {
      auto& obs = *observers[index++];
      obs.detach(model->layer(layer));
      const std::string what = c->at("id").get<std::string>() + " " + layer;
      m.check(obs.statistics().at(llmc::kIMatrixSum), oracle().tensor(*c, layer + ".imatrix_sum"),
              what + " _imatrix_sum");
      if (obs.statistics().at(llmc::kIMatrixCount).item<int64_t>() !=
          c->at("imatrix_count").at(layer).get<int64_t>()) {
        m.fail(what + ": _imatrix_count differs");
      }
      const llmc::QParams q = obs(model->layer(layer).weight.detach()).get_qparams();
      m.check(q.scale, oracle().tensor(*c, layer + ".raw.scale"), what + " raw scale");
      m.check(q.zero_point, oracle().tensor(*c, layer + ".raw.zero_point"),
              what + " raw zero_point");
      if (q.global_scale) {
        m.check(*q.global_scale, oracle().tensor(*c, layer + ".raw.global_scale"),
                what + " raw global_scale");
      }
    }
  }
  INFO(m.summary());
  REQUIRE(m.compared > 0);
  CHECK(m.lines.empty());
}

TEST_CASE(
    "oneshot with IMatrixGatherer + QuantizationModifier (flat recipe) gives llm-compressor's "
    "imatrix_mse qparams bit for bit") {
  check_form_matches_oracle(RecipeForm::FlatWithGatherer);
}

TEST_CASE(
    "oneshot with upstream's stage-form recipe (observer imatrix_mse, no gatherer) gives "
    "llm-compressor's qparams bit for bit") {
  check_form_matches_oracle(RecipeForm::Stage);
}

TEST_CASE(
    "QuantizationModifier alone in a flat recipe gathers its own importance and matches too") {
  check_form_matches_oracle(RecipeForm::FlatModifierOnly);
}

TEST_CASE("the scheme preset with weight_observer imatrix_mse equals the explicit config_groups") {
  Mismatches m;
  for (const Json* c : e2e_cases()) {
    if (c->at("preset").is_null()) continue;
    const std::string recipe =
        "recipe:\n  - QuantizationModifier: {scheme: " + c->at("preset").get<std::string>() +
        ", weight_observer: imatrix_mse}\n";
    Run run = run_oneshot(*c, recipe);
    check_module_qparams(run.model, *c, c->at("id").get<std::string>() + " (preset)", m);
  }
  INFO(m.summary());
  REQUIRE(m.compared > 0);
  CHECK(m.lines.empty());
}

TEST_CASE("the gatherer, stage and modifier-only recipe forms give identical qparams") {
  Mismatches m;
  for (const Json* c : e2e_cases()) {
    std::vector<Run> runs;
    for (RecipeForm form : kForms) runs.push_back(run_oneshot(*c, recipe_text(*c, form)));
    for (size_t i = 1; i < runs.size(); ++i) {
      for (const std::string layer : {"fc1", "fc2"}) {
        for (const std::string& name : runs[0].model->layer(layer).qparam_names()) {
          m.check(runs[i].model->layer(layer).qparam(name),
                  runs[0].model->layer(layer).qparam(name),
                  c->at("id").get<std::string>() + " " + layer + "." + name + ": " +
                      to_string(kForms[i]) + " vs " + to_string(kForms[0]));
        }
      }
    }
  }
  INFO(m.summary());
  REQUIRE(m.compared > 0);
  CHECK(m.lines.empty());
}

TEST_CASE(
    "after oneshot no hook, observer or imatrix attribute remains; layers are frozen and "
    "quantize") {
  const Json& c = case_by_id("e2e.group32_int4_asym.bfloat16");
  for (RecipeForm form : kForms) {
    INFO(to_string(form));
    Run run = run_oneshot(c, recipe_text(c, form));
    const auto linears = llmc::nn::named_linears(*run.model);
    REQUIRE(linears.size() == 2);
    for (const auto& [name, linear] : linears) {
      INFO(name);
      CHECK(linear->num_forward_pre_hooks() == 0);
      CHECK(linear->num_forward_hooks() == 0);
      CHECK(linear->observers.empty());
      CHECK(linear->attributes.empty());
      REQUIRE(linear->quantization_status.has_value());
      CHECK(*linear->quantization_status == llmc::nn::QuantizationStatus::Frozen);
      CHECK(linear->quantization_enabled);
    }
    for (const auto& warning : run.result.warnings) {
      INFO(warning);
      CHECK(warning.find("importance") == std::string::npos);  // no imatrix fallback
    }
  }
}

TEST_CASE(
    "imatrix_mse qparams give a lower model output error than memoryless_mse and "
    "memoryless_minmax") {
  for (const Json* c : e2e_cases()) {
    const std::string id = c->at("id").get<std::string>();
    INFO(id);
    const auto dtype = dtype_of(*c);
    const auto xs = batches(dtype);
    MLP reference = make_model(dtype);
    Run run = run_oneshot(*c, recipe_text(*c, RecipeForm::FlatWithGatherer));
    const auto args = weights_args(*c);

    // Weights fake-quantized with the oracle's memoryless_<label> module qparams.
    auto quantized_weight = [&](const std::string& layer, const std::string& label) {
      const std::string prefix = layer + "." + label + ".";
      std::optional<at::Tensor> global_scale;
      if (oracle().has_tensor(*c, prefix + "global_scale")) {
        global_scale = oracle().tensor(*c, prefix + "global_scale");
      }
      return llmc::fake_quantize(reference->layer(layer).weight.detach(),
                                 oracle().tensor(*c, prefix + "scale"),
                                 oracle().tensor(*c, prefix + "zero_point"), args, global_scale);
    };
    auto memoryless_forward = [&](const std::string& label) {
      const at::Tensor w1 = quantized_weight("fc1", label);
      const at::Tensor w2 = quantized_weight("fc2", label);
      return [w1, w2](const at::Tensor& x) { return F::linear(torch::relu(F::linear(x, w1)), w2); };
    };
    const double imatrix =
        output_error([&](const at::Tensor& x) { return run.model->forward(x); }, reference, xs);
    const double mse = output_error(memoryless_forward("mse"), reference, xs);
    const double minmax = output_error(memoryless_forward("minmax"), reference, xs);
    const auto& expected = c->at("output_errors");
    CHECK(imatrix == Approx(expected.at("imatrix").get<double>()).epsilon(1e-6));
    CHECK(mse == Approx(expected.at("mse").get<double>()).epsilon(1e-6));
    CHECK(minmax == Approx(expected.at("minmax").get<double>()).epsilon(1e-6));
    CHECK(imatrix < mse);
    CHECK(imatrix < minmax);
  }
}

TEST_CASE("imatrix_mse lowers the importance-weighted weight error summed over the layers") {
  for (const Json* c : e2e_cases()) {
    INFO(c->at("id").get<std::string>());
    Run run = run_oneshot(*c, recipe_text(*c, RecipeForm::Stage));
    const auto args = weights_args(*c);
    std::map<std::string, double> summed;
    for (const std::string layer : {"fc1", "fc2"}) {
      const auto& linear = run.model->layer(layer);
      const at::Tensor weight = linear.weight.detach();
      const at::Tensor importance = oracle().tensor(*c, layer + ".imatrix_sum") /
                                    c->at("imatrix_count").at(layer).get<double>();
      // Σ_c importance_c Σ_r (W_rc - Q_rc)²
      auto weighted = [&](const at::Tensor& scale, const at::Tensor& zero_point,
                          const std::optional<at::Tensor>& global_scale) {
        const at::Tensor q = llmc::fake_quantize(weight, scale, zero_point, args, global_scale);
        const at::Tensor per_column = (q.to(at::kDouble) - weight.to(at::kDouble)).pow(2).sum(0);
        return (per_column * importance.to(at::kDouble)).sum().item<double>();
      };
      summed["imatrix"] +=
          weighted(linear.qparam("weight_scale"), linear.qparam("weight_zero_point"),
                   linear.find_qparam("weight_global_scale"));
      for (const std::string label : {"mse", "minmax"}) {
        const std::string prefix = layer + "." + label + ".";
        std::optional<at::Tensor> global_scale;
        if (oracle().has_tensor(*c, prefix + "global_scale")) {
          global_scale = oracle().tensor(*c, prefix + "global_scale");
        }
        summed[label] += weighted(oracle().tensor(*c, prefix + "scale"),
                                  oracle().tensor(*c, prefix + "zero_point"), global_scale);
      }
    }
    CHECK(summed["imatrix"] < summed["mse"]);
    CHECK(summed["imatrix"] < summed["minmax"]);
  }
}
