/*
 * Host benchmark of the C kernel, the anchor for the TypeScript runtime's numbers (bench/runtime.ts): loads each
 * learner from a runtime snapshot file (so C and TypeScript time the very same learner), steps it with targets
 * ('step' updates) on 64 cycled samples x_j = sin(t/5 + j), y_j = 0.5 cos(t/7 + j) in Q3.12, and reports the median
 * steps/s of RUNS timed runs of SECONDS each after a warm-up, as JSON on stdout.
 *   bench [--backend NAME] [--seconds S] [--runs R] SNAPSHOT...
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../ns.h"

#define ARENA_BYTES (64u << 20)
static uint8_t arena[ARENA_BYTES] __attribute__((aligned(8)));
static char configText[4096];
static uint8_t file[ARENA_BYTES + 8192];

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int16_t q12(double v) {
  double q = floor(v * 4096 + 0.5);
  return (int16_t)(q > 32767 ? 32767 : q < -32768 ? -32768 : q);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static volatile int16_t sink;

int main(int argc, char **argv) {
  const char *backend = "c";
  double seconds = 0.3;
  int runs = 5, first = 1;
  static int16_t xs[64][256], ys[64][256], out[256];
  for (int a = 1; a < argc; a++) {
    if (strcmp(argv[a], "--backend") == 0 && a + 1 < argc) { backend = argv[++a]; argv[a - 1] = argv[a] = 0; }
    else if (strcmp(argv[a], "--seconds") == 0 && a + 1 < argc) { seconds = atof(argv[++a]); argv[a - 1] = argv[a] = 0; }
    else if (strcmp(argv[a], "--runs") == 0 && a + 1 < argc) { runs = atoi(argv[++a]); argv[a - 1] = argv[a] = 0; }
  }
  if (runs < 1) runs = 1;
  if (runs > 64) runs = 64;
  printf("{\"backend\":\"%s\",\"seconds\":%g,\"records\":[", backend, seconds);
  for (int a = 1; a < argc; a++) {
    if (!argv[a]) continue;
    FILE *f = fopen(argv[a], "rb");
    if (!f) { fprintf(stderr, "bench: cannot open %s\n", argv[a]); return 2; }
    size_t n = fread(file, 1, sizeof file, f);
    fclose(f);
    ns_learner l;
    ns_snapshot_loader ld = { 0 };
    char err[200];
    ld.l = &l;
    ld.arena = arena;
    ld.arenaCapacity = ARENA_BYTES;
    ld.configText = configText;
    ld.configCapacity = sizeof configText;
    ns_snapshot_load_begin(&ld);
    if (ns_snapshot_load_chunk(&ld, 0, file, (uint32_t)n, err, sizeof err) != 1) {
      fprintf(stderr, "bench: %s: %s\n", argv[a], err);
      return 2;
    }
    const int M = l.p.cfg.inputs, O = l.p.cfg.outputs;
    for (int t = 0; t < 64; t++) {
      for (int j = 0; j < M; j++) xs[t][j] = q12(sin(t / 5.0 + j));
      for (int j = 0; j < O; j++) ys[t][j] = q12(0.5 * cos(t / 7.0 + j));
    }
    double rates[64];
    unsigned t = 0;
    for (int r = -1; r < runs; r++) {
      long steps = 0;
      double start = now(), end = start + seconds, tnow = start;
      while (tnow < end) {
        for (int i = 0; i < 16; i++, t++) ns_step(&l, xs[t & 63], ys[t & 63], out);
        steps += 16;
        tnow = now();
      }
      sink = out[0];
      if (r >= 0) rates[r] = steps / (tnow - start);
    }
    double sorted[64];
    memcpy(sorted, rates, sizeof rates);
    qsort(sorted, (size_t)runs, sizeof sorted[0], cmp);
    double med = runs % 2 ? sorted[runs / 2] : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;
    static const char *const kinds[NS_KIND_COUNT] = NS_KIND_NAMES;
    printf("%s\n{\"learner\":\"%s\",\"engine\":\"fixed\",\"backend\":\"%s\",\"N\":%d,\"inputs\":%d,\"outputs\":%d,"
           "\"steps_per_s\":%.0f,\"runs\":[",
           first ? "" : ",", kinds[l.p.cfg.kind], backend, l.p.cfg.hidden, M, O, med);
    for (int r = 0; r < runs; r++) printf("%s%.0f", r ? "," : "", rates[r]);
    printf("]}");
    fflush(stdout);
    first = 0;
  }
  printf("\n]}\n");
  return 0;
}
