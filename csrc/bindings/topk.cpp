// Bindings of the exact cosine top-k kernel (csrc/embedcore/topk.hpp). Arrays arrive checked,
// C-contiguous and allocated by the Python layer (embedcore/similarity.py); this file only
// translates pointers and releases the GIL for the search.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "embedcore/topk.hpp"

namespace py = pybind11;
using embedcore::index_t;

namespace {

std::atomic<embedcore::topk::sgemm_fn> blas_sgemm{nullptr};

using farray = py::array_t<float, py::array::c_style>;
using iarray = py::array_t<index_t, py::array::c_style>;

void set_sgemm(py::capsule capsule) {
    const char* name = PyCapsule_GetName(capsule.ptr());
    void* pointer = PyCapsule_GetPointer(capsule.ptr(), name);
    if (pointer == nullptr) throw py::error_already_set();
    blas_sgemm.store(reinterpret_cast<embedcore::topk::sgemm_fn>(pointer));
}

void cosine_topk(farray queries, farray database, index_t k, py::object exclude, bool normalized,
                 int threads, farray out_scores, iarray out_indices, index_t tile_queries,
                 index_t tile_database, bool use_blas, const std::string& simd) {
    if (queries.ndim() != 2 || database.ndim() != 2 || queries.shape(1) != database.shape(1))
        throw std::invalid_argument("cosine_topk: queries and database must be 2-D with equal widths");
    const index_t nq = queries.shape(0);
    if (out_scores.ndim() != 2 || out_scores.shape(0) != nq || out_scores.shape(1) != k ||
        out_indices.ndim() != 2 || out_indices.shape(0) != nq || out_indices.shape(1) != k)
        throw std::invalid_argument("cosine_topk: outputs must be (nq, k)");
    iarray ex;
    if (!exclude.is_none()) {
        ex = exclude.cast<iarray>();
        if (ex.ndim() != 1 || ex.shape(0) != nq)
            throw std::invalid_argument("cosine_topk: exclude must hold one entry per query");
    }
    embedcore::topk::Problem p{};
    p.queries = queries.data();
    p.nq = nq;
    p.database = database.data();
    p.nb = database.shape(0);
    p.d = database.shape(1);
    p.k = k;
    p.exclude = exclude.is_none() ? nullptr : ex.data();
    p.normalized = normalized;
    p.threads = threads;
    p.tile_queries = tile_queries;
    p.tile_database = tile_database;
    p.sgemm = use_blas ? blas_sgemm.load() : nullptr;
    p.isa = embedcore::topk::select_isa(simd);
    p.out_scores = out_scores.mutable_data();
    p.out_indices = out_indices.mutable_data();
    py::gil_scoped_release release;
    embedcore::topk::cosine_topk(p);
}

}  // namespace

void register_topk(py::module_& m) {
    m.def("topk_set_sgemm", &set_sgemm, py::arg("capsule"),
          "Give the kernel a Fortran SGEMM (the PyCapsule of scipy.linalg.cython_blas.sgemm).");
    m.def("topk_has_sgemm", [] { return blas_sgemm.load() != nullptr; });
    m.def("cosine_topk", &cosine_topk, py::arg("queries"), py::arg("database"), py::arg("k"),
          py::arg("exclude"), py::arg("normalized"), py::arg("threads"), py::arg("out_scores"),
          py::arg("out_indices"), py::arg("tile_queries") = 256, py::arg("tile_database") = 1024,
          py::arg("use_blas") = true, py::arg("simd") = "",
          "Exact cosine top-k into out_scores/out_indices; the BLAS must be single-threaded.");
}
