// The random-walk kernel of embedcore/backends/cuda/kernels/walks.cu compiled for the CPU emulator
// (cuda_emu.hpp, included first on the command line), behind a C interface that
// tests/test_node2vec_cuda.py calls through ctypes. Returns 0, or 1 with a message in `error`.
#include <cstdio>
#include <string>

#include "walks.cu"

extern "C" {

int emu_node2vec_walks(unsigned grid, unsigned block, const ec_i64* indptr, const int* indices, const float* weights,
                       const ec_u32* alias_prob, const int* alias_index, int has_weights, const int* starts,
                       ec_i64 n_walks, int walk_length, double inv_p, double inv_q, int max_trials, ec_u64 seed,
                       ec_u64 first_index, int* out, int* lengths, char* error, std::size_t error_size) {
    try {
        ec_emu::launch(dim3(grid), dim3(block), 0, [&] {
            node2vec_walks(indptr, indices, weights, alias_prob, alias_index, has_weights, starts, n_walks, walk_length,
                           inv_p, inv_q, max_trials, seed, first_index, out, lengths);
        });
        return 0;
    } catch (const std::exception& e) {
        std::snprintf(error, error_size, "%s", e.what());
        return 1;
    }
}

}  // extern "C"
