// `llmc oneshot` end to end on a transformers-written Llama (tests/oracle/llama_models.py): the
// imatrix recipe with tokenized calibration data gives a checkpoint compressed-tensors itself
// reproduces and decompresses; on 2 Gloo ranks (started like torchrun) only rank 0 writes and
// its checkpoint matches the single-process run.
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <llmc/io/checkpoint.hpp>
#include <llmc/io/safetensors.hpp>
#include <llmc/recipe/recipe.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "support/catch.hpp"
#include "support/launch.hpp"
#include "support/oracle.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kModel = fs::path(LLMC_ORACLE_DIR) / "llama_models" / "llama";

struct Inputs {
  fs::path recipe, dataset;
};

// Gatherer + imatrix W4 g16 (hidden 64 / intermediate 96 divide by 16), lm_head left alone; six
// samples of 24 token ids (vocab 128) as JSON lines.
Inputs write_inputs(const fs::path& dir) {
  fs::create_directories(dir);
  Inputs in{dir / "recipe.yaml", dir / "calib.jsonl"};
  std::ofstream(in.recipe) << R"(recipe:
  - IMatrixGatherer: {ignore: [lm_head]}
  - QuantizationModifier:
      ignore: [lm_head]
      config_groups:
        group_0:
          targets: [Linear]
          weights: {num_bits: 4, type: int, symmetric: true, strategy: group, group_size: 16,
                    observer: imatrix_mse}
)";
  std::ofstream data(in.dataset);
  torch::manual_seed(5);
  for (int i = 0; i < 6; ++i) {
    const auto ids = torch::randint(0, 128, {24}, torch::kLong);
    nlohmann::json line = {{"input_ids", std::vector<int64_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + 24)}};
    data << line.dump() << "\n";
  }
  return in;
}

std::vector<std::string> oneshot_args(const Inputs& in, const std::string& output) {
  return {"oneshot", "--model", kModel.string(), "--recipe", in.recipe.string(), "--dataset",
          in.dataset.string(), "--device", "cpu", "--output", output};
}

std::string shell_command(const std::vector<std::string>& args, const fs::path& log) {
  std::string command = "env -u RANK -u WORLD_SIZE '" + std::string(LLMC_DRIVER_PATH) + "'";
  for (const auto& a : args) command += " '" + a + "'";
  return command + " 2> '" + log.string() + "'";
}

}  // namespace

TEST_CASE("llmc oneshot calibrates a transformers Llama with the imatrix recipe into a checkpoint "
          "compressed-tensors reproduces") {
  const fs::path dir = llmc::test::temp_dir("oneshot_driver");
  const Inputs in = write_inputs(dir);
  auto args = oneshot_args(in, (dir / "out").string());
  args.insert(args.end(), {"--report", (dir / "report.json").string()});
  const std::string command = shell_command(args, dir / "log.txt");
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
  const std::string check = std::string("\"") + LLMC_TEST_PYTHON + "\" \"" + LLMC_ORACLE_SCRIPTS +
                            "/_check_checkpoint.py\" " + (kModel / "model.safetensors").string() +
                            " " + (dir / "out").string();
  INFO(check);
  CHECK(std::system(check.c_str()) == 0);
  const auto report = nlohmann::json::parse(std::ifstream(dir / "report.json"));
  CHECK(report["compressed_modules"].size() == 2 * 7);  // q k v o gate up down, 2 layers
  CHECK(report["world_size"] == 1);
  CHECK(report["format"] == "pack-quantized");
  // The recipe that ran is saved beside the checkpoint and parses back.
  const auto saved = llmc::Recipe::from_file(dir / "out" / "recipe.yaml");
  CHECK(saved.modifiers().size() == 2);
  const auto config = nlohmann::json::parse(std::ifstream(dir / "out" / "config.json"));
  CHECK(config["quantization_config"]["ignore"] == nlohmann::json::array({"lm_head"}));
  CHECK(config["model_type"] == "llama");
}

TEST_CASE("llmc oneshot on 2 Gloo ranks: only rank 0 writes, and its checkpoint matches the "
          "single-process run") {
  const fs::path dir = llmc::test::temp_dir("oneshot_driver_dist");
  const Inputs in = write_inputs(dir);
  const std::string single = shell_command(oneshot_args(in, (dir / "single").string()), dir / "single.log");
  REQUIRE(std::system(single.c_str()) == 0);

  auto ranks = llmc::test::launch_ranks(LLMC_DRIVER_PATH, oneshot_args(in, (dir / "out{rank}").string()),
                                        2, dir / "logs");
  llmc::test::wait_ranks(ranks, std::chrono::seconds(300));
  INFO(llmc::test::describe(ranks));
  for (const auto& p : ranks) REQUIRE(p.succeeded());
  CHECK(fs::exists(dir / "out0" / "model.safetensors"));
  CHECK(fs::exists(dir / "out0" / "config.json"));
  CHECK_FALSE(fs::exists(dir / "out1"));

  // Same tensors; the importance sums of 2 ranks add in another order than one process's, so
  // scales may differ in the last bits and a few packed codes may flip.
  const auto a = llmc::io::load_safetensors(dir / "single" / "model.safetensors");
  const auto b = llmc::io::load_safetensors(dir / "out0" / "model.safetensors");
  REQUIRE(a.size() == b.size());
  int64_t codes = 0, differing = 0;
  for (const auto& [name, expected] : a) {
    INFO(name);
    REQUIRE(b.count(name) == 1);
    const auto& got = b.at(name);
    REQUIRE(got.sizes() == expected.sizes());
    REQUIRE(got.scalar_type() == expected.scalar_type());
    if (name.find("weight_packed") != std::string::npos) {
      codes += expected.numel();
      differing += got.ne(expected).sum().item<int64_t>();
    } else if (name.find("weight_scale") != std::string::npos) {
      CHECK(torch::allclose(got, expected, 1e-3, 0));
    } else {
      CHECK(torch::equal(got, expected));
    }
  }
  CHECK(codes > 0);
  CHECK(differing <= codes / 100);
}

TEST_CASE("llmc oneshot: a rank that fails on its own input makes the other rank exit non-zero "
          "within the timeout, naming it") {
  const fs::path dir = llmc::test::temp_dir("oneshot_driver_bad_rank");
  const Inputs in = write_inputs(dir);
  fs::copy_file(in.dataset, dir / "calib0.jsonl");  // rank 1's calib1.jsonl does not exist
  auto args = oneshot_args(in, (dir / "out{rank}").string());
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--dataset") args[i + 1] = (dir / "calib{rank}.jsonl").string();
  }
  args.insert(args.end(), {"--dist-timeout", "4"});
  auto ranks = llmc::test::launch_ranks(LLMC_DRIVER_PATH, args, 2, dir / "logs");
  llmc::test::wait_ranks(ranks, std::chrono::seconds(120));
  INFO(llmc::test::describe(ranks));
  CHECK(ranks[1].exit_code == 1);
  CHECK_THAT(ranks[1].stderr_text(), Catch::Contains("calib1.jsonl: cannot open"));
  CHECK_FALSE(ranks[0].killed_by_us);
  CHECK(ranks[0].exit_code == 1);
  CHECK_THAT(ranks[0].stderr_text(), Catch::Contains("rank 1 did not reach it"));
  CHECK_FALSE(fs::exists(dir / "out0"));
}

TEST_CASE("llmc oneshot without --recipe runs recipes/imatrix_w4a16.yaml as written") {
  const fs::path dir = llmc::test::temp_dir("oneshot_default_recipe");
  const fs::path file = fs::path(LLMC_ORACLE_SCRIPTS).parent_path().parent_path() / "recipes" /
                        "imatrix_w4a16.yaml";
  const std::vector<std::string> common = {"oneshot", "--device", "cpu",
                                           "--num-calibration-samples", "4",
                                           "--max-seq-length", "16", "--output"};
  auto built_in = common;
  built_in.push_back((dir / "built_in").string());
  auto explicit_file = common;
  explicit_file.insert(explicit_file.end(), {(dir / "file").string(), "--recipe", file.string()});
  for (const auto& [args, log] : {std::pair{built_in, dir / "built_in.log"},
                                  std::pair{explicit_file, dir / "file.log"}}) {
    const std::string command = shell_command(args, log);
    INFO(command);
    REQUIRE(std::system(command.c_str()) == 0);
  }
  std::ifstream log_file(dir / "built_in.log");
  const std::string log((std::istreambuf_iterator<char>(log_file)), std::istreambuf_iterator<char>());
  INFO(log);
  CHECK(log.find("using the built-in recipes/imatrix_w4a16.yaml") != std::string::npos);
  // The same recipe ran: the saved recipes and the quantized weights are identical.
  CHECK(llmc::Recipe::from_file(dir / "built_in" / "recipe.yaml").to_yaml() ==
        llmc::Recipe::from_file(dir / "file" / "recipe.yaml").to_yaml());
  const auto read = [](const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  REQUIRE(fs::exists(dir / "built_in" / "model.safetensors"));
  CHECK(read(dir / "built_in" / "model.safetensors") == read(dir / "file" / "model.safetensors"));
}
