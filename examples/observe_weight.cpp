// Embedding llmc: take the W4A16 preset's weight args, pick the memoryless_mse observer,
// observe a weight, and fake-quantize it with the resulting qparams. Exits non-zero if the
// result is off. CI builds this file against the *installed* package (tests/consumer).
#include <llmc/llmc.hpp>

#include <iostream>

int main() {
  const auto scheme = llmc::preset_name_to_scheme("W4A16", {"Linear"});
  llmc::QuantizationArgs args = *scheme.weights();
  args.observer("memoryless_mse");
  args = args.validated();
  const auto weight = at::randn({16, 256});
  auto observer = llmc::initialize_observer("weight", args);
  (*observer)(weight);
  const llmc::QParams q = observer->get_qparams();
  const auto qdq = llmc::fake_quantize(weight, q.scale, q.zero_point, args, q.global_scale);
  // 4-bit group-128 on Gaussian weights: about 10% relative error; far more means a bug.
  const double err = ((qdq - weight).norm() / weight.norm()).item<double>();
  std::cout << "observe_weight: scale " << q.scale.sizes() << ", relative error " << err << "\n";
  return (q.scale.sizes() == at::IntArrayRef{16, 2} && err < 0.15) ? 0 : 1;
}
