// embedcore._native: the pybind11 module. Each kernel family registers its functions from its
// own file; this one adds what the build itself knows.
#include <pybind11/pybind11.h>

#include "embedcore/common.hpp"
#include "embedcore/parallel.hpp"

namespace py = pybind11;

void register_cooccur(py::module_& m);  // cooccur.cpp
void register_spmm(py::module_& m);     // spmm.cpp
void register_topk(py::module_& m);     // topk.cpp
void register_vecio(py::module_& m);    // vecio.cpp

PYBIND11_MODULE(_native, m) {
    m.doc() = "embedcore C++ kernels";
    m.def("openmp", &embedcore::have_openmp, "True when the kernels were compiled with OpenMP.");
    m.def("simd_level", &embedcore::simd_level, "The widest SIMD instruction set this CPU runs.");
    m.def("max_threads", [] {
#ifdef EMBEDCORE_OPENMP
        return omp_get_max_threads();
#else
        return 1;
#endif
    });
    register_cooccur(m);
    register_spmm(m);
    register_topk(m);
    register_vecio(m);
}
