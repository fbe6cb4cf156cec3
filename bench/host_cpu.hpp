// One line naming the host CPU for benchmark output, so that a table records the machine it
// was measured on (timings from different CPU generations are not comparable).
#pragma once

#include <string>

namespace llmc::bench {

// "MODEL NAME (VENDOR, family F, model M), N logical CPUs", from the first processor entry of
// /proc/cpuinfo (fields it lacks are left out; "unknown" where it has none or cannot be read).
std::string describe_host_cpu();

}  // namespace llmc::bench
