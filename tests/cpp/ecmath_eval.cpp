// The per-example math of embedcore/include/ecmath, compiled by the host compiler behind a C
// interface, for tests/test_kernel_math.py (ctypes) to check against float64 references: the
// functions the CPU kernels run and the GPU kernels run (EC_HD), plus the CPU's sigmoid table.
#include "ecmath/glove.hpp"
#include "ecmath/ppmi.hpp"
#include "ecmath/random.hpp"
#include "ecmath/sgns.hpp"
#include "embedcore/sigmoid.hpp"

extern "C" {

// g for (f, label, alpha); *loss gets the pair's loss. table 0: the CPU's table (computed once in
// float64); 1: the GPU's on-the-fly float32 evaluation of the same cells.
float sgns_gradient(float f, float label, float alpha, int table, double* loss) {
    double l = 0.0;
    float g;
    if (table == 0) {
        float lf = 0.0f;
        g = embedcore::sigmoid_table().gradient(f, label, alpha, lf);
        l = lf;
    } else {
        g = ecmath::sgns_gradient(f, label, alpha, l, ecmath::ComputedSigmoid());
    }
    *loss = l;
    return g;
}
int sigmoid_cell(float f) { return ecmath::sigmoid_cell(f); }
float cbow_hidden_scale(int n, int mean) { return ecmath::cbow_hidden_scale(n, mean != 0); }

float glove_weight(float log_x, float log_x_max, float alpha) { return ecmath::glove_weight(log_x, log_x_max, alpha); }
float glove_clip(float g) { return ecmath::glove_clip(g); }
float glove_vector_grad(float fdiff, float other, float eta) { return ecmath::glove_vector_grad(fdiff, other, eta); }
float glove_bias_grad(float fdiff, float bias_eta) { return ecmath::glove_bias_grad(fdiff, bias_eta); }
float adagrad_delta(float t, float gradsq) { return ecmath::adagrad_delta(t, gradsq); }
double glove_cost(float fdiff, float diff) { return ecmath::glove_cost(fdiff, diff); }

double ppmi_row_offset(double log_total, double row_sum, double log_shift) {
    return ecmath::ppmi_row_offset(log_total, row_sum, log_shift);
}
float ppmi_value(float log_count, float row_offset, float col_term) {
    return ecmath::ppmi_value(log_count, row_offset, col_term);
}

unsigned long long mix64(unsigned long long z) { return ecmath::mix64(z); }
unsigned below(unsigned bits, unsigned n) { return ecmath::below(bits, n); }
int alias_draw(unsigned cell_bits, unsigned accept_bits, const unsigned* prob, const int* alias, int n) {
    return ecmath::alias_draw(cell_bits, accept_bits, prob, alias, n);
}
int keep_token(unsigned bits, unsigned long long threshold) { return ecmath::keep_token(bits, threshold); }

}  // extern "C"
