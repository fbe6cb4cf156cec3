// device_roofline.hpp's queries. The CUDA part compiles only with LLMC_BENCH_CUDA.
#include "device_roofline.hpp"

#include <llmc/error.hpp>

#ifdef LLMC_BENCH_CUDA
#include <cuda_runtime.h>
#endif

namespace llmc::bench {

int fp32_lanes_per_sm(int major, int minor) {
  if (major == 6) return minor == 0 ? 64 : 128;
  if (major == 7) return 64;
  if (major == 8) return minor == 0 ? 64 : 128;
  return 128;
}

#ifdef LLMC_BENCH_CUDA
namespace {
int attribute(cudaDeviceAttr attr, int device, const char* name) {
  int value = 0;
  const cudaError_t status = cudaDeviceGetAttribute(&value, attr, device);
  if (status != cudaSuccess) {
    throw llmc::Error(std::string("cudaDeviceGetAttribute(") + name +
                      "): " + cudaGetErrorString(status));
  }
  return value;
}
}  // namespace

DeviceRoofline query_device_roofline() {
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) throw llmc::Error("no CUDA device for the roofline");
  cudaDeviceProp props{};
  if (cudaGetDeviceProperties(&props, device) != cudaSuccess) {
    throw llmc::Error("cudaGetDeviceProperties failed for the roofline");
  }
  const double memory_khz = attribute(cudaDevAttrMemoryClockRate, device, "MemoryClockRate");
  const double bus_bits = attribute(cudaDevAttrGlobalMemoryBusWidth, device, "GlobalMemoryBusWidth");
  const double clock_khz = attribute(cudaDevAttrClockRate, device, "ClockRate");
  const double sms = attribute(cudaDevAttrMultiProcessorCount, device, "MultiProcessorCount");
  DeviceRoofline r;
  r.name = props.name;
  r.bandwidth_bps = 2.0 * memory_khz * 1e3 * bus_bits / 8.0;
  r.fp32_ops_per_s = sms * fp32_lanes_per_sm(props.major, props.minor) * clock_khz * 1e3;
  r.source = "CUDA device attributes";
  return r;
}
#else
DeviceRoofline query_device_roofline() {
  throw llmc::Error("this llmc_bench_grid_search was built without CUDA (LLMC_WITH_CUDA=OFF or no "
                    "nvcc): no GPU roofline");
}
#endif

}  // namespace llmc::bench
