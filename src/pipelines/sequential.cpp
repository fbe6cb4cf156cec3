#include <llmc/pipelines/pipelines.hpp>

namespace llmc {

// Layer-agnostic stand-in for upstream's traced, subgraph-by-subgraph pipeline; see the header
// for what differs and for whom.
void sequential_pipeline(Session& session) { basic_pipeline(session); }

}  // namespace llmc
