// Tokenized calibration data for `llmc oneshot` (io/calibration_data.hpp): the three formats,
// truncation and sample limits, padding removed by the attention mask, and errors that name the
// file and the sample or line at fault.
#include <torch/torch.h>

#include <fstream>
#include <llmc/error.hpp>
#include <llmc/io/calibration_data.hpp>
#include <llmc/io/safetensors.hpp>
#include <string>

#include "support/catch.hpp"
#include "support/error_of.hpp"
#include "support/oracle.hpp"

namespace fs = std::filesystem;
using llmc::test::error_of;
using llmc::io::read_token_dataset;
using llmc::io::TokenDatasetOptions;

namespace {

fs::path write(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("jsonl and json and safetensors token data give one [1, L] int64 batch per sample") {
  const fs::path dir = llmc::test::temp_dir("calib_formats");
  const auto jsonl = write(dir / "a.jsonl", "{\"input_ids\": [1, 2, 3]}\n\n{\"input_ids\": [4, 5]}\n");
  const auto json = write(dir / "a.json", "[[1, 2, 3], {\"input_ids\": [4, 5]}]");
  llmc::io::save_safetensors(dir / "a.safetensors",
                             {{"input_ids", torch::tensor({1, 2, 3, 4, 5, 0}, torch::kLong).view({2, 3})},
                              {"attention_mask", torch::tensor({1, 1, 1, 1, 1, 0}, torch::kLong).view({2, 3})}});
  for (const auto& path : {jsonl, json, dir / "a.safetensors"}) {
    INFO(path);
    const auto batches = read_token_dataset(path);
    REQUIRE(batches.size() == 2);
    CHECK(batches[0].scalar_type() == torch::kLong);
    CHECK(batches[0].sizes() == torch::IntArrayRef({1, 3}));
    CHECK(torch::equal(batches[0], torch::tensor({1, 2, 3}, torch::kLong).view({1, 3})));
    // The second sample is [4, 5]: in safetensors its padding is cut by the attention mask.
    CHECK(torch::equal(batches[1], torch::tensor({4, 5}, torch::kLong).view({1, 2})));
  }
}

TEST_CASE("num_samples keeps the first samples and max_seq_length truncates") {
  const fs::path dir = llmc::test::temp_dir("calib_limits");
  const auto path = write(dir / "a.jsonl", "{\"input_ids\": [1, 2, 3, 4]}\n{\"input_ids\": [5]}\n{\"input_ids\": [6]}\n");
  const auto batches = read_token_dataset(path, TokenDatasetOptions().num_samples(2).max_seq_length(3));
  REQUIRE(batches.size() == 2);
  CHECK(torch::equal(batches[0], torch::tensor({1, 2, 3}, torch::kLong).view({1, 3})));
  CHECK(torch::equal(batches[1], torch::tensor({5}, torch::kLong).view({1, 1})));
}

TEST_CASE("bad calibration data is an error naming the file and the line or sample") {
  const fs::path dir = llmc::test::temp_dir("calib_errors");
  const auto no_key = write(dir / "a.jsonl", "{\"input_ids\": [1]}\n{\"ids\": [1]}\n");
  CHECK_THAT(error_of([&] { read_token_dataset(no_key); }),
             Catch::Contains(no_key.string() + ":2: no \"input_ids\" key"));
  const auto not_json = write(dir / "b.jsonl", "{\"input_ids\": [1]\n");
  CHECK_THAT(error_of([&] { read_token_dataset(not_json); }), Catch::Contains(":1: not JSON"));
  const auto float_id = write(dir / "c.json", "[[1, 2.5]]");
  CHECK_THAT(error_of([&] { read_token_dataset(float_id); }),
             Catch::Contains("sample 0: token id 2.5 is not an integer"));
  const auto big = write(dir / "d.jsonl", "{\"input_ids\": [1, 200]}\n");
  CHECK_THAT(error_of([&] { read_token_dataset(big, {}, 128); }),
             Catch::Contains(":1: token id out of range [0, 128)"));
  const auto empty = write(dir / "e.jsonl", "\n");
  CHECK_THAT(error_of([&] { read_token_dataset(empty); }), Catch::Contains("no samples"));
  const auto unknown = write(dir / "f.txt", "1 2 3");
  CHECK_THAT(error_of([&] { read_token_dataset(unknown); }), Catch::Contains("unknown format"));
  llmc::io::save_safetensors(dir / "g.safetensors", {{"tokens", torch::zeros({1, 2}, torch::kLong)}});
  CHECK_THAT(error_of([&] { read_token_dataset(dir / "g.safetensors"); }),
             Catch::Contains("no tensor \"input_ids\""));
  CHECK_THAT(error_of([&] { read_token_dataset(dir / "missing.jsonl"); }), Catch::Contains("cannot open"));
}

TEST_CASE("random token data is seeded: the same on every rank, within the vocabulary") {
  const auto a = llmc::io::random_token_dataset(3, 8, 50, 7);
  const auto b = llmc::io::random_token_dataset(3, 8, 50, 7);
  REQUIRE(a.size() == 3);
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(torch::equal(a[i], b[i]));
    CHECK(a[i].sizes() == torch::IntArrayRef({1, 8}));
    CHECK(a[i].max().item<int64_t>() < 50);
  }
  CHECK_FALSE(torch::equal(a[0], llmc::io::random_token_dataset(1, 8, 50, 8)[0]));
}
