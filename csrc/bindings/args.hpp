// The boundary rules of the pybind11 bindings, in one place.
//
// * Arrays a kernel writes into (outputs, in-place updates) are taken as they are or refused:
//   the binding declares them py::object (pybind11 never converts those) and `writable` checks
//   that it is a numpy array of exactly T with the expected dimensions and shape, C order and
//   writeable, raising TypeError or ValueError that name the argument. A converted copy would
//   receive the results and be dropped.
// * Integer arguments are Int64 / Int32: any Python integer (or numpy integer) is accepted, and
//   one outside the C type's range raises ValueError saying so, instead of pybind11's
//   "incompatible function arguments" listing.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>

namespace embedcore {
namespace bindings {

namespace py = pybind11;

inline std::string shape_text(const py::array& a) {
    std::string s = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
    return s + (a.ndim() == 1 ? ",)" : ")");
}

// `array` as a writable T array with the given shape (-1 matches any extent); its data pointer.
template <class T>
T* writable(py::handle object, const char* name, std::initializer_list<py::ssize_t> shape) {
    const py::dtype want = py::dtype::of<T>();
    if (!py::isinstance<py::array>(object))
        throw py::type_error(std::string(name) + " must be a numpy array of " + std::string(py::str(want)) + ", got " +
                             std::string(py::str(py::type::handle_of(object).attr("__name__"))));
    const auto array = py::reinterpret_borrow<py::array>(object);
    if (!array.dtype().is(want) && !array.dtype().equal(want))
        throw py::type_error(std::string(name) + " must be " + std::string(py::str(want)) +
                             " (it is written in place, so it is not converted), got " +
                             std::string(py::str(array.dtype())) + " with shape " + shape_text(array));
    if (array.ndim() != static_cast<py::ssize_t>(shape.size()))
        throw py::value_error(std::string(name) + " must be " + std::to_string(shape.size()) + "-D, got shape " +
                              shape_text(array));
    py::ssize_t i = 0;
    for (py::ssize_t extent : shape) {
        if (extent >= 0 && array.shape(i) != extent)
            throw py::value_error(std::string(name) + " has shape " + shape_text(array) + ", expected extent " +
                                  std::to_string(extent) + " in dimension " + std::to_string(i));
        ++i;
    }
    if (!(array.flags() & py::array::c_style))
        throw py::value_error(std::string(name) +
                              " must be C-contiguous (it is written in place, so it is not copied), got a strided "
                              "array with shape " + shape_text(array));
    if (!array.writeable()) throw py::value_error(std::string(name) + " must be writeable, got a read-only array");
    return static_cast<T*>(const_cast<void*>(array.data()));
}

// A C integer argument that refuses Python integers outside its range with a clear message.
template <class T>
struct CInt {
    T value = 0;
    operator T() const { return value; }
};
using Int64 = CInt<std::int64_t>;
using Int32 = CInt<int>;

}  // namespace bindings
}  // namespace embedcore

namespace pybind11 {
namespace detail {

template <class T>
struct type_caster<embedcore::bindings::CInt<T>> {
    PYBIND11_TYPE_CASTER(embedcore::bindings::CInt<T>, const_name("int"));

    bool load(handle src, bool) {
        if (!src || PyFloat_Check(src.ptr()) || PyBool_Check(src.ptr())) return false;  // no silent truncation
        object index = reinterpret_steal<object>(PyNumber_Index(src.ptr()));
        if (!index) {
            PyErr_Clear();
            return false;
        }
        int overflow = 0;
        const long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
        if (overflow || v < static_cast<long long>(std::numeric_limits<T>::min()) ||
            v > static_cast<long long>(std::numeric_limits<T>::max()))
            throw value_error("integer argument " + std::string(str(index)) + " is outside the range of a " +
                              std::to_string(8 * sizeof(T)) + "-bit C integer [" +
                              std::to_string(std::numeric_limits<T>::min()) + ", " +
                              std::to_string(std::numeric_limits<T>::max()) + "]");
        value.value = static_cast<T>(v);
        return true;
    }

    static handle cast(const embedcore::bindings::CInt<T>& v, return_value_policy, handle) {
        return PyLong_FromLongLong(v.value);
    }
};

}  // namespace detail
}  // namespace pybind11
