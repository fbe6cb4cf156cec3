#include "host_cpu.hpp"

#include <fstream>
#include <istream>
#include <map>
#include <thread>

namespace llmc::bench {
namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

// "MODEL NAME (VENDOR, family F, model M)" from the first processor entry of a Linux
// /proc/cpuinfo text; fields it lacks are left out, and a text without them gives "unknown".
std::string describe_cpuinfo(std::istream& cpuinfo) {
  // Only the first processor's entry: the fields repeat for every logical CPU.
  std::map<std::string, std::string> fields;
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (trim(line).empty()) {
      if (!fields.empty()) break;
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    fields.emplace(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  const auto field = [&fields](const char* key) {
    const auto it = fields.find(key);
    return it == fields.end() ? std::string() : it->second;
  };
  std::string details;
  const auto append = [&details](const std::string& part) {
    if (part.empty()) return;
    details += details.empty() ? part : ", " + part;
  };
  append(field("vendor_id"));
  if (!field("cpu family").empty()) append("family " + field("cpu family"));
  if (!field("model").empty()) append("model " + field("model"));
  const std::string name = field("model name");
  if (details.empty()) return name.empty() ? "unknown" : name;
  return name.empty() ? "(" + details + ")" : name + " (" + details + ")";
}

}  // namespace

std::string describe_host_cpu() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  const std::string cpu = cpuinfo ? describe_cpuinfo(cpuinfo) : std::string("unknown");
  return cpu + ", " + std::to_string(std::thread::hardware_concurrency()) + " logical CPUs";
}

}  // namespace llmc::bench
