// Forward hooks for llmc's own modules (LibTorch has none, libtorch-notes §3): a HookList owned by
// the module, a HookHandle whose remove() detaches one hook, and the DisableHooks scope that
// mirrors llm-compressor's HooksMixin.disable_hooks (LC §1.5, §5.4).
//
//   llmc::nn::HookHandle h = linear->register_forward_pre_hook(observe);
//   { llmc::nn::DisableHooks off({h}); model->forward(x); }  // only `h` runs here
//   h.remove();
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace llmc::nn {

namespace detail {
// What a handle points back to; the module owns it through a shared_ptr, the handle holds a
// weak_ptr, so a handle that outlives its module is harmless.
class HookOwner {
 public:
  virtual ~HookOwner() = default;
  virtual void remove(uint64_t id) noexcept = 0;
};
// Process-unique, never reused: handles stay distinguishable in DisableHooks' keep set.
uint64_t next_hook_id() noexcept;
}  // namespace detail

class HookHandle {
 public:
  HookHandle() = default;
  HookHandle(std::weak_ptr<detail::HookOwner> owner, uint64_t id)
      : owner_(std::move(owner)), id_(id) {}

  // Detaches the hook. Idempotent; a no-op once the module is gone.
  void remove() noexcept;
  uint64_t id() const noexcept { return id_; }
  bool operator==(const HookHandle& other) const noexcept { return id_ == other.id_; }

 private:
  std::weak_ptr<detail::HookOwner> owner_;
  uint64_t id_ = 0;
};

// RAII: while alive, hooks on this thread are skipped unless their handle is in `keep`
// (upstream `HooksMixin.disable_hooks(keep=...)`). Nested scopes compose: the keep sets are
// united, and leaving a scope restores the enclosing state.
//
// The flag is thread-local rather than a process global like upstream's class variable: hooks
// run on the thread that calls forward, so the pipeline that opened the scope sees it, while a
// second session calibrating on another thread is not switched off behind its back. A model
// whose forward fans out to other threads must open the scope on those threads too.
class DisableHooks {
 public:
  explicit DisableHooks(std::vector<HookHandle> keep = {});
  ~DisableHooks();
  DisableHooks(const DisableHooks&) = delete;
  DisableHooks& operator=(const DisableHooks&) = delete;

  // Whether the hook with this handle id runs on the calling thread right now.
  static bool hook_enabled(uint64_t id) noexcept;

 private:
  std::vector<HookHandle> keep_;
};

// Hooks of one kind on one module, in registration order. `Fn` is the callable type.
// Not synchronised: register and remove hooks outside concurrent forwards.
template <typename Fn>
class HookList : public detail::HookOwner, public std::enable_shared_from_this<HookList<Fn>> {
 public:
  struct Entry {
    uint64_t id;
    Fn fn;
  };

  HookHandle add(Fn fn) {
    const uint64_t id = detail::next_hook_id();
    entries_.push_back(Entry{id, std::move(fn)});
    return HookHandle(this->weak_from_this(), id);
  }

  void remove(uint64_t id) noexcept override {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->id == id) {
        entries_.erase(it);
        return;
      }
    }
  }

  // A copy, so a hook may remove itself (or others) while the list is being run, as with
  // torch's snapshot of `_forward_pre_hooks`.
  std::vector<Entry> snapshot() const { return entries_; }
  size_t size() const noexcept { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
};

}  // namespace llmc::nn
