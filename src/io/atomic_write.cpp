#include <llmc/error.hpp>
#include <llmc/io/atomic_write.hpp>

#include <fstream>
#include <unistd.h>

namespace llmc::io {

void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write) {
  // The pid keeps concurrent writers (e.g. several ranks by mistake) off each other's temp file.
  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path.string() + ": cannot open " + tmp.string() + " for writing");
    write(out);
    out.flush();
    if (!out) throw Error(path.string() + ": write failed (disk full?)");
    out.close();
    std::filesystem::rename(tmp, path);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

}  // namespace llmc::io
