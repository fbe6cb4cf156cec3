// How a statistic is combined across ranks: upstream's dist.ReduceOp as observers declare it in
// their _act_sync_dict. AVG is the mean over the ranks that hold the statistic.
#pragma once

#include <ostream>
#include <string>

namespace llmc {

enum class ReduceOp { Sum, Min, Max, Avg };

// "sum", "min", "max", "avg".
std::string to_string(ReduceOp op);
std::ostream& operator<<(std::ostream& os, ReduceOp op);

}  // namespace llmc
