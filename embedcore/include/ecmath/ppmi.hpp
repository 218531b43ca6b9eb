// The per-entry math of positive PMI with context-distribution smoothing and a shift (Levy,
// Goldberg and Dagan, TACL 2015), shared by the CPU kernel and the GPU one:
//   PMI(w, c) = log C[w,c] + log sum_c' n(c')^cds - log n(w) - log shift - cds log n(c)
// with row sums n(w) and column sums n(c). The entry's row-dependent part is taken in float64
// once per row (row_offset) and the column part once per column (col_term = cds log n(c)).
#pragma once

#include "hd.hpp"

namespace ecmath {

// log sum_c' n(c')^cds - log n(w) - log shift, for a row with sum n(w) > 0.
EC_HD double ppmi_row_offset(double log_smoothed_total, double row_sum, double log_shift) {
    return log_smoothed_total - log(row_sum) - log_shift;
}

// The kept value of an entry: its PMI when positive, else 0 (dropped).
EC_HD float ppmi_value(float log_count, float row_offset, float col_term) {
    const float v = log_count + row_offset - col_term;
    return v > 0.0f ? v : 0.0f;
}

}  // namespace ecmath
