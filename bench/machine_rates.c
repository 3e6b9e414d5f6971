// The machine's own rates, for the probe benchmark's roofline figures: copy bandwidth (all
// cores, each copying its share of a buffer far larger than the caches; bytes read plus bytes
// written per second, as STREAM's Copy counts them) and OpenBLAS's single-precision GEMM rate at
// the shapes the probe multiplies, on all cores. Built at bench time against the same OpenBLAS
// the probe links.
//
//   machine_rates ROWS          ->  one JSON object on stdout
//   machine_rates ROWS quick    ->  the copy bandwidth and the GEMM rate at ROWS x 14336 x 4096 alone
//                                   (a second or two), as the same object
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *openblas_get_corename(void);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

struct share { char *to; const char *from; size_t bytes; };

static void *copy_share(void *argument) {
  struct share *s = argument;
  memcpy(s->to, s->from, s->bytes);
  return NULL;
}

// Median over `runs` copies of `bytes`, split over `threads`, in bytes moved per second.
static double copy_rate(size_t bytes, int threads, int runs) {
  char *from = malloc(bytes), *to = malloc(bytes);
  if (!from || !to) return 0;
  memset(from, 1, bytes);
  memset(to, 2, bytes);
  double rates[32];
  pthread_t ids[64];
  struct share shares[64];
  size_t part = bytes / threads;
  for (int run = 0; run < runs; run++) {
    double start = now();
    for (int t = 0; t < threads; t++) {
      shares[t] = (struct share){to + t * part, from + t * part, part};
      pthread_create(&ids[t], NULL, copy_share, &shares[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    rates[run] = 2.0 * part * threads / (now() - start);
  }
  qsort(rates, runs, sizeof rates[0], compare);
  free(from);
  free(to);
  return rates[runs / 2];
}

// Median rate (FLOP/s) of C[M,N] = A[M,K]·B[N,K]ᵀ, row-major, as the probe calls it.
static double gemm_rate(int m, int n, int k, int runs) {
  float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)n * k);
  float *c = malloc(sizeof(float) * (size_t)m * n);
  if (!a || !b || !c) return 0;
  for (size_t i = 0; i < (size_t)m * k; i++) a[i] = 1e-3f * (float)(i % 7);
  for (size_t i = 0; i < (size_t)n * k; i++) b[i] = 1e-3f * (float)(i % 5);
  double rates[32];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n);
  for (int run = 0; run < runs; run++) {
    double start = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n);
    rates[run] = 2.0 * m * n * k / (now() - start);
  }
  qsort(rates, runs, sizeof rates[0], compare);
  free(a);
  free(b);
  free(c);
  return rates[runs / 2];
}

int main(int argc, char **argv) {
  int rows = argc > 1 ? atoi(argv[1]) : 64;
  if (rows < 1) rows = 1;
  int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1) cores = 1;
  if (cores > 64) cores = 64;
  openblas_set_num_threads(cores);
  double copy = copy_rate((size_t)1 << 30, cores, 5);
  double mlp = gemm_rate(rows, 14336, 4096, 5);
  if (argc > 2 && strcmp(argv[2], "quick") == 0) {
    printf("{\"cores\": %d, \"copy_bytes_per_second\": %.6g, \"gemm_rows\": %d, \"gemm_flops_per_second\": %.6g}\n",
           cores, copy, rows, mlp);
    return 0;
  }
  double square = gemm_rate(2048, 2048, 2048, 5);
  printf("{\"cores\": %d, \"blas_core\": \"%s\", \"copy_bytes_per_second\": %.6g, "
         "\"gemm_rows\": %d, \"gemm_flops_per_second\": %.6g, \"gemm_square_flops_per_second\": %.6g}\n",
         cores, openblas_get_corename(), copy, rows, mlp, square);
  return 0;
}
