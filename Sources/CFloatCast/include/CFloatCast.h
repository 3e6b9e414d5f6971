#ifndef SPECULATORS_CFLOATCAST_H
#define SPECULATORS_CFLOATCAST_H

#include <stddef.h>
#include <stdint.h>

/// Whether the vector casts below can run on this CPU (x86-64 with AVX2 and F16C).
/// When 0, callers must not call them.
int speculators_f16c_available(void);

/// Converts the first `count / 8 * 8` little-endian BF16 elements of `input` to F16 in `output`
/// (round to nearest, ties to even; NaN stays a quiet NaN). Unaligned buffers are fine.
/// Returns the index of the first finite element that overflowed to infinity, or -1.
ptrdiff_t speculators_bf16_to_f16(const void *input, void *output, size_t count);

/// The same for F32 input elements.
ptrdiff_t speculators_f32_to_f16(const void *input, void *output, size_t count);

#endif
