// The GPU's peak memory bandwidth and fp32 issue rate, for the grid search benchmark's roofline
// columns. Read from the CUDA runtime's device attributes where the bench is built with CUDA;
// every field can be overridden from the command line (--bandwidth-gbs, --fp32-tops).
#pragma once

#include <string>

namespace llmc::bench {

struct DeviceRoofline {
  std::string name;            // device name, or "" when unknown
  double bandwidth_bps = 0.0;  // bytes per second
  double fp32_ops_per_s = 0.0; // fp32 lane operations per second (one op per lane per cycle)
  std::string source;          // where the numbers came from
};

// The current CUDA device's roofline, from cudaDevAttrMemoryClockRate × bus width × 2 (DDR/HBM)
// and SMs × fp32 lanes per SM × clock. Throws llmc::Error when the bench was built without
// CUDA or no device is present.
DeviceRoofline query_device_roofline();

// fp32 lanes per SM for a compute capability (the CUDA programming guide's arithmetic
// instruction throughput table): 64 for 6.0, 7.x and 8.0, 128 for 6.1/6.2, 8.6-8.9, 9.x, 10.x
// and 12.x.
int fp32_lanes_per_sm(int major, int minor);

}  // namespace llmc::bench
