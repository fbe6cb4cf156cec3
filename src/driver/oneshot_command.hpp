// `llmc oneshot`: a recipe run with calibration data on a Hugging Face Llama-family model
// (llm-compressor's oneshot), saved as a compressed-tensors checkpoint. Under torchrun (or the
// RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT variables) every rank calibrates on its slice of the
// data, statistics are all-reduced, and rank 0 alone writes the output.
#pragma once

#include <string>
#include <vector>

namespace llmc::driver {

int run_oneshot(const std::vector<std::string>& argv);

}  // namespace llmc::driver
