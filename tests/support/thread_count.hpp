// ATen's intra-op thread count set for a test's scope, and restored when the scope ends, even
// by an exception.
#pragma once

#include <ATen/Parallel.h>

namespace llmc::test {

class ThreadCount {
 public:
  explicit ThreadCount(int threads) : previous_(at::get_num_threads()) {
    at::set_num_threads(threads);
  }
  ~ThreadCount() { at::set_num_threads(previous_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int previous_;
};

}  // namespace llmc::test
