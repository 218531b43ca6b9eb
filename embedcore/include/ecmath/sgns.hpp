// The per-example math of word2vec with negative sampling (Mikolov et al. 2013, word2vec.c),
// shared by the CPU and GPU kernels.
//
// A pair (input row u, output row v, label 1 for the centre word, 0 for a noise word) with score
// f = u . v takes the step  g = (label - sigma(f)) * alpha;  u += g v;  v += g u  (both from the
// values before the step). sigma is word2vec.c's: read at the cell of f in a table of 1000 cells
// over [-6, 6], and taken as exactly 0 or 1 outside (so the gradient saturates to -alpha or
// +alpha there). The pair's loss -log sigma(+-f) comes from the same cell. CBOW's hidden layer is
// the sum of the context rows, or their mean; either way every context row then receives the
// hidden layer's whole gradient (word2vec.c's rule, kept by gensim for cbow_mean=1).
#pragma once

#include "hd.hpp"

namespace ecmath {

#define EC_SIGMOID_CELLS 1000
#define EC_MAX_EXP 6.0f

// The cell of a score strictly inside (-6, 6): word2vec.c's (f + 6) * (1000 / 12), in [0, 1000]
// (1000 only when f + 6 rounds up to 12). Callers check the range first (sgns_gradient does).
EC_HD int sigmoid_cell(float f) { return (int)((f + EC_MAX_EXP) * ((float)EC_SIGMOID_CELLS / EC_MAX_EXP / 2.0f)); }

// The score at which cell c starts, x_c = (c / 1000 * 2 - 1) * 6.
template <class T>
EC_HD T sigmoid_cell_start(int c) {
    return ((T)c / (T)EC_SIGMOID_CELLS * (T)2 - (T)1) * (T)EC_MAX_EXP;
}

// sigma(x) = 1 / (1 + e^-x) and the loss of a positive pair -log sigma(x) = log(1 + e^-x), for
// the |x| <= 6 of the table.
template <class T>
EC_HD T logistic(T x) {
    const T e = exp_of(x);
    return e / (e + (T)1);
}
template <class T>
EC_HD T neg_log_logistic(T x) {
    return log1p_of(exp_of(-x));
}

// The table both devices read: sigma and -log sigma at each cell's start, computed on demand
// (the GPU) or once into an array (the CPU, see csrc/embedcore/sigmoid.hpp) from the functions
// above.
struct ComputedSigmoid {
    EC_HD float sigma(int c) const { return logistic<float>(sigmoid_cell_start<float>(c)); }
    EC_HD float neg_log_sigma(int c) const { return neg_log_logistic<float>(sigmoid_cell_start<float>(c)); }
};

// g = (label - sigma(f)) * alpha for a pair with score f and label 1 (centre) or 0 (noise), and
// the pair's loss -log sigma(f) (label 1) or -log sigma(-f) = -log sigma(f) + f (label 0) added
// to `loss`. Outside the table sigma is 0 or 1 and the loss the score's magnitude when wrong,
// 0 when right. A NaN score (a diverged run) gives no step and makes the loss NaN, so the caller
// can stop and say so; it never reaches the table.
template <class Table, class Loss>
EC_HD float sgns_gradient(float f, float label, float alpha, Loss& loss, const Table& table) {
    if (f > -EC_MAX_EXP && f < EC_MAX_EXP) {  // false for NaN: it never reaches the table
        const int c = sigmoid_cell(f);
        loss += label != 0.0f ? table.neg_log_sigma(c) : table.neg_log_sigma(c) + f;
        return (label - table.sigma(c)) * alpha;
    }
    if (f >= EC_MAX_EXP) {
        if (label == 0.0f) loss += f;
        return (label - 1.0f) * alpha;
    }
    if (f <= -EC_MAX_EXP) {
        if (label != 0.0f) loss -= f;
        return label * alpha;
    }
    loss += f;  // NaN
    return 0.0f;
}

// CBOW's hidden layer is scale * (sum of the n context rows): 1/n for the mean, 1 for the sum.
// The context rows receive the hidden layer's gradient unscaled in both cases.
EC_HD float cbow_hidden_scale(int n_context, bool mean) {
    return mean && n_context > 0 ? 1.0f / (float)n_context : 1.0f;
}

}  // namespace ecmath
