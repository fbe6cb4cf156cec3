// llmc's version and the reference versions it mirrors bit for bit.
#pragma once

namespace llmc {

inline constexpr const char* kVersion = "0.1.0";
// The Python packages our oracle tests compare against (scripts/requirements.txt).
inline constexpr const char* kCompressedTensorsVersion = "0.19.0";
inline constexpr const char* kLlmCompressorVersion = "0.14.0.1";

}  // namespace llmc
