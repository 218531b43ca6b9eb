// The walk graph of a canonical CSR adjacency, built in place: zero entries dropped and, for an
// undirected graph, every edge stored in both directions with the larger of its two weights.
//
// Two passes over the input (count, then fill) write straight into the exactly sized output, so
// the only memory besides input and output is a byte per input entry and two int64 per node;
// scipy's max(A, A^T) made several edge-sized temporaries (benchmarks/RESULTS.md, node2vec
// memory). The mirror lookups (binary searches of sorted rows) run in parallel over rows.
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

// What becomes of each input entry (kind[e], one byte per entry).
enum : std::uint8_t { kDrop = 0, kOwn = 1, kOwnAndMirror = 2 };

// Pass 1: kind[e] of every input entry (rows in parallel) and indptr (n + 1 entries) of the walk
// graph; returns its edge count. Row u holds its own positive entries; undirected, also (u, v)
// for every positive (v, u) whose mirror (u, v) is absent or zero (kind kOwnAndMirror).
inline std::int64_t count_edges(const Adjacency& a, bool undirected, std::uint8_t* kind, std::int64_t* indptr,
                                int threads) {
    parallel_blocks(a.n, threads, [&](std::int64_t r0, std::int64_t r1, int) {
        for (std::int64_t u = r0; u < r1; ++u) {
            const auto uu = static_cast<std::int32_t>(u);
            for (std::int64_t e = a.indptr[u]; e < a.indptr[u + 1]; ++e) {
                const std::int32_t v = a.indices[e];
                kind[e] = !(a.data[e] > 0.0f) ? kDrop
                          : (undirected && v != uu && !(a.at(v, uu) > 0.0f)) ? kOwnAndMirror : kOwn;
            }
        }
    });
    std::fill(indptr, indptr + a.n + 1, std::int64_t{0});
    for (std::int64_t u = 0; u < a.n; ++u) {
        for (std::int64_t e = a.indptr[u]; e < a.indptr[u + 1]; ++e) {
            indptr[u + 1] += kind[e] != kDrop;
            if (kind[e] == kOwnAndMirror) ++indptr[a.indices[e] + 1];
        }
    }
    for (std::int64_t u = 0; u < a.n; ++u) indptr[u + 1] += indptr[u];
    return indptr[a.n];
}

// Pass 2: indices and weights (nullptr: not wanted) of the walk graph whose indptr and kinds
// count_edges gave, rows sorted; an undirected edge stored both ways takes the larger weight.
inline void fill_edges(const Adjacency& a, bool undirected, const std::uint8_t* kind, const std::int64_t* indptr,
                       std::int32_t* indices, float* weights, int threads) {
    // row u: its own entries first (rows in parallel), then the mirrored ones from mirror[u] on
    std::vector<std::int64_t> mirror(a.n);
    parallel_blocks(a.n, threads, [&](std::int64_t r0, std::int64_t r1, int) {
        for (std::int64_t u = r0; u < r1; ++u) {
            const auto uu = static_cast<std::int32_t>(u);
            std::int64_t at = indptr[u];
            for (std::int64_t e = a.indptr[u]; e < a.indptr[u + 1]; ++e) {
                if (kind[e] == kDrop) continue;
                const std::int32_t v = a.indices[e];
                indices[at] = v;
                if (weights) {
                    const bool both = undirected && v != uu && kind[e] == kOwn;  // (v, u) is there too
                    weights[at] = both ? std::max(a.data[e], a.at(v, uu)) : a.data[e];
                }
                ++at;
            }
            mirror[u] = at;
        }
    });
    if (!undirected) return;
    const std::vector<std::int64_t> own_end(mirror);
    for (std::int64_t u = 0; u < a.n; ++u) {
        for (std::int64_t e = a.indptr[u]; e < a.indptr[u + 1]; ++e) {
            if (kind[e] != kOwnAndMirror) continue;
            const std::int64_t m = mirror[a.indices[e]]++;  // rows u come in increasing order: sorted
            indices[m] = static_cast<std::int32_t>(u);
            if (weights) weights[m] = a.data[e];
        }
    }
    // each row is two sorted runs, its own entries then the mirrored ones: merge them
    parallel_blocks(a.n, threads, [&](std::int64_t r0, std::int64_t r1, int) {
        std::vector<std::pair<std::int32_t, float>> row;
        for (std::int64_t u = r0; u < r1; ++u) {
            const std::int64_t b = indptr[u], k = own_end[u], e = indptr[u + 1];
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
