// embedcore._native: the pybind11 module. Each kernel family registers its functions from its
// own file; this one adds what the build itself knows: OpenMP, and the SIMD level of every kernel
// (each kernel's own selection, so the report is what the hot loops run).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <string>

#include "embedcore/cooccur.hpp"
#include "embedcore/glove.hpp"
#include "embedcore/parallel.hpp"
#include "embedcore/ppmi.hpp"
#include "embedcore/sgns.hpp"
#include "embedcore/simd.hpp"
#include "embedcore/spmm.hpp"
#include "embedcore/text.hpp"
#include "embedcore/topk.hpp"

namespace py = pybind11;

void register_cooccur(py::module_& m);  // cooccur.cpp
void register_spmm(py::module_& m);     // spmm.cpp
void register_topk(py::module_& m);     // topk.cpp
void register_vecio(py::module_& m);    // vecio.cpp

namespace {

using Select = embedcore::simd::Isa (*)(const std::string&);

// Every kernel with its level selection, by the name build_info reports.
const std::map<std::string, Select>& kernels() {
    static const std::map<std::string, Select> table = {
        {"word2vec", &embedcore::sgns::select_isa},   {"glove", &embedcore::glove::select_isa},
        {"spmm", &embedcore::spmm::select_isa},       {"ppmi", &embedcore::ppmi::select_isa},
        {"topk", &embedcore::topk::select_isa},       {"cooccur", &embedcore::cooccur::select_isa},
        {"text", &embedcore::text::select_isa},
    };
    return table;
}

std::string simd_select(const std::string& kernel, const std::string& level) {
    const auto it = kernels().find(kernel);
    if (it == kernels().end()) throw std::invalid_argument("unknown kernel '" + kernel + "'");
    return embedcore::simd::isa_name(it->second(level));
}

}  // namespace

PYBIND11_MODULE(_native, m) {
    m.doc() = "embedcore C++ kernels";
    m.def("openmp", &embedcore::have_openmp, "True when the kernels were compiled with OpenMP.");
    m.def("max_threads", [] {
#ifdef EMBEDCORE_OPENMP
        return omp_get_max_threads();
#else
        return 1;
#endif
    });
    m.def("cpu_simd", [] { return std::string(embedcore::simd::isa_name(embedcore::simd::cpu_isa())); },
          "The widest SIMD level this CPU and OS run ('baseline', 'avx2' or 'avx512').");
    m.def("simd_kernels", [] {
        std::map<std::string, std::string> out;
        for (const auto& kv : kernels()) out[kv.first] = embedcore::simd::isa_name(kv.second(""));
        return out;
    }, "The SIMD level each kernel runs at on this CPU: {kernel: level}.");
    m.def("simd_select", &simd_select, py::arg("kernel"), py::arg("level"),
          "The level `kernel` runs at when `level` is forced ('' for the best): raises ValueError for an "
          "unknown level or one this CPU or build lacks.");
    m.def("native_build", [] {
#ifdef EMBEDCORE_NATIVE_BUILD
        return true;
#else
        return false;
#endif
    }, "True when built with EMBEDCORE_NATIVE=1 (-march=native): then the whole module may use the build "
       "machine's instruction sets.");
    register_cooccur(m);
    register_spmm(m);
    register_topk(m);
    register_vecio(m);
}
