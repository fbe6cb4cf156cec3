#include <llmc/dist/sync_statistics.hpp>
#include <llmc/error.hpp>
#include <llmc/nn/linear.hpp>

#include <limits>

namespace llmc::dist {
namespace {

// Columns of the per-accumulator table: present, dtype, ndim, then up to kMaxDims sizes.
constexpr int64_t kMaxDims = 6;
constexpr int64_t kColumns = 3 + kMaxDims;

struct Accumulator {
  const ModuleObserver* owner;
  std::string name;
  ReduceOp op;
  at::Tensor value;  // undefined when this rank holds none
  bool held = false;

  std::string describe() const {
    return owner->module + " " + owner->observer->describe() + " accumulator '" + name + "'";
  }
};

at::Tensor identity_for(ReduceOp op, at::ScalarType dtype, at::IntArrayRef shape, at::Device device) {
  const auto options = at::TensorOptions(dtype).device(device);
  switch (op) {
    case ReduceOp::Min:
      return at::isFloatingType(dtype) ? at::full(shape, std::numeric_limits<double>::infinity(), options)
                                       : at::full(shape, std::numeric_limits<int64_t>::max(), options);
    case ReduceOp::Max:
      return at::isFloatingType(dtype) ? at::full(shape, -std::numeric_limits<double>::infinity(), options)
                                       : at::full(shape, std::numeric_limits<int64_t>::min(), options);
    case ReduceOp::Sum:
    case ReduceOp::Avg:
      break;
  }
  return at::zeros(shape, options);
}

}  // namespace

std::vector<ModuleObserver> module_observers(const std::vector<nn::NamedLinear>& modules) {
  std::vector<ModuleObserver> result;
  for (const auto& [name, linear] : modules) {
    for (const auto& [base, observer] : linear->observers) {  // std::map: sorted by base name
      if (observer) result.push_back({name, observer.get()});
    }
  }
  return result;
}

void sync_observer_statistics(ProcessGroup* group, const std::vector<ModuleObserver>& observers,
                              const std::string& step) {
  if (group == nullptr || group->world_size() == 1) return;
  std::vector<Accumulator> accumulators;
  for (const auto& owner : observers) {
    for (const auto& [name, op] : owner.observer->accumulators()) {
      const auto& stats = owner.observer->statistics();
      auto it = stats.find(name);
      at::Tensor value = it == stats.end() ? at::Tensor() : it->second;
      accumulators.push_back({&owner, name, op, value, value.defined()});
    }
  }
  const auto count = static_cast<int64_t>(accumulators.size());

  // 1. Who holds what: row k = [present, dtype, ndim, sizes...] in the first half, its negation
  //    in the second, so one MAX gives both the max and the min over the ranks that hold it.
  constexpr int64_t kAbsent = std::numeric_limits<int64_t>::min();
  at::Tensor table = at::full({count, 2 * kColumns}, kAbsent, at::kLong);
  auto rows = table.accessor<int64_t, 2>();
  for (int64_t k = 0; k < count; ++k) {
    const at::Tensor& value = accumulators[static_cast<size_t>(k)].value;
    if (!value.defined()) continue;
    if (value.dim() > kMaxDims) {
      throw Error(accumulators[static_cast<size_t>(k)].describe() + ": " +
                  std::to_string(value.dim()) + " dims; at most " + std::to_string(kMaxDims) +
                  " can be all-reduced");
    }
    std::vector<int64_t> row(kColumns, 0);
    row[0] = 1;
    row[1] = static_cast<int64_t>(value.scalar_type());
    row[2] = value.dim();
    for (int64_t d = 0; d < value.dim(); ++d) row[static_cast<size_t>(3 + d)] = value.size(d);
    for (int64_t c = 0; c < kColumns; ++c) {
      rows[k][c] = row[static_cast<size_t>(c)];
      rows[k][kColumns + c] = -row[static_cast<size_t>(c)];
    }
  }
  std::vector<at::Tensor> meta{table};
  group->all_reduce(meta, ReduceOp::Max, step + ": which ranks hold which statistics");
  rows = meta[0].accessor<int64_t, 2>();

  // 2. The values, each with its op; AVG as a SUM over the ranks holding the value.
  std::vector<at::Tensor> values;
  std::vector<ReduceOp> ops;
  std::vector<size_t> reduced;  // accumulator index of each value
  bool any_avg = false;
  for (int64_t k = 0; k < count; ++k) {
    auto& acc = accumulators[static_cast<size_t>(k)];
    if (rows[k][0] != 1) continue;  // no rank holds it
    for (int64_t c = 1; c < kColumns; ++c) {
      if (rows[k][c] != -rows[k][kColumns + c]) {
        throw Error(group->environment().describe() + ": " + step + ": " + acc.describe() +
                    " differs in dtype or shape between ranks; every rank must calibrate the "
                    "same model");
      }
    }
    if (!acc.value.defined()) {
      std::vector<int64_t> shape(static_cast<size_t>(rows[k][2]));
      for (size_t d = 0; d < shape.size(); ++d) shape[d] = rows[k][static_cast<int64_t>(3 + d)];
      at::Device device = group->device();
      for (const auto& [name, stat] : acc.owner->observer->statistics()) {
        if (stat.defined()) device = stat.device();
      }
      acc.value = identity_for(acc.op, static_cast<at::ScalarType>(rows[k][1]), shape, device);
    }
    any_avg = any_avg || acc.op == ReduceOp::Avg;
    values.push_back(acc.value);
    ops.push_back(acc.op == ReduceOp::Avg ? ReduceOp::Sum : acc.op);
    reduced.push_back(static_cast<size_t>(k));
  }
  if (values.empty()) return;
  // How many ranks hold each value (for AVG): one more SUM in the same batch, last.
  if (any_avg) {
    at::Tensor holders = at::zeros({static_cast<int64_t>(reduced.size())}, at::kLong);
    for (size_t i = 0; i < reduced.size(); ++i) {
      holders[static_cast<int64_t>(i)] = accumulators[reduced[i]].held ? 1 : 0;
    }
    values.push_back(holders);
    ops.push_back(ReduceOp::Sum);
  }
  // Coalesced: one flat buffer per (op, dtype), so an epoch end costs a handful of collectives
  // however many modules it covers.
  struct Bucket {
    ReduceOp op;
    at::ScalarType dtype;
    std::vector<size_t> members;  // indices into values
  };
  std::vector<Bucket> buckets;
  for (size_t i = 0; i < values.size(); ++i) {
    Bucket* bucket = nullptr;
    for (auto& b : buckets) {
      if (b.op == ops[i] && b.dtype == values[i].scalar_type()) bucket = &b;
    }
    if (bucket == nullptr) bucket = &buckets.emplace_back(Bucket{ops[i], values[i].scalar_type(), {}});
    bucket->members.push_back(i);
  }
  const at::Device device = values.front().device();
  std::vector<at::Tensor> buffers;
  std::vector<ReduceOp> buffer_ops;
  for (const auto& b : buckets) {
    std::vector<at::Tensor> flat;
    for (size_t i : b.members) flat.push_back(values[i].reshape({-1}).to(device));
    buffers.push_back(at::cat(flat));
    buffer_ops.push_back(b.op);
  }
  group->all_reduce(buffers, buffer_ops,
                    step + ": all-reduce of " + std::to_string(reduced.size()) + " observer statistics");
  for (size_t k = 0; k < buckets.size(); ++k) {
    int64_t offset = 0;
    for (size_t i : buckets[k].members) {
      const int64_t n = values[i].numel();
      values[i] = buffers[k].narrow(0, offset, n).view(values[i].sizes()).to(values[i].device()).clone();
      offset += n;
    }
  }
  for (size_t i = 0; i < reduced.size(); ++i) {
    auto& acc = accumulators[reduced[i]];
    at::Tensor value = values[i];
    if (acc.op == ReduceOp::Avg) value = value / values.back()[static_cast<int64_t>(i)].item<int64_t>();
    acc.owner->observer->statistics()[acc.name] = value;
  }
}

}  // namespace llmc::dist
