// ProcessGroupNCCL from C++ (compiled when the CUDA toolkit and the wheel's nccl.h are found:
// LLMC_WITH_NCCL). Its header pulls in nccl.h and ATen's CUDA headers, hence a file of its own.
#include <llmc/error.hpp>
#include <string>

#include "backends.hpp"

#ifdef LLMC_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace llmc::dist::detail {

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    const Environment& env,
                                                    std::chrono::milliseconds timeout,
                                                    int device_index) {
#ifdef LLMC_WITH_NCCL
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(device_index));
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("llmc-nccl", store);
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, env.rank, env.world_size, options);
#else
  (void)store;
  (void)timeout;
  throw Error(env.describe() + ": the tensors are on cuda:" + std::to_string(device_index) +
              " but this llmc was built without NCCL (configure with the CUDA toolkit and "
              "LLMC_WITH_CUDA=ON); run on CPU to use Gloo");
#endif
}

}  // namespace llmc::dist::detail
