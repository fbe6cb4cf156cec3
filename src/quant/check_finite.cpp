#include <llmc/quant/check_finite.hpp>

#include <llmc/error.hpp>

#include <sstream>

namespace llmc {

void check_finite(const at::Tensor& tensor, const std::string& name) {
  if (!tensor.is_floating_point()) return;
  const at::Tensor finite = at::isfinite(tensor);
  if (finite.all().item<bool>()) return;
  const at::Tensor bad = finite.logical_not().reshape(-1);
  const int64_t count = bad.sum().item<int64_t>();
  const int64_t first = bad.nonzero()[0][0].item<int64_t>();
  std::ostringstream message;
  message << name << ": " << count << " of " << tensor.numel()
          << " values are not finite (first at flat index " << first << ": "
          << tensor.reshape(-1)[first].item<double>() << ")";
  throw Error(message.str());
}

}  // namespace llmc
