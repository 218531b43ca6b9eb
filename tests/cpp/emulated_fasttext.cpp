// The fastText CUDA kernel (embedcore/backends/cuda/kernels/fasttext.cu) compiled for the CPU
// emulator (cuda_emu.hpp, included first on the command line), behind a C interface that
// tests/test_fasttext_cuda.py calls through ctypes. Returns 0, or 1 with a message in `error`.
#include <cstdio>
#include <string>

#include "fasttext.cu"

extern "C" {

void emu_seed(unsigned seed) { ec_emu::order_rng().seed(seed); }

int emu_fasttext_train(unsigned grid, unsigned block, std::size_t shared, const int* ids, const ec_i64* offsets,
                       ec_i64 n_sentences, ec_i64 begin, ec_i64 end, float* input, float* output, int dim,
                       const ec_i64* sub_indptr, const int* sub_rows, const ec_u32* noise_prob,
                       const int* noise_alias, int vocab_size, int window, int negative, float alpha, int skip_gram,
                       ec_u64 seed, ec_u64 epoch, double* loss, char* error, std::size_t error_size) {
    try {
        ec_emu::launch(dim3(grid), dim3(block), shared, [&] {
            fasttext_train(ids, offsets, n_sentences, begin, end, input, output, dim, sub_indptr, sub_rows, noise_prob,
                           noise_alias, vocab_size, window, negative, alpha, skip_gram, seed, epoch, loss);
        });
        return 0;
    } catch (const std::exception& e) {
        std::snprintf(error, error_size, "%s", e.what());
        return 1;
    }
}

}  // extern "C"
