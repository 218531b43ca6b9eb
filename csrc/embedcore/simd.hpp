// Instruction sets and compiler builtins: the one place where kernels learn what the CPU runs,
// pick the variant of a hot loop, and reach a compiler builtin.
//
// Levels (Isa): `baseline` is what the compiler targets without flags (SSE2 on x86-64, NEON on
// arm64); `avx2` adds AVX2 and FMA; `avx512` adds AVX-512 F, VL, BW and DQ (Skylake-X and later,
// Zen 4). No -march flag is used for the whole build: a kernel compiles its hot loop once per
// level, each copy marked with EMBEDCORE_TARGET_AVX2 / EMBEDCORE_TARGET_AVX512, and picks one at
// run time with `select`. Everything else in the shared objects stays x86-64 baseline code
// (tests/test_simd.py checks the machine code for that).
//
// The CPU check reads CPUID for the instruction sets and XGETBV for the register state the OS
// saves on a context switch (YMM for AVX, opmask and ZMM for AVX-512): a CPU with AVX-512 under an
// OS or hypervisor that does not enable its state must not run AVX-512 code. (macOS enables the
// AVX-512 state lazily, on first use, so there the check reports avx2: slower, never wrong.)
//
// Which levels exist in a build: GCC and clang (also clang-cl) compile any function for any
// level, so every kernel has all three on x86. MSVC cannot retarget a function; it compiles
// intrinsics anywhere, so kernels written with intrinsics keep their AVX2/AVX-512 copies there,
// while kernels written with the portable vector types below run at baseline. Other
// architectures have the baseline only.
//
// Cost: one CPUID/XGETBV sequence per process (cached); `select` is a few compares.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define EMBEDCORE_X86 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#define EMBEDCORE_GNU 1  // GCC, clang and clang-cl: GNU attributes and vector extensions
#elif defined(_MSC_VER)
#define EMBEDCORE_MSVC 1
#endif

#if defined(EMBEDCORE_X86) && (defined(EMBEDCORE_GNU) || defined(EMBEDCORE_MSVC))
#include <immintrin.h>
// Kernels written with x86 intrinsics have AVX2 and AVX-512 copies.
#define EMBEDCORE_INTRINSIC_VARIANTS 1
#endif
#if defined(EMBEDCORE_X86) && defined(EMBEDCORE_GNU)
// Kernels written with the portable vector types have AVX2 and AVX-512 copies.
#define EMBEDCORE_GENERIC_VARIANTS 1
#endif

#if defined(EMBEDCORE_MSVC)
#include <intrin.h>
#elif defined(EMBEDCORE_X86) && defined(EMBEDCORE_GNU)
#include <cpuid.h>
#endif

// ---------------------------------------------------------------------------------------------
// Function attributes

// The per-function targets of the dispatched copies. clang drops a whole target attribute it
// does not understand (GCC's prefer-vector-width among them), hence the two spellings.
#if defined(EMBEDCORE_GENERIC_VARIANTS) && defined(__clang__)
#define EMBEDCORE_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define EMBEDCORE_TARGET_AVX512 \
    __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"), min_vector_width(512)))
#elif defined(EMBEDCORE_GENERIC_VARIANTS)
#define EMBEDCORE_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define EMBEDCORE_TARGET_AVX512 \
    __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")))
#else
#define EMBEDCORE_TARGET_AVX2   // MSVC compiles intrinsics in any function
#define EMBEDCORE_TARGET_AVX512
#endif

#if defined(EMBEDCORE_GNU)
#define EMBEDCORE_FORCE_INLINE inline __attribute__((always_inline))
#define EMBEDCORE_RESTRICT __restrict__
#define EMBEDCORE_LIKELY(x) __builtin_expect(!!(x), 1)
#define EMBEDCORE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#elif defined(EMBEDCORE_MSVC)
#define EMBEDCORE_FORCE_INLINE __forceinline
#define EMBEDCORE_RESTRICT __restrict
#define EMBEDCORE_LIKELY(x) (x)
#define EMBEDCORE_UNLIKELY(x) (x)
#else
#define EMBEDCORE_FORCE_INLINE inline
#define EMBEDCORE_RESTRICT
#define EMBEDCORE_LIKELY(x) (x)
#define EMBEDCORE_UNLIKELY(x) (x)
#endif

// GCC 12 warns that the undefined upper halves some AVX-512 intrinsics start from are (or may be)
// used uninitialised; they are not. Wrap such functions in these two.
#if defined(__GNUC__) && !defined(__clang__)
#define EMBEDCORE_DIAGNOSTIC_PUSH_UNINITIALIZED                                                   \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
        _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define EMBEDCORE_DIAGNOSTIC_POP _Pragma("GCC diagnostic pop")
#else
#define EMBEDCORE_DIAGNOSTIC_PUSH_UNINITIALIZED
#define EMBEDCORE_DIAGNOSTIC_POP
#endif

namespace embedcore {
namespace simd {

// ---------------------------------------------------------------------------------------------
// Builtins

// Starts loading the cache line at p (for reading, or for writing soon).
EMBEDCORE_FORCE_INLINE void prefetch(const void* p) {
#if defined(EMBEDCORE_GNU)
    __builtin_prefetch(p, 0, 3);
#elif defined(EMBEDCORE_MSVC) && defined(EMBEDCORE_X86)
    _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
#else
    (void)p;
#endif
}
EMBEDCORE_FORCE_INLINE void prefetch_for_write(const void* p) {
#if defined(EMBEDCORE_GNU)
    __builtin_prefetch(p, 1, 3);
#elif defined(EMBEDCORE_MSVC) && defined(EMBEDCORE_X86)
    _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
#else
    (void)p;
#endif
}

// Index of the lowest set bit; x must not be 0.
EMBEDCORE_FORCE_INLINE int ctz32(std::uint32_t x) {
#if defined(EMBEDCORE_GNU)
    return __builtin_ctz(x);
#elif defined(EMBEDCORE_MSVC)
    unsigned long i;
    _BitScanForward(&i, x);
    return static_cast<int>(i);
#else
    int n = 0;
    while (!(x & 1u)) {
        x >>= 1;
        ++n;
    }
    return n;
#endif
}

EMBEDCORE_FORCE_INLINE int ctz64(std::uint64_t x) {
#if defined(EMBEDCORE_GNU)
    return __builtin_ctzll(x);
#elif defined(EMBEDCORE_MSVC) && (defined(_M_X64) || defined(_M_ARM64))
    unsigned long i;
    _BitScanForward64(&i, x);
    return static_cast<int>(i);
#else
    const std::uint32_t lo = static_cast<std::uint32_t>(x);
    return lo ? ctz32(lo) : 32 + ctz32(static_cast<std::uint32_t>(x >> 32));
#endif
}

// Number of set bits. (MSVC's __popcnt would need the POPCNT instruction, so it gets the
// portable version, which is baseline code.)
EMBEDCORE_FORCE_INLINE int popcount32(std::uint32_t x) {
#if defined(EMBEDCORE_GNU)
    return __builtin_popcount(x);
#else
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    return static_cast<int>((((x + (x >> 4)) & 0x0F0F0F0Fu) * 0x01010101u) >> 24);
#endif
}

// Memory aligned to `alignment` (a power of two, at least sizeof(void*)) and released with
// aligned_free; throws std::bad_alloc when it cannot be had.
inline void* aligned_alloc(std::size_t alignment, std::size_t bytes) {
    if (bytes == 0) bytes = alignment;
#if defined(_WIN32)
    void* p = _aligned_malloc(bytes, alignment);
#else
    void* p = nullptr;
    if (posix_memalign(&p, alignment, bytes) != 0) p = nullptr;
#endif
    if (!p) throw std::bad_alloc();
    return p;
}
inline void aligned_free(void* p) {
#if defined(_WIN32)
    _aligned_free(p);
#else
    std::free(p);
#endif
}

// A fixed-size array of trivially copyable T on its own cache lines (64-byte aligned, zeroed),
// for per-thread slots that must not share a line and rows read in whole vectors.
template <class T>
class AlignedArray {
public:
    AlignedArray() = default;
    explicit AlignedArray(std::size_t n)
        : data_(static_cast<T*>(aligned_alloc(64, ((n * sizeof(T) + 63) / 64) * 64))), size_(n) {
        std::memset(static_cast<void*>(data_.get()), 0, n * sizeof(T));
    }
    T* data() { return data_.get(); }
    const T* data() const { return data_.get(); }
    std::size_t size() const { return size_; }
    T& operator[](std::size_t i) { return data_.get()[i]; }
    const T& operator[](std::size_t i) const { return data_.get()[i]; }

private:
    struct Free {
        void operator()(T* p) const { aligned_free(p); }
    };
    std::unique_ptr<T, Free> data_;
    std::size_t size_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Portable float vectors: f32x4, f32x8, f32x16 (16, 32, 64 bytes) with +, *, scalar * vector,
// lane access, load/store at any float alignment and a horizontal sum. With GCC and clang they
// are vector extensions, so a function compiled for AVX-512 keeps an f32x16 in one register and
// one compiled for AVX2 splits it into two; with MSVC a plain struct the optimiser vectorises.

#if defined(EMBEDCORE_GNU)
typedef float f32x16 __attribute__((vector_size(64), aligned(4), may_alias));
typedef float f32x8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef float f32x4 __attribute__((vector_size(16), aligned(4), may_alias));
#else
template <int N>
struct f32xn {
    float lane[N];
    float operator[](int i) const { return lane[i]; }
    f32xn& operator+=(const f32xn& o) {
        for (int i = 0; i < N; ++i) lane[i] += o.lane[i];
        return *this;
    }
    friend f32xn operator+(f32xn a, const f32xn& b) { return a += b; }
    friend f32xn operator*(const f32xn& a, const f32xn& b) {
        f32xn r;
        for (int i = 0; i < N; ++i) r.lane[i] = a.lane[i] * b.lane[i];
        return r;
    }
    friend f32xn operator*(float s, const f32xn& b) {
        f32xn r;
        for (int i = 0; i < N; ++i) r.lane[i] = s * b.lane[i];
        return r;
    }
};
typedef f32xn<16> f32x16;
typedef f32xn<8> f32x8;
typedef f32xn<4> f32x4;
#endif

template <class V>
constexpr int lanes() {
    return static_cast<int>(sizeof(V) / sizeof(float));
}

// Loads and stores at any float alignment (memcpy of a vector compiles to one unaligned move).
template <class V>
EMBEDCORE_FORCE_INLINE V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof(V));
    return v;
}
template <class V>
EMBEDCORE_FORCE_INLINE void store(float* p, const V& v) {
    std::memcpy(p, &v, sizeof(V));
}

// Sums of halves down to four lanes, then (l0 + l2) + (l1 + l3): a fixed order for each width.
EMBEDCORE_FORCE_INLINE float hsum(const f32x4& b) { return (b[0] + b[2]) + (b[1] + b[3]); }
EMBEDCORE_FORCE_INLINE float hsum(const f32x8& a) {
    f32x4 lo, hi;
    std::memcpy(&lo, &a, sizeof lo);
    std::memcpy(&hi, reinterpret_cast<const char*>(&a) + sizeof lo, sizeof hi);
    return hsum(lo + hi);
}
EMBEDCORE_FORCE_INLINE float hsum(const f32x16& v) {
    f32x8 lo, hi;
    std::memcpy(&lo, &v, sizeof lo);
    std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
    return hsum(lo + hi);
}

// ---------------------------------------------------------------------------------------------
// Levels, the CPU check and the choice of a variant

enum class Isa : int { Baseline = 0, Avx2 = 1, Avx512 = 2 };

inline const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::Avx512: return "avx512";
        case Isa::Avx2: return "avx2";
        default: return "baseline";
    }
}

// A set of levels, one bit per Isa.
constexpr unsigned level_bit(Isa isa) { return 1u << static_cast<int>(isa); }

// The levels a kernel has copies of in this build, by how it is written.
constexpr unsigned kBaselineOnly = level_bit(Isa::Baseline);
#if defined(EMBEDCORE_INTRINSIC_VARIANTS)
constexpr unsigned kIntrinsicLevels = kBaselineOnly | level_bit(Isa::Avx2) | level_bit(Isa::Avx512);
#else
constexpr unsigned kIntrinsicLevels = kBaselineOnly;
#endif
#if defined(EMBEDCORE_GENERIC_VARIANTS)
constexpr unsigned kGenericLevels = kBaselineOnly | level_bit(Isa::Avx2) | level_bit(Isa::Avx512);
#else
constexpr unsigned kGenericLevels = kBaselineOnly;
#endif

namespace detail {

#if defined(EMBEDCORE_X86)
inline void cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
#if defined(EMBEDCORE_MSVC)
    int v[4];
    __cpuidex(v, static_cast<int>(leaf), static_cast<int>(sub));
    for (int i = 0; i < 4; ++i) r[i] = static_cast<unsigned>(v[i]);
#else
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

// XCR0: which register state the OS saves (call only when CPUID says OSXSAVE).
inline std::uint64_t xcr0() {
#if defined(EMBEDCORE_MSVC)
    return _xgetbv(0);
#else
    unsigned lo, hi;
    __asm__ __volatile__(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));  // xgetbv
    return (static_cast<std::uint64_t>(hi) << 32) | lo;
#endif
}
#endif

inline Isa detect() {
#if defined(EMBEDCORE_X86)
    unsigned r[4];
    cpuid(0, 0, r);
    if (r[0] < 7) return Isa::Baseline;
    cpuid(1, 0, r);
    const bool fma = (r[2] >> 12) & 1, osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1;
    if (!osxsave || !avx || !fma) return Isa::Baseline;
    const std::uint64_t xcr = xcr0();
    const bool ymm_state = (xcr & 0x6) == 0x6;            // SSE and AVX state
    const bool zmm_state = (xcr & 0xE6) == 0xE6;          // ... plus opmask, ZMM_Hi256, Hi16_ZMM
    cpuid(7, 0, r);
    const bool avx2 = (r[1] >> 5) & 1;
    const bool avx512 = ((r[1] >> 16) & 1) && ((r[1] >> 17) & 1) && ((r[1] >> 30) & 1) && ((r[1] >> 31) & 1);
    if (!ymm_state || !avx2) return Isa::Baseline;
    return zmm_state && avx512 ? Isa::Avx512 : Isa::Avx2;
#else
    return Isa::Baseline;
#endif
}

}  // namespace detail

// The widest level this CPU and OS run (checked once per process).
inline Isa cpu_isa() {
    static const Isa level = detail::detect();
    return level;
}

// The level named `name` ("baseline", "avx2", "avx512"); std::invalid_argument for any other.
inline Isa parse_isa(const std::string& name) {
    if (name == "baseline") return Isa::Baseline;
    if (name == "avx2") return Isa::Avx2;
    if (name == "avx512") return Isa::Avx512;
    throw std::invalid_argument("unknown SIMD level '" + name +
                                "': expected '' (the best this CPU runs), 'baseline', 'avx2' or 'avx512'");
}

// The level `kernel` runs at: with forced == "", the widest of its `levels` this CPU runs; else
// the level named, which must be one of its levels and run on this CPU (std::invalid_argument
// naming the level otherwise).
inline Isa select(const std::string& forced, unsigned levels, const char* kernel) {
    const Isa cpu = cpu_isa();
    if (forced.empty()) {
        for (Isa isa : {Isa::Avx512, Isa::Avx2})
            if ((levels & level_bit(isa)) && static_cast<int>(isa) <= static_cast<int>(cpu)) return isa;
        return Isa::Baseline;
    }
    const Isa isa = parse_isa(forced);
    if (!(levels & level_bit(isa)))
        throw std::invalid_argument("SIMD level '" + forced + "': the " + kernel +
                                    " kernel has no copy for it in this build");
    if (static_cast<int>(isa) > static_cast<int>(cpu))
        throw std::invalid_argument("SIMD level '" + forced + "' is not supported by this CPU (it runs up to '" +
                                    isa_name(cpu) + "')");
    return isa;
}

}  // namespace simd
}  // namespace embedcore
