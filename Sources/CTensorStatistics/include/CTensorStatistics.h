#ifndef SPECULATORS_CTENSORSTATISTICS_H
#define SPECULATORS_CTENSORSTATISTICS_H

#include <stddef.h>
#include <stdint.h>

/// Value statistics of a run of little-endian float elements (the per-chunk part of the
/// `--content` checks): non-finite counts and where the first one is, exact-value counts, the
/// largest finite magnitude, and the sums of x, x² and x⁴ over the finite values in double
/// precision (x² and x⁴ each rounded once, never fused into an FMA).
typedef struct speculators_moments {
  /// NaN elements.
  int64_t nan_count;
  /// Infinite elements.
  int64_t inf_count;
  /// Index of the first NaN or infinity within the run, or -1 when every element is finite.
  int64_t first_non_finite;
  /// Finite elements exactly equal to 1.
  int64_t ones;
  /// Finite elements equal to 0 (either sign).
  int64_t zeros;
  /// The largest |x| over the finite elements (0 when there are none).
  float max_abs;
  /// The sum of x over the finite elements.
  double sum;
  /// The sum of x² over the finite elements.
  double sum_squares;
  /// The sum of x⁴ (computed as (x²)²) over the finite elements.
  double sum_fourth;
} speculators_moments;

/// Whether the AVX2 kernels below can run on this CPU (x86-64 with AVX2 and F16C). When 0, the
/// `_vector` functions must not be called; the `_portable` ones always work.
int speculators_moments_vector_available(void);

/// Statistics of `count` F16 elements at `bytes` (any alignment), written to `out`.
void speculators_moments_f16_portable(const void *bytes, size_t count, speculators_moments *out);
/// Statistics of `count` BF16 elements.
void speculators_moments_bf16_portable(const void *bytes, size_t count, speculators_moments *out);
/// Statistics of `count` F32 elements.
void speculators_moments_f32_portable(const void *bytes, size_t count, speculators_moments *out);

/// The same as the `_portable` functions, 16 elements at a time with AVX2 (the counts, first
/// index and maximum are identical; the sums differ only by the order they were added in).
void speculators_moments_f16_vector(const void *bytes, size_t count, speculators_moments *out);
/// BF16 with AVX2.
void speculators_moments_bf16_vector(const void *bytes, size_t count, speculators_moments *out);
/// F32 with AVX2.
void speculators_moments_f32_vector(const void *bytes, size_t count, speculators_moments *out);

#endif
