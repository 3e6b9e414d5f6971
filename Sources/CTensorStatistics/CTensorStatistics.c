// Value statistics over runs of F16, BF16 and F32 elements (see CTensorStatistics.h).
//
// Non-finite elements are recognised by their raw bits (an all-ones exponent), never through a
// float comparison, and so are exact values 1 and 0; the largest finite magnitude is the largest
// integer of the bits with the sign cleared, which orders like the values do. Each finite
// element is widened exactly to double, x² and (x²)² are each rounded once, and the three sums
// are kept in several independent accumulators: only the order of the additions differs from a
// one-element-at-a-time loop. FMA contraction is off so that x⁴ is never fused into its sum.
#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#include "CTensorStatistics.h"

#include <string.h>

/// Accumulators of the portable loop and of the elements the vector loops hand back to it:
/// four lanes of sums, so consecutive additions do not wait for each other.
typedef struct {
  int64_t nan_count, inf_count, first_non_finite, ones, zeros;
  uint32_t max_magnitude;
  double sum[4], squares[4], fourth[4];
} partial_moments;

static void partial_init(partial_moments *p) {
  memset(p, 0, sizeof *p);
  p->first_non_finite = -1;
}

static inline uint16_t load_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static inline uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline float float_from_bits(uint32_t bits) {
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

/// A finite IEEE binary16 value, exactly.
static inline float f16_value(uint16_t half) {
  uint32_t exponent = (half >> 10) & 0x1F;
  uint32_t mantissa = half & 0x3FF;
  float magnitude = exponent == 0 ? (float)mantissa * 0x1p-24f
                                  : float_from_bits(((exponent + 112) << 23) | (mantissa << 13));
  return (half & 0x8000) ? -magnitude : magnitude;
}

static inline void record_non_finite(partial_moments *p, int is_nan, int64_t index) {
  if (is_nan) p->nan_count++; else p->inf_count++;
  if (p->first_non_finite < 0) p->first_non_finite = index;
}

static inline void record_finite(partial_moments *p, int lane, uint32_t magnitude, int is_one, double x) {
  if (magnitude > p->max_magnitude) p->max_magnitude = magnitude;
  p->ones += is_one;
  p->zeros += magnitude == 0;
  double square = x * x;
  p->sum[lane] += x;
  p->squares[lane] += square;
  p->fourth[lane] += square * square;
}

// One element of each dtype: `index` is the element's position counted from the run's start.
static inline void step_f16(partial_moments *p, const uint8_t *bytes, size_t index, int lane) {
  uint16_t half = load_le16(bytes + 2 * index);
  if ((half & 0x7C00) == 0x7C00) {
    record_non_finite(p, (half & 0x03FF) != 0, (int64_t)index);
  } else {
    record_finite(p, lane, half & 0x7FFF, half == 0x3C00, (double)f16_value(half));
  }
}

static inline void step_bf16(partial_moments *p, const uint8_t *bytes, size_t index, int lane) {
  uint16_t brain = load_le16(bytes + 2 * index);
  if ((brain & 0x7F80) == 0x7F80) {
    record_non_finite(p, (brain & 0x007F) != 0, (int64_t)index);
  } else {
    record_finite(p, lane, brain & 0x7FFF, brain == 0x3F80, (double)float_from_bits((uint32_t)brain << 16));
  }
}

static inline void step_f32(partial_moments *p, const uint8_t *bytes, size_t index, int lane) {
  uint32_t bits = load_le32(bytes + 4 * index);
  if ((bits & 0x7F800000u) == 0x7F800000u) {
    record_non_finite(p, (bits & 0x007FFFFFu) != 0, (int64_t)index);
  } else {
    record_finite(p, lane, bits & 0x7FFFFFFFu, bits == 0x3F800000u, (double)float_from_bits(bits));
  }
}

// Elements [start, stop) of a run, four lanes at a time.
#define PORTABLE_LOOP(step, p, bytes, start, stop)             \
  do {                                                         \
    size_t i_ = (start);                                       \
    for (; i_ + 4 <= (stop); i_ += 4) {                        \
      step((p), (bytes), i_, 0);                               \
      step((p), (bytes), i_ + 1, 1);                           \
      step((p), (bytes), i_ + 2, 2);                           \
      step((p), (bytes), i_ + 3, 3);                           \
    }                                                          \
    for (; i_ < (stop); i_++) step((p), (bytes), i_, 0);       \
  } while (0)

/// Writes `p` (plus vector sums already reduced to three doubles) to `out`; `max_abs` decodes
/// the largest magnitude's bits.
static void partial_finish(const partial_moments *p, double sum, double squares, double fourth, float max_abs,
                           speculators_moments *out) {
  out->nan_count = p->nan_count;
  out->inf_count = p->inf_count;
  out->first_non_finite = p->first_non_finite;
  out->ones = p->ones;
  out->zeros = p->zeros;
  out->max_abs = max_abs;
  out->sum = sum + ((p->sum[0] + p->sum[1]) + (p->sum[2] + p->sum[3]));
  out->sum_squares = squares + ((p->squares[0] + p->squares[1]) + (p->squares[2] + p->squares[3]));
  out->sum_fourth = fourth + ((p->fourth[0] + p->fourth[1]) + (p->fourth[2] + p->fourth[3]));
}

void speculators_moments_f16_portable(const void *bytes, size_t count, speculators_moments *out) {
  partial_moments p;
  partial_init(&p);
  PORTABLE_LOOP(step_f16, &p, (const uint8_t *)bytes, 0, count);
  partial_finish(&p, 0, 0, 0, f16_value((uint16_t)p.max_magnitude), out);
}

void speculators_moments_bf16_portable(const void *bytes, size_t count, speculators_moments *out) {
  partial_moments p;
  partial_init(&p);
  PORTABLE_LOOP(step_bf16, &p, (const uint8_t *)bytes, 0, count);
  partial_finish(&p, 0, 0, 0, float_from_bits(p.max_magnitude << 16), out);
}

void speculators_moments_f32_portable(const void *bytes, size_t count, speculators_moments *out) {
  partial_moments p;
  partial_init(&p);
  PORTABLE_LOOP(step_f32, &p, (const uint8_t *)bytes, 0, count);
  partial_finish(&p, 0, 0, 0, float_from_bits(p.max_magnitude), out);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

int speculators_moments_vector_available(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
}

#define VECTOR_TARGET __attribute__((target("avx2,f16c")))

/// Sums of x, x² and x⁴ of 16 values, in four independent accumulators per sum.
typedef struct {
  __m256d sum[4], squares[4], fourth[4];
} vector_sums;

VECTOR_TARGET static inline void vector_sums_init(vector_sums *v) {
  for (int k = 0; k < 4; k++) {
    v->sum[k] = _mm256_setzero_pd();
    v->squares[k] = _mm256_setzero_pd();
    v->fourth[k] = _mm256_setzero_pd();
  }
}

VECTOR_TARGET static inline void vector_sums_add4(vector_sums *v, int k, __m256d x) {
  __m256d square = _mm256_mul_pd(x, x);
  v->sum[k] = _mm256_add_pd(v->sum[k], x);
  v->squares[k] = _mm256_add_pd(v->squares[k], square);
  v->fourth[k] = _mm256_add_pd(v->fourth[k], _mm256_mul_pd(square, square));
}

/// Adds 16 floats (two vectors of 8).
VECTOR_TARGET static inline void vector_sums_add16(vector_sums *v, __m256 low, __m256 high) {
  vector_sums_add4(v, 0, _mm256_cvtps_pd(_mm256_castps256_ps128(low)));
  vector_sums_add4(v, 1, _mm256_cvtps_pd(_mm256_extractf128_ps(low, 1)));
  vector_sums_add4(v, 2, _mm256_cvtps_pd(_mm256_castps256_ps128(high)));
  vector_sums_add4(v, 3, _mm256_cvtps_pd(_mm256_extractf128_ps(high, 1)));
}

VECTOR_TARGET static inline double reduce4(const __m256d *lanes) {
  __m256d all = _mm256_add_pd(_mm256_add_pd(lanes[0], lanes[1]), _mm256_add_pd(lanes[2], lanes[3]));
  __m128d half = _mm_add_pd(_mm256_castpd256_pd128(all), _mm256_extractf128_pd(all, 1));
  return _mm_cvtsd_f64(_mm_add_sd(half, _mm_unpackhi_pd(half, half)));
}

/// Sum of the 16 unsigned 16-bit lanes.
VECTOR_TARGET static inline int64_t sum_u16(__m256i counts) {
  __m256i pairs = _mm256_madd_epi16(counts, _mm256_set1_epi16(1));
  __m128i quads = _mm_add_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
  uint32_t lanes[4];
  _mm_storeu_si128((__m128i *)lanes, quads);
  return (int64_t)lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

VECTOR_TARGET static inline int64_t sum_u32(__m256i counts) {
  uint32_t lanes[8];
  _mm256_storeu_si256((__m256i *)lanes, counts);
  int64_t total = 0;
  for (int k = 0; k < 8; k++) total += lanes[k];
  return total;
}

VECTOR_TARGET static inline uint32_t max_u16(__m256i values) {
  uint16_t lanes[16];
  _mm256_storeu_si256((__m256i *)lanes, values);
  uint32_t best = 0;
  for (int k = 0; k < 16; k++) if (lanes[k] > best) best = lanes[k];
  return best;
}

VECTOR_TARGET static inline uint32_t max_u32(__m256i values) {
  uint32_t lanes[8];
  _mm256_storeu_si256((__m256i *)lanes, values);
  uint32_t best = 0;
  for (int k = 0; k < 8; k++) if (lanes[k] > best) best = lanes[k];
  return best;
}

// Elements are taken in blocks of 64 groups of 16 (2 KiB of F16, 4 KiB of F32, in L1): a first
// loop over the block finds non-finite elements, counts ones and zeros and tracks the largest
// magnitude with integer compares; a block holding a NaN or infinity then goes through the
// portable steps (exact counts and first index, rare), any other through the second loop, which
// does nothing but widen and add, so its twelve accumulators stay in registers.
#define GROUPS_PER_BLOCK 64

/// The 16-bit dtypes: `exponent` is the all-ones exponent mask, `one` the bits of 1.0, and
/// `widen_low`/`widen_high` turn 16 raw elements into two vectors of 8 floats.
#define HALF_KERNEL(name, exponent, one, widen_low, widen_high, step, decode_max)                        \
  VECTOR_TARGET void name(const void *input, size_t count, speculators_moments *out) {                  \
    const uint8_t *bytes = input;                                                                       \
    partial_moments p;                                                                                  \
    partial_init(&p);                                                                                   \
    vector_sums v;                                                                                      \
    vector_sums_init(&v);                                                                               \
    const __m256i exponent_mask = _mm256_set1_epi16((short)(exponent));                                 \
    const __m256i magnitude_mask = _mm256_set1_epi16(0x7FFF);                                           \
    const __m256i one_bits = _mm256_set1_epi16((short)(one));                                           \
    const __m256i zero = _mm256_setzero_si256();                                                        \
    __m256i largest = zero;                                                                             \
    size_t groups = count / 16;                                                                         \
    for (size_t first = 0; first < groups; first += GROUPS_PER_BLOCK) {                                 \
      size_t stop = groups - first < GROUPS_PER_BLOCK ? groups : first + GROUPS_PER_BLOCK;              \
      __m256i special = zero, ones = zero, zeros = zero, block_largest = largest;                       \
      for (size_t group = first; group < stop; group++) {                                               \
        __m256i raw = _mm256_loadu_si256((const __m256i *)(bytes + group * 32));                        \
        __m256i magnitude = _mm256_and_si256(raw, magnitude_mask);                                      \
        special = _mm256_or_si256(                                                                      \
          special, _mm256_cmpeq_epi16(_mm256_and_si256(raw, exponent_mask), exponent_mask));            \
        block_largest = _mm256_max_epu16(block_largest, magnitude);                                     \
        ones = _mm256_sub_epi16(ones, _mm256_cmpeq_epi16(raw, one_bits));                               \
        zeros = _mm256_sub_epi16(zeros, _mm256_cmpeq_epi16(magnitude, zero));                           \
      }                                                                                                 \
      if (!_mm256_testz_si256(special, special)) {                                                      \
        PORTABLE_LOOP(step, &p, bytes, first * 16, stop * 16);                                          \
        continue;                                                                                       \
      }                                                                                                 \
      largest = block_largest;                                                                          \
      p.ones += sum_u16(ones);                                                                          \
      p.zeros += sum_u16(zeros);                                                                        \
      for (size_t group = first; group < stop; group++) {                                               \
        __m256i raw = _mm256_loadu_si256((const __m256i *)(bytes + group * 32));                        \
        vector_sums_add16(&v, widen_low(raw), widen_high(raw));                                         \
      }                                                                                                 \
    }                                                                                                   \
    PORTABLE_LOOP(step, &p, bytes, groups * 16, count);                                                 \
    uint32_t vector_max = max_u16(largest);                                                             \
    if (vector_max > p.max_magnitude) p.max_magnitude = vector_max;                                     \
    partial_finish(&p, reduce4(v.sum), reduce4(v.squares), reduce4(v.fourth), decode_max(p.max_magnitude), \
                   out);                                                                                \
  }

VECTOR_TARGET static inline __m256 f16_low(__m256i raw) {
  return _mm256_cvtph_ps(_mm256_castsi256_si128(raw));
}
VECTOR_TARGET static inline __m256 f16_high(__m256i raw) {
  return _mm256_cvtph_ps(_mm256_extracti128_si256(raw, 1));
}
VECTOR_TARGET static inline __m256 bf16_low(__m256i raw) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(raw)), 16));
}
VECTOR_TARGET static inline __m256 bf16_high(__m256i raw) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(raw, 1)), 16));
}
static inline float f16_max(uint32_t magnitude) { return f16_value((uint16_t)magnitude); }
static inline float bf16_max(uint32_t magnitude) { return float_from_bits(magnitude << 16); }

HALF_KERNEL(speculators_moments_f16_vector, 0x7C00, 0x3C00, f16_low, f16_high, step_f16, f16_max)
HALF_KERNEL(speculators_moments_bf16_vector, 0x7F80, 0x3F80, bf16_low, bf16_high, step_bf16, bf16_max)

VECTOR_TARGET void speculators_moments_f32_vector(const void *input, size_t count, speculators_moments *out) {
  const uint8_t *bytes = input;
  partial_moments p;
  partial_init(&p);
  vector_sums v;
  vector_sums_init(&v);
  const __m256i exponent_mask = _mm256_set1_epi32(0x7F800000);
  const __m256i magnitude_mask = _mm256_set1_epi32(0x7FFFFFFF);
  const __m256i one_bits = _mm256_set1_epi32(0x3F800000);
  const __m256i zero = _mm256_setzero_si256();
  __m256i largest = zero;
  size_t groups = count / 16;
  for (size_t first = 0; first < groups; first += GROUPS_PER_BLOCK) {
    size_t stop = groups - first < GROUPS_PER_BLOCK ? groups : first + GROUPS_PER_BLOCK;
    __m256i special = zero, ones = zero, zeros = zero, block_largest = largest;
    for (size_t half = first * 2; half < stop * 2; half++) {
      __m256i raw = _mm256_loadu_si256((const __m256i *)(bytes + half * 32));
      __m256i magnitude = _mm256_and_si256(raw, magnitude_mask);
      special =
        _mm256_or_si256(special, _mm256_cmpeq_epi32(_mm256_and_si256(raw, exponent_mask), exponent_mask));
      block_largest = _mm256_max_epu32(block_largest, magnitude);
      ones = _mm256_sub_epi32(ones, _mm256_cmpeq_epi32(raw, one_bits));
      zeros = _mm256_sub_epi32(zeros, _mm256_cmpeq_epi32(magnitude, zero));
    }
    if (!_mm256_testz_si256(special, special)) {
      PORTABLE_LOOP(step_f32, &p, bytes, first * 16, stop * 16);
      continue;
    }
    largest = block_largest;
    p.ones += sum_u32(ones);
    p.zeros += sum_u32(zeros);
    for (size_t group = first; group < stop; group++) {
      __m256 low = _mm256_loadu_ps((const float *)(bytes + group * 64));
      __m256 high = _mm256_loadu_ps((const float *)(bytes + group * 64 + 32));
      vector_sums_add16(&v, low, high);
    }
  }
  PORTABLE_LOOP(step_f32, &p, bytes, groups * 16, count);
  uint32_t vector_max = max_u32(largest);
  if (vector_max > p.max_magnitude) p.max_magnitude = vector_max;
  partial_finish(&p, reduce4(v.sum), reduce4(v.squares), reduce4(v.fourth), float_from_bits(p.max_magnitude),
                 out);
}

#else

int speculators_moments_vector_available(void) { return 0; }

void speculators_moments_f16_vector(const void *bytes, size_t count, speculators_moments *out) {
  speculators_moments_f16_portable(bytes, count, out);
}
void speculators_moments_bf16_vector(const void *bytes, size_t count, speculators_moments *out) {
  speculators_moments_bf16_portable(bytes, count, out);
}
void speculators_moments_f32_vector(const void *bytes, size_t count, speculators_moments *out) {
  speculators_moments_f32_portable(bytes, count, out);
}
#endif
