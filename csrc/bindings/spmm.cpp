// Bindings for the sparse kernels: CSR x dense products, the CSR transpose, the CSR check and the
// two steps of PPMI.
// Arrays arrive already converted by embedcore/svd.py (int64 indptr, int32 indices, float32
// data, C-contiguous); these functions check shapes, release the GIL and call the kernels.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "bindings/args.hpp"
#include "embedcore/ppmi.hpp"
#include "embedcore/spmm.hpp"

namespace py = pybind11;
using embedcore::index_t;
using embedcore::bindings::Int32;
using embedcore::bindings::Int64;
using embedcore::bindings::writable;

namespace {

using Indptr = py::array_t<index_t, py::array::c_style>;
using Indices = py::array_t<std::int32_t, py::array::c_style>;
using Floats = py::array_t<float, py::array::c_style>;

void check_1d(const py::array& a, const char* name, index_t length) {
    if (a.ndim() != 1 || (length >= 0 && a.shape(0) != length))
        throw std::invalid_argument(std::string(name) + " must be a 1-D array of length " + std::to_string(length) +
                                    ", got shape with " + std::to_string(a.ndim()) + " dimensions and " +
                                    std::to_string(a.ndim() ? a.shape(0) : 0) + " entries");
}

// (indptr, indices, data) of an n_rows x n_cols CSR matrix: lengths consistent with each other.
index_t check_csr_arrays(const Indptr& indptr, const Indices& indices, const Floats& data, index_t n_rows) {
    check_1d(indptr, "indptr", n_rows + 1);
    const index_t nnz = indices.ndim() == 1 ? indices.shape(0) : -1;
    check_1d(indices, "indices", nnz);
    check_1d(data, "data", nnz);
    return nnz;
}

void csr_matmul(const Indptr& indptr, const Indices& indices, const Floats& data, Int64 n_cols,
                const Floats& X, const py::object& out_object, Int32 threads, const std::string& isa_name,
                bool accumulate) {
    const auto isa = embedcore::spmm::select_isa(isa_name);
    float* yv = writable<float>(out_object, "out", {-1, -1});
    const auto out = py::reinterpret_borrow<py::array>(out_object);
    const index_t n_rows = out.shape(0), p = out.shape(1);
    check_csr_arrays(indptr, indices, data, n_rows);
    if (X.ndim() != 2 || X.shape(0) != n_cols || X.shape(1) != p)
        throw std::invalid_argument("X must have shape (" + std::to_string(n_cols) + ", " + std::to_string(p) + ")");
    const index_t* ip = indptr.data();
    const std::int32_t* ix = indices.data();
    const float* dv = data.data();
    const float* xv = X.data();
    py::gil_scoped_release release;
    embedcore::spmm::csr_matmul(n_rows, n_cols, ip, ix, dv, xv, p, p, yv, p, threads, isa, accumulate);
}

void dense_matmul(const Floats& A, const Floats& X, const py::object& out_object, Int32 threads, const std::string& isa_name) {
    const auto isa = embedcore::spmm::select_isa(isa_name);
    float* yv = writable<float>(out_object, "out", {-1, -1});
    const auto out = py::reinterpret_borrow<py::array>(out_object);
    if (A.ndim() != 2 || X.ndim() != 2)
        throw std::invalid_argument("A and X must be 2-D float32 arrays");
    const index_t n_rows = A.shape(0), q = A.shape(1), p = X.shape(1);
    if (X.shape(0) != q || out.shape(0) != n_rows || out.shape(1) != p)
        throw std::invalid_argument("dense_matmul: shapes do not match: A (" + std::to_string(n_rows) + ", " +
                                    std::to_string(q) + "), X (" + std::to_string(X.shape(0)) + ", " +
                                    std::to_string(p) + "), out (" + std::to_string(out.shape(0)) + ", " +
                                    std::to_string(out.shape(1)) + ")");
    const float* av = A.data();
    const float* xv = X.data();
    py::gil_scoped_release release;
    embedcore::spmm::dense_matmul(n_rows, q, av, q, xv, p, p, yv, p, threads, isa);
}

void check_csr(const Indptr& indptr, const Indices& indices, Int64 n_rows, Int64 n_cols, Int32 threads) {
    check_1d(indptr, "indptr", n_rows + 1);
    check_1d(indices, "indices", indices.ndim() == 1 ? indices.shape(0) : -1);
    const index_t nnz = indices.shape(0);
    const index_t* ip = indptr.data();
    const std::int32_t* ix = indices.data();
    py::gil_scoped_release release;
    embedcore::spmm::check_csr(n_rows, n_cols, ip, ix, nnz, threads);
}

py::tuple csr_transpose(const Indptr& indptr, const Indices& indices, const Floats& data, Int64 n_rows,
                        Int64 n_cols, Int32 threads) {
    const index_t nnz = check_csr_arrays(indptr, indices, data, n_rows);
    Indptr t_indptr(n_cols + 1);
    Indices t_indices(nnz);
    Floats t_data(nnz);
    const index_t* ip = indptr.data();
    const std::int32_t* ix = indices.data();
    const float* dv = data.data();
    index_t* tp = t_indptr.mutable_data();
    std::int32_t* tx = t_indices.mutable_data();
    float* td = t_data.mutable_data();
    {
        py::gil_scoped_release release;
        embedcore::spmm::csr_transpose(n_rows, n_cols, ip, ix, dv, tp, tx, td, threads);
    }
    return py::make_tuple(t_indptr, t_indices, t_data);
}

void ppmi_add_column_sums(const Indptr& indptr, const Indices& indices, const Floats& data, Int64 n_rows,
                          Int64 n_cols, const py::object& sums_object, Int32 threads) {
    check_csr_arrays(indptr, indices, data, n_rows);
    double* sums = writable<double>(sums_object, "column_sums", {static_cast<py::ssize_t>(n_cols)});
    const index_t* ip = indptr.data();
    const std::int32_t* ix = indices.data();
    const float* dv = data.data();
    py::gil_scoped_release release;
    embedcore::ppmi::add_column_sums(n_rows, n_cols, ip, ix, dv, threads, sums);
}

py::tuple ppmi_with_column_sums(const Indptr& indptr, const Indices& indices, const Floats& data, Int64 n_rows,
                                Int64 n_cols, const py::array_t<double, py::array::c_style>& column_sums,
                                double cds, double shift, Int32 threads, const std::string& isa_name) {
    const auto isa = embedcore::ppmi::select_isa(isa_name);
    const index_t nnz = check_csr_arrays(indptr, indices, data, n_rows);
    check_1d(column_sums, "column_sums", n_cols);
    // numpy allocates the outputs (large ones on transparent huge pages), sized for every input
    // entry; the kernel fills a prefix and the returned arrays are views of it.
    Indptr out_indptr(n_rows + 1);
    Indices out_indices(nnz);
    Floats out_data(nnz);
    const index_t* ip = indptr.data();
    const std::int32_t* ix = indices.data();
    const float* dv = data.data();
    const double* sums = column_sums.data();
    const embedcore::ppmi::Output out{out_indptr.mutable_data(), out_indices.mutable_data(), out_data.mutable_data()};
    index_t kept = 0;
    {
        py::gil_scoped_release release;
        kept = embedcore::ppmi::ppmi_with_column_sums(n_rows, n_cols, ip, ix, dv, sums, cds, shift, threads, out, isa);
    }
    py::slice prefix(0, kept, 1);
    return py::make_tuple(out_indptr, out_indices[prefix], out_data[prefix]);
}

// Both steps on one matrix (the matrix in memory).
py::tuple ppmi(const Indptr& indptr, const Indices& indices, const Floats& data, Int64 n_rows, Int64 n_cols,
               double cds, double shift, Int32 threads, const std::string& isa_name) {
    embedcore::ppmi::select_isa(isa_name);  // a bad level is refused before any work
    check_csr_arrays(indptr, indices, data, n_rows);
    py::array_t<double> column_sums(n_cols);
    std::fill(column_sums.mutable_data(), column_sums.mutable_data() + n_cols, 0.0);
    ppmi_add_column_sums(indptr, indices, data, n_rows, n_cols, column_sums, threads);
    return ppmi_with_column_sums(indptr, indices, data, n_rows, n_cols, column_sums, cds, shift, threads,
                                 isa_name);
}

}  // namespace

void register_spmm(py::module_& m) {
    m.def("csr_matmul", &csr_matmul, py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("n_cols"),
          py::arg("X"), py::arg("out"), py::arg("threads"), py::arg("isa") = "", py::arg("accumulate") = false,
          "out[:] = A @ X (with accumulate, out[:] += A @ X) for the CSR matrix A (out.shape[0] x n_cols) and "
          "X (n_cols x out.shape[1]).");
    m.def("dense_matmul", &dense_matmul, py::arg("A"), py::arg("X"), py::arg("out"),
          py::arg("threads"), py::arg("isa") = "",
          "out[:] = A @ X for a tall dense A and a small X (float32, C-contiguous).");
    m.def("check_csr", &check_csr, py::arg("indptr"), py::arg("indices"), py::arg("n_rows"), py::arg("n_cols"),
          py::arg("threads"), "Raise ValueError unless (indptr, indices) is a valid n_rows x n_cols CSR structure.");
    m.def("csr_transpose", &csr_transpose, py::arg("indptr"), py::arg("indices"), py::arg("data"),
          py::arg("n_rows"), py::arg("n_cols"), py::arg("threads"),
          "(indptr, indices, data) of the CSR of A^T, row indices ascending within each row.");
    m.def("ppmi", &ppmi, py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("n_rows"),
          py::arg("n_cols"), py::arg("cds"), py::arg("shift"), py::arg("threads"), py::arg("isa") = "",
          "(indptr, indices, data) of the positive PMI of a co-occurrence CSR matrix (both steps).");
    m.def("ppmi_add_column_sums", &ppmi_add_column_sums, py::arg("indptr"), py::arg("indices"), py::arg("data"),
          py::arg("n_rows"), py::arg("n_cols"), py::arg("column_sums"), py::arg("threads"),
          "column_sums (float64, n_cols) += the column sums of a CSR matrix of counts (PPMI step 1).");
    m.def("ppmi_with_column_sums", &ppmi_with_column_sums, py::arg("indptr"), py::arg("indices"), py::arg("data"),
          py::arg("n_rows"), py::arg("n_cols"), py::arg("column_sums"), py::arg("cds"), py::arg("shift"),
          py::arg("threads"), py::arg("isa") = "",
          "(indptr, indices, data) of the positive PMI of the rows of a co-occurrence CSR matrix, given the "
          "column sums of the whole matrix (PPMI step 2).");
    m.def("spmm_isa", [] { return std::string(embedcore::simd::isa_name(embedcore::spmm::select_isa(""))); },
          "The SIMD level the sparse products use on this CPU.");
}
