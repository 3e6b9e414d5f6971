// The decode product x·Wᵀ straight from 16-bit stored weights (see CWeightProduct.h).
//
// A decode step multiplies a few activation rows by every weight matrix once, so its time is
// the time to stream the weights from memory. Each kernel reads a weight row (in the AVX-512
// loop a group of 3 to 8 rows at a time, fewer as the activation rows take more registers, so
// each activation vector loaded serves the whole group, and each row is prefetched into L2
// ahead of its loads), widens it in registers — BF16 by a 16-bit left shift, F16 with
// VCVTPH2PS — and accumulates every activation row against it with float fused multiply-adds.
// The widening is exact, so the only difference from widening into a buffer and calling sgemm
// is the order of the float additions; the grouping and prefetching leave that order alone.
#include "CWeightProduct.h"

#include <string.h>

static inline uint16_t load_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static inline float float_from_bits(uint32_t bits) {
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

/// An IEEE binary16 element widened exactly to float (infinities and NaN payloads kept).
static inline float f16_to_float(uint16_t half) {
  uint32_t sign = (uint32_t)(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1F;
  uint32_t mantissa = half & 0x3FF;
  if (exponent == 0x1F) return float_from_bits(sign | 0x7F800000u | (mantissa << 13));
  if (exponent == 0) {
    float magnitude = (float)mantissa * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  return float_from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

static inline float widen_element(int type, const uint8_t *p) {
  uint16_t bits = load_le16(p);
  return type == speculators_weight_bf16 ? float_from_bits((uint32_t)bits << 16) : f16_to_float(bits);
}

/// Columns [start, inner) of rows [first, first + count), one element at a time, added to `y`
/// (or stored when `start` is 0).
static void portable_columns(
    int type, const float *x, size_t rows, size_t inner, const uint8_t *w, size_t first, size_t count,
    float *y, size_t ldy, size_t start) {
  for (size_t j = first; j < first + count; j++) {
    const uint8_t *row = w + j * inner * 2;
    float sums[SPECULATORS_WEIGHT_PRODUCT_MAX_ROWS] = {0};
    for (size_t i = start; i < inner; i++) {
      float value = widen_element(type, row + i * 2);
      for (size_t r = 0; r < rows; r++) sums[r] += x[r * inner + i] * value;
    }
    for (size_t r = 0; r < rows; r++) {
      if (start == 0) y[r * ldy + j] = sums[r]; else y[r * ldy + j] += sums[r];
    }
  }
}


#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

/// How far ahead of its loads each weight row is fetched, and into which cache (L2): nearer or
/// into L1 measured slower, the activation rows needing L1 themselves. Prefetches never fault,
/// so those reaching past the last weight row are harmless.
#define PREFETCH_BYTES 2048
#define PREFETCH_HINT _MM_HINT_T1

__attribute__((target("avx512f,avx512bw"))) static inline __m512 widen16_bf16(const uint8_t *p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}

__attribute__((target("avx512f,avx512bw"))) static inline __m512 widen16_f16(const uint8_t *p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

/// Weight rows [j, j + GROUP) against `ROWS` activation rows, columns [0, whole), each activation
/// vector loaded serving all GROUP weight rows; every weight row is fetched PREFETCH_BYTES ahead.
#define AVX512_GROUP(NAME, ROWS, GROUP, WIDEN)                                                       \
  __attribute__((target("avx512f,avx512bw"))) static void NAME(                                      \
      const float *x, size_t inner, const uint8_t *w, size_t j, float *y, size_t ldy, size_t whole) { \
    __m512 s[GROUP][ROWS];                                                                           \
    for (int g = 0; g < GROUP; g++)                                                                  \
      for (int r = 0; r < ROWS; r++) s[g][r] = _mm512_setzero_ps();                                  \
    const uint8_t *a = w + j * inner * 2;                                                            \
    for (size_t i = 0; i < whole; i += 16) {                                                         \
      if ((i & 31) == 0)                                                                             \
        for (int g = 0; g < GROUP; g++)                                                              \
          _mm_prefetch((const char *)a + (g * inner + i) * 2 + PREFETCH_BYTES, PREFETCH_HINT);       \
      __m512 wv[GROUP];                                                                              \
      for (int g = 0; g < GROUP; g++) wv[g] = WIDEN(a + (g * inner + i) * 2);                        \
      for (int r = 0; r < ROWS; r++) {                                                               \
        __m512 v = _mm512_loadu_ps(x + r * inner + i);                                               \
        for (int g = 0; g < GROUP; g++) s[g][r] = _mm512_fmadd_ps(v, wv[g], s[g][r]);                \
      }                                                                                              \
    }                                                                                                \
    for (int g = 0; g < GROUP; g++)                                                                  \
      for (int r = 0; r < ROWS; r++) y[r * ldy + j + g] = _mm512_reduce_add_ps(s[g][r]);             \
  }

/// AVX-512, `ROWS` activation rows: GROUP weight rows at a time, the rows left over one at a
/// time; columns past the last whole 16 are left to the portable loop.
#define AVX512_KERNEL(ROWS, GROUP)                                                                   \
  AVX512_GROUP(avx512_bf16_group##ROWS, ROWS, GROUP, widen16_bf16)                                   \
  AVX512_GROUP(avx512_bf16_single##ROWS, ROWS, 1, widen16_bf16)                                      \
  AVX512_GROUP(avx512_f16_group##ROWS, ROWS, GROUP, widen16_f16)                                     \
  AVX512_GROUP(avx512_f16_single##ROWS, ROWS, 1, widen16_f16)                                        \
  __attribute__((target("avx512f,avx512bw"))) static void avx512_rows##ROWS(                         \
      int type, const float *x, size_t inner, const uint8_t *w, size_t first, size_t count, float *y, \
      size_t ldy) {                                                                                  \
    size_t whole = inner / 16 * 16, end = first + count, j = first;                                  \
    if (type == speculators_weight_bf16) {                                                           \
      for (; j + GROUP <= end; j += GROUP) avx512_bf16_group##ROWS(x, inner, w, j, y, ldy, whole);   \
      for (; j < end; j++) avx512_bf16_single##ROWS(x, inner, w, j, y, ldy, whole);                  \
    } else {                                                                                         \
      for (; j + GROUP <= end; j += GROUP) avx512_f16_group##ROWS(x, inner, w, j, y, ldy, whole);    \
      for (; j < end; j++) avx512_f16_single##ROWS(x, inner, w, j, y, ldy, whole);                   \
    }                                                                                                \
    if (whole < inner) portable_columns(type, x, ROWS, inner, w, first, count, y, ldy, whole);       \
  }

AVX512_KERNEL(1, 8)
AVX512_KERNEL(2, 8)
AVX512_KERNEL(3, 6)
AVX512_KERNEL(4, 4)
AVX512_KERNEL(5, 4)
AVX512_KERNEL(6, 4)
AVX512_KERNEL(7, 3)
AVX512_KERNEL(8, 3)

__attribute__((target("avx2,fma,f16c"))) static inline __m256 widen8_avx2(int type, const uint8_t *p) {
  __m128i bits = _mm_loadu_si128((const __m128i *)p);
  if (type == speculators_weight_bf16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
  return _mm256_cvtph_ps(bits);
}

__attribute__((target("avx2,fma,f16c"))) static inline float sum8_avx2(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/// AVX2, `ROWS` activation rows, one weight row at a time (16 ymm registers hold the sums).
#define AVX2_KERNEL(ROWS)                                                                            \
  __attribute__((target("avx2,fma,f16c"))) static void avx2_rows##ROWS(                              \
      int type, const float *x, size_t inner, const uint8_t *w, size_t first, size_t count, float *y, \
      size_t ldy) {                                                                                  \
    size_t whole = inner / 8 * 8;                                                                    \
    for (size_t j = first; j < first + count; j++) {                                                 \
      const uint8_t *a = w + j * inner * 2;                                                          \
      __m256 sa[ROWS];                                                                               \
      for (int r = 0; r < ROWS; r++) sa[r] = _mm256_setzero_ps();                                    \
      for (size_t i = 0; i < whole; i += 8) {                                                        \
        __m256 wa = widen8_avx2(type, a + i * 2);                                                    \
        for (int r = 0; r < ROWS; r++) sa[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x + r * inner + i), wa, sa[r]); \
      }                                                                                              \
      for (int r = 0; r < ROWS; r++) y[r * ldy + j] = sum8_avx2(sa[r]);                              \
    }                                                                                                \
    if (whole < inner) portable_columns(type, x, ROWS, inner, w, first, count, y, ldy, whole);       \
  }

AVX2_KERNEL(1)
AVX2_KERNEL(2)
AVX2_KERNEL(3)
AVX2_KERNEL(4)
AVX2_KERNEL(5)
AVX2_KERNEL(6)
AVX2_KERNEL(7)
AVX2_KERNEL(8)

typedef void (*kernel)(int, const float *, size_t, const uint8_t *, size_t, size_t, float *, size_t);

static const kernel avx512_kernels[SPECULATORS_WEIGHT_PRODUCT_MAX_ROWS] = {
    avx512_rows1, avx512_rows2, avx512_rows3, avx512_rows4, avx512_rows5, avx512_rows6, avx512_rows7, avx512_rows8};
static const kernel avx2_kernels[SPECULATORS_WEIGHT_PRODUCT_MAX_ROWS] = {
    avx2_rows1, avx2_rows2, avx2_rows3, avx2_rows4, avx2_rows5, avx2_rows6, avx2_rows7, avx2_rows8};

int speculators_weight_product_level(void) {
  static int level = -1;
  int known = __atomic_load_n(&level, __ATOMIC_RELAXED);
  if (known >= 0) return known;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) known = 2;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) known = 1;
  else known = 0;
  __atomic_store_n(&level, known, __ATOMIC_RELAXED);
  return known;
}

void speculators_weight_product_at_level(
    int level, int type, const float *x, size_t rows, size_t inner, const void *weight, size_t first,
    size_t count, float *y, size_t ldy) {
  if (rows == 0 || rows > SPECULATORS_WEIGHT_PRODUCT_MAX_ROWS) return;
  int available = speculators_weight_product_level();
  switch (level < available ? level : available) {
  case 2: avx512_kernels[rows - 1](type, x, inner, weight, first, count, y, ldy); return;
  case 1: avx2_kernels[rows - 1](type, x, inner, weight, first, count, y, ldy); return;
  default: portable_columns(type, x, rows, inner, weight, first, count, y, ldy, 0); return;
  }
}

#else

int speculators_weight_product_level(void) { return 0; }

void speculators_weight_product_at_level(
    int level, int type, const float *x, size_t rows, size_t inner, const void *weight, size_t first,
    size_t count, float *y, size_t ldy) {
  (void)level;
  if (rows == 0 || rows > SPECULATORS_WEIGHT_PRODUCT_MAX_ROWS) return;
  portable_columns(type, x, rows, inner, weight, first, count, y, ldy, 0);
}

#endif

void speculators_weight_product(
    int type, const float *x, size_t rows, size_t inner, const void *weight, size_t first, size_t count,
    float *y, size_t ldy) {
  speculators_weight_product_at_level(2, type, x, rows, inner, weight, first, count, y, ldy);
}
