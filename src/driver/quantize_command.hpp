// `llmc quantize`: data-free quantization of a model's Linear weights with a preset scheme and
// a weight observer, saved as a compressed-tensors checkpoint.
#pragma once

#include <string>
#include <vector>

namespace llmc::driver {

int run_quantize(const std::vector<std::string>& argv);

}  // namespace llmc::driver
