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
        result.copy_to(p, i, d, threads);
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

}  // namespace

void register_cooccur(py::module_& m) {
    m.def("cooccur_count", &count_py, py::arg("ids"), py::arg("offsets"), py::arg("row_lo"), py::arg("row_hi"),
          py::arg("vocab_size"), py::arg("window"), py::arg("symmetric"), py::arg("distance_weighting"),
          py::arg("threads"),
          "Rows [row_lo, row_hi) of the co-occurrence matrix: ((indptr, indices, data), working_bytes).");
}
