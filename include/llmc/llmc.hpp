// llmc: importance-matrix guided LLM quantization in C++ (llm-compressor's names and
// semantics, compressed-tensors' formats). This umbrella header pulls in the public API.
//
//   #include <llmc/llmc.hpp>
//   auto scheme = llmc::preset_name_to_scheme("W4A16", {"Linear"});
#pragma once

#include <llmc/error.hpp>
#include <llmc/version.hpp>
#include <llmc/io/safetensors.hpp>
#include <llmc/observers/observer.hpp>
#include <llmc/observers/observer_selection.hpp>
#include <llmc/observers/registry.hpp>
#include <llmc/observers/fusion.hpp>
#include <llmc/io/checkpoint.hpp>
#include <llmc/io/compressors.hpp>
#include <llmc/core/module_matching.hpp>
#include <llmc/core/modifier.hpp>
#include <llmc/core/modifier_kwargs.hpp>
#include <llmc/core/modifier_registry.hpp>
#include <llmc/core/session.hpp>
#include <llmc/nn/linear.hpp>
#include <llmc/nn/modules.hpp>
#include <llmc/nn/quantization_init.hpp>
#include <llmc/entrypoints/oneshot.hpp>
#include <llmc/modifiers/calibration.hpp>
#include <llmc/modifiers/group_size_validation.hpp>
#include <llmc/modifiers/imatrix_gatherer.hpp>
#include <llmc/modifiers/quantization_modifier.hpp>
#include <llmc/models/llama.hpp>
#include <llmc/observers/imatrix_mse.hpp>
#include <llmc/pipelines/pipelines.hpp>
#include <llmc/pipelines/registry.hpp>
#include <llmc/recipe/recipe.hpp>
#include <llmc/quant/forward.hpp>
#include <llmc/quant/packing.hpp>
#include <llmc/quant/presets.hpp>
#include <llmc/quant/qparams.hpp>
#include <llmc/quant/quantization_args.hpp>
#include <llmc/quant/quantization_config.hpp>
#include <llmc/quant/quantization_scheme.hpp>
