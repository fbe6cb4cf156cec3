#include "support/oracle.hpp"

#include <llmc/error.hpp>
#include <llmc/io/safetensors.hpp>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

namespace llmc::test {
namespace {

std::filesystem::path oracle_dir(const std::string& name) {
  return std::filesystem::path(LLMC_ORACLE_DIR) / name;
}

void run_script(const std::string& name) {
  const auto script = std::filesystem::path(LLMC_ORACLE_SCRIPTS) / (name + ".py");
  const std::string command = std::string("\"") + LLMC_TEST_PYTHON + "\" \"" + script.string() +
                              "\" \"" + oracle_dir(name).string() + "\"";
  if (std::system(command.c_str()) != 0) {
    throw Error("oracle script failed: " + command);
  }
}

at::Tensor as_bytes(const at::Tensor& t) {
  // clone() gives standard strides even where contiguous() would keep odd size-1 strides,
  // which view(kByte) rejects; reshape(-1) because a 0-dim tensor cannot change element size.
  return t.clone(at::MemoryFormat::Contiguous)
      .reshape({-1})
      .view(at::kByte)
      .reshape({t.numel(), static_cast<int64_t>(t.element_size())});
}

}  // namespace

const Oracle& Oracle::get(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Oracle>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(name);
  if (it != cache.end()) return *it->second;

  const auto dir = oracle_dir(name);
  if (!std::filesystem::exists(dir / (name + ".json"))) run_script(name);
  auto oracle = std::make_unique<Oracle>();
  std::ifstream in(dir / (name + ".json"));
  oracle->cases_ = nlohmann::json::parse(in).at("cases");
  const auto tensors_path = dir / (name + ".safetensors");
  if (std::filesystem::exists(tensors_path)) oracle->tensors_ = io::load_safetensors(tensors_path);
  return *cache.emplace(name, std::move(oracle)).first->second;
}

bool Oracle::has_tensor(const nlohmann::json& test_case, const std::string& key) const {
  return tensors_.count(test_case.at("id").get<std::string>() + "." + key) != 0;
}

at::Tensor Oracle::tensor(const nlohmann::json& test_case, const std::string& key) const {
  const std::string full = test_case.at("id").get<std::string>() + "." + key;
  auto it = tensors_.find(full);
  if (it == tensors_.end()) throw Error("oracle has no tensor '" + full + "'");
  return it->second;
}

bool bit_equal(const at::Tensor& actual, const at::Tensor& expected, std::string* why) {
  std::ostringstream msg;
  if (actual.scalar_type() != expected.scalar_type()) {
    msg << "dtype " << actual.scalar_type() << " != expected " << expected.scalar_type();
  } else if (actual.sizes() != expected.sizes()) {
    msg << "shape " << actual.sizes() << " != expected " << expected.sizes();
  } else {
    const at::Tensor a = as_bytes(actual.cpu());
    const at::Tensor e = as_bytes(expected.cpu());
    const at::Tensor differs = (a != e).any(1);
    const int64_t count = differs.sum().item<int64_t>();
    if (count == 0) return true;
    const int64_t first = differs.nonzero()[0][0].item<int64_t>();
    const auto flat_a = actual.cpu().contiguous().reshape(-1);
    const auto flat_e = expected.cpu().contiguous().reshape(-1);
    msg << count << " of " << actual.numel() << " elements differ; first at flat index " << first
        << ": " << flat_a[first].to(at::kDouble).item<double>() << " vs expected "
        << flat_e[first].to(at::kDouble).item<double>();
  }
  if (why != nullptr) *why = msg.str();
  return false;
}

std::filesystem::path temp_dir(const std::string& tag) {
  // mkdtemp gives a fresh directory per call, so nothing needs clearing: std::filesystem's
  // remove_all can bind to libtorch's own copy of the symbol and crash on non-empty trees.
  std::string pattern =
      (std::filesystem::temp_directory_path() / ("llmc-test-" + tag + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw Error("mkdtemp failed for " + pattern);
  return pattern;
}

}  // namespace llmc::test
