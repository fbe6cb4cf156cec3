// One line naming the host CPU for benchmark output, so that a table records the machine it
// was measured on (timings from different CPU generations are not comparable).
#pragma once

#include <istream>
#include <string>

namespace llmc::bench {

// "MODEL NAME (VENDOR, family F, model M)" from the first processor entry of a Linux
// /proc/cpuinfo text; fields it lacks are left out, and an empty text gives "unknown".
std::string describe_cpuinfo(std::istream& cpuinfo);

// describe_cpuinfo of /proc/cpuinfo ("unknown" where it cannot be read), then ", N logical
// CPUs".
std::string describe_host_cpu();

}  // namespace llmc::bench
