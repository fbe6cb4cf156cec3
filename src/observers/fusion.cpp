#include <algorithm>
#include <map>
#include <llmc/error.hpp>
#include <llmc/observers/fusion.hpp>
#include <llmc/observers/observer.hpp>

namespace llmc {
namespace {

std::string group_label(const std::vector<FusionGroup::Member>& members) {
  std::string names;
  for (const auto& m : members) names += (names.empty() ? "" : ", ") + m.name;
  return "fused group (" + names + ")";
}

void validate_member(const FusionGroup::Member& m, const std::string& label) {
  if (m.observer == nullptr) throw Error(label + ": " + m.name + " has no weight observer");
  if (!m.observer->is_weight_observer()) {
    throw Error(label + ": " + m.name + " has a " + m.observer->describe() +
                ", only weight observers share a global scale");
  }
  const auto strategy = m.observer->args().strategy();
  if (strategy != QuantizationStrategy::TensorGroup) {
    throw Error(label + ": " + m.name + " has " +
                (strategy ? to_string(*strategy) : std::string("no")) +
                " quantization, need all fused layers to be tensor_group");
  }
  if (!m.observe) throw Error(label + ": " + m.name + " has no callback to observe its weight");
}

}  // namespace

const std::vector<std::vector<std::string>>& fused_layer_names() {
  static const std::vector<std::vector<std::string>> names = {
      {"gate_proj", "up_proj"},            // MLP / experts: fused gate_up_proj
      {"q_proj", "k_proj", "v_proj"},      // attention: fused qkv_proj
      {"q_a_proj", "kv_a_proj_with_mqa"},  // DeepSeek MLA: fused_qkv_a_proj
      {"w1", "w3"},                        // MoE experts with w1/w3 naming
  };
  return names;
}

std::shared_ptr<FusionGroup> FusionGroup::link(std::vector<Member> members) {
  const std::string label = group_label(members);
  if (members.empty()) throw Error("FusionGroup::link: no members");
  for (size_t i = 0; i < members.size(); ++i) {
    validate_member(members[i], label);
    for (size_t j = 0; j < i; ++j) {
      if (members[j].observer == members[i].observer) {
        throw Error(label + ": " + members[i].name + " and " + members[j].name +
                    " share one observer");
      }
    }
  }
  auto group = std::make_shared<FusionGroup>();
  for (auto& m : members) {
    Observer& observer = *m.observer;
    if (observer.fusion_group_) observer.fusion_group_->remove(observer);
    observer.fusion_group_ = group;
    group->members_.push_back(Entry{std::move(m), false});
  }
  return group;
}

std::vector<Observer*> FusionGroup::observed_members(Observer& caller) {
  entry_of(caller);  // throws when the caller is not a member
  std::vector<Observer*> observers{&caller};
  for (const auto& e : members_) {
    if (e.member.observer != &caller) observers.push_back(e.member.observer);
  }
  for (Observer* observer : observers) {
    if (observer->has_statistics()) continue;
    // A copy: the callback re-enters this group through the partner's operator().
    const std::function<void()> observe = entry_of(*observer).member.observe;
    const std::string name = entry_of(*observer).member.name;
    observe();
    if (!observer->has_statistics()) {
      throw Error("fused group: observing " + name +
                  " through its callback left it without "
                  "statistics (the callback must call its observer on the weight)");
    }
  }
  return observers;
}

void FusionGroup::maybe_delete_statistics(Observer& caller) {
  entry_of(caller).deletion_called = true;
  const bool all_done = std::all_of(members_.begin(), members_.end(),
                                    [](const Entry& e) { return e.deletion_called; });
  if (!all_done) return;
  for (auto& e : members_) {
    e.deletion_called = false;
    e.member.observer->delete_own_statistics();
  }
}

void FusionGroup::remove(Observer& observer) {
  members_.erase(std::remove_if(members_.begin(), members_.end(),
                                [&](const Entry& e) { return e.member.observer == &observer; }),
                 members_.end());
}

std::vector<std::string> FusionGroup::member_names() const {
  std::vector<std::string> names;
  for (const auto& e : members_) names.push_back(e.member.name);
  return names;
}

FusionGroup::Entry& FusionGroup::entry_of(Observer& observer) {
  for (auto& e : members_) {
    if (e.member.observer == &observer) return e;
  }
  throw Error("fused group: " + observer.describe() + " is not a member");
}

std::vector<FusedSiblings> find_fused_siblings(const std::vector<std::string>& module_names) {
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < module_names.size(); ++i) index_of[module_names[i]] = i;
  std::vector<FusedSiblings> found;
  for (const auto& name : module_names) {
    const auto dot = name.rfind('.');
    const std::string parent = dot == std::string::npos ? "" : name.substr(0, dot + 1);
    const std::string leaf = dot == std::string::npos ? name : name.substr(dot + 1);
    for (const auto& group : fused_layer_names()) {
      if (group.front() != leaf) continue;  // visit each parent's group once, at its head
      FusedSiblings siblings{parent, {}};
      for (const auto& layer : group) {
        auto it = index_of.find(parent + layer);
        if (it != index_of.end()) siblings.layers.emplace_back(layer, it->second);
      }
      found.push_back(std::move(siblings));
    }
  }
  return found;
}

std::shared_ptr<FusionGroup> fuse_weight_observers(
    const std::vector<FusionGroup::Member>& present_layers) {
  bool only_observers = true;
  bool only_tensor_group = true;
  std::vector<FusionGroup::Member> fused;
  for (const auto& layer : present_layers) {
    if (layer.observer == nullptr) {
      only_observers = false;
    } else if (layer.observer->args().strategy() != QuantizationStrategy::TensorGroup) {
      only_tensor_group = false;
    } else {
      fused.push_back(layer);
    }
  }
  if (fused.empty()) return nullptr;
  const std::string start = "Some layers in " + group_label(present_layers) + " have";
  const std::string end = ", need all fused layers to have same quantization";
  if (!only_observers) throw Error(start + " no weight observer" + end);
  if (!only_tensor_group) throw Error(start + " non-TENSOR_GROUP quantization" + end);
  return FusionGroup::link(std::move(fused));
}

}  // namespace llmc
