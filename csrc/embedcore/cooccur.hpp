// Word-word co-occurrence counting (GloVe's `cooccur`), row by row into CSR.
//
// X[a, b] sums a weight (1/d for a pair d tokens apart, or 1) over every pair of tokens of one
// sentence at most `window` apart, word a at the earlier position and word b at the later one;
// with `symmetric` the pair also adds to X[b, a]. This is GloVe's cooccur (Pennington et al.
// 2014, cooccur.c): its `-symmetric 0` matrix puts the earlier word in the row.
//
// Instead of buffering (row, col, weight) records and sorting them, the occurrences of the words
// of a row range are first bucketed by word (a stable counting sort of their positions, one scan
// of the corpus); then each row is built on its own: for every occurrence of word a, its
// neighbours are added into a dense float64 row accumulator of V entries (it stays in L2), and
// the touched columns come back in order from a bitmap. Work is O(tokens * window + nnz) plus
// O(V / 64) per row; rows are independent, so threads take blocks of rows dynamically and the
// result does not depend on the number of threads. Under a memory budget, the occurrences are
// sorted by word chunk by chunk of the corpus (and spilled by the caller), with tallies of their
// neighbours that bound each row's nonzeros; the rows are then counted in ranges that fit, each
// from its runs in every chunk, and finished rows need no merging.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common.hpp"
#include "parallel.hpp"
#include "simd.hpp"

namespace embedcore {
namespace cooccur {

// Counting is scattered adds into a row accumulator, bound by memory latency, compiled at
// baseline only: this is the level it reports (see simd.hpp).
constexpr unsigned kLevels = simd::kBaselineOnly;
inline simd::Isa select_isa(const std::string& forced) { return simd::select(forced, kLevels, "co-occurrence"); }

struct Options {
    int window = 10;
    bool symmetric = true;
    bool distance_weighting = true;
    int threads = 1;
};

// A block of consecutive rows of the result: the nonzeros of rows [row_begin, row_end).
template <class Value>
struct Block {
    index_t row_begin = 0, row_end = 0;
    std::vector<index_t> row_nnz;
    std::vector<std::int32_t> cols;
    std::vector<Value> vals;
};

// The result as row blocks; `copy_to` writes it as CSR arrays.
template <class Value>
struct Result {
    index_t n_rows = 0;
    index_t nnz = 0;
    std::vector<Block<Value>> blocks;
    std::int64_t working_bytes = 0;  // peak extra memory of the count, besides input and result

    // The CSR row pointers (n_rows + 1 values).
    void fill_indptr(std::int64_t* indptr) const {
        indptr[0] = 0;
        for (auto& blk : blocks) {
            index_t acc = indptr[blk.row_begin];
            for (index_t r = blk.row_begin; r < blk.row_end; ++r) {
                acc += blk.row_nnz[static_cast<std::size_t>(r - blk.row_begin)];
                indptr[r + 1] = acc;
            }
        }
    }

    template <class Out>
    void copy_to(std::int64_t* indptr, std::int32_t* indices, Out* data, int threads) {
        std::vector<index_t> start(blocks.size() + 1, 0);
        for (std::size_t b = 0; b < blocks.size(); ++b)
            start[b + 1] = start[b] + static_cast<index_t>(blocks[b].cols.size());
        fill_indptr(indptr);
        parallel_blocks(static_cast<index_t>(blocks.size()), threads, [&](index_t b0, index_t b1, int) {
            for (index_t b = b0; b < b1; ++b) {
                auto& blk = blocks[static_cast<std::size_t>(b)];
                const index_t at = start[static_cast<std::size_t>(b)];
                if (!blk.cols.empty())
                    std::memcpy(indices + at, blk.cols.data(), blk.cols.size() * sizeof(std::int32_t));
                for (std::size_t k = 0; k < blk.vals.size(); ++k) data[at + static_cast<index_t>(k)] = static_cast<Out>(blk.vals[k]);
                blk = Block<Value>();  // release as we go
            }
        });
    }
};

// Dense accumulator for one row at a time: add(col, w), then emit the touched columns in order.
// A bitmap of the touched columns gives them back sorted without a sort: scanning V/64 words
// is cheaper than sorting once a row has more than a few dozen columns.
class RowAccumulator {
public:
    explicit RowAccumulator(index_t n_cols)
        : n_cols_(n_cols),
          acc_(new double[static_cast<std::size_t>(n_cols)]()),
          touched_(new std::int32_t[static_cast<std::size_t>(n_cols) + 1]),  // +1: add() writes one past
          bits_(new std::uint64_t[static_cast<std::size_t>(n_cols + 63) / 64]()) {}

    // Branch-free: the column is always written to the touched list, which only advances when
    // the slot was empty, so independent adds are not serialised by mispredicted branches.
    inline void add(std::int32_t col, double w) {
        double& slot = acc_[col];
        const bool fresh = slot == 0.0;
        touched_[n_touched_] = col;
        n_touched_ += fresh;
        bits_[static_cast<std::uint32_t>(col) >> 6] |= std::uint64_t{fresh} << (col & 63);
        slot += w;
    }

    // Appends the row's nonzeros (ascending column) to cols/vals, clears the row, returns its nnz.
    template <class Value>
    index_t emit(std::vector<std::int32_t>& cols, std::vector<Value>& vals) {
        const index_t n = n_touched_;
        const std::size_t at = cols.size();
        cols.resize(at + static_cast<std::size_t>(n));
        vals.resize(at + static_cast<std::size_t>(n));
        std::int32_t* out_c = cols.data() + at;
        Value* out_v = vals.data() + at;
        if (n < 48) {
            std::sort(touched_.get(), touched_.get() + n);
            for (index_t k = 0; k < n; ++k) {
                const std::int32_t c = touched_[k];
                out_c[k] = c;
                out_v[k] = static_cast<Value>(acc_[c]);
                acc_[c] = 0.0;
                bits_[static_cast<std::uint32_t>(c) >> 6] = 0;
            }
        } else {
            index_t k = 0;
            const index_t words = (n_cols_ + 63) / 64;
            for (index_t w = 0; w < words; ++w) {
                std::uint64_t m = bits_[w];
                if (!m) continue;
                bits_[w] = 0;
                do {
                    const std::int32_t c = static_cast<std::int32_t>(w * 64 + simd::ctz64(m));
                    out_c[k] = c;
                    out_v[k++] = static_cast<Value>(acc_[c]);
                    acc_[c] = 0.0;
                    m &= m - 1;
                } while (m);
            }
        }
        n_touched_ = 0;
        return n;
    }

private:
    index_t n_cols_;
    std::unique_ptr<double[]> acc_;
    std::unique_ptr<std::int32_t[]> touched_;
    std::unique_ptr<std::uint64_t[]> bits_;
    index_t n_touched_ = 0;
};

// Cuts rows [0, n_rows) into blocks of about equal work (cost[r] per row), several per thread so
// that dynamic scheduling evens out the rest.
inline std::vector<index_t> balanced_row_blocks(const std::vector<index_t>& cost, int threads) {
    const index_t n_rows = static_cast<index_t>(cost.size());
    index_t total = 0;
    for (index_t c : cost) total += c;
    const index_t n_blocks = std::max<index_t>(1, std::min<index_t>(n_rows, 16 * threads));
    const index_t target = std::max<index_t>(1, total / n_blocks);
    std::vector<index_t> bounds{0};
    index_t run = 0;
    for (index_t r = 0; r < n_rows; ++r) {
        run += cost[static_cast<std::size_t>(r)] + 1;
        if (run >= target && r + 1 < n_rows) {
            bounds.push_back(r + 1);
            run = 0;
        }
    }
    bounds.push_back(n_rows);
    return bounds;
}

// Runs body(block_index, thread) over blocks with dynamic scheduling; exceptions come back.
template <class Body>
void dynamic_blocks(index_t n_blocks, int threads, Body&& body) {
    if (threads <= 1 || n_blocks <= 1) {
        for (index_t b = 0; b < n_blocks; ++b) body(b, 0);
        return;
    }
    ExceptionSlot slot;
#ifdef EMBEDCORE_OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (index_t b = 0; b < n_blocks; ++b) {
        if (slot.failed()) continue;
        slot.run([&] { body(b, omp_get_thread_num()); });
    }
#else
    for (index_t b = 0; b < n_blocks; ++b) {
        slot.run([&] { body(b, 0); });
        if (slot.failed()) break;
    }
#endif
    slot.rethrow();
}

// An occurrence of a row's word, packed with how far its sentence reaches on each side (capped
// at the window): position << 24 | left << 12 | right in one word while windows stay below 4096
// and positions below 2**40, else (position, left << 32 | right) in two words.
struct Packing {
    bool wide;
    std::size_t words;  // 64-bit words per entry
    Packing(int window, index_t n_tokens)
        : wide(window > 4095 || n_tokens >= (index_t{1} << 40)), words(wide ? 2 : 1) {}

    inline void put(std::uint64_t* at, index_t p, index_t left, index_t right) const {
        if (wide) {
            at[0] = static_cast<std::uint64_t>(p);
            at[1] = (static_cast<std::uint64_t>(left) << 32) | static_cast<std::uint64_t>(right);
        } else {
            at[0] = (static_cast<std::uint64_t>(p) << 24) | (static_cast<std::uint64_t>(left) << 12) |
                    static_cast<std::uint64_t>(right);
        }
    }
    inline index_t position(const std::uint64_t* at) const {
        return wide ? static_cast<index_t>(at[0]) : static_cast<index_t>(at[0] >> 24);
    }
    inline void get(const std::uint64_t* at, index_t& p, int& left, int& right) const {
        if (wide) {
            p = static_cast<index_t>(at[0]);
            left = static_cast<int>(at[1] >> 32);
            right = static_cast<int>(at[1] & 0xFFFFFFFFu);
        } else {
            p = static_cast<index_t>(at[0] >> 24);
            left = static_cast<int>((at[0] >> 12) & 0xFFF);
            right = static_cast<int>(at[0] & 0xFFF);
        }
    }
};

inline void check_options(const Options& opt, index_t vocab_size) {
    require(opt.window >= 1 && opt.window <= 65535, "window must be in [1, 65535], got " + std::to_string(opt.window));
    require(vocab_size >= 1 && vocab_size <= (index_t{1} << 31) - 1, "vocab_size must be in [1, 2**31 - 1]");
}

// Calls visit(p, left, right) for each position p in [a, b) whose id lies in [row_lo, row_hi),
// with the reach of its sentence; every id of [a, b) is checked against vocab_size.
template <class Visit>
void scan_positions(const std::int32_t* ids, const std::int64_t* offsets, index_t n_sentences, index_t a, index_t b,
                    index_t row_lo, index_t row_hi, index_t vocab_size, int W, Visit&& visit) {
    if (a >= b) return;
    index_t s = static_cast<index_t>(std::upper_bound(offsets, offsets + n_sentences + 1, a) - offsets) - 1;
    const std::uint64_t R = static_cast<std::uint64_t>(row_hi - row_lo);
    for (index_t p = a; p < b; ++p) {
        const std::int32_t id = ids[p];
        if (id < 0 || id >= vocab_size)
            throw std::invalid_argument("corpus ids must lie in [0, vocab_size=" + std::to_string(vocab_size) +
                                        "), got " + std::to_string(id) + " at position " + std::to_string(p));
        if (static_cast<std::uint64_t>(id - row_lo) >= R) continue;
        while (offsets[s + 1] <= p) ++s;
        visit(p, std::min<index_t>(W, p - offsets[s]), std::min<index_t>(W, offsets[s + 1] - 1 - p));
    }
}

// Walks the occurrences of rows [r, r_end) in the order they are added (row by row, chunk by
// chunk; see build_rows), so that prefetches run ahead across runs and rows.
struct OccurrenceWalk {
    const index_t* starts;
    std::size_t run;
    index_t n_chunks, r_end, r, c = 0, k = 0, end = 0;

    OccurrenceWalk(const index_t* starts_, std::size_t run_, index_t n_chunks_, index_t r_begin, index_t r_end_)
        : starts(starts_), run(run_), n_chunks(n_chunks_), r_end(n_chunks_ > 0 ? r_end_ : r_begin), r(r_begin) {
        if (r < r_end) {
            k = at(0, r);
            end = at(0, r + 1);
            settle();
        }
    }
    bool done() const { return r >= r_end; }
    void next() {
        if (done()) return;
        ++k;
        settle();
    }

private:
    index_t at(index_t chunk, index_t row) const { return starts[static_cast<std::size_t>(chunk) * run + static_cast<std::size_t>(row)]; }
    void settle() {
        while (k >= end) {
            if (++c == n_chunks) {
                c = 0;
                if (++r == r_end) return;
            }
            k = at(c, r);
            end = at(c, r + 1);
        }
    }
};

// Builds rows [row_lo, row_lo + R) from their occurrences, grouped by word in n_chunks runs of
// increasing positions: the occurrences of row r are entries [starts[c * (R + 1) + r],
// starts[c * (R + 1) + r + 1]) for c = 0, 1, ... in turn, so they are added in position order.
// With row_bound (at least each row's nonzeros), a block's arrays are sized from it once, so that
// they never grow beyond it, nor are copied to drop growth slack. Each occurrence is checked (its
// word, its reach within the corpus) as it is added.
template <class Value>
Result<Value> build_rows(const std::int32_t* ids, index_t n_tokens, const std::uint64_t* entries,
                         const Packing& pack, const index_t* starts, index_t n_chunks, index_t row_lo, index_t R,
                         index_t vocab_size, const Options& opt, const index_t* row_bound = nullptr) {
    const int threads = std::max(1, opt.threads);
    const int W = opt.window;
    Result<Value> result;
    result.n_rows = R;
    const std::size_t run = static_cast<std::size_t>(R) + 1;  // starts of one chunk
    std::vector<index_t> row_count(static_cast<std::size_t>(R), 0);
    for (index_t c = 0; c < n_chunks; ++c)
        for (index_t r = 0; r < R; ++r)
            row_count[static_cast<std::size_t>(r)] += starts[static_cast<std::size_t>(c) * run + static_cast<std::size_t>(r) + 1] -
                                                      starts[static_cast<std::size_t>(c) * run + static_cast<std::size_t>(r)];
    std::vector<double> weight(static_cast<std::size_t>(W) + 1, 1.0);
    if (opt.distance_weighting)
        for (int d = 1; d <= W; ++d) weight[static_cast<std::size_t>(d)] = 1.0 / d;

    // rows in blocks of equal work (occurrences), each row built on its own
    const std::vector<index_t> bounds = balanced_row_blocks(row_count, threads);
    const index_t n_blocks = static_cast<index_t>(bounds.size()) - 1;
    result.blocks.resize(static_cast<std::size_t>(n_blocks));
    std::vector<std::unique_ptr<RowAccumulator>> accs(static_cast<std::size_t>(threads));
    const bool symmetric = opt.symmetric;
    const std::size_t stride = pack.words;
    constexpr index_t kPrefetch = 8;
    dynamic_blocks(n_blocks, threads, [&](index_t b, int t) {
        auto& acc = accs[static_cast<std::size_t>(t)];
        if (!acc) acc.reset(new RowAccumulator(vocab_size));
        auto& blk = result.blocks[static_cast<std::size_t>(b)];
        blk.row_begin = bounds[static_cast<std::size_t>(b)];
        blk.row_end = bounds[static_cast<std::size_t>(b) + 1];
        blk.row_nnz.resize(static_cast<std::size_t>(blk.row_end - blk.row_begin));
        if (row_bound) {
            index_t most = 0;
            for (index_t r = blk.row_begin; r < blk.row_end; ++r) most += row_bound[r];
            blk.cols.reserve(static_cast<std::size_t>(most));
            blk.vals.reserve(static_cast<std::size_t>(most));
        }
        OccurrenceWalk ahead(starts, run, n_chunks, blk.row_begin, blk.row_end);
        for (index_t j = 0; j < kPrefetch; ++j) ahead.next();
        for (index_t r = blk.row_begin; r < blk.row_end; ++r) {
            const std::int32_t word = static_cast<std::int32_t>(row_lo + r);
            for (index_t c = 0; c < n_chunks; ++c) {
                const index_t* s = starts + static_cast<std::size_t>(c) * run + static_cast<std::size_t>(r);
                for (index_t k = s[0], k1 = s[1]; k < k1; ++k) {
                    if (!ahead.done()) {
                        // the neighbours of a later occurrence, so their cache misses overlap this one
                        const index_t q = pack.position(entries + static_cast<std::size_t>(ahead.k) * stride);
                        simd::prefetch(ids + std::max<index_t>(0, q - (symmetric ? W : 0)));
                        simd::prefetch(ids + std::min<index_t>(n_tokens - 1, q + W));
                        ahead.next();
                    }
                    index_t p;
                    int left, right;
                    pack.get(entries + static_cast<std::size_t>(k) * stride, p, left, right);
                    if (p < 0 || p >= n_tokens || right >= n_tokens - p || (symmetric && left > p))
                        throw std::invalid_argument("an occurrence reaches outside the corpus");
                    const std::int32_t* at = ids + p;
                    // its cache line is fetched for the neighbours anyway
                    if (*at != word) throw std::invalid_argument("an occurrence's word is not its row's word");
                    if (symmetric)
                        for (int d = 1; d <= left; ++d) acc->add(at[-d], weight[static_cast<std::size_t>(d)]);
                    for (int d = 1; d <= right; ++d) acc->add(at[d], weight[static_cast<std::size_t>(d)]);
                }
            }
            blk.row_nnz[static_cast<std::size_t>(r - blk.row_begin)] = acc->emit(blk.cols, blk.vals);
        }
        if (!row_bound) {  // drop the growth slack: blocks are held until the whole result is copied out
            blk.cols.shrink_to_fit();
            blk.vals.shrink_to_fit();
        }
    });
    std::int64_t out_bytes = 0;
    for (auto& blk : result.blocks) {
        result.nnz += static_cast<index_t>(blk.cols.size());
        out_bytes += static_cast<std::int64_t>(blk.cols.capacity() * 4 + blk.vals.capacity() * sizeof(Value) +
                                               blk.row_nnz.size() * 8);
    }
    result.working_bytes = out_bytes + 13 * vocab_size * static_cast<std::int64_t>(threads) + 16 * R;
    return result;
}

// Counts rows [row_lo, row_hi) of the matrix: every occurrence of those words in the corpus with
// the neighbours its sentence allows. ids: n_tokens ids < vocab_size; offsets: n_sentences + 1
// sentence boundaries from 0 to n_tokens. The result's rows are numbered from row_lo. Counting
// all rows in one call or in several row ranges gives the same numbers, summed in the same order.
template <class Value>
Result<Value> count(const std::int32_t* ids, index_t n_tokens, const std::int64_t* offsets,
                    index_t n_sentences, index_t row_lo, index_t row_hi, index_t vocab_size,
                    const Options& opt) {
    check_options(opt, vocab_size);
    require(n_sentences >= 0 && offsets[0] == 0 && offsets[n_sentences] == n_tokens,
            "offsets must run from 0 to the number of tokens");
    require(0 <= row_lo && row_lo <= row_hi && row_hi <= vocab_size, "rows [row_lo, row_hi) must lie within the vocabulary");
    const int threads = std::max(1, opt.threads);
    const index_t R = row_hi - row_lo;
    const Packing pack(opt.window, n_tokens);

    // Pass 1, in position chunks: check every id, count the occurrences of each row's word.
    const int chunks = static_cast<int>(std::min<index_t>(threads, std::max<index_t>(n_tokens, 1)));
    std::vector<std::vector<index_t>> hist(static_cast<std::size_t>(chunks));
    parallel_blocks(chunks, threads, [&](index_t c0, index_t c1, int) {
        for (index_t c = c0; c < c1; ++c) {
            auto& h = hist[static_cast<std::size_t>(c)];
            h.assign(static_cast<std::size_t>(R), 0);
            const index_t a = n_tokens * c / chunks, b = n_tokens * (c + 1) / chunks;
            for (index_t p = a; p < b; ++p) {
                const std::int32_t id = ids[p];
                if (id < 0 || id >= vocab_size)
                    throw std::invalid_argument("corpus ids must lie in [0, vocab_size=" + std::to_string(vocab_size) +
                                                "), got " + std::to_string(id) + " at position " + std::to_string(p));
                const index_t r = id - row_lo;
                if (static_cast<std::uint64_t>(r) < static_cast<std::uint64_t>(R)) ++h[static_cast<std::size_t>(r)];
            }
        }
    });
    // Pass 2: a stable counting sort of those occurrences by word (chunk c writes after chunk c-1).
    std::vector<index_t> row_start(static_cast<std::size_t>(R) + 1, 0);
    index_t run = 0;
    for (index_t r = 0; r < R; ++r) {
        row_start[static_cast<std::size_t>(r)] = run;
        for (int c = 0; c < chunks; ++c) {
            index_t& h = hist[static_cast<std::size_t>(c)][static_cast<std::size_t>(r)];
            const index_t k = h;
            h = run;  // becomes this chunk's write cursor
            run += k;
        }
    }
    row_start[static_cast<std::size_t>(R)] = run;
    std::unique_ptr<std::uint64_t[]> entries(new std::uint64_t[static_cast<std::size_t>(std::max<index_t>(run, 1)) * pack.words]);
    parallel_blocks(chunks, threads, [&](index_t c0, index_t c1, int) {
        for (index_t c = c0; c < c1; ++c) {
            auto& cursor = hist[static_cast<std::size_t>(c)];
            scan_positions(ids, offsets, n_sentences, n_tokens * c / chunks, n_tokens * (c + 1) / chunks, row_lo,
                           row_hi, vocab_size, opt.window, [&](index_t p, index_t left, index_t right) {
                               const index_t at = cursor[static_cast<std::size_t>(ids[p] - row_lo)]++;
                               pack.put(entries.get() + static_cast<std::size_t>(at) * pack.words, p, left, right);
                           });
        }
    });
    const std::int64_t index_bytes = static_cast<std::int64_t>(8 * pack.words) * run + 8 * R * static_cast<std::int64_t>(chunks);
    hist.clear();
    hist.shrink_to_fit();
    Result<Value> result = build_rows<Value>(ids, n_tokens, entries.get(), pack, row_start.data(), 1, row_lo, R,
                                             vocab_size, opt);
    result.working_bytes += index_bytes;
    return result;
}

// Neighbour tallies from which a memory-bounded count bounds each row's nonzeros before counting.
// For every occurrence of word w, three 21-bit lanes of one 64-bit word count its neighbour
// positions: all of them, those holding a word of tier >= 1, and those of tier 2 (the planner gives
// tier 0 to the most frequent words and tier 1 to the next most frequent). Row w then has at most
// min(all, |tier 0| + tier >= 1, |tiers 0 and 1| + tier 2) nonzeros: a frequent neighbour adds at
// most one column however often it occurs.
struct NeighbourLanes {
    static constexpr int kBits = 21;  // a window holds at most 2 * 65535 neighbours
    static constexpr std::uint64_t kMask = (std::uint64_t{1} << kBits) - 1;
    static constexpr std::uint64_t kOne[3] = {1, 1 | (std::uint64_t{1} << kBits),
                                              1 | (std::uint64_t{1} << kBits) | (std::uint64_t{1} << (2 * kBits))};
    static inline void add_to(std::uint32_t* tally, std::uint64_t lanes) {
        for (int j = 0; j < 3; ++j) tally[j] += static_cast<std::uint32_t>((lanes >> (j * kBits)) & kMask);
    }
    // A tally that saturates at 2**32 - 1 still bounds the row by vocab_size (< 2**31).
    static inline void add_saturating(std::uint32_t& x, std::uint64_t v) {
        const std::uint64_t y = x + v;
        x = y > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<std::uint32_t>(y);
    }
};

// How often each word occurs (counts: vocab_size values); every id is checked. Memory 8 *
// vocab_size per thread.
inline void word_counts(const std::int32_t* ids, index_t n_tokens, index_t vocab_size, int threads,
                        std::int64_t* counts) {
    require(vocab_size >= 1 && vocab_size <= (index_t{1} << 31) - 1, "vocab_size must be in [1, 2**31 - 1]");
    const std::size_t V = static_cast<std::size_t>(vocab_size);
    const int pieces = static_cast<int>(std::max<index_t>(1, std::min<index_t>(threads, n_tokens / 65536)));
    std::vector<std::vector<std::int64_t>> local(static_cast<std::size_t>(pieces) - 1);
    parallel_blocks(pieces, pieces, [&](index_t t0, index_t t1, int) {
        for (index_t t = t0; t < t1; ++t) {
            std::int64_t* h = counts;
            if (t > 0) {
                local[static_cast<std::size_t>(t) - 1].assign(V, 0);
                h = local[static_cast<std::size_t>(t) - 1].data();
            } else {
                std::fill(counts, counts + V, 0);
            }
            for (index_t p = n_tokens * t / pieces, e = n_tokens * (t + 1) / pieces; p < e; ++p) {
                const std::int32_t id = ids[p];
                if (static_cast<std::uint32_t>(id) >= static_cast<std::uint64_t>(vocab_size))
                    throw std::invalid_argument("corpus ids must lie in [0, vocab_size=" + std::to_string(vocab_size) +
                                                "), got " + std::to_string(id) + " at position " + std::to_string(p));
                ++h[static_cast<std::size_t>(id)];
            }
        }
    });
    for (auto& l : local)
        for (std::size_t w = 0; w < V; ++w) counts[w] += l[w];
}

// For a memory-bounded count: the occurrences in positions [a, b), packed as `count` packs them and
// sorted by word, stably (position order within a word) into `out` ((b - a) * Packing.words words);
// word_start (vocab_size + 1 values) receives where each word's run begins. When `tier_of` is given
// (a tier 0-2 per word), the occurrences' NeighbourLanes are added to `tallies` (3 per word).
// b - a must stay below 2**31. Work O(b - a + vocab_size * threads), memory 16 * vocab_size per
// thread besides the output.
//
// Each thread tallies into its own uint32 table with plain adds, and moves it into `tallies`
// (saturating) before an occurrence could overflow it: an occurrence adds at most 2 * window.
inline void sort_occurrences(const std::int32_t* ids, index_t n_tokens, const std::int64_t* offsets,
                             index_t n_sentences, index_t a, index_t b, index_t vocab_size, int window,
                             bool symmetric, const std::uint8_t* tier_of, std::uint32_t* tallies, int threads,
                             std::uint64_t* out, std::int64_t* word_start) {
    require(window >= 1 && window <= 65535, "window must be in [1, 65535]");
    require(vocab_size >= 1 && vocab_size <= (index_t{1} << 31) - 1, "vocab_size must be in [1, 2**31 - 1]");
    require(n_sentences >= 0 && offsets[0] == 0 && offsets[n_sentences] == n_tokens,
            "offsets must run from 0 to the number of tokens");
    require(0 <= a && a <= b && b <= n_tokens, "positions [a, b) must lie within the corpus");
    require(b - a < (index_t{1} << 31), "at most 2**31 - 1 positions at a time");
    const Packing pack(window, n_tokens);
    const std::size_t V = static_cast<std::size_t>(vocab_size);
    const int pieces = static_cast<int>(std::max<index_t>(1, std::min<index_t>(threads, (b - a) / 65536)));
    auto piece_begin = [&](int t) { return a + (b - a) * t / pieces; };
    auto bad_id = [&](std::int32_t id, index_t p) {
        return std::invalid_argument("corpus ids must lie in [0, vocab_size=" + std::to_string(vocab_size) +
                                     "), got " + std::to_string(id) + " at position " + std::to_string(p));
    };
    // Pass 1: each piece counts its words; the counts become the piece's write cursors, piece t
    // writing each word's occurrences after those of piece t - 1. The window of a tally reaches
    // `window` positions beyond [a, b): their ids are checked here too.
    std::vector<std::vector<std::uint32_t>> cursor(static_cast<std::size_t>(pieces));
    parallel_blocks(pieces, pieces, [&](index_t t0, index_t t1, int) {
        for (index_t t = t0; t < t1; ++t) {
            auto& h = cursor[static_cast<std::size_t>(t)];
            h.assign(V, 0);
            const index_t pa = piece_begin(static_cast<int>(t)), pb = piece_begin(static_cast<int>(t) + 1);
            for (index_t p = pa; p < pb; ++p) {
                const std::int32_t id = ids[p];
                if (static_cast<std::uint32_t>(id) >= static_cast<std::uint64_t>(vocab_size)) throw bad_id(id, p);
                ++h[static_cast<std::size_t>(id)];
            }
            auto check = [&](index_t p0, index_t p1) {
                for (index_t p = p0; p < p1; ++p)
                    if (static_cast<std::uint32_t>(ids[p]) >= static_cast<std::uint64_t>(vocab_size)) throw bad_id(ids[p], p);
            };
            if (t == 0) check(std::max<index_t>(0, a - window), a);
            if (t == pieces - 1) check(b, std::min<index_t>(n_tokens, b + window));
        }
    });
    std::uint32_t run = 0;
    for (std::size_t w = 0; w < V; ++w) {
        word_start[w] = run;
        for (auto& h : cursor) {
            const std::uint32_t k = h[w];
            h[w] = run;
            run += k;
        }
    }
    word_start[V] = run;
    // Pass 2: scatter, and tally each occurrence's neighbours by tier over a window that slides
    // with the position (the neighbours of p: [p - left, p + right] without p, or (p, p + right]).
    std::vector<std::vector<std::uint32_t>> local(tier_of ? static_cast<std::size_t>(pieces) : 0);
    std::mutex merging;
    // under a lock: one more parallel region would cost more than the adds
    auto move_to_tallies = [&](std::vector<std::uint32_t>& l) {
        std::lock_guard<std::mutex> lock(merging);
        for (std::size_t k = 0; k < l.size(); ++k) NeighbourLanes::add_saturating(tallies[k], l[k]);
        std::fill(l.begin(), l.end(), 0);
    };
    const index_t safe_adds = 0xFFFFFFFFll / (2 * window);  // occurrences a thread's table takes
    parallel_blocks(pieces, pieces, [&](index_t t0, index_t t1, int) {
        for (index_t t = t0; t < t1; ++t) {
            auto& at = cursor[static_cast<std::size_t>(t)];
            std::uint32_t* tally = nullptr;
            if (tier_of) {
                local[static_cast<std::size_t>(t)].assign(3 * V, 0);
                tally = local[static_cast<std::size_t>(t)].data();
            }
            const index_t pa = piece_begin(static_cast<int>(t)), pb = piece_begin(static_cast<int>(t) + 1);
            if (pa >= pb) continue;
            index_t s = static_cast<index_t>(std::upper_bound(offsets, offsets + n_sentences + 1, pa) - offsets) - 1;
            index_t lo_in = 0, hi_in = -1;  // the window [lo_in, hi_in] that `lanes` counts
            std::uint64_t lanes = 0;
            bool fresh = true;
            auto lanes_of = [&](index_t q) { return NeighbourLanes::kOne[tier_of[ids[q]]]; };
            for (index_t p = pa, since_move = 0; p < pb; ++p) {
                while (offsets[s + 1] <= p) {
                    ++s;
                    fresh = true;
                }
                const std::int32_t id = ids[p];
                const index_t left = std::min<index_t>(window, p - offsets[s]);
                const index_t right = std::min<index_t>(window, offsets[s + 1] - 1 - p);
                pack.put(out + static_cast<std::size_t>(at[static_cast<std::size_t>(id)]++) * pack.words, p, left, right);
                if (!tally) continue;
                const index_t lo = symmetric ? p - left : p + 1, hi = p + right;
                if (fresh) {
                    lanes = 0;
                    lo_in = lo;
                    hi_in = lo - 1;
                    fresh = false;
                }
                while (hi_in < hi) lanes += lanes_of(++hi_in);
                for (; lo_in < lo; ++lo_in)
                    if (lo_in <= hi_in) lanes -= lanes_of(lo_in);
                const std::uint64_t own = symmetric ? NeighbourLanes::kOne[tier_of[id]] : 0;
                if (++since_move > safe_adds) {  // only with windows in the thousands
                    move_to_tallies(local[static_cast<std::size_t>(t)]);
                    since_move = 1;
                }
                NeighbourLanes::add_to(tally + 3 * static_cast<std::size_t>(id), lanes - own);
            }
            if (tally) move_to_tallies(local[static_cast<std::size_t>(t)]);
        }
    });
}

// Counts rows [row_lo, row_hi) from their occurrences as `sort_occurrences` sorted them, gathered
// from n_chunks calls: entries holds them all, and starts (n_chunks x (R + 1)) where each chunk's
// run of each row begins in `entries`. The same rows, summed in the same order, as `count` builds.
// row_bound (R values, or null): at least each row's nonzeros, as `build_rows` takes it.
template <class Value>
Result<Value> count_occurrences(const std::int32_t* ids, index_t n_tokens, const std::uint64_t* entries,
                                index_t n_entries, const index_t* starts, index_t n_chunks, index_t row_lo,
                                index_t row_hi, index_t vocab_size, const Options& opt,
                                const index_t* row_bound = nullptr) {
    check_options(opt, vocab_size);
    require(0 <= row_lo && row_lo <= row_hi && row_hi <= vocab_size, "rows [row_lo, row_hi) must lie within the vocabulary");
    const index_t R = row_hi - row_lo;
    const Packing pack(opt.window, n_tokens);
    for (index_t c = 0; c < n_chunks; ++c) {
        const index_t* s = starts + c * (R + 1);
        require(0 <= s[0] && s[R] <= n_entries, "starts must lie within the entries");
        for (index_t r = 0; r < R; ++r) require(s[r] <= s[r + 1], "starts must not decrease within a chunk");
    }
    // a small range is not worth waking threads for
    Options local = opt;
    local.threads = static_cast<int>(std::max<index_t>(1, std::min<index_t>(opt.threads, n_entries / 16384)));
    if (row_bound)
        for (index_t r = 0; r < R; ++r)
            require(0 <= row_bound[r] && row_bound[r] <= vocab_size, "row bounds must lie in [0, vocab_size]");
    Result<Value> result =
        build_rows<Value>(ids, n_tokens, entries, pack, starts, n_chunks, row_lo, R, vocab_size, local, row_bound);
    result.working_bytes += static_cast<std::int64_t>(8 * pack.words) * n_entries + 8 * n_chunks * (R + 1);
    return result;
}

}  // namespace cooccur
}  // namespace embedcore
