/*
 * On-target step cost: builds a learner in the static arena from a config (learner, N, 4 in, 4 out), fills its
 * weights with a fixed integer pattern, runs warm-up steps, then times 32 steps with SysTick and prints
 *   "learner N ticks_per_step calib_ticks crc saturations\n" ("rflo_acc": RFLO with the gradient accumulators,
 * accumulateGradient; "_sat": a saturating arena, see run()) where calib_ticks is the time of a fixed 2^20-iteration
 * loop of 4 instructions, crc the CRC-32 of the whole arena after the 40 steps and saturations the sum of the
 * learner's saturation counters (every weight, trace and counter: equal on every core and on the host when the kernel
 * is bit-exact). Under `qemu-system-arm -icount shift=0` (one instruction per virtual ns)
 * ticks_per_step / calib_ticks * 2^22 is the instruction count of one step.
 * Output goes to UART0 (run QEMU with -serial stdio). Build: make bench-fw NS_MAX_HIDDEN=N (Cortex-M3), make
 * bench-fw-m4 (Cortex-M4); compiled for the host (make build/bench-crc: the board seam below is then stdout) it
 * prints the same lines with 0 ticks.
 */
#include <string.h>
#include "ns.h"
#include "platform.h"

void platform_cycles_init(void);
uint32_t platform_cycles(void);

#if !defined(__arm__)
/* The board seam on the host: stdout, no input, no clock. */
#include <stdio.h>
void platform_init(void) {}
int platform_getc(void) { return -1; }
void platform_putc(uint8_t c) { putchar(c); }
uint32_t platform_millis(void) { return 0; }
void platform_cycles_init(void) {}
uint32_t platform_cycles(void) { return 0; }
#endif

static uint8_t arena[NS_ARENA_BYTES] __attribute__((aligned(8)));

static void puts_(const char *s) { while (*s) platform_putc((uint8_t)*s++); }
static void putu(uint32_t v) {
  char b[11];
  int i = 10;
  b[i] = 0;
  do b[--i] = (char)('0' + v % 10); while ((v /= 10) != 0);
  puts_(b + i);
}
static char *cat(char *d, const char *s) { while (*s) *d++ = *s++; *d = 0; return d; }
static char *catu(char *d, uint32_t v) {
  char b[11];
  int i = 10;
  b[i] = 0;
  do b[--i] = (char)('0' + v % 10); while ((v /= 10) != 0);
  return cat(d, b + i);
}

/* 2^20 iterations of a 4-instruction loop body (subs, nop, nop, bne). */
#define CALIB_ITERS (1u << 20)
static uint32_t calibrate(void) {
  uint32_t n = CALIB_ITERS, t0 = platform_cycles();
#if defined(__arm__)
  __asm__ volatile("1: subs %0, %0, #1\n nop\n nop\n bne 1b" : "+r"(n) : : "cc");
#else
  (void)n;
#endif
  return (platform_cycles() - t0) & 0x00FFFFFFu;
}

static uint32_t rng = 12345u;
static int32_t rnd(int32_t range) {
  rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
  return (int32_t)(rng % (uint32_t)(2 * range + 1)) - range;
}

/* mode: 0 the default 'step' learner, 1 with gradient accumulators ("_acc"), 2 a saturating arena ("_sat"): weights
 * over the whole int32 range, a quarter of them one step from the int32 limits, and large feedback, so that weight
 * writes overflow and Q3.12 copies clip on every step (the counted paths the usual rows never take). */
static void run(const char *kind, int N, int mode) {
  const int accumulate = mode == 1;
  const char *suffix = mode == 1 ? "_acc " : mode == 2 ? "_sat " : " ";
  char json[256], *p = json, err[120];
  ns_config cfg;
  ns_plan plan;
  ns_learner l;
  p = cat(p, "{\"learner\":\"");
  p = cat(p, kind);
  p = cat(p, "\",\"inputs\":4,\"hidden\":");
  p = catu(p, (uint32_t)N);
  p = cat(p, ",\"outputs\":4,\"tau\":10,\"lrRec\":0.01,\"lrOut\":0.01,\"update\":\"step\",\"trialLength\":100");
  /* the runtime's default 'step' learner keeps no gradient accumulators; "_acc" rows keep them (accumulateGradient) */
  p = cat(p, accumulate ? "}" : ",\"accumulateGradient\":false}");
  if (ns_parse_config(json, (size_t)(p - json), &cfg, err, sizeof err) || ns_make_plan(&cfg, &plan, err, sizeof err) ||
      plan.totalBytes > sizeof arena) {
    puts_(kind); puts_(suffix); putu((uint32_t)N); puts_(" does-not-fit\n");
    return;
  }
  memset(arena, 0, plan.totalBytes);
  ns_bind(&l, &plan, arena);
  /* Weights ~ U(-1.2, 1.2)/sqrt(N)-ish in Q7.24 and their Q3.12 copies; B, W_out, W_in small; h0 = 0.1. */
  int32_t rec = (int32_t)((1.2 * 16777216.0) / 8.0); /* about 1.2/sqrt(64) */
  for (uint32_t i = 0; i < plan.length[NB_W_rec]; i++) l.W_rec[i] = rnd(rec), l.W_rec_q12[i] = (int16_t)(l.W_rec[i] >> 12);
  for (uint32_t i = 0; i < plan.length[NB_W_in]; i++) l.W_in[i] = rnd(1 << 24);
  for (uint32_t i = 0; i < plan.length[NB_W_out]; i++) l.W_out[i] = rnd(1 << 21), l.W_out_q12[i] = (int16_t)(l.W_out[i] >> 12);
  for (uint32_t i = 0; i < plan.length[NB_B]; i++) l.B[i] = (int16_t)rnd(1 << 11);
  for (uint32_t i = 0; i < plan.length[NB_h0]; i++) l.h0[i] = 3277;
  if (mode == 2) {
    for (uint32_t i = 0; i < plan.length[NB_W_rec]; i++) {
      rnd(1);
      int32_t w = (int32_t)(rng & 0x7fffffffu) * ((rng >> 31) ? -1 : 1);
      if (i % 4 == 0) w = (i % 8 == 0) ? 2147483647 - (int32_t)(rng & 0xff) : -2147483647 + (int32_t)(rng & 0xff);
      l.W_rec[i] = w;
      l.W_rec_q12[i] = (int16_t)(w >> 16);
    }
    for (uint32_t i = 0; i < plan.length[NB_B]; i++) l.B[i] = (int16_t)rnd(32767);
  }
  ns_reset_state(&l);
  int16_t x[4], t[4], y[4];
  uint32_t total = 0, steps = 0;
  for (int s = 0; s < 40; s++) {
    for (int j = 0; j < 4; j++) x[j] = (int16_t)rnd(4096), t[j] = (int16_t)rnd(2048);
    uint32_t t0 = platform_cycles();
    ns_step(&l, x, t, y);
    uint32_t dt = (platform_cycles() - t0) & 0x00FFFFFFu;
    if (s >= 8) total += dt, steps++;
  }
  uint32_t sat = 0;
  for (int i = 0; i < NS_SAT_COUNT; i++) sat += l.sat[i];
  puts_(kind); puts_(suffix); putu((uint32_t)N); puts_(" "); putu(total / steps); puts_(" ");
  putu(calibrate()); puts_(" "); putu(ns_crc32_update(0, arena, plan.totalBytes)); puts_(" "); putu(sat); puts_("\n");
}

int main(void) {
  platform_init();
  platform_cycles_init();
  static const int sizes[] = { 8, 16, 32, 48, 64 };
  for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    if (sizes[i] > NS_MAX_HIDDEN) break;
    run("output", sizes[i], 0);
    run("rflo", sizes[i], 0);
    run("rflo", sizes[i], 1);
    run("snap1", sizes[i], 0);
    if (sizes[i] == 32) run("rflo", sizes[i], 2), run("snap1", sizes[i], 2);
    if (sizes[i] <= 8) run("rtrl", sizes[i], 0);
  }
  /* an odd N: the rows' two-at-a-time loops start with one trace alone (cores) or take the scalar loop */
  if (NS_MAX_HIDDEN >= 31) run("rflo", 31, 0), run("rflo", 31, 2);
  puts_("done\n");
#if defined(__arm__)
  for (;;) { }
#else
  return 0;
#endif
}
