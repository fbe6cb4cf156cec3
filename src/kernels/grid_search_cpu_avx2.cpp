// The CPU grid search on AVX2 (8 floats per vector), for hosts where ATen runs its AVX2 kernels.
// Built with -mavx2 -mf16c -ffp-contract=off (CMakeLists.txt); only called after ATen has
// reported that capability.
#include "grid_search_cpu_avx2.hpp"
#include "grid_search_cpu_ranges.hpp"
#include "grid_search_cpu_select.hpp"

namespace llmc::kernels {

SearchGroupsFn search_groups_avx2(const GridSearchProblem& problem) {
  return select_search<Avx2>(problem);
}

RangeSumFn range_sum_avx2(const GridSearchProblem& problem) {
  return select_range_sum<Avx2>(problem);
}

ValueTermsFn value_terms_avx2(const GridSearchProblem& problem) {
  return select_value_terms<Avx2>(problem);
}

float values_sum_avx2(ValueType type, const float* values, int64_t count) {
  return values_sum_for(type, values, count);
}

void fill_pow_table_avx2(const GridSearchProblem& problem, float* table) {
  fill_pow_table_for<Avx2>(problem, table);
}

bool group_ranges_avx2(const GridSearchProblem& problem, int64_t begin, int64_t end,
                       void* min_out, void* max_out) {
  return group_ranges_for<Avx2>(problem, begin, end, min_out, max_out);
}

}  // namespace llmc::kernels
