// Bindings of the co-occurrence kernels: count a shard, merge shard runs. Arrays in, new CSR
// arrays out; the GIL is released for the counting and for the copy into the numpy arrays.
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

py::tuple count_py(carray<std::int32_t> ids, carray<std::int64_t> offsets, index_t begin, index_t end,
                   index_t vocab_size, int window, bool symmetric, bool distance_weighting, int threads,
                   bool float64) {
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
    if (float64) {
        co::Result<double> result;
        {
            py::gil_scoped_release release;
            result = co::count<double>(id, n_tokens, off, n_sentences, begin, end, vocab_size, opt);
        }
        const std::int64_t bytes = result.working_bytes;
        return py::make_tuple(to_numpy<double, double>(result, threads), bytes);
    }
    co::Result<float> result;
    {
        py::gil_scoped_release release;
        result = co::count<float>(id, n_tokens, off, n_sentences, begin, end, vocab_size, opt);
    }
    const std::int64_t bytes = result.working_bytes;
    return py::make_tuple(to_numpy<float, float>(result, threads), bytes);
}

py::tuple merge_py(py::list runs, index_t n_rows, index_t n_cols, int threads) {
    std::vector<co::Run> views;
    std::vector<py::array> keep;  // the arrays stay referenced while the kernel reads them
    for (py::handle item : runs) {
        auto t = item.cast<py::tuple>();
        auto indptr = carray<std::int64_t>::ensure(t[0]);
        auto indices = carray<std::int32_t>::ensure(t[1]);
        auto data = carray<double>::ensure(t[2]);
        if (!indptr || !indices || !data || indptr.ndim() != 1 || indptr.shape(0) != n_rows + 1 ||
            indices.ndim() != 1 || data.ndim() != 1 || indices.shape(0) != data.shape(0) ||
            indptr.at(n_rows) != indices.shape(0))
            throw std::invalid_argument("merge: each run must be (indptr[n_rows + 1], indices, data) of one CSR matrix");
        views.push_back({indptr.data(), indices.data(), data.data()});
        keep.push_back(indptr);
        keep.push_back(indices);
        keep.push_back(data);
    }
    co::Result<float> result;
    {
        py::gil_scoped_release release;
        result = co::merge<float>(views, n_rows, n_cols, threads);
    }
    return to_numpy<float, float>(result, threads);
}

}  // namespace

void register_cooccur(py::module_& m) {
    m.def("cooccur_count", &count_py, py::arg("ids"), py::arg("offsets"), py::arg("begin"), py::arg("end"),
          py::arg("vocab_size"), py::arg("window"), py::arg("symmetric"), py::arg("distance_weighting"),
          py::arg("threads"), py::arg("float64"),
          "Co-occurrence counts of the focal positions [begin, end): ((indptr, indices, data), working_bytes).");
    m.def("cooccur_merge", &merge_py, py::arg("runs"), py::arg("n_rows"), py::arg("n_cols"), py::arg("threads"),
          "Sum of CSR runs (indptr, indices, float64 data) as (indptr, indices, float32 data).");
}
