// Target / ignore matching as compressed-tensors' is_match and match_named_modules: class names,
// exact names, "re:" regexes anchored at the start only (re.match), ignore wins, model order.
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>

#include <llmc/core/module_matching.hpp>
#include <llmc/nn/modules.hpp>

#include "support/catch.hpp"
#include "support/error_of.hpp"

using llmc::nn::Linear;

namespace {

struct MlpImpl : torch::nn::Module {
  MlpImpl() {
    up_proj = register_module("up_proj", Linear(4, 8));
    down_proj = register_module("down_proj", Linear(8, 4));
  }
  Linear up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(Mlp);

struct ToyModelImpl : torch::nn::Module {
  ToyModelImpl() {
    layers = register_module("layers", torch::nn::ModuleList(Mlp(), Mlp()));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({4})));
    lm_head = register_module("lm_head", Linear(4, 10));
  }
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  Linear lm_head{nullptr};
};
TORCH_MODULE(ToyModel);

template <typename Named>
std::vector<std::string> names_of(const std::vector<Named>& named) {
  std::vector<std::string> out;
  for (const auto& item : named) out.push_back(item.first);
  return out;
}

}  // namespace

TEST_CASE("Linear layers are listed in registration order, depth first") {
  ToyModel model;
  CHECK(names_of(llmc::nn::named_linears(*model)) ==
        std::vector<std::string>{"layers.0.up_proj", "layers.0.down_proj", "layers.1.up_proj",
                                 "layers.1.down_proj", "lm_head"});
  const auto all = names_of(llmc::nn::named_modules(*model));
  REQUIRE(all.size() == 10);
  CHECK(all.front().empty());  // the model itself, as Python's named_modules()
  CHECK(all[1] == "layers");
}

TEST_CASE("The class name target 'Linear' matches llmc::nn::Linear layers only") {
  ToyModel model;
  CHECK(names_of(llmc::nn::match_named_modules(*model, {"Linear"})) ==
        names_of(llmc::nn::named_linears(*model)));
  CHECK(names_of(llmc::nn::match_named_modules(*model, {"Mlp"})) ==
        std::vector<std::string>{"layers.0", "layers.1"});
  CHECK(llmc::nn::module_class_names(*model->lm_head) ==
        std::vector<std::string>{"Linear", "Module"});
}

TEST_CASE("An exact module name matches that module only") {
  ToyModel model;
  CHECK(names_of(llmc::nn::match_named_linears(*model, {"layers.1.up_proj"})) ==
        std::vector<std::string>{"layers.1.up_proj"});
  CHECK(llmc::nn::match_named_linears(*model, {"up_proj"}).empty());
}

TEST_CASE("'re:' targets match from the start of the name, not the whole name (re.match)") {
  CHECK(llmc::match_name("model.layers.0.mlp.up_proj", "re:model.layers.0"));
  CHECK_FALSE(llmc::match_name("model.layers.0.mlp.up_proj", "re:mlp"));
  CHECK(llmc::match_name("model.layers.0.mlp.up_proj", "re:.*mlp"));
  CHECK(llmc::match_name("model.layers.0.mlp.up_proj", "re:.*(up|gate)_proj$"));
  CHECK_FALSE(llmc::match_name("model.layers.0.mlp.up_proj_x", "re:.*up_proj$"));
  ToyModel model;
  CHECK(names_of(llmc::nn::match_named_linears(*model, {"re:.*down_proj"})) ==
        std::vector<std::string>{"layers.0.down_proj", "layers.1.down_proj"});
}

TEST_CASE("Ignore wins over targets, by name, regex or class") {
  ToyModel model;
  CHECK(names_of(llmc::nn::match_named_linears(*model, {"Linear"}, {"lm_head", "re:layers.0"})) ==
        std::vector<std::string>{"layers.1.up_proj", "layers.1.down_proj"});
  CHECK(llmc::nn::match_named_linears(*model, {"re:.*"}, {"Linear"}).empty());
  CHECK_FALSE(llmc::is_match("lm_head", {"Linear", "Module"}, {"Linear"}, {"lm_head"}));
}

TEST_CASE("'Module' matches every module, as upstream's walk over the class hierarchy does") {
  ToyModel model;
  CHECK(llmc::nn::match_named_modules(*model, {"Module"}).size() ==
        llmc::nn::named_modules(*model).size());
}

TEST_CASE("An invalid regular expression is an error naming the target") {
  CHECK_THAT(llmc::test::error_of([] { llmc::match_name("a", "re:(unclosed"); }),
             Catch::Contains("target 're:(unclosed': invalid regular expression"));
}
