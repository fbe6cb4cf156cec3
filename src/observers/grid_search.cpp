#include <algorithm>
#include <llmc/error.hpp>
#include <llmc/kernels/grid_search.hpp>
#include <llmc/observers/grid_search.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/quant/qparams.hpp>

#include "../quant/dtype_limits.hpp"

namespace llmc {
namespace {

// torch.finfo(dtype).max: the initial best error, so the first finite candidate always wins.
double finfo_max(at::ScalarType dtype) {
  if (!at::isFloatingType(dtype)) {
    throw Error(std::string("grid_search_mse: observed values must be floating point, got ") +
                c10::toString(dtype));
  }
  return float_limits(dtype).max;
}

// Error of one candidate range per qparam: sum over (0, -1) of |fake_quant(x) - x|^norm.
// The mse path stays in x's dtype (LC mse_quant.py::_calculate_error), the imatrix path casts
// the fake-quantized values to fp32 first (LC imatrix.py::_grid_search).
at::Tensor candidate_error(const at::Tensor& observed, const at::Tensor& observed_for_error,
                           const at::Tensor& shrunk_min, const at::Tensor& shrunk_max,
                           const QuantizationArgs& search_args, const QuantizationArgs& token_args,
                           const GridSearchOptions& options,
                           const std::optional<at::Tensor>& importance) {
  const auto [scale, zero_point] =
      calculate_qparams(shrunk_min, shrunk_max, search_args, std::nullopt);
  const at::Tensor q =
      fake_quantize(observed, scale.unsqueeze(-1), zero_point.unsqueeze(-1), token_args)
          .to(observed_for_error.scalar_type());
  at::Tensor elementwise = (q - observed_for_error).abs().pow(options.norm());
  if (importance.has_value()) elementwise = elementwise * *importance;
  return elementwise.sum(at::IntArrayRef{0, -1});
}

bool should_stop(int64_t no_improve, const GridSearchOptions& options) {
  if (options.patience() == 0 && options.patience_zero_means_never()) return false;
  return no_improve >= options.patience();
}

}  // namespace

GridSearchOptions GridSearchOptions::imatrix() {
  return GridSearchOptions()
      .maxshrink(0.95)
      .grid(20.0)
      .norm(3.0)
      .patience(5)
      .include_endpoint(true)
      .patience_zero_means_never(true)
      .error_in_fp32(true);
}

int64_t GridSearchOptions::num_candidates() const {
  // Python's int() truncates toward zero; maxshrink and grid are non-negative here.
  const auto steps = static_cast<int64_t>(maxshrink_ * grid_);
  return include_endpoint_ ? std::max<int64_t>(1, steps) + 1 : steps;
}

bool GridSearchOptions::operator==(const GridSearchOptions& other) const {
  return maxshrink_ == other.maxshrink_ && grid_ == other.grid_ && norm_ == other.norm_ &&
         patience_ == other.patience_ && expand_ == other.expand_ &&
         include_endpoint_ == other.include_endpoint_ &&
         patience_zero_means_never_ == other.patience_zero_means_never_ &&
         error_in_fp32_ == other.error_in_fp32_ && backend_ == other.backend_;
}

std::string to_string(GridSearchBackend backend) {
  switch (backend) {
    case GridSearchBackend::Auto: return "auto";
    case GridSearchBackend::Reference: return "reference";
    case GridSearchBackend::Fused: return "fused";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, const GridSearchOptions& options) {
  return os << "GridSearchOptions(maxshrink=" << options.maxshrink() << ", grid=" << options.grid()
            << ", norm=" << options.norm() << ", patience=" << options.patience()
            << ", expand=" << options.expand()
            << ", include_endpoint=" << options.include_endpoint()
            << ", patience_zero_means_never=" << options.patience_zero_means_never()
            << ", error_in_fp32=" << options.error_in_fp32()
            << ", backend=" << to_string(options.backend()) << ")";
}

std::pair<at::Tensor, at::Tensor> grid_search_mse(const at::Tensor& observed,
                                                  const QuantizationArgs& args,
                                                  const GridSearchOptions& options,
                                                  const std::optional<at::Tensor>& importance) {
  const bool fused =
      options.backend() == GridSearchBackend::Fused ||
      (options.backend() == GridSearchBackend::Auto &&
       !fused_grid_search_unsupported(observed, args, options, importance).has_value());
  if (fused) return fused_grid_search(observed, args, options, importance);

  // The search ignores FP8 rounding of TENSOR_GROUP scales and any global scale: both are
  // applied once, to the winning range, in get_qparams (LC §5.3, §11.14).
  QuantizationArgs search_args = args;
  if (args.strategy() == QuantizationStrategy::TensorGroup && args.scale_dtype().has_value()) {
    search_args.scale_dtype(std::nullopt);
  }
  QuantizationArgs token_args = search_args;
  token_args.strategy(QuantizationStrategy::Token);

  // Python `tensor * float` keeps the tensor's dtype (bf16 stays bf16); at::mul with a Scalar
  // takes the same wrapped-number path, so every candidate range rounds exactly as upstream's.
  const at::Tensor min_val = at::amin(observed, {0, -1}) * options.expand();
  const at::Tensor max_val = at::amax(observed, {0, -1}) * options.expand();
  const at::ScalarType error_dtype = options.error_in_fp32() ? at::kFloat : observed.scalar_type();
  const at::Tensor observed_for_error = observed.to(error_dtype);
  at::Tensor best_error =
      at::full(min_val.sizes(), finfo_max(error_dtype), min_val.options().dtype(error_dtype));
  at::Tensor best_min = min_val.clone();
  at::Tensor best_max = max_val.clone();

  int64_t no_improve = 0;
  const int64_t candidates = options.num_candidates();
  for (int64_t i = 0; i < candidates; ++i) {
    const double p = options.shrink_factor(i);
    const at::Tensor shrunk_min = min_val * p;
    const at::Tensor shrunk_max = max_val * p;
    const at::Tensor error = candidate_error(observed, observed_for_error, shrunk_min, shrunk_max,
                                             search_args, token_args, options, importance);
    const at::Tensor improved = error < best_error;  // strict: ties keep the wider range
    if (improved.any().item<bool>()) {
      best_error = at::where(improved, error, best_error);
      best_min = at::where(improved, shrunk_min, best_min);
      best_max = at::where(improved, shrunk_max, best_max);
      no_improve = 0;
    } else if (should_stop(++no_improve, options)) {
      break;
    }
  }
  return {best_min, best_max};
}

}  // namespace llmc
