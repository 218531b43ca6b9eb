// The walk graph of a canonical CSR adjacency, built in place: zero entries dropped and, for an
// undirected graph, every edge stored in both directions with the larger of its two weights.
//
// Two passes over the input (count, then fill) write straight into the exactly sized output, so
// the only memory besides input and output is two int64 per node; scipy's max(A, A^T) made
// several edge-sized temporaries (benchmarks/RESULTS.md, node2vec memory).
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "parallel.hpp"

namespace embedcore {
namespace graph {

// The input: a canonical CSR (rows sorted, no duplicate entries) of n rows with values >= 0.
struct Adjacency {
    const std::int64_t* indptr = nullptr;
    const std::int32_t* indices = nullptr;
    const float* data = nullptr;
    std::int64_t n = 0;

    // The value of entry (u, v), 0 when absent (binary search of the sorted row u).
    float at(std::int32_t u, std::int32_t v) const {
        const std::int32_t* first = indices + indptr[u];
        const std::int32_t* last = indices + indptr[u + 1];
        const std::int32_t* it = std::lower_bound(first, last, v);
        return (it != last && *it == v) ? data[it - indices] : 0.0f;
    }
};

// Pass 1: indptr (n + 1 entries) of the walk graph; returns its edge count. Undirected: row u
// holds its own positive entries, and (u, v) for every positive (v, u) whose mirror (u, v) is
// absent or zero.
inline std::int64_t count_edges(const Adjacency& a, bool undirected, std::int64_t* indptr) {
    std::fill(indptr, indptr + a.n + 1, std::int64_t{0});
    for (std::int64_t u = 0; u < a.n; ++u) {
        for (std::int64_t e = a.indptr[u]; e < a.indptr[u + 1]; ++e) {
            if (!(a.data[e] > 0.0f)) continue;
            ++indptr[u + 1];
            const std::int32_t v = a.indices[e];
            if (undirected && v != u && !(a.at(v, static_cast<std::int32_t>(u)) > 0.0f)) ++indptr[v + 1];
        }
    }
    for (std::int64_t u = 0; u < a.n; ++u) indptr[u + 1] += indptr[u];
    return indptr[a.n];
}

// Pass 2: indices and weights (nullptr: not wanted) of the walk graph whose indptr count_edges
// gave, rows sorted.
inline void fill_edges(const Adjacency& a, bool undirected, const std::int64_t* indptr, std::int32_t* indices,
                       float* weights, int threads) {
    // row u: its own entries from own[u] on, then the mirrored ones from mirror[u] on
    std::vector<std::int64_t> own(indptr, indptr + a.n), mirror(a.n);
    for (std::int64_t u = 0; u < a.n; ++u) {
        std::int64_t k = 0;
        for (std::int64_t e = a.indptr[u]; e < a.indptr[u + 1]; ++e) k += a.data[e] > 0.0f;
        mirror[u] = indptr[u] + k;
    }
    for (std::int64_t u = 0; u < a.n; ++u) {
        const auto uu = static_cast<std::int32_t>(u);
        for (std::int64_t e = a.indptr[u]; e < a.indptr[u + 1]; ++e) {
            const float w = a.data[e];
            if (!(w > 0.0f)) continue;
            const std::int32_t v = a.indices[e];
            const float back = (undirected && v != uu) ? a.at(v, uu) : 0.0f;
            const std::int64_t at = own[u]++;
            indices[at] = v;
            if (weights) weights[at] = std::max(w, back);
            if (undirected && v != uu && !(back > 0.0f)) {
                const std::int64_t m = mirror[v]++;  // rows u come in increasing order: sorted
                indices[m] = uu;
                if (weights) weights[m] = w;
            }
        }
    }
    if (!undirected) return;
    // each row is two sorted runs, its own entries then the mirrored ones: merge them
    parallel_blocks(a.n, threads, [&](std::int64_t r0, std::int64_t r1, int) {
        std::vector<std::pair<std::int32_t, float>> row;
        for (std::int64_t u = r0; u < r1; ++u) {
            const std::int64_t b = indptr[u], k = own[u], e = indptr[u + 1];
            if (k == b || k == e) continue;
            row.clear();
            for (std::int64_t x = b; x < e; ++x) row.emplace_back(indices[x], weights ? weights[x] : 0.0f);
            std::inplace_merge(row.begin(), row.begin() + (k - b), row.end(),
                               [](const auto& l, const auto& r) { return l.first < r.first; });
            for (std::int64_t x = b; x < e; ++x) {
                indices[x] = row[x - b].first;
                if (weights) weights[x] = row[x - b].second;
            }
        }
    });
}

}  // namespace graph
}  // namespace embedcore
