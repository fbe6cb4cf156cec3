#include <llmc/error.hpp>
#include <llmc/io/atomic_write.hpp>
#include <llmc/io/safetensors.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

namespace llmc::io {
namespace {

const std::vector<std::pair<std::string, c10::ScalarType>>& dtype_table() {
  static const std::vector<std::pair<std::string, c10::ScalarType>> table = {
      {"F64", at::kDouble},         {"F32", at::kFloat},
      {"F16", at::kHalf},           {"BF16", at::kBFloat16},
      {"I64", at::kLong},           {"I32", at::kInt},
      {"I16", at::kShort},          {"I8", at::kChar},
      {"U8", at::kByte},            {"BOOL", at::kBool},
      {"F8_E4M3", at::kFloat8_e4m3fn}, {"F8_E5M2", at::kFloat8_e5m2},
  };
  return table;
}

// Keeps the file mapping alive for as long as any tensor viewing it exists.
struct Mapping {
  void* address = nullptr;
  size_t length = 0;
  ~Mapping() {
    if (address != nullptr && address != MAP_FAILED) munmap(address, length);
  }
};

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
}

}  // namespace

std::string safetensors_dtype_name(c10::ScalarType dtype) {
  for (const auto& [name, type] : dtype_table()) {
    if (type == dtype) return name;
  }
  throw Error(std::string("safetensors: unsupported dtype ") + c10::toString(dtype));
}

c10::ScalarType parse_safetensors_dtype(const std::string& name) {
  for (const auto& [n, type] : dtype_table()) {
    if (n == name) return type;
  }
  throw Error("safetensors: unsupported dtype '" + name + "'");
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail(path, "cannot stat");
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->length = static_cast<size_t>(st.st_size);
  if (mapping->length < 8) {
    ::close(fd);
    fail(path, "too short to be a safetensors file (" + std::to_string(st.st_size) + " bytes)");
  }
  mapping->address = ::mmap(nullptr, mapping->length, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapping->address == MAP_FAILED) fail(path, "mmap failed");

  const auto* bytes = static_cast<const uint8_t*>(mapping->address);
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes, 8);  // little-endian hosts only (x86_64, aarch64)
  if (header_size > mapping->length - 8) {
    fail(path, "header size " + std::to_string(header_size) + " exceeds file size");
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes + 8, bytes + 8 + header_size);
  } catch (const std::exception& e) {
    fail(path, std::string("malformed JSON header: ") + e.what());
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");

  const uint8_t* data = bytes + 8 + header_size;
  const size_t data_size = mapping->length - 8 - header_size;
  SafetensorsFile file;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) fail(path, "__metadata__." + k + " is not a string");
        file.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    try {
      const auto dtype = parse_safetensors_dtype(entry.at("dtype").get<std::string>());
      const auto shape = entry.at("shape").get<std::vector<int64_t>>();
      const auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size) {
        throw Error("data_offsets out of range");
      }
      int64_t numel = 1;
      for (int64_t d : shape) {
        if (d < 0) throw Error("negative dimension");
        numel *= d;
      }
      const uint64_t expected = static_cast<uint64_t>(numel) * c10::elementSize(dtype);
      if (offsets[1] - offsets[0] != expected) {
        throw Error("byte length " + std::to_string(offsets[1] - offsets[0]) +
                    " does not match shape (expected " + std::to_string(expected) + ")");
      }
      void* ptr = const_cast<uint8_t*>(data + offsets[0]);
      file.tensors[name] = at::from_blob(
          ptr, shape, [mapping](void*) {}, at::TensorOptions().dtype(dtype));
    } catch (const std::exception& e) {
      fail(path, "tensor '" + name + "': " + e.what());
    }
  }
  return file;
}

void save_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> payload;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    at::Tensor t;
    try {
      t = tensor.detach().to(at::kCPU).contiguous();
      const uint64_t size = static_cast<uint64_t>(t.numel()) * t.element_size();
      header[name] = {{"dtype", safetensors_dtype_name(t.scalar_type())},
                      {"shape", t.sizes().vec()},
                      {"data_offsets", {offset, offset + size}}};
      offset += size;
    } catch (const std::exception& e) {
      fail(path, "tensor '" + name + "': " + e.what());
    }
    payload.push_back(t);
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // align data to 8 bytes
  const uint64_t header_size = header_text.size();

  write_file_atomically(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(&header_size), 8);
    out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
    for (const auto& t : payload) {
      out.write(static_cast<const char*>(t.data_ptr()),
                static_cast<std::streamsize>(t.numel() * t.element_size()));
    }
  });
}

}  // namespace llmc::io
