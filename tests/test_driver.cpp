#include "support/catch.hpp"

#include <llmc/io/checkpoint.hpp>
#include <llmc/io/safetensors.hpp>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/oracle.hpp"

namespace {

// A small bf16 Llama-like layer with outlier input columns, written as a one-file HF model.
std::filesystem::path write_model(const std::filesystem::path& dir) {
  at::manual_seed(7);
  llmc::io::TensorMap t;
  auto w = [](int64_t out, int64_t in) {
    auto x = at::randn({out, in}) * 0.02;
    x.slice(1, 0, in, 13).mul_(20.0);
    return x.to(at::kBFloat16);
  };
  const std::string p = "model.layers.0.";
  t["model.embed_tokens.weight"] = w(64, 128);
  t[p + "self_attn.q_proj.weight"] = w(128, 128);
  t[p + "self_attn.k_proj.weight"] = w(64, 128);
  t[p + "self_attn.v_proj.weight"] = w(64, 128);
  t[p + "mlp.gate_proj.weight"] = w(96, 128);
  t[p + "mlp.up_proj.weight"] = w(96, 128);
  t[p + "mlp.down_proj.weight"] = w(128, 256);
  t[p + "input_layernorm.weight"] = at::ones({128}).to(at::kBFloat16);
  t["lm_head.weight"] = w(64, 128);
  std::filesystem::create_directories(dir);
  llmc::io::save_safetensors(dir / "model.safetensors", t);
  std::ofstream(dir / "config.json") << R"({"model_type": "llama", "hidden_size": 128})";
  return dir;
}

int run(const std::string& command) { return std::system(command.c_str()); }

void check_scheme(const std::string& scheme, const std::string& extra = "") {
  const auto dir = llmc::test::temp_dir("driver-" + scheme);
  const auto model = write_model(dir / "model");
  const auto out = dir / "out";
  const std::string quantize = std::string(LLMC_DRIVER_PATH) + " quantize --model " +
                               model.string() + " --scheme " + scheme + " --output " +
                               out.string() + " --report " + (dir / "report.json").string() + " " +
                               extra + " 2>" + (dir / "log.txt").string();
  INFO(quantize);
  REQUIRE(run(quantize) == 0);
  const std::string check = std::string("\"") + LLMC_TEST_PYTHON + "\" \"" +
                            LLMC_ORACLE_SCRIPTS + "/_check_checkpoint.py\" " +
                            (model / "model.safetensors").string() + " " + out.string();
  INFO(check);
  CHECK(run(check) == 0);
  const auto report = nlohmann::json::parse(std::ifstream(dir / "report.json"));
  CHECK(report["modules"].size() == 6);  // q,k,v,gate,up,down; lm_head ignored
}

}  // namespace

TEST_CASE("llmc quantize W4A16 checkpoint equals compressed-tensors' pack-quantized") {
  check_scheme("W4A16", "--observer memoryless_mse");
}
TEST_CASE("llmc quantize W4A16_ASYM checkpoint packs zero points like compressed-tensors") {
  check_scheme("W4A16_ASYM");
}
TEST_CASE("llmc quantize W8A8 checkpoint equals compressed-tensors' int-quantized") {
  check_scheme("W8A8");
}
TEST_CASE("llmc quantize FP8_BLOCK checkpoint equals compressed-tensors' float-quantized") {
  check_scheme("FP8_BLOCK");
}
TEST_CASE("llmc quantize NVFP4A16 checkpoint equals compressed-tensors' nvfp4-pack-quantized") {
  check_scheme("NVFP4A16");
}
TEST_CASE("llmc quantize MXFP4A16 checkpoint equals compressed-tensors' mxfp4-pack-quantized") {
  check_scheme("MXFP4A16");
}
TEST_CASE("llmc quantize rejects an unknown scheme without writing output") {
  const auto dir = llmc::test::temp_dir("driver-bad");
  const auto model = write_model(dir / "model");
  const std::string cmd = std::string(LLMC_DRIVER_PATH) + " quantize --model " + model.string() +
                          " --scheme W5A5 --output " + (dir / "out").string() + " 2>" +
                          (dir / "err.txt").string();
  CHECK(run(cmd) != 0);
  CHECK_FALSE(std::filesystem::exists(dir / "out"));
  std::ifstream err(dir / "err.txt");
  const std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("W5A5") && Catch::Contains("W4A16"));
}

TEST_CASE("llmc quantize runs its built-in default model when no --model is given") {
  const auto dir = llmc::test::temp_dir("driver-default");
  const std::string cmd = std::string(LLMC_DRIVER_PATH) + " quantize --output " +
                          (dir / "out").string() + " --report " + (dir / "r.json").string() +
                          " 2>" + (dir / "log.txt").string();
  REQUIRE(run(cmd) == 0);
  const auto model = llmc::io::load_hf_model(dir / "out");
  CHECK(model.config.at("quantization_config").at("format") == "pack-quantized");
  CHECK(model.tensors.count("model.layers.0.self_attn.q_proj.weight_packed") == 1);
  CHECK(model.tensors.count("lm_head.weight") == 1);  // ignored by default
  const auto report = nlohmann::json::parse(std::ifstream(dir / "r.json"));
  for (const auto& m : report["modules"]) CHECK(m["relative_error"].get<double>() < 0.25);
}

TEST_CASE("llmc quantize lists every module whose columns do not divide the group size") {
  const auto dir = llmc::test::temp_dir("driver-divisibility");
  const auto model = write_model(dir / "model");
  auto tensors = llmc::io::load_safetensors(model / "model.safetensors");
  llmc::io::TensorMap copy(tensors.begin(), tensors.end());
  copy["model.layers.0.mlp.down_proj.weight"] = at::zeros({128, 192}, at::kBFloat16);
  llmc::io::save_safetensors(model / "model.safetensors", copy);
  const std::string cmd = std::string(LLMC_DRIVER_PATH) + " quantize --model " + model.string() +
                          " --output " + (dir / "out").string() + " 2>" + (dir / "err.txt").string();
  CHECK(run(cmd) != 0);
  CHECK_FALSE(std::filesystem::exists(dir / "out" / "model.safetensors"));
  std::ifstream err(dir / "err.txt");
  const std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("model.layers.0.mlp.down_proj (columns=192, group_size=128)") &&
                       Catch::Contains("--ignore"));
}
