#ifndef SPECULATORS_CWEIGHTPRODUCT_H
#define SPECULATORS_CWEIGHTPRODUCT_H

#include <stddef.h>
#include <stdint.h>

/// The 16-bit weight element types the product reads.
enum speculators_weight_type {
  /// bfloat16: the top half of an IEEE binary32.
  speculators_weight_bf16 = 0,
  /// IEEE binary16.
  speculators_weight_f16 = 1,
};

/// The most activation rows one call multiplies.
#define SPECULATORS_WEIGHT_PRODUCT_MAX_ROWS 8

/// `y[r * ldy + j] = Σᵢ x[r * inner + i] · W[j, i]` for `r < rows` and `first ≤ j < first + count`,
/// where `W` is `[out, inner]` row-major little-endian 16-bit elements of type `type` at
/// `weight` (any alignment). Each weight element is read once and widened to float in
/// registers; products and sums are float (fused multiply-adds where the CPU has them).
/// `rows` is 1 ... SPECULATORS_WEIGHT_PRODUCT_MAX_ROWS; larger values do nothing.
void speculators_weight_product(
    int type, const float *x, size_t rows, size_t inner, const void *weight, size_t first, size_t count,
    float *y, size_t ldy);

/// The instruction set `speculators_weight_product` uses on this CPU: 2 = AVX-512 (F, BW),
/// 1 = AVX2 with FMA and F16C, 0 = the portable loop.
int speculators_weight_product_level(void);

/// `speculators_weight_product` with the instruction set of `level` (as numbered above), or
/// this CPU's when `level` is higher: for tests of every loop on one machine.
void speculators_weight_product_at_level(
    int level, int type, const float *x, size_t rows, size_t inner, const void *weight, size_t first, size_t count,
    float *y, size_t ldy);

#endif
