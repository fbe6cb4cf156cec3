// Writes a file through a temporary name renamed into place, so readers never see a
// half-written file and a failed write leaves nothing behind.
//
//   llmc::io::write_file_atomically(path, [&](std::ostream& out) { out << json.dump(2); });
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>

namespace llmc::io {

// Throws llmc::Error naming `path` when the file cannot be written; `write` may throw too, in
// which case the temporary file is removed and the exception propagates.
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write);

}  // namespace llmc::io
