/*
 * Driver of the optimized C anchor (rflo_anchor.c):
 *   anchor --golden FILE...   replays golden-vector files (test/golden/generate.ts's format) through rflo_anchor_step
 *                             and checks every prediction and the final arena, every buffer except the Q30 gradient
 *                             accumulators (acc_*), bit for bit; one line per file, "PASS name: ..." or "FAIL name: ...";
 *                             exit 1 on any FAIL
 *   anchor [--seconds S] [--runs R] SNAPSHOT...
 *                             steps/s as firmware-bridge/firmware/host/bench.c measures the portable kernel (same
 *                             samples, same timing), JSON on stdout with backend "c-anchor"
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "rflo_anchor.h"

#define ARENA_BYTES (64u << 20)
static uint8_t arena[ARENA_BYTES] __attribute__((aligned(64)));
static uint8_t arena2[ARENA_BYTES] __attribute__((aligned(64)));
static char configText[4096], configText2[4096];
static uint8_t file[ARENA_BYTES + 8192];

static int load(ns_learner *l, uint8_t *a, char *cfg, const uint8_t *bytes, size_t n, char *err, size_t errLen) {
  ns_snapshot_loader ld = { 0 };
  memset(l, 0, sizeof *l);
  ld.l = l;
  ld.arena = a;
  ld.arenaCapacity = ARENA_BYTES;
  ld.configText = cfg;
  ld.configCapacity = 4096;
  ns_snapshot_load_begin(&ld);
  return ns_snapshot_load_chunk(&ld, 0, bytes, (uint32_t)n, err, errLen) == 1 ? 0 : -1;
}

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }
static size_t unhex(const char *s, uint8_t *out) {
  size_t n = 0;
  while (s[0] && s[0] != '\n' && s[1]) out[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1])), s += 2;
  return n;
}

static int is_acc(int b) { return b == NB_acc_W_in || b == NB_acc_W_rec || b == NB_acc_b || b == NB_acc_W_out || b == NB_acc_D; }

static int run_golden(const char *path) {
  FILE *f = fopen(path, "rb");
  static char line[8 << 20];
  char name[128] = "?", err[200];
  ns_learner l, want;
  long step = 0;
  if (!f) { printf("FAIL %s: cannot open\n", path); return 1; }
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "case ", 5) == 0) {
      sscanf(line + 5, "%127s", name);
    } else if (strncmp(line, "snapshot ", 9) == 0) {
      size_t n = unhex(line + 9, file);
      if (load(&l, arena, configText, file, n, err, sizeof err)) { printf("FAIL %s: initial snapshot refused: %s\n", name, err); return 1; }
      const char *why = rflo_anchor_unsupported(&l);
      if (why) { printf("SKIP %s: %s\n", name, why); fclose(f); return 0; }
    } else if (line[0] == 's' && line[1] == ' ') {
      int16_t x[256], t[256], y[256], wantY[256];
      uint8_t xMissing[256];
      const int M = l.p.cfg.inputs, O = l.p.cfg.outputs;
      char *s = line + 2;
      int learn = 1, targetMissing = 0;
      for (int j = 0; j < M; j++) {
        while (*s == ' ') s++;
        xMissing[j] = *s == '?';
        if (xMissing[j]) x[j] = 0, s++;
        else x[j] = (int16_t)strtol(s, &s, 10);
      }
      s = strchr(s, '|') + 1;
      while (*s == ' ') s++;
      if (*s == '-' && (s[1] == ' ' || s[1] == '|')) learn = 0, s++;
      else if (*s == '?') targetMissing = 1, s++;
      else for (int j = 0; j < O; j++) t[j] = (int16_t)strtol(s, &s, 10);
      s = strchr(s, '|') + 1;
      for (int j = 0; j < O; j++) wantY[j] = (int16_t)strtol(s, &s, 10);
      rflo_anchor_step(&l, x, xMissing, learn ? t : NULL, targetMissing, y);
      for (int j = 0; j < O; j++) {
        if (y[j] != wantY[j]) {
          printf("FAIL %s: step %ld, output %d: expected %d, got %d\n", name, step, j, wantY[j], y[j]);
          return 1;
        }
      }
      step++;
    } else if (line[0] == 'e' && (line[1] == '\n' || line[1] == 0)) {
      printf("SKIP %s: endTrial is 'trial' mode's, not the anchor's\n", name);
      fclose(f);
      return 0;
    } else if (strncmp(line, "final ", 6) == 0) {
      size_t n = unhex(line + 6, file);
      if (load(&want, arena2, configText2, file, n, err, sizeof err)) { printf("FAIL %s: final snapshot refused: %s\n", name, err); return 1; }
      uint32_t compared = 0, skipped = 0;
      for (int b = 0; b < NB_COUNT; b++) {
        const int ty = ns_buf_type(b), size = ty == NT_U32 ? 4 : ty;
        const uint32_t bytes = l.p.length[b] * (uint32_t)size;
        if (is_acc(b)) { skipped += bytes; continue; }
        const uint8_t *p = arena + l.p.offset[b], *q = arena2 + want.p.offset[b];
        for (uint32_t i = 0; i < bytes; i++) {
          if (p[i] != q[i]) {
            printf("FAIL %s: final arena, %s[%lu] after %ld steps differs\n", name, ns_buf_name(b), (unsigned long)(i / (uint32_t)size), step);
            return 1;
          }
        }
        compared += bytes;
      }
      printf("PASS %s: %ld steps, every prediction and %lu arena bytes (all but the %lu bytes of acc_*) bit-identical\n", name, step,
             (unsigned long)compared, (unsigned long)skipped);
      fclose(f);
      return 0;
    }
  }
  fclose(f);
  printf("FAIL %s: file ended before 'final'\n", name);
  return 1;
}

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

static int run_bench(int argc, char **argv, double seconds, int runs) {
  static int16_t xs[64][256], ys[64][256], out[256];
  int first = 1;
  printf("{\"backend\":\"c-anchor\",\"seconds\":%g,\"records\":[", seconds);
  for (int a = 1; a < argc; a++) {
    if (!argv[a]) continue;
    FILE *f = fopen(argv[a], "rb");
    if (!f) { fprintf(stderr, "anchor: cannot open %s\n", argv[a]); return 2; }
    size_t n = fread(file, 1, sizeof file, f);
    fclose(f);
    ns_learner l;
    char err[200];
    if (load(&l, arena, configText, file, n, err, sizeof err)) { fprintf(stderr, "anchor: %s: %s\n", argv[a], err); return 2; }
    const char *why = rflo_anchor_unsupported(&l);
    if (why) { fprintf(stderr, "anchor: %s: %s\n", argv[a], why); return 2; }
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
        for (int i = 0; i < 16; i++, t++) rflo_anchor_step(&l, xs[t & 63], NULL, ys[t & 63], 0, out);
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
    printf("%s\n{\"learner\":\"rflo\",\"engine\":\"fixed\",\"backend\":\"c-anchor\",\"N\":%d,\"inputs\":%d,\"outputs\":%d,"
           "\"steps_per_s\":%.0f,\"runs\":[",
           first ? "" : ",", l.p.cfg.hidden, M, O, med);
    for (int r = 0; r < runs; r++) printf("%s%.0f", r ? "," : "", rates[r]);
    printf("]}");
    fflush(stdout);
    first = 0;
  }
  printf("\n]}\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--golden") == 0) {
    int failed = 0;
    for (int i = 2; i < argc; i++) failed |= run_golden(argv[i]);
    return failed;
  }
  double seconds = 0.3;
  int runs = 5;
  for (int a = 1; a < argc; a++) {
    if (strcmp(argv[a], "--seconds") == 0 && a + 1 < argc) { seconds = atof(argv[++a]); argv[a - 1] = argv[a] = 0; }
    else if (strcmp(argv[a], "--runs") == 0 && a + 1 < argc) { runs = atoi(argv[++a]); argv[a - 1] = argv[a] = 0; }
  }
  if (runs < 1) runs = 1;
  if (runs > 64) runs = 64;
  return run_bench(argc, argv, seconds, runs);
}
