// Bindings for the word-vector file reader and writer (csrc/embedcore/vecio.hpp). Buffers are
// taken with the GIL held; parsing and formatting run without it.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "bindings/args.hpp"
#include "embedcore/vecio.hpp"

namespace py = pybind11;
using namespace embedcore;
using embedcore::bindings::writable;

namespace {

py::tuple parse(py::buffer data, bool final, const py::object& out_object, std::int64_t row_begin, std::int64_t max_rows,
                std::int64_t base, bool binary, int threads) {
    py::buffer_info in = data.request();
    require(in.ndim == 1 && in.itemsize == 1, "data must be a 1-D byte buffer");
    float* const out_data = writable<float>(out_object, "out", {-1, -1});
    const auto out = py::reinterpret_borrow<py::array>(out_object);
    const auto rows = static_cast<std::int64_t>(out.shape(0));
    const auto dim = static_cast<std::size_t>(out.shape(1));
    require(row_begin >= 0 && max_rows >= 0 && row_begin + max_rows <= rows,
            "rows [row_begin, row_begin + max_rows) must lie inside out");
    const char* bytes = static_cast<const char*>(in.ptr);
    const auto size = static_cast<std::size_t>(in.size);
    float* dest = out_data + row_begin * static_cast<std::int64_t>(dim);
    vecio::ParseResult r;
    {
        py::gil_scoped_release release;
        r = binary ? vecio::parse_binary(bytes, size, final, dim, dest, static_cast<std::size_t>(max_rows), base)
                   : vecio::parse_text(bytes, size, final, dim, dest, static_cast<std::size_t>(max_rows), base,
                                        threads);
    }
    py::array_t<std::int64_t> positions(static_cast<py::ssize_t>(r.positions.size()));
    if (!r.positions.empty()) {
        std::memcpy(positions.mutable_data(), r.positions.data(), r.positions.size() * sizeof(std::int64_t));
    }
    return py::make_tuple(r.consumed, r.rows, py::bytes(r.words), positions);
}

py::bytes format(py::bytes words, py::array_t<float, py::array::c_style | py::array::forcecast> vectors,
                 bool binary) {
    require(vectors.ndim() == 2, "vectors must be 2-D");
    std::string_view w(words);
    const float* v = vectors.data();
    const auto rows = static_cast<std::size_t>(vectors.shape(0));
    const auto dim = static_cast<std::size_t>(vectors.shape(1));
    std::string out;
    {
        py::gil_scoped_release release;
        out = vecio::format_rows(w.data(), w.size(), v, rows, dim, binary);
    }
    return py::bytes(out);
}

}  // namespace

void register_vecio(py::module_& m) {
    m.def("parse_vectors", &parse, py::arg("data"), py::arg("final"), py::arg("out"), py::arg("row_begin"),
          py::arg("max_rows"), py::arg("base"), py::arg("binary"), py::arg("threads") = 1,
          "Parse word2vec text (base = line number of data[0]) or binary (base = byte offset of data[0]) "
          "records into out[row_begin:] (text with `threads` threads); returns (bytes consumed, rows, words joined by newlines, positions).");
    m.def("format_vectors", &format, py::arg("words"), py::arg("vectors"), py::arg("binary"),
          "Format rows as word2vec text or binary records; words are joined by newlines, one per row.");
}
