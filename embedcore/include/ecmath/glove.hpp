// The per-example math of GloVe (Pennington, Socher and Manning 2014) as Stanford's current
// glove.c computes it, shared by the CPU and GPU kernels.
//
// For a nonzero x = X[i, j] with log x and weight f(x) = min(1, (x / x_max)^alpha):
//   diff = w_i . w~_j + b_i + b~_j - log x;  fdiff = f(x) diff;  cost += 0.5 fdiff diff
//   each vector component: t = eta clip(fdiff * other, +-100);  x -= t / sqrt(G);  G += t^2
//   each bias:             h = eta_b fdiff;                      b -= h / sqrt(Gb);  Gb += h^2
// all from the values before the step. glove.c leaves eta out of the bias step (eta_b = 1,
// GloVe's `bias_learning_rate` default); the paper and GloVe 1.2 use eta_b = eta.
#pragma once

#include "hd.hpp"

namespace ecmath {

#define EC_GLOVE_GRAD_CLIP 100.0f

// f(x) = min(1, (x / x_max)^alpha) = exp(alpha (log x - log x_max)) below x_max.
EC_HD float glove_weight(float log_x, float log_x_max, float alpha) {
    return log_x >= log_x_max ? 1.0f : expf(alpha * (log_x - log_x_max));
}

// glove.c's bound on a vector gradient component, with the NaN rule of the SIMD min/max.
EC_HD float glove_clip(float g) {
    return min_like_simd(max_like_simd(g, -EC_GLOVE_GRAD_CLIP), EC_GLOVE_GRAD_CLIP);
}

// t = eta clip(fdiff * other): the AdaGrad gradient of one vector component.
EC_HD float glove_vector_grad(float fdiff, float other, float eta) { return glove_clip(fdiff * other) * eta; }

// h = eta_b fdiff: the AdaGrad gradient of a bias.
EC_HD float glove_bias_grad(float fdiff, float bias_eta) { return bias_eta * fdiff; }

// The AdaGrad step of a parameter with gradient t and accumulated squares G (before this
// step): the parameter moves by -t / sqrt(G), and G grows by t^2.
EC_HD float adagrad_delta(float t, float gradsq) { return -t / sqrtf(gradsq); }
EC_HD float adagrad_gradsq_delta(float t) { return t * t; }

// The record's cost 0.5 f(x) diff^2, summed in float64 on both devices.
EC_HD double glove_cost(float fdiff, float diff) { return 0.5 * (double)fdiff * (double)diff; }

}  // namespace ecmath
