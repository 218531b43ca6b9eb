// Positive pointwise mutual information of a co-occurrence matrix, with context-distribution
// smoothing and a shift (Levy, Goldberg and Dagan, "Improving distributional similarity with
// lessons learned from word embeddings", TACL 2015):
//   PMI(w, c) = log( C[w,c] * sum_c' n(c')^cds / (n(w) * n(c)^cds) ) - log(shift)
// with n(w) the row sums and n(c) the column sums of C; only entries with PMI > 0 are kept.
//
// Three passes over the CSR, each parallel over row blocks of about equal nonzero count:
// (1) row sums and column sums in float64, the column sums as partial sums over a fixed number of
// row groups added in group order, so the sums (and everything after) do not depend on the thread
// count; (2) PMI of every nonzero into a scratch array, counting the positive ones per row;
// (3) after a prefix sum over the rows, the positive entries copied to the output in input order.
// Cost: O(nnz) time with one log per nonzero, nnz floats of scratch.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common.hpp"
#include "parallel.hpp"
#include "spmm.hpp"

namespace embedcore {
namespace ppmi {

struct Csr {
    std::vector<index_t> indptr;
    std::vector<std::int32_t> indices;
    std::vector<float> data;
};

// Column-sum partials live in at most this many float64 arrays of n_cols entries (fewer when
// n_cols is large, so they stay under 256 MiB). A function of the shape only, not the threads.
inline int column_sum_groups(index_t n_cols) {
    const index_t budget = (index_t{256} << 20) / 8;
    return static_cast<int>(std::max<index_t>(1, std::min<index_t>(16, budget / std::max<index_t>(n_cols, 1))));
}

inline Csr ppmi(index_t n_rows, index_t n_cols, const index_t* indptr, const std::int32_t* indices,
                const float* data, double cds, double shift, int threads) {
    require(std::isfinite(cds) && cds > 0, "ppmi: cds must be a positive finite number");
    require(std::isfinite(shift) && shift > 0, "ppmi: shift must be a positive finite number");
    require(n_rows >= 0 && n_cols >= 0, "ppmi: negative dimension");
    if (threads < 1) threads = 1;
    const index_t nnz = indptr[n_rows];
    if ((nnz >> 15) == 0) threads = 1;
    threads = static_cast<int>(std::max<index_t>(1, std::min<index_t>(threads, n_rows)));

    // (1) sums. Row groups are fixed by the shape; threads take whole groups.
    const int groups = static_cast<int>(std::max<index_t>(1, std::min<index_t>(column_sum_groups(n_cols), n_rows)));
    const std::vector<index_t> group_rows = spmm::balanced_row_splits(n_rows, indptr, groups);
    std::vector<double> partial(static_cast<std::size_t>(groups) * static_cast<std::size_t>(n_cols), 0.0);
    std::vector<double> row_sum(static_cast<std::size_t>(n_rows), 0.0);
    parallel_blocks(groups, std::min(threads, groups), [&](index_t begin, index_t end, int) {
        for (index_t g = begin; g < end; ++g) {
            double* col = partial.data() + g * n_cols;
            for (index_t i = group_rows[g]; i < group_rows[g + 1]; ++i) {
                double s = 0.0;
                for (index_t k = indptr[i]; k < indptr[i + 1]; ++k) {
                    const float v = data[k];
                    if (!(v >= 0.0f) || !std::isfinite(v))
                        throw std::invalid_argument("ppmi: counts must be finite and non-negative, got " +
                                                    std::to_string(v) + " in row " + std::to_string(i));
                    s += v;
                    col[indices[k]] += v;
                }
                row_sum[static_cast<std::size_t>(i)] = s;
            }
        }
    });
    std::vector<double> col_term(static_cast<std::size_t>(n_cols));  // cds * log n(c)
    double smoothed_total = 0.0;                                     // sum_c n(c)^cds
    for (index_t c = 0; c < n_cols; ++c) {
        double s = 0.0;
        for (int g = 0; g < groups; ++g) s += partial[static_cast<std::size_t>(g) * n_cols + c];
        if (s > 0) {
            col_term[static_cast<std::size_t>(c)] = cds * std::log(s);
            smoothed_total += std::exp(col_term[static_cast<std::size_t>(c)]);
        } else {
            col_term[static_cast<std::size_t>(c)] = 0.0;  // no nonzero of C is in this column
        }
    }
    std::vector<double>().swap(partial);

    Csr out;
    out.indptr.assign(static_cast<std::size_t>(n_rows) + 1, 0);
    if (nnz == 0 || !(smoothed_total > 0)) return out;
    const double offset = std::log(smoothed_total) - std::log(shift);

    // (2) PMI of every nonzero; kept[i] = positive entries of row i.
    std::vector<float> pmi(static_cast<std::size_t>(nnz));
    const std::vector<index_t> splits = spmm::balanced_row_splits(n_rows, indptr, threads);
    parallel_blocks(threads, threads, [&](index_t begin, index_t end, int) {
        for (index_t t = begin; t < end; ++t) {
            for (index_t i = splits[t]; i < splits[t + 1]; ++i) {
                const double row_offset = offset - std::log(row_sum[static_cast<std::size_t>(i)]);
                index_t kept = 0;
                for (index_t k = indptr[i]; k < indptr[i + 1]; ++k) {
                    float value = 0.0f;
                    if (data[k] > 0.0f)  // log 0 = -inf: explicit zeros are dropped
                        value = static_cast<float>(std::log(static_cast<double>(data[k])) + row_offset -
                                                   col_term[static_cast<std::size_t>(indices[k])]);
                    pmi[static_cast<std::size_t>(k)] = value;
                    kept += value > 0.0f;
                }
                out.indptr[static_cast<std::size_t>(i) + 1] = kept;
            }
        }
    });
    for (index_t i = 0; i < n_rows; ++i) out.indptr[i + 1] += out.indptr[i];

    // (3) compact.
    const index_t out_nnz = out.indptr[static_cast<std::size_t>(n_rows)];
    out.indices.resize(static_cast<std::size_t>(out_nnz));
    out.data.resize(static_cast<std::size_t>(out_nnz));
    parallel_blocks(threads, threads, [&](index_t begin, index_t end, int) {
        for (index_t t = begin; t < end; ++t) {
            index_t dst = out.indptr[static_cast<std::size_t>(splits[t])];
            for (index_t k = indptr[splits[t]]; k < indptr[splits[t + 1]]; ++k) {
                const float value = pmi[static_cast<std::size_t>(k)];
                if (value > 0.0f) {
                    out.indices[static_cast<std::size_t>(dst)] = indices[k];
                    out.data[static_cast<std::size_t>(dst)] = value;
                    ++dst;
                }
            }
        }
    });
    return out;
}

}  // namespace ppmi
}  // namespace embedcore
