// Bindings of the co-occurrence kernel: count a range of rows. Arrays in, new CSR arrays out
// (or, for a range of a bounded count, its row blocks); the GIL is released for the counting and
// for the copy into the numpy arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/args.hpp"
#include "embedcore/cooccur.hpp"

namespace py = pybind11;
using embedcore::index_t;
using embedcore::bindings::writable;
namespace co = embedcore::cooccur;

namespace {

template <class T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// (indptr int64, indices int32, data) as numpy arrays, filled without the GIL.
template <class Value, class Out>
py::tuple to_numpy(co::Result<Value>& result, int threads) {
    py::array_t<std::int64_t> indptr(result.n_rows + 1);
    py::array_t<std::int32_t> indices(result.nnz);
    py::array_t<Out> data(result.nnz);
    auto* p = indptr.mutable_data();
    auto* i = indices.mutable_data();
    auto* d = data.mutable_data();
    {
        py::gil_scoped_release release;
        result.copy_to(p, i, d, result.nnz >= (index_t{1} << 20) ? threads : 1);  // small: not worth a thread
    }
    return py::make_tuple(indptr, indices, data);
}

// A vector handed to numpy without a copy: the array owns it.
template <class T>
py::array_t<T> adopt(std::vector<T>&& v) {
    auto* owned = new std::vector<T>(std::move(v));
    py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    return py::array_t<T>(static_cast<py::ssize_t>(owned->size()), owned->data(), owner);
}

// (indptr int64, [indices int32 per block], [data per block]): the blocks in row order, not
// copied, so that a caller writing them out holds each block once.
template <class Value>
py::tuple to_numpy_blocks(co::Result<Value>& result) {
    py::array_t<std::int64_t> indptr(result.n_rows + 1);
    result.fill_indptr(indptr.mutable_data());
    py::list indices, data;
    for (auto& blk : result.blocks) {
        indices.append(adopt(std::move(blk.cols)));
        data.append(adopt(std::move(blk.vals)));
    }
    result.blocks.clear();
    return py::make_tuple(indptr, indices, data);
}

py::tuple count_py(carray<std::int32_t> ids, carray<std::int64_t> offsets, index_t row_lo, index_t row_hi,
                   index_t vocab_size, int window, bool symmetric, bool distance_weighting, int threads) {
    if (ids.ndim() != 1 || offsets.ndim() != 1 || offsets.shape(0) < 1)
        throw std::invalid_argument("ids and offsets must be 1-D arrays, offsets non-empty");
    co::Options opt;
    opt.window = window;
    opt.symmetric = symmetric;
    opt.distance_weighting = distance_weighting;
    opt.threads = threads;
    const std::int32_t* id = ids.data();
    const std::int64_t* off = offsets.data();
    const index_t n_tokens = ids.shape(0), n_sentences = offsets.shape(0) - 1;
    co::Result<float> result;
    {
        py::gil_scoped_release release;
        result = co::count<float>(id, n_tokens, off, n_sentences, row_lo, row_hi, vocab_size, opt);
    }
    const std::int64_t bytes = result.working_bytes;
    return py::make_tuple(to_numpy<float, float>(result, threads), bytes);
}

py::array_t<std::int64_t> word_counts_py(carray<std::int32_t> ids, index_t vocab_size, int threads) {
    if (ids.ndim() != 1) throw std::invalid_argument("ids must be a 1-D array");
    if (vocab_size < 1) throw std::invalid_argument("vocab_size must be >= 1");
    py::array_t<std::int64_t> counts(vocab_size);
    const std::int32_t* id = ids.data();
    std::int64_t* c = counts.mutable_data();
    const index_t n_tokens = ids.shape(0);
    {
        py::gil_scoped_release release;
        co::word_counts(id, n_tokens, vocab_size, threads, c);
    }
    return counts;
}

py::tuple sort_occurrences_py(carray<std::int32_t> ids, carray<std::int64_t> offsets, index_t a, index_t b,
                              index_t vocab_size, int window, bool symmetric, py::object tier_of, py::object tallies,
                              int threads) {
    if (ids.ndim() != 1 || offsets.ndim() != 1 || offsets.shape(0) < 1)
        throw std::invalid_argument("ids and offsets must be 1-D arrays, offsets non-empty");
    if (a < 0 || b < a || b > ids.shape(0)) throw std::invalid_argument("positions [a, b) must lie within the corpus");
    if (vocab_size < 1) throw std::invalid_argument("vocab_size must be >= 1");
    const std::uint8_t* tier = nullptr;
    std::uint32_t* tally = nullptr;
    py::array_t<std::uint8_t> tier_array;
    if (!tier_of.is_none()) {
        tier_array = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(tier_of);
        if (!tier_array || tier_array.ndim() != 1 || tier_array.shape(0) != vocab_size)
            throw std::invalid_argument("tier_of must hold one tier per word");
        for (py::ssize_t w = 0; w < vocab_size; ++w)
            if (tier_array.data()[w] > 2) throw std::invalid_argument("tiers must be 0, 1 or 2");
        tally = writable<std::uint32_t>(tallies, "tallies", {3 * vocab_size});
        tier = tier_array.data();
    }
    const co::Packing pack(window, ids.shape(0));
    py::array_t<std::uint64_t> out(static_cast<py::ssize_t>((b - a) * static_cast<index_t>(pack.words)));
    py::array_t<std::int64_t> word_start(vocab_size + 1);
    const std::int32_t* id = ids.data();
    const std::int64_t* off = offsets.data();
    std::uint64_t* o = out.mutable_data();
    std::int64_t* ws = word_start.mutable_data();
    const index_t n_tokens = ids.shape(0), n_sentences = offsets.shape(0) - 1;
    {
        py::gil_scoped_release release;
        co::sort_occurrences(id, n_tokens, off, n_sentences, a, b, vocab_size, window, symmetric, tier, tally, threads,
                             o, ws);
    }
    return py::make_tuple(out, word_start);
}

py::tuple count_occurrences_py(carray<std::int32_t> ids, carray<std::uint64_t> occurrences,
                               carray<std::int64_t> starts, carray<std::int64_t> row_bound, index_t row_lo,
                               index_t row_hi, index_t vocab_size, int window, bool symmetric,
                               bool distance_weighting, int threads) {
    if (ids.ndim() != 1 || occurrences.ndim() != 1) throw std::invalid_argument("ids and occurrences must be 1-D arrays");
    if (row_lo < 0 || row_hi < row_lo) throw std::invalid_argument("rows [row_lo, row_hi) must be a range");
    if (starts.ndim() != 2 || starts.shape(1) != row_hi - row_lo + 1)
        throw std::invalid_argument("starts must be a (chunks, rows + 1) array");
    if (row_bound.ndim() != 1 || row_bound.shape(0) != row_hi - row_lo)
        throw std::invalid_argument("row_bound must hold one value per row");
    co::Options opt;
    opt.window = window;
    opt.symmetric = symmetric;
    opt.distance_weighting = distance_weighting;
    opt.threads = threads;
    const co::Packing pack(window, ids.shape(0));
    if (occurrences.shape(0) % static_cast<py::ssize_t>(pack.words) != 0)
        throw std::invalid_argument("occurrences must hold whole packed entries");
    const index_t n_entries = occurrences.shape(0) / static_cast<py::ssize_t>(pack.words);
    const std::int32_t* id = ids.data();
    const std::uint64_t* occ = occurrences.data();
    const std::int64_t* st = starts.data();
    const std::int64_t* bound = row_bound.data();
    const index_t n_tokens = ids.shape(0), n_chunks = starts.shape(0);
    co::Result<float> result;
    {
        py::gil_scoped_release release;
        result = co::count_occurrences<float>(id, n_tokens, occ, n_entries, st, n_chunks, row_lo, row_hi, vocab_size,
                                              opt, bound);
    }
    const std::int64_t bytes = result.working_bytes;
    return py::make_tuple(to_numpy_blocks(result), bytes);
}

}  // namespace

void register_cooccur(py::module_& m) {
    m.def("cooccur_count", &count_py, py::arg("ids"), py::arg("offsets"), py::arg("row_lo"), py::arg("row_hi"),
          py::arg("vocab_size"), py::arg("window"), py::arg("symmetric"), py::arg("distance_weighting"),
          py::arg("threads"),
          "Rows [row_lo, row_hi) of the co-occurrence matrix: ((indptr, indices, data), working_bytes).");
    m.def("cooccur_word_counts", &word_counts_py, py::arg("ids"), py::arg("vocab_size"), py::arg("threads"),
          "How often each word occurs (int64, vocab_size values).");
    m.def("cooccur_sort_occurrences", &sort_occurrences_py, py::arg("ids"), py::arg("offsets"), py::arg("a"),
          py::arg("b"), py::arg("vocab_size"), py::arg("window"), py::arg("symmetric"), py::arg("tier_of"),
          py::arg("tallies"), py::arg("threads"),
          "Occurrences in positions [a, b), packed and sorted by word: (uint64 entries, int64 word starts); "
          "with tier_of, adds their neighbour tallies to tallies.");
    m.def("cooccur_count_occurrences", &count_occurrences_py, py::arg("ids"), py::arg("occurrences"),
          py::arg("starts"), py::arg("row_bound"), py::arg("row_lo"), py::arg("row_hi"), py::arg("vocab_size"),
          py::arg("window"), py::arg("symmetric"), py::arg("distance_weighting"), py::arg("threads"),
          "Rows [row_lo, row_hi) from their sorted occurrences, each chunk's row starts and a bound of each row's "
          "nonzeros: "
          "((indptr, [indices per row block], [data per row block]), working_bytes).");
}
