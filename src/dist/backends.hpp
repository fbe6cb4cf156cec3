// The c10d backends behind ProcessGroup, each in its own translation unit because their headers
// need things LibTorch's wheel does not ship everywhere (gloo's headers; nccl.h and the CUDA
// headers). Private to src/dist.
#pragma once

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <llmc/dist/environment.hpp>

namespace llmc::dist::detail {

// ProcessGroupGloo over `store`, on loopback when MASTER_ADDR is a loopback address, on the
// interface GLOO_SOCKET_IFNAME names when set, else on the address this host's name resolves to.
c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    const Environment& env,
                                                    std::chrono::milliseconds timeout);

// ProcessGroupNCCL on cuda:`device_index`; throws llmc::Error when llmc was built without it.
c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    const Environment& env,
                                                    std::chrono::milliseconds timeout,
                                                    int device_index);

}  // namespace llmc::dist::detail
