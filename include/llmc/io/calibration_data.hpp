// Tokenized calibration data for `llmc oneshot`: one int64 [1, L] batch per sample, as
// upstream's oneshot feeds its dataloader with batch size 1 (tokenization happens before llmc).
//
//   auto batches = llmc::io::read_token_dataset("calib.jsonl",
//                      llmc::io::TokenDatasetOptions().num_samples(512).max_seq_length(2048));
#pragma once

#include <ATen/ATen.h>
#include <torch/arg.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace llmc::io {

struct TokenDatasetOptions {
  // At most this many samples, the first ones of the file (upstream's num_calibration_samples).
  TORCH_ARG(int64_t, num_samples) = 512;
  // Longer samples are cut to this many tokens (upstream's max_seq_length truncation).
  TORCH_ARG(int64_t, max_seq_length) = 384;
};

// Formats, by extension:
//  .safetensors  an integer tensor "input_ids" [N, L]; with an "attention_mask" [N, L] each row
//                keeps only its first sum(mask) tokens (right padding removed);
//  .jsonl        one JSON object per line with "input_ids": [int, ...];
//  .json         an array of such objects, or of plain int arrays.
// Token ids must be non-negative; `vocab_size` > 0 also bounds them. Errors name the file and
// the sample (line) at fault; an empty data set is an error.
std::vector<at::Tensor> read_token_dataset(const std::filesystem::path& path,
                                           const TokenDatasetOptions& options = {},
                                           int64_t vocab_size = 0);

// `num_samples` random token sequences of `length` ids in [0, vocab_size), from `seed`: the
// built-in calibration data when no data set is given.
std::vector<at::Tensor> random_token_dataset(int64_t num_samples, int64_t length, int64_t vocab_size,
                                             uint64_t seed);

}  // namespace llmc::io
