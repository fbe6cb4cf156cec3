// Forward hooks on llmc::nn::Linear: handles, order, input replacement, DisableHooks (LC §5.4,
// §9 test_imatrix hook values).
#include <torch/nn/functional/linear.h>

#include <llmc/nn/linear.hpp>
#include <thread>

#include "support/catch.hpp"

using llmc::nn::DisableHooks;
using llmc::nn::HookHandle;
using llmc::nn::Linear;
using llmc::nn::LinearImpl;

namespace {

// What imatrix's hook accumulates: Σ x² over every leading dim, and the token count.
struct SquareSum {
  torch::Tensor sum;
  int64_t count = 0;

  LinearImpl::ForwardPreHook hook() {
    return [this](LinearImpl&, const torch::Tensor& x) -> std::optional<torch::Tensor> {
      auto flat = x.detach().to(torch::kFloat).reshape({-1, x.size(-1)});
      auto squares = flat.pow(2).sum(0);
      sum = sum.defined() ? sum + squares : squares;
      count += flat.size(0);
      return std::nullopt;
    };
  }
};

torch::Tensor imatrix_input() {
  auto x = torch::ones({2, 3, 8});
  x.index_put_({torch::indexing::Ellipsis, 0}, 2.0);
  return x;
}

LinearImpl::ForwardPreHook counting_hook(int& calls) {
  return [&calls](LinearImpl&, const torch::Tensor&) -> std::optional<torch::Tensor> {
    ++calls;
    return std::nullopt;
  };
}

}  // namespace

TEST_CASE("A forward-pre hook sees the input: Σx² over leading dims and 6 tokens (LC §9)") {
  Linear fc(8, 4);
  SquareSum stats;
  fc->register_forward_pre_hook(stats.hook());
  fc(imatrix_input());
  CHECK(stats.count == 6);
  CHECK(torch::equal(stats.sum, torch::tensor({24.f, 6.f, 6.f, 6.f, 6.f, 6.f, 6.f, 6.f})));
}

TEST_CASE("handle.remove() stops the hook, is idempotent and safe after the module is gone") {
  HookHandle handle;
  int calls = 0;
  {
    Linear fc(8, 4);
    handle = fc->register_forward_pre_hook(counting_hook(calls));
    fc(torch::ones({1, 8}));
    handle.remove();
    handle.remove();
    fc(torch::ones({1, 8}));
    CHECK(fc->num_forward_pre_hooks() == 0);
    handle = fc->register_forward_pre_hook(counting_hook(calls));
  }
  handle.remove();  // module destroyed: a no-op
  CHECK(calls == 1);
}

TEST_CASE("Hooks run in registration order and a returned tensor replaces the input") {
  Linear fc(4, 2);
  std::vector<std::string> order;
  fc->register_forward_pre_hook([&](LinearImpl&, const torch::Tensor& x) {
    order.push_back("first");
    return std::optional<torch::Tensor>(x * 0);
  });
  fc->register_forward_pre_hook([&](LinearImpl&, const torch::Tensor& x) {
    order.push_back("second");
    CHECK(torch::equal(x, torch::zeros({3, 4})));
    return std::optional<torch::Tensor>{};
  });
  const auto y = fc(torch::randn({3, 4}));
  CHECK(order == std::vector<std::string>{"first", "second"});
  CHECK(torch::allclose(y, fc->bias.expand({3, 2})));
}

TEST_CASE("A forward hook sees input and output and may replace the output") {
  Linear fc(4, 2);
  fc->register_forward_hook([](LinearImpl&, const torch::Tensor& x, const torch::Tensor& y) {
    CHECK(x.size(-1) == 4);
    return std::optional<torch::Tensor>(y + 1);
  });
  const auto x = torch::randn({3, 4});
  torch::Tensor expected = torch::nn::functional::linear(x, fc->weight, fc->bias) + 1;
  CHECK(torch::allclose(fc(x), expected));
}

TEST_CASE("DisableHooks skips hooks inside the scope and restores them after") {
  Linear fc(8, 4);
  int calls = 0;
  fc->register_forward_pre_hook(counting_hook(calls));
  {
    DisableHooks off;
    fc(torch::ones({1, 8}));
    { DisableHooks nested; }
    fc(torch::ones({1, 8}));  // leaving the nested scope must not re-enable
  }
  CHECK(calls == 0);
  fc(torch::ones({1, 8}));
  CHECK(calls == 1);
}

TEST_CASE("DisableHooks keeps the handles it is given enabled") {
  Linear fc(8, 4);
  int kept_calls = 0;
  int other_calls = 0;
  HookHandle kept = fc->register_forward_pre_hook(counting_hook(kept_calls));
  fc->register_forward_pre_hook(counting_hook(other_calls));
  {
    DisableHooks off({kept});
    fc(torch::ones({1, 8}));
  }
  CHECK(kept_calls == 1);
  CHECK(other_calls == 0);
}

TEST_CASE("DisableHooks is per thread: a forward on another thread still runs hooks") {
  Linear fc(8, 4);
  int calls = 0;
  fc->register_forward_pre_hook(counting_hook(calls));
  DisableHooks off;
  std::thread worker([&] { fc(torch::ones({1, 8})); });
  worker.join();
  fc(torch::ones({1, 8}));
  CHECK(calls == 1);
}

TEST_CASE("A clone copies parameters and qparams but no hooks") {
  Linear fc(8, 4);
  int calls = 0;
  fc->register_forward_pre_hook(counting_hook(calls));
  fc->register_qparam("weight_scale", torch::full({4, 1}, 0.5));
  auto copy = std::dynamic_pointer_cast<LinearImpl>(fc->clone());
  REQUIRE(copy);
  CHECK(copy->num_forward_pre_hooks() == 0);
  CHECK(torch::equal(copy->weight, fc->weight));
  CHECK(torch::equal(copy->qparam("weight_scale"), torch::full({4, 1}, 0.5)));
  CHECK(copy->qparam("weight_scale").data_ptr() != fc->qparam("weight_scale").data_ptr());
  copy->forward(torch::ones({1, 8}));
  CHECK(calls == 0);
}
