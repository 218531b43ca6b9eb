// The logistic function as word2vec.c evaluates it: a table of sigma(x) on [-MAX_EXP, MAX_EXP]
// (1000 cells over [-6, 6]), with the gradient saturated outside that range (sigma taken as exactly
// 0 or 1 there). Next to it, a table of the loss softplus(-x) = -log sigma(x) on the same cells so
// that the per-epoch loss tally costs one lookup per pair. O(1) per evaluation.
//
// Reference: Mikolov et al., word2vec.c (EXP_TABLE_SIZE, MAX_EXP).
#pragma once

#include <cmath>

namespace embedcore {

struct SigmoidTable {
    static constexpr int size = 1000;
    static constexpr float max_exp = 6.0f;
    float sigma[size + 1];
    float neg_log_sigma[size + 1];

    SigmoidTable() {
        for (int i = 0; i <= size; ++i) {
            const double x = (static_cast<double>(i) / size * 2.0 - 1.0) * max_exp;
            const double e = std::exp(x);
            sigma[i] = static_cast<float>(e / (e + 1.0));
            neg_log_sigma[i] = static_cast<float>(std::log1p(std::exp(-x)));
        }
    }

    // Cell of x, valid for |x| < max_exp (word2vec.c's index rule).
    static int cell(float x) { return static_cast<int>((x + max_exp) * (size / max_exp / 2.0f)); }

    // g = (label - sigma(f)) * alpha, saturated outside the table; adds -log sigma(+-f) to loss.
    float gradient(float f, float label, float alpha, float& loss) const {
        if (f >= max_exp) {
            // sigma = 1: no gradient for a positive pair; a negative pair pulls with full weight
            if (label == 0.0f) loss += f;
            return (label - 1.0f) * alpha;
        }
        if (f <= -max_exp) {
            if (label != 0.0f) loss -= f;
            return label * alpha;
        }
        const int c = cell(f);
        // -log sigma(-f) = -log sigma(f) + f
        loss += label != 0.0f ? neg_log_sigma[c] : neg_log_sigma[c] + f;
        return (label - sigma[c]) * alpha;
    }
};

inline const SigmoidTable& sigmoid_table() {
    static const SigmoidTable table;
    return table;
}

}  // namespace embedcore
