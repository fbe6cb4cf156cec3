#include <algorithm>
#include <atomic>
#include <llmc/nn/hooks.hpp>

namespace llmc::nn {

namespace {
// Per-thread DisableHooks state (see the header for why it is not a process global).
struct DisabledState {
  int depth = 0;
  std::vector<uint64_t> keep;  // a multiset: nested scopes may keep the same handle
};
thread_local DisabledState disabled_state;
}  // namespace

uint64_t detail::next_hook_id() noexcept {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

void HookHandle::remove() noexcept {
  if (auto owner = owner_.lock()) owner->remove(id_);
  owner_.reset();
}

DisableHooks::DisableHooks(std::vector<HookHandle> keep) : keep_(std::move(keep)) {
  ++disabled_state.depth;
  for (const auto& handle : keep_) disabled_state.keep.push_back(handle.id());
}

DisableHooks::~DisableHooks() {
  --disabled_state.depth;
  auto& kept = disabled_state.keep;
  for (const auto& handle : keep_) {
    auto it = std::find(kept.begin(), kept.end(), handle.id());
    if (it != kept.end()) kept.erase(it);
  }
}

bool DisableHooks::hook_enabled(uint64_t id) noexcept {
  if (disabled_state.depth == 0) return true;
  const auto& kept = disabled_state.keep;
  return std::find(kept.begin(), kept.end(), id) != kept.end();
}

}  // namespace llmc::nn
