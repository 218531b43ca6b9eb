// Bindings of the exact cosine top-k kernel (csrc/embedcore/topk.hpp). Arrays arrive checked,
// C-contiguous and allocated by the Python layer (embedcore/similarity.py); this file translates
// pointers, refuses output arrays it would have to copy (args.hpp) and releases the GIL for the
// search.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "bindings/args.hpp"
#include "embedcore/topk.hpp"

namespace py = pybind11;
using embedcore::index_t;
using embedcore::bindings::Int32;
using embedcore::bindings::Int64;
using embedcore::bindings::writable;

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

// The checks and fields both searches share: 2-D queries and database of equal widths, (nq, k)
// outputs written in place, the tiles, the BLAS and the SIMD variant. `entry` names the caller.
embedcore::topk::Problem checked_problem(const char* entry, const farray& queries, const farray& database,
                                         index_t k, int threads, const py::object& out_scores,
                                         const py::object& out_indices, index_t tile_queries,
                                         index_t tile_database, bool use_blas, const std::string& simd) {
    if (queries.ndim() != 2 || database.ndim() != 2 || queries.shape(1) != database.shape(1))
        throw std::invalid_argument(std::string(entry) + ": queries and database must be 2-D with equal widths");
    embedcore::topk::Problem p{};
    p.queries = queries.data();
    p.nq = queries.shape(0);
    p.database = database.data();
    p.nb = database.shape(0);
    p.d = database.shape(1);
    p.k = k;
    p.out_scores = writable<float>(out_scores, "out_scores", {p.nq, k});
    p.out_indices = writable<index_t>(out_indices, "out_indices", {p.nq, k});
    p.threads = threads;
    p.tile_queries = tile_queries;
    p.tile_database = tile_database;
    p.sgemm = use_blas ? blas_sgemm.load() : nullptr;
    p.isa = embedcore::topk::select_isa(simd);
    return p;
}

void cosine_topk(farray queries, farray database, Int64 k, py::object exclude, bool normalized,
                 Int32 threads, const py::object& out_scores, const py::object& out_indices, Int64 tile_queries,
                 Int64 tile_database, bool use_blas, const std::string& simd) {
    embedcore::topk::Problem p = checked_problem("cosine_topk", queries, database, k, threads, out_scores,
                                                 out_indices, tile_queries, tile_database, use_blas, simd);
    iarray ex;
    if (!exclude.is_none()) {
        ex = exclude.cast<iarray>();
        if (ex.ndim() != 1 || ex.shape(0) != p.nq)
            throw std::invalid_argument("cosine_topk: exclude must hold one entry per query");
        p.exclude = ex.data();
    }
    p.normalized = normalized;
    py::gil_scoped_release release;
    embedcore::topk::search(p);
}

using i64array = py::array_t<std::int64_t, py::array::c_style>;
using i32array = py::array_t<std::int32_t, py::array::c_style>;

void inner_topk(farray queries, farray database, Int64 k, py::object skip_indptr, py::object skip_indices,
                Int32 threads, const py::object& out_scores, const py::object& out_indices, Int64 tile_queries,
                Int64 tile_database, bool use_blas, const std::string& simd) {
    embedcore::topk::Problem p = checked_problem("inner_topk", queries, database, k, threads, out_scores,
                                                 out_indices, tile_queries, tile_database, use_blas, simd);
    if (skip_indptr.is_none() != skip_indices.is_none())
        throw std::invalid_argument("inner_topk: skip_indptr and skip_indices go together");
    i64array indptr;
    i32array indices;
    if (!skip_indptr.is_none()) {
        indptr = skip_indptr.cast<i64array>();
        indices = skip_indices.cast<i32array>();
        if (indptr.ndim() != 1 || indptr.shape(0) != p.nq + 1 || indices.ndim() != 1)
            throw std::invalid_argument("inner_topk: skip_indptr must hold nq + 1 offsets");
        if (indptr.data()[p.nq] > indices.shape(0))
            throw std::invalid_argument("inner_topk: skip_indptr points past skip_indices");
        p.skip_indptr = indptr.data();
        p.skip_indices = indices.data();
    }
    p.inner_product = true;
    py::gil_scoped_release release;
    embedcore::topk::search(p);
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
    m.def("inner_topk", &inner_topk, py::arg("queries"), py::arg("database"), py::arg("k"),
          py::arg("skip_indptr"), py::arg("skip_indices"), py::arg("threads"), py::arg("out_scores"),
          py::arg("out_indices"), py::arg("tile_queries") = 256, py::arg("tile_database") = 1024,
          py::arg("use_blas") = true, py::arg("simd") = "",
          "Exact inner-product top-k leaving out each query's CSR row of database rows; rows with fewer\n"
          "than k candidates end in -inf / -1. The BLAS must be single-threaded.");
}
