// The logistic function as word2vec.c evaluates it, for the CPU kernels: a table of sigma(x) on
// [-MAX_EXP, MAX_EXP] (1000 cells over [-6, 6]) with the gradient saturated outside that range,
// and beside it a table of the loss -log sigma(x) on the same cells, so that the per-epoch loss
// tally costs one lookup per pair. The cells, the values and the gradient rule are the shared
// math of embedcore/include/ecmath/sgns.hpp, which the GPU kernels evaluate on the fly. O(1) per
// evaluation.
//
// Reference: Mikolov et al., word2vec.c (EXP_TABLE_SIZE, MAX_EXP).
#pragma once

#include "ecmath/sgns.hpp"

namespace embedcore {

struct SigmoidTable {
    static constexpr int size = EC_SIGMOID_CELLS;
    float sigma_[size + 1];
    float neg_log_sigma_[size + 1];

    SigmoidTable() {
        for (int i = 0; i <= size; ++i) {
            const double x = ecmath::sigmoid_cell_start<double>(i);
            sigma_[i] = static_cast<float>(ecmath::logistic(x));
            neg_log_sigma_[i] = static_cast<float>(ecmath::neg_log_logistic(x));
        }
    }

    float sigma(int c) const { return sigma_[c]; }
    float neg_log_sigma(int c) const { return neg_log_sigma_[c]; }

    // g = (label - sigma(f)) * alpha, saturated outside the table; adds -log sigma(+-f) to loss.
    float gradient(float f, float label, float alpha, float& loss) const {
        return ecmath::sgns_gradient(f, label, alpha, loss, *this);
    }
};

inline const SigmoidTable& sigmoid_table() {
    static const SigmoidTable table;
    return table;
}

}  // namespace embedcore
