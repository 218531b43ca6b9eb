// The CUDA kernels of embedcore/backends/cuda/kernels, compiled for the CPU emulator (cuda_emu.hpp,
// included first on the command line), behind a C interface that tests/test_cuda_kernels.py
// calls through ctypes with numpy arrays. Each entry point takes the launch shape, then the
// kernel's own arguments in the kernel's order; it returns 0, or 1 with a message in `error`.
#include <cstdio>
#include <string>

#include "cooccur.cu"
#include "glove.cu"
#include "sgns.cu"
#include "topk.cu"

namespace {

template <class Body>
int guarded(char* error, std::size_t error_size, Body&& body) {
    try {
        body();
        return 0;
    } catch (const std::exception& e) {
        std::snprintf(error, error_size, "%s", e.what());
        return 1;
    }
}

}  // namespace

extern "C" {

void emu_seed(unsigned seed) { ec_emu::order_rng().seed(seed); }

int emu_w2v_keep_mask(unsigned grid, unsigned block, const int* ids, ec_i64 n_tokens, const ec_u64* keep_table,
                      ec_u64 seed, ec_u64 epoch, unsigned char* keep, char* error, std::size_t error_size) {
    return guarded(error, error_size, [&] {
        ec_emu::launch(dim3(grid), dim3(block), 0, [&] { w2v_keep_mask(ids, n_tokens, keep_table, seed, epoch, keep); });
    });
}

int emu_sgns_skipgram(unsigned grid, unsigned block, std::size_t shared, const int* ids, const ec_i64* offsets,
                      ec_i64 n_sentences, ec_i64 begin, ec_i64 end, float* input, float* output, int dim,
                      const ec_u32* noise_prob, const int* noise_alias, int vocab_size, int window, int negative,
                      float alpha, ec_u64 seed, ec_u64 epoch, double* loss, char* error, std::size_t error_size) {
    return guarded(error, error_size, [&] {
        ec_emu::launch(dim3(grid), dim3(block), shared, [&] {
            sgns_skipgram(ids, offsets, n_sentences, begin, end, input, output, dim, noise_prob, noise_alias,
                          vocab_size, window, negative, alpha, seed, epoch, loss);
        });
    });
}

int emu_sgns_cbow(unsigned grid, unsigned block, std::size_t shared, const int* ids, const ec_i64* offsets,
                  ec_i64 n_sentences, ec_i64 begin, ec_i64 end, float* input, float* output, int dim,
                  const ec_u32* noise_prob, const int* noise_alias, int vocab_size, int window, int negative,
                  float alpha, int cbow_mean, ec_u64 seed, ec_u64 epoch, double* loss, char* error,
                  std::size_t error_size) {
    return guarded(error, error_size, [&] {
        ec_emu::launch(dim3(grid), dim3(block), shared, [&] {
            sgns_cbow(ids, offsets, n_sentences, begin, end, input, output, dim, noise_prob, noise_alias, vocab_size,
                      window, negative, alpha, cbow_mean, seed, epoch, loss);
        });
    });
}

int emu_glove_epoch(unsigned grid, unsigned block, const int* records, ec_i64 nnz, float* word, float* context,
                    float* word_bias, float* context_bias, float* word_gradsq, float* context_gradsq,
                    float* word_bias_gradsq, float* context_bias_gradsq, int stride, float eta, float bias_eta,
                    double* cost, char* error, std::size_t error_size) {
    return guarded(error, error_size, [&] {
        ec_emu::launch(dim3(grid), dim3(block), 0, [&] {
            glove_epoch(records, nnz, word, context, word_bias, context_bias, word_gradsq, context_gradsq,
                        word_bias_gradsq, context_bias_gradsq, stride, eta, bias_eta, cost);
        });
    });
}

int emu_topk_merge_tile(unsigned grid, unsigned block, std::size_t shared, const float* scores, int tile_rows,
                        int tile_cols, ec_i64 row_offset, ec_i64 col_offset, const ec_i64* exclude, int has_exclude,
                        int k, float* best_scores, ec_i64* best_indices, char* error, std::size_t error_size) {
    return guarded(error, error_size, [&] {
        ec_emu::launch(dim3(grid), dim3(block), shared, [&] {
            topk_merge_tile(scores, tile_rows, tile_cols, row_offset, col_offset, exclude, has_exclude, k,
                            best_scores, best_indices);
        });
    });
}

int emu_cooccur_pairs(unsigned grid, unsigned block, const int* ids, const ec_i64* offsets, ec_i64 n_sentences,
                      ec_i64 begin, ec_i64 end, int window, int symmetric, int distance_weighting,
                      ec_i64 vocab_size, ec_u64* keys, double* weights, char* error, std::size_t error_size) {
    return guarded(error, error_size, [&] {
        ec_emu::launch(dim3(grid), dim3(block), 0, [&] {
            cooccur_pairs(ids, offsets, n_sentences, begin, end, window, symmetric, distance_weighting, vocab_size,
                          keys, weights);
        });
    });
}

int emu_segment_sums(unsigned grid, unsigned block, const double* weights, const ec_i64* starts, ec_i64 n_segments,
                     double* sums, char* error, std::size_t error_size) {
    return guarded(error, error_size, [&] {
        ec_emu::launch(dim3(grid), dim3(block), 0, [&] { segment_sums(weights, starts, n_segments, sums); });
    });
}

}  // extern "C"
