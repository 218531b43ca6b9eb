// Header-level checks of kernel invariants that are easier to state without Python: the SIMD
// selection, the builtins of simd.hpp, the sigmoid cell's range, and the kernels refusing
// arrays that would make them write or read out of bounds. Built and run by
// tests/test_kernel_math.py; prints "ok" and exits 0, or names the failed check and exits 1.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "embedcore/glove.hpp"
#include "embedcore/ppmi.hpp"
#include "embedcore/sgns.hpp"
#include "embedcore/simd.hpp"
#include "embedcore/spmm.hpp"

namespace {

int failures = 0;

void check(bool ok, const char* what) {
    if (!ok) {
        std::printf("FAILED: %s\n", what);
        ++failures;
    }
}

// True when f() throws std::invalid_argument whose message contains `needle`.
template <class F>
bool raises(F&& f, const std::string& needle) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return std::string(e.what()).find(needle) != std::string::npos;
    } catch (...) {
        return false;
    }
    return false;
}

void simd_selection() {
    using namespace embedcore::simd;
    check(raises([] { select("bogus", kIntrinsicLevels, "k"); }, "'bogus'"), "an unknown level raises, naming it");
    check(raises([] { select("AVX2", kIntrinsicLevels, "k"); }, "'AVX2'"), "level names are exact");
    check(raises([] { select("avx2", kBaselineOnly, "k"); }, "no copy"), "a level the kernel lacks raises");
    check(select("", kBaselineOnly, "k") == Isa::Baseline, "a baseline-only kernel runs baseline");
    check(select("baseline", kIntrinsicLevels, "k") == Isa::Baseline, "baseline can always be forced");
    const Isa best = select("", kIntrinsicLevels, "k");
    check(static_cast<int>(best) <= static_cast<int>(cpu_isa()), "the best level is one the CPU runs");
    for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
        const bool runs = static_cast<int>(isa) <= static_cast<int>(cpu_isa());
        const bool refused = raises([&] { select(isa_name(isa), kIntrinsicLevels, "k"); }, "not supported");
#if defined(EMBEDCORE_INTRINSIC_VARIANTS)
        check(runs != refused, "a level above the CPU is refused, one it runs is used");
#else
        (void)runs;
        (void)refused;
#endif
    }
}

void builtins() {
    using namespace embedcore::simd;
    for (int i = 0; i < 32; ++i) check(ctz32(1u << i) == i && ctz32((1u << i) | 0x80000000u) == i, "ctz32");
    for (int i = 0; i < 64; ++i) check(ctz64(std::uint64_t{1} << i) == i, "ctz64");
    check(popcount32(0) == 0 && popcount32(0xFFFFFFFFu) == 32 && popcount32(0x80000001u) == 2, "popcount32");
    AlignedArray<double> a(13);
    check(reinterpret_cast<std::uintptr_t>(a.data()) % 64 == 0, "AlignedArray is 64-byte aligned");
    bool zero = true;
    for (std::size_t i = 0; i < a.size(); ++i) zero &= a[i] == 0.0;
    check(zero, "AlignedArray starts zeroed");
    float x[20];
    for (int i = 0; i < 20; ++i) x[i] = static_cast<float>(i + 1);
    // unaligned loads at every offset, and the fixed-order horizontal sums
    check(hsum(load<f32x4>(x + 1)) == 2 + 3 + 4 + 5, "f32x4 load and sum");
    check(hsum(load<f32x8>(x + 3)) == 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11, "f32x8 load and sum");
    check(hsum(load<f32x16>(x + 2)) == 3 * 16 + 120, "f32x16 load and sum");
}

void sigmoid_cells() {
    // every score strictly inside (-6, 6) lands in the table; scores near the edges especially
    const float edges[] = {-6.0f, 6.0f, 0.0f};
    for (float e : edges)
        for (int dir = -1; dir <= 1; dir += 2) {
            float f = e;
            for (int i = 0; i < 4096; ++i) {
                f = std::nextafter(f, dir * std::numeric_limits<float>::infinity());
                if (!(f > -6.0f && f < 6.0f)) continue;
                const int c = ecmath::sigmoid_cell(f);
                check(c >= 0 && c <= EC_SIGMOID_CELLS, "a score inside (-6, 6) has a cell of the table");
            }
        }
    float loss = 0.0f;
    const auto& table = embedcore::sigmoid_table();
    check(table.gradient(std::nanf(""), 1.0f, 0.1f, loss) == 0.0f && std::isnan(loss), "NaN: no step, NaN loss");
    loss = 0.0f;
    check(table.gradient(std::numeric_limits<float>::infinity(), 0.0f, 0.1f, loss) == -0.1f && std::isinf(loss),
          "+inf for a noise word: full gradient, infinite loss");
}

void glove_order_refuses_a_decreasing_indptr() {
    // rows 0..2 with indptr 0, 3, 1, 4: four positions counted, six would be written
    const std::int64_t indptr[] = {0, 3, 1, 4};
    const std::int32_t indices[] = {0, 1, 2, 0};
    const float data[] = {1, 2, 3, 4};
    std::vector<std::uint32_t> out(4);
    embedcore::glove::Counts m{indptr, indices, data, 3, 3, 0};
    check(raises([&] { embedcore::glove::shuffle_order<std::uint32_t>(m, 4, 1, out.data(), 1); },
                 "indptr decreases at row 1"),
          "GloVe order: a decreasing indptr raises before any write");
    const std::int32_t bad_col[] = {0, 1, 7, 0};
    const std::int64_t good[] = {0, 1, 3, 4};
    embedcore::glove::Counts bad{good, bad_col, data, 3, 3, 0};
    check(raises([&] { embedcore::glove::shuffle_order<std::uint32_t>(bad, 4, 1, out.data(), 1); },
                 "column index is out of range"),
          "GloVe order: a column out of range raises");
    embedcore::glove::Counts fine{good, indices, data, 3, 3, 0};
    check(raises([&] { embedcore::glove::shuffle_order<std::uint32_t>(fine, 3, 1, out.data(), 1); },
                 "counts changed"),
          "GloVe order: more positive counts than counted raises before a bucket overruns");
}

void sparse_kernels_refuse_a_decreasing_indptr() {
    const std::int64_t indptr[] = {0, 3, 1, 4};
    const std::int32_t indices[] = {0, 1, 2, 0};
    const float data[] = {1, 2, 3, 4};
    float x[3 * 2] = {1, 1, 1, 1, 1, 1}, y[3 * 2];
    check(raises([&] { embedcore::spmm::csr_matmul(3, 3, indptr, indices, data, x, 2, 2, y, 2, 1, embedcore::simd::Isa::Baseline); },
                 "indptr decreases at row 1"),
          "csr_matmul: a decreasing indptr raises");
    std::int64_t t_indptr[4];
    std::int32_t t_indices[4];
    float t_data[4];
    check(raises([&] { embedcore::spmm::csr_transpose(3, 3, indptr, indices, data, t_indptr, t_indices, t_data, 1); },
                 "indptr decreases"),
          "csr_transpose: a decreasing indptr raises");
    std::int64_t o_indptr[4];
    std::int32_t o_indices[4];
    float o_data[4];
    check(raises([&] {
              embedcore::ppmi::ppmi(3, 3, indptr, indices, data, 0.75, 1.0, 1,
                                    embedcore::ppmi::Output{o_indptr, o_indices, o_data});
          },
          "indptr decreases"),
          "ppmi: a decreasing indptr raises");
}

void word2vec_checks_ids_and_stops_when_diverged() {
    using namespace embedcore::sgns;
    const int V = 4, dim = 8;
    std::vector<float> in(V * dim, 0.1f), out(V * dim, 0.1f);
    std::vector<std::int64_t> counts = {5, 4, 3, 2};
    std::vector<std::uint32_t> prob(V);
    std::vector<std::int32_t> alias(V);
    build_noise_table(counts.data(), V, 0.75, prob.data(), alias.data());
    std::vector<std::uint64_t> keep(V, std::uint64_t{1} << 32);
    std::vector<std::int32_t> ids = {0, 1, 2, 3, 1, 2, 0, 3};
    std::vector<std::int64_t> offsets = {0, 8};
    Config cfg;
    cfg.dim = dim;
    cfg.window = 2;
    cfg.negative = 2;
    Data d;
    d.input = in.data();
    d.output = out.data();
    d.vocab_size = V;
    d.keep = keep.data();
    d.noise_prob = prob.data();
    d.noise_alias = alias.data();
    d.ids = ids.data();
    d.offsets = offsets.data();
    d.n_sentences = 1;
    std::int64_t start = 0, end = 8, done = 0;
    std::uint64_t state = 1;
    double loss = 0.0;
    ids[5] = -3;
    check(raises([&] { train_chunk(cfg, d, &start, &end, 1, &state, &done, &loss); }, "got -3 at position 5"),
          "word2vec: a negative id raises");
    ids[5] = V;
    check(raises([&] { train_chunk(cfg, d, &start, &end, 1, &state, &done, &loss); }, "got 4 at position 5"),
          "word2vec: an id past the vocabulary raises");
    ids[5] = 2;
    // NaN vectors (a diverged run): no table index from NaN, the loss says so
    in[0] = std::nanf("");
    loss = 0.0;
    train_chunk(cfg, d, &start, &end, 1, &state, &done, &loss);
    check(!std::isfinite(loss), "word2vec: NaN vectors give a non-finite loss");
}

}  // namespace

int main() {
    simd_selection();
    builtins();
    sigmoid_cells();
    glove_order_refuses_a_decreasing_indptr();
    sparse_kernels_refuse_a_decreasing_indptr();
    word2vec_checks_ids_and_stops_when_diverged();
    if (failures) return 1;
    std::printf("ok\n");
    return 0;
}
