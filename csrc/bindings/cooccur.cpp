// Bindings of the co-occurrence kernel: count a range of rows. Arrays in, new CSR arrays out;
// the GIL is released for the counting and for the copy into the numpy arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "embedcore/cooccur.hpp"

namespace py = pybind11;
using embedcore::index_t;
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

py::tuple partition_py(carray<std::int32_t> ids, carray<std::int64_t> offsets, index_t a, index_t b,
                       carray<std::int64_t> range_start, index_t vocab_size, int window) {
    if (ids.ndim() != 1 || offsets.ndim() != 1 || offsets.shape(0) < 1 || range_start.ndim() != 1 ||
        range_start.shape(0) < 2)
        throw std::invalid_argument("ids, offsets and range_start must be 1-D arrays");
    if (a < 0 || b < a || b > ids.shape(0)) throw std::invalid_argument("positions [a, b) must lie within the corpus");
    const co::Packing pack(window, ids.shape(0));
    const index_t n_ranges = range_start.shape(0) - 1;
    py::array_t<std::uint64_t> out(static_cast<py::ssize_t>((b - a) * static_cast<index_t>(pack.words)));
    py::array_t<std::int64_t> counts(n_ranges);
    const std::int32_t* id = ids.data();
    const std::int64_t* off = offsets.data();
    const std::int64_t* rs = range_start.data();
    std::uint64_t* o = out.mutable_data();
    std::int64_t* c = counts.mutable_data();
    const index_t n_tokens = ids.shape(0), n_sentences = offsets.shape(0) - 1;
    {
        py::gil_scoped_release release;
        co::partition_occurrences(id, n_tokens, off, n_sentences, a, b, rs, n_ranges, vocab_size, window, o, c);
    }
    return py::make_tuple(out, counts);
}

py::tuple count_occurrences_py(carray<std::int32_t> ids, carray<std::uint64_t> occurrences, index_t row_lo,
                               index_t row_hi, index_t vocab_size, int window, bool symmetric,
                               bool distance_weighting, int threads) {
    if (ids.ndim() != 1 || occurrences.ndim() != 1) throw std::invalid_argument("ids and occurrences must be 1-D arrays");
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
    const index_t n_tokens = ids.shape(0);
    co::Result<float> result;
    {
        py::gil_scoped_release release;
        result = co::count_occurrences<float>(id, n_tokens, occ, n_entries, row_lo, row_hi, vocab_size, opt);
    }
    const std::int64_t bytes = result.working_bytes;
    return py::make_tuple(to_numpy<float, float>(result, threads), bytes);
}

}  // namespace

void register_cooccur(py::module_& m) {
    m.def("cooccur_count", &count_py, py::arg("ids"), py::arg("offsets"), py::arg("row_lo"), py::arg("row_hi"),
          py::arg("vocab_size"), py::arg("window"), py::arg("symmetric"), py::arg("distance_weighting"),
          py::arg("threads"),
          "Rows [row_lo, row_hi) of the co-occurrence matrix: ((indptr, indices, data), working_bytes).");
    m.def("cooccur_partition", &partition_py, py::arg("ids"), py::arg("offsets"), py::arg("a"), py::arg("b"),
          py::arg("range_start"), py::arg("vocab_size"), py::arg("window"),
          "Occurrences in positions [a, b), packed and grouped by row range: (uint64 entries, counts per range).");
    m.def("cooccur_count_occurrences", &count_occurrences_py, py::arg("ids"), py::arg("occurrences"),
          py::arg("row_lo"), py::arg("row_hi"), py::arg("vocab_size"), py::arg("window"), py::arg("symmetric"),
          py::arg("distance_weighting"), py::arg("threads"),
          "Rows [row_lo, row_hi) from their packed occurrences: ((indptr, indices, data), working_bytes).");
}
