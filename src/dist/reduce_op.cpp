#include <llmc/dist/reduce_op.hpp>

namespace llmc {

std::string to_string(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum:
      return "sum";
    case ReduceOp::Min:
      return "min";
    case ReduceOp::Max:
      return "max";
    case ReduceOp::Avg:
      return "avg";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, ReduceOp op) { return os << to_string(op); }

}  // namespace llmc
