// The llmc driver: thin command dispatch over the library.
#include <llmc/error.hpp>
#include <llmc/version.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "oneshot_command.hpp"
#include "quantize_command.hpp"

namespace {

void print_usage() {
  std::cout << "llmc " << llmc::kVersion
            << ": importance-matrix guided LLM quantization (llm-compressor semantics)\n\n"
               "usage: llmc COMMAND [flags]\n\n"
               "commands:\n"
               "  quantize   quantize a model's Linear weights with a preset scheme and an\n"
               "             observer, write a compressed-tensors checkpoint\n"
               "  oneshot    run a recipe with calibration data (imatrix, static activations) on a\n"
               "             Llama-family model, on one or many ranks (torchrun), write a\n"
               "             compressed-tensors checkpoint\n\n"
               "`llmc COMMAND --help` lists the flags of a command with their defaults.\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    print_usage();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "llmc " << llmc::kVersion << " (compressed-tensors " << llmc::kCompressedTensorsVersion
              << ", llmcompressor " << llmc::kLlmCompressorVersion << " semantics)\n";
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "quantize") return llmc::driver::run_quantize(args);
    if (command == "oneshot") return llmc::driver::run_oneshot(args);
    std::cerr << "llmc: unknown command '" << command << "' (known: quantize, oneshot; see llmc --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "llmc " << command << ": error: " << e.what() << "\n";
    return 1;
  }
}
