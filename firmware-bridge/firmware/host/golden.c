/*
 * Host test driver: replays golden vectors written by test/golden/generate.ts (the TypeScript runtime) through the
 * C kernel and checks every prediction and the final snapshot bit for bit, reporting the first mismatch.
 *   golden FILE...       one line per file: "PASS name: ..." or "FAIL name: first mismatch ..."; exit 1 on any FAIL
 *   golden --tanh        writes tanh (int16 LE) and phi' (int32 LE) for every Q12 input in [-34816, 34816] to stdout
 *   golden --plan        reads config JSON objects, one per line, from stdin and prints, per line, the 13 plan
 *                        constants (as in a golden file's plan line), shifts.outDirect and readoutEpsQ30, or "error: MESSAGE"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../ns.h"

#define ARENA_BYTES (4u << 20)
static uint8_t arena[ARENA_BYTES] __attribute__((aligned(8)));
static char configText[4096];
static uint8_t chunk[4 << 20];

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

static size_t unhex(const char *s, uint8_t *out) {
  size_t n = 0;
  while (s[0] && s[0] != '\n' && s[1]) out[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1])), s += 2;
  return n;
}

/* Which arena buffer byte `i` of the arena falls in, for messages. */
static void describe_arena_byte(const ns_learner *l, uint32_t i, char *out, size_t n) {
  for (int b = NB_COUNT - 1; b >= 0; b--) {
    if (i >= l->p.offset[b] && l->p.length[b]) {
      int t = ns_buf_type(b), size = t == NT_U32 ? 4 : t;
      snprintf(out, n, "%s[%lu]", ns_buf_name(b), (unsigned long)((i - l->p.offset[b]) / (uint32_t)size));
      return;
    }
  }
  snprintf(out, n, "?");
}

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  static char line[8 << 20];
  char name[128] = "?", err[200];
  ns_learner l;
  ns_snapshot_loader ld = { 0 };
  long step = 0;
  int planned = 0;
  if (!f) { printf("FAIL %s: cannot open\n", path); return 1; }
  memset(&l, 0, sizeof l);
  ld.l = &l;
  ld.arena = arena;
  ld.arenaCapacity = ARENA_BYTES;
  ld.configText = configText;
  ld.configCapacity = sizeof configText;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "case ", 5) == 0) {
      sscanf(line + 5, "%127s", name);
    } else if (strncmp(line, "plan ", 5) == 0) {
      long v[13];
      if (sscanf(line + 5, "%ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                 &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12]) != 13) {
        printf("FAIL %s: bad plan line\n", name);
        return 1;
      }
      planned = 1;
      memcpy(chunk, v, sizeof v); /* checked after the snapshot is loaded */
    } else if (strncmp(line, "snapshot ", 9) == 0) {
      size_t n = unhex(line + 9, chunk + 256);
      ns_snapshot_load_begin(&ld);
      if (ns_snapshot_load_chunk(&ld, 0, chunk + 256, (uint32_t)n, err, sizeof err) != 1) {
        printf("FAIL %s: initial snapshot refused: %s\n", name, err);
        return 1;
      }
      if (planned) {
        long v[13];
        const ns_plan *p = &l.p;
        long c[13] = { p->alpha, p->etaRecM, p->etaRecK, p->etaOutM, p->etaOutK, p->shiftTraceRec, p->shiftTraceIn,
                       p->shiftOut, p->shiftRtrl, p->shiftApply, p->shiftTrialRec, p->shiftTrialOut, (long)p->totalBytes };
        static const char *const names[13] = { "alpha", "etaRec.m", "etaRec.k", "etaOut.m", "etaOut.k", "traceRec",
                                               "traceIn", "out", "rtrl", "apply", "trialRec", "trialOut", "totalBytes" };
        memcpy(v, chunk, sizeof v);
        for (int i = 0; i < 13; i++) {
          if (v[i] != c[i]) {
            printf("FAIL %s: plan constant %d (%s): expected %ld, got %ld\n", name, i, names[i], v[i], c[i]);
            return 1;
          }
        }
      }
    } else if (line[0] == 's' && line[1] == ' ') {
      int16_t x[256], t[256], y[256], want[256];
      uint8_t xMissing[256];
      const int M = l.p.cfg.inputs, O = l.p.cfg.outputs;
      char *s = line + 2;
      int learn = 1, targetMissing = 0;
      for (int j = 0; j < M; j++) { /* '?' marks a missing input */
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
      for (int j = 0; j < O; j++) want[j] = (int16_t)strtol(s, &s, 10);
      ns_step_missing(&l, x, xMissing, learn ? t : NULL, targetMissing, y);
      for (int j = 0; j < O; j++) {
        if (y[j] != want[j]) {
          printf("FAIL %s: step %ld, output %d: expected %d, got %d\n", name, step, j, want[j], y[j]);
          return 1;
        }
      }
      step++;
    } else if (line[0] == 'e' && (line[1] == '\n' || line[1] == 0)) {
      ns_end_trial(&l);
      ns_reset_state(&l);
    } else if (strncmp(line, "final ", 6) == 0) {
      size_t n = unhex(line + 6, chunk);
      uint32_t len = ns_snapshot_length(&l, ld.configLength);
      uint32_t crc = ns_snapshot_crc(&l, configText, ld.configLength);
      uint32_t arenaAt = (16u + ld.configLength + 7u) / 8u * 8u;
      if (len != n) {
        printf("FAIL %s: final snapshot is %lu bytes, expected %lu\n", name, (unsigned long)len, (unsigned long)n);
        return 1;
      }
      for (uint32_t i = 0; i < len; i++) {
        uint8_t b = ns_snapshot_byte(&l, configText, ld.configLength, crc, i);
        if (b != chunk[i]) {
          char where[64] = "header/config";
          if (i >= arenaAt && i < arenaAt + l.p.totalBytes) describe_arena_byte(&l, i - arenaAt, where, sizeof where);
          else if (i >= arenaAt) snprintf(where, sizeof where, "crc");
          printf("FAIL %s: final snapshot byte %lu (%s) after %ld steps: expected %02x, got %02x\n", name,
                 (unsigned long)i, where, step, chunk[i], b);
          return 1;
        }
      }
    } else if (strncmp(line, "end", 3) == 0) {
      printf("PASS %s: %ld steps, every prediction and the final snapshot (%lu bytes) bit-identical\n", name, step,
             (unsigned long)ns_snapshot_length(&l, ld.configLength));
      fclose(f);
      return 0;
    }
  }
  fclose(f);
  printf("FAIL %s: file ended before 'end'\n", name);
  return 1;
}

int main(int argc, char **argv) {
  int failed = 0;
  if (argc == 2 && strcmp(argv[1], "--tanh") == 0) {
    for (int32_t u = -34816; u <= 34816; u++) {
      int32_t t = ns_tanh_q15(u), d = ns_dtanh_q15(t);
      uint8_t b[6] = { (uint8_t)t, (uint8_t)(t >> 8), (uint8_t)d, (uint8_t)(d >> 8), (uint8_t)(d >> 16), (uint8_t)(d >> 24) };
      fwrite(b, 1, 6, stdout);
    }
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "--plan") == 0) {
    static char cfgLine[4096];
    while (fgets(cfgLine, sizeof cfgLine, stdin)) {
      ns_config c;
      ns_plan p;
      char err[200];
      size_t n = strcspn(cfgLine, "\n");
      if (ns_parse_config(cfgLine, n, &c, err, sizeof err) || ns_make_plan(&c, &p, err, sizeof err)) {
        printf("error: %s\n", err);
        continue;
      }
      printf("%ld %ld %ld %ld %ld %d %d %d %d %d %d %d %lu %d %ld\n", (long)p.alpha, (long)p.etaRecM, (long)p.etaRecK,
             (long)p.etaOutM, (long)p.etaOutK, p.shiftTraceRec, p.shiftTraceIn, p.shiftOut, p.shiftRtrl, p.shiftApply,
             p.shiftTrialRec, p.shiftTrialOut, (unsigned long)p.totalBytes, p.shiftOutDirect, (long)p.readoutEpsQ30);
    }
    return 0;
  }
  for (int i = 1; i < argc; i++) failed |= run_file(argv[i]);
  return failed;
}
