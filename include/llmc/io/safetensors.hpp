// safetensors files (Hugging Face's tensor container): read via mmap, write via a temporary
// file renamed into place so a failed write never leaves a half-written file.
//
//   llmc::io::TensorMap t = llmc::io::load_safetensors("model.safetensors");
//   llmc::io::save_safetensors("out.safetensors", t, {{"format", "pt"}});
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace llmc::io {

// Ordered by name, as safetensors itself sorts tensors on write.
using TensorMap = std::map<std::string, at::Tensor>;

struct SafetensorsFile {
  TensorMap tensors;
  std::map<std::string, std::string> metadata;  // the "__metadata__" block
};

// Tensors share one read-only mapping of the file (copy-on-write is not used: callers that
// modify a tensor must clone it first). Throws llmc::Error naming the file and tensor at fault.
SafetensorsFile read_safetensors(const std::filesystem::path& path);
inline TensorMap load_safetensors(const std::filesystem::path& path) {
  return read_safetensors(path).tensors;
}

// Writes contiguous CPU copies of `tensors`. Supported dtypes: F64 F32 F16 BF16 I64 I32 I16 I8
// U8 BOOL F8_E4M3 F8_E5M2.
void save_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// "F32" ↔ at::kFloat, ...; throws for dtypes safetensors cannot hold.
std::string safetensors_dtype_name(c10::ScalarType dtype);
c10::ScalarType parse_safetensors_dtype(const std::string& name);

}  // namespace llmc::io
