// FusionGroup: TENSOR_GROUP (NVFP4) weight observers of layers that vLLM fuses (q/k/v,
// gate/up, ...) share one global scale (LC reference §5.7, observers/fusion.py). Each member
// registers a callback that observes its own weight, so asking any member for qparams lazily
// observes the others; statistics are deleted only after every member took its qparams.
//
//   auto group = llmc::FusionGroup::link({{"q_proj", q_obs, [&] { (*q_obs)(q->weight); }},
//                                         {"k_proj", k_obs, [&] { (*k_obs)(k->weight); }}});
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace llmc {

class Observer;

// Upstream FUSED_LAYER_NAMES: sibling attribute names whose weights share a global scale.
const std::vector<std::vector<std::string>>& fused_layer_names();

class FusionGroup {
 public:
  struct Member {
    std::string name;               // the layer's attribute name ("q_proj"), for errors
    Observer* observer = nullptr;   // its weight observer; null = the layer has none
    std::function<void()> observe;  // observes this member's weight (lazy partner observation)
  };

  // Links every member (each must be a TENSOR_GROUP weight observer with a callback; throws
  // llmc::Error naming the member otherwise). An observer already in another group leaves it.
  static std::shared_ptr<FusionGroup> link(std::vector<Member> members);

  // `caller` first, then the other members in link order, each observed through its callback
  // if it has no statistics yet (upstream get_fused_statistics).
  std::vector<Observer*> observed_members(Observer& caller);
  // Cooperative deletion: marks `caller` done; once every member is done, deletes all
  // members' statistics and resets the marks, so the group can observe again.
  void maybe_delete_statistics(Observer& caller);
  // Called by ~Observer: the group forgets a destroyed member.
  void remove(Observer& observer);

  std::vector<std::string> member_names() const;
  size_t size() const { return members_.size(); }

 private:
  struct Entry {
    Member member;
    bool deletion_called = false;
  };
  Entry& entry_of(Observer& observer);

  std::vector<Entry> members_;
};

// A fused group present in a model: the parent prefix ("model.layers.0.self_attn." or "") and
// the group's layers that exist under it, as (layer name "q_proj", index into module_names).
struct FusedSiblings {
  std::string parent;
  std::vector<std::pair<std::string, size_t>> layers;
};

// The fused_layer_names() groups among `module_names` (dotted module names), one per parent
// whose group head (q_proj, gate_proj, ...) is present, in the order of `module_names`, so every
// rank forms the same groups.
std::vector<FusedSiblings> find_fused_siblings(const std::vector<std::string>& module_names);

// Upstream fuse_weight_observers for one parent module: `present_layers` are the layers of one
// FUSED_LAYER_NAMES group that exist (a None layer is simply left out). Returns null when no
// member is a TENSOR_GROUP weight observer (nothing to fuse); throws when only some are, or when
// a layer has no observer while others are TENSOR_GROUP.
std::shared_ptr<FusionGroup> fuse_weight_observers(
    const std::vector<FusionGroup::Member>& present_layers);

}  // namespace llmc
