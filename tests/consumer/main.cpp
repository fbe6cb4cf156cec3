// Uses the installed llmc: builds W4A16 args from the preset, observes a weight and
// fake-quantizes it; exits non-zero if anything is off.
#include <llmc/llmc.hpp>

#include <iostream>

int main() {
  const auto scheme = llmc::preset_name_to_scheme("W4A16", {"Linear"});
  const auto weight = at::randn({16, 256});
  auto observer = llmc::load_observer("memoryless_minmax", "weight", *scheme.weights());
  (*observer)(weight);
  const llmc::QParams q = observer->get_qparams();
  const auto qdq = llmc::fake_quantize(weight, q.scale, q.zero_point, *scheme.weights());
  const double err = (qdq - weight).abs().max().item<double>();
  std::cout << "llmc consumer: scale " << q.scale.sizes() << ", max error " << err << "\n";
  return (q.scale.sizes() == at::IntArrayRef{16, 2} && err < 0.5) ? 0 : 1;
}
