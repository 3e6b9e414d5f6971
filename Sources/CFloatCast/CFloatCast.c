// Vectorised float casts with the x86 F16C instructions, selected at run time.
//
// VCVTPS2PH with imm8 = 0 rounds to nearest even, keeps NaNs quiet with their top payload bits
// and produces half subnormals, which is bit-for-bit what the portable Swift loop in
// ElementCodec+Cast.swift (Inspect) does; the Swift side calls these only after checking
// speculators_f16c_available(), and handles the tail of fewer than 8 elements itself.
#include "CFloatCast.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <string.h>

int speculators_f16c_available(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
}

// Index of the first finite element among 8 whose half result is infinite, or -1.
__attribute__((target("avx2,f16c"))) static inline int first_overflow(__m128i halves, __m256 floats) {
  __m128i magnitude = _mm_and_si128(halves, _mm_set1_epi16(0x7FFF));
  int infinite = _mm_movemask_epi8(_mm_cmpeq_epi16(magnitude, _mm_set1_epi16(0x7C00)));
  if (!infinite) return -1;
  float values[8];
  _mm256_storeu_ps(values, floats);
  for (int lane = 0; lane < 8; lane++) {
    if (!(infinite & (1 << (2 * lane)))) continue;
    uint32_t bits;
    memcpy(&bits, &values[lane], 4);
    if ((bits & 0x7FFFFFFFu) != 0x7F800000u) return lane;
  }
  return -1;
}

__attribute__((target("avx2,f16c"))) ptrdiff_t speculators_bf16_to_f16(
    const void *input, void *output, size_t count) {
  const uint8_t *in = input;
  uint8_t *out = output;
  size_t blocks = count / 8;
  ptrdiff_t first = -1;
  for (size_t block = 0; block < blocks; block++) {
    __m128i brain = _mm_loadu_si128((const __m128i *)(in + block * 16));
    __m256 floats = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(brain), 16));
    __m128i halves = _mm256_cvtps_ph(floats, _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128((__m128i *)(out + block * 16), halves);
    if (first < 0) {
      int lane = first_overflow(halves, floats);
      if (lane >= 0) first = (ptrdiff_t)(block * 8 + (size_t)lane);
    }
  }
  return first;
}

__attribute__((target("avx2,f16c"))) ptrdiff_t speculators_f32_to_f16(
    const void *input, void *output, size_t count) {
  const uint8_t *in = input;
  uint8_t *out = output;
  size_t blocks = count / 8;
  ptrdiff_t first = -1;
  for (size_t block = 0; block < blocks; block++) {
    __m256 floats = _mm256_loadu_ps((const float *)(in + block * 32));
    __m128i halves = _mm256_cvtps_ph(floats, _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128((__m128i *)(out + block * 16), halves);
    if (first < 0) {
      int lane = first_overflow(halves, floats);
      if (lane >= 0) first = (ptrdiff_t)(block * 8 + (size_t)lane);
    }
  }
  return first;
}

#else

int speculators_f16c_available(void) { return 0; }
ptrdiff_t speculators_bf16_to_f16(const void *input, void *output, size_t count) {
  (void)input; (void)output; (void)count;
  return -1;
}
ptrdiff_t speculators_f32_to_f16(const void *input, void *output, size_t count) {
  (void)input; (void)output; (void)count;
  return -1;
}
#endif
