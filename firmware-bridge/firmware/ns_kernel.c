/*
 * The fixed-point forward step and the learners, ported line by line from runtime/network.ts, runtime/learners/
 * and runtime/learner.ts (formats, rounding and saturation: runtime/ARITHMETIC.md). Every product, sum, rounding
 * and clamp is the runtime's; comments name the TypeScript function each block ports.
 */
#include <string.h>
#include "ns.h"
#include "ns_fixed.h"

/*
 * network.ts forwardQ (Murray 2019, eq. 1-2): u = W_rec h + W_in x + b; h += a (tanh(u) - h); y = W_out h (+ D x).
 * Reads the Q7.24 master weights exactly. The runtime splits each weight into hi = W >> 16 and lo = W & 0xffff and
 * keeps two exact sums; their total hi 2^16 + lo is the exact integer T = W_rec h + 8 W_in x + 2^15 b (Q39), and
 * rsrw(hi + floor(lo / 2^16), 11) = floor((T + 2^26) / 2^27) (nested floors). So T is summed here directly, one
 * 32x16 -> 64 multiply-accumulate per weight (SMLAL on a Cortex-M3), and rounded once: the same integer. |T| stays
 * below (N + 8 M + 1) 2^46, exact in int64 for any N, M <= 65535. y likewise, saturated.
 */
static inline int64_t dot_w32_h16(const int32_t *w, const int16_t *v, int n) {
  int64_t s = 0;
  int k = 0;
#if defined(__thumb2__) && defined(__GNUC__)
  /* ARMv7-M: four weights by two LDRDs, post-incremented loads, one SMLAL each: 3 instructions per weight */
  if (n >= 4) {
    const int32_t *end = w + (n & ~3);
    uint32_t lo = 0;
    int32_t hi = 0, a, b, c, d, e;
    __asm__ volatile(
        "1:\n\t"
        "ldrd   %[a], %[b], [%[w]], #8\n\t"
        "ldrd   %[c], %[d], [%[w]], #8\n\t"
        "ldrsh  %[e], [%[v]], #2\n\t"
        "smlal  %[lo], %[hi], %[a], %[e]\n\t"
        "ldrsh  %[e], [%[v]], #2\n\t"
        "smlal  %[lo], %[hi], %[b], %[e]\n\t"
        "ldrsh  %[e], [%[v]], #2\n\t"
        "smlal  %[lo], %[hi], %[c], %[e]\n\t"
        "ldrsh  %[e], [%[v]], #2\n\t"
        "smlal  %[lo], %[hi], %[d], %[e]\n\t"
        "cmp    %[w], %[end]\n\t"
        "bne    1b"
        : [lo] "+r"(lo), [hi] "+r"(hi), [w] "+r"(w), [v] "+r"(v), [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c),
          [d] "=&r"(d), [e] "=&r"(e)
        : [end] "r"(end), "m"(*(const int32_t(*)[])w), "m"(*(const int16_t(*)[])v)
        : "cc");
    s = (int64_t)(((uint64_t)(uint32_t)hi << 32) | lo);
    n &= 3;
  }
#endif
  for (; k + 4 <= n; k += 4) {
    s += (int64_t)w[k] * v[k];
    s += (int64_t)w[k + 1] * v[k + 1];
    s += (int64_t)w[k + 2] * v[k + 2];
    s += (int64_t)w[k + 3] * v[k + 3];
  }
  for (; k < n; k++) s += (int64_t)w[k] * v[k];
  return s;
}

/* floor((T + 2^26) / 2^27) for an exact Q39 sum T: the Q19.12 result (runtime: rsrw(hi + floor(lo / 2^16), 11)). */
static inline int64_t round_q39_to_q12(int64_t T) {
  return ns_asr64(T + ((int64_t)1 << 26), 27);
}

static void forward(ns_learner *l) {
  const int N = l->p.cfg.hidden, M = l->p.cfg.inputs, O = l->p.cfg.outputs;
  const int32_t alpha = l->p.alpha;
  int16_t *h = l->h, *hp = l->h_prev;
  const int16_t *x = l->x;
  memcpy(hp, h, (size_t)N * sizeof *h);
  const int32_t *wr = l->W_rec, *wi = l->W_in, *bias = l->b;
  int32_t *u = l->u, *dphi = l->dphi, *aphi = l->aphi;
  for (int i = 0; i < N; i++, wr += N, wi += M) {
    const int64_t T = dot_w32_h16(wr, hp, N) + dot_w32_h16(wi, x, M) * 8 + (int64_t)bias[i] * 32768;
    const int64_t ui = round_q39_to_q12(T);
    const int32_t lo = ns_i32(ui), hi = (int32_t)ns_asr64(ui, 32);
    u[i] = lo;
    /* tanh saturates for |u| >= 8.0 (2^15 in Q12): a u wider than int32 (high word not the low word's sign) is
     * clamped to +-INT32_MAX, which changes nothing */
    const int32_t t = ns_tanh_q15_i32(hi == (lo >> 31) ? lo : hi < 0 ? -INT32_MAX : INT32_MAX);
    const int32_t d = 32768 - ns_rsr(t * t, 15); /* dtanhQ15 (ns_dtanh_q15); |t| <= 32767 */
    dphi[i] = d;
    aphi[i] = ns_rsr(ns_imul(alpha, d), 15);
    const int32_t hv = hp[i];
    h[i] = ns_i16(hv + ns_rsr(ns_imul(alpha, t - hv), 15));
  }
  const int32_t *wo = l->W_out, *wd = l->D;
  uint32_t satY = 0;
  for (int o = 0; o < O; o++, wo += N) {
    int64_t T = dot_w32_h16(wo, h, N);
    if (l->p.cfg.direct) { /* D x (Q36) times 8 into the same Q39 sum, before the one rounding */
      T += dot_w32_h16(wd, x, M) * 8;
      wd += M;
    }
    l->y[o] = (int16_t)ns_sat16(round_q39_to_q12(T), &satY);
  }
  l->sat[NS_SAT_Y] += satY;
}

/* network.ts errorQ. */
static void error_q(ns_learner *l) {
  for (int o = 0; o < l->p.cfg.outputs; o++)
    l->e[o] = (int16_t)ns_sat16((int32_t)l->target[o] - l->y[o], &l->sat[NS_SAT_E]);
}

/* network.ts feedbackQ: (W_out^T e)_a or (B e)_a, Q7.24, saturated ('feedback'). */
static void feedback_q(ns_learner *l) {
  const int N = l->p.cfg.hidden, O = l->p.cfg.outputs;
  const int16_t *e = l->e;
  int32_t *fb = l->fb;
  uint32_t sat = 0;
  if (l->p.transpose) {
    for (int a = 0; a < N; a++) {
      int64_t acc = 0;
      for (int o = 0; o < O; o++) acc += (int32_t)l->W_out_q12[(size_t)o * N + a] * e[o];
      fb[a] = ns_sat32(acc, &sat);
    }
  } else {
    const int16_t *B = l->B;
    for (int a = 0; a < N; a++, B += O) {
      int64_t acc = 0;
      for (int o = 0; o < O; o++) acc += (int32_t)B[o] * e[o];
      fb[a] = ns_sat32(acc, &sat);
    }
  }
  l->sat[NS_SAT_FEEDBACK] += sat;
}

/*
 * learners/apply.ts applyStep: W += round(d / 2^shift) * mul, saturated; refresh the Q3.12 copy. A zero change
 * writes nothing (so an already clipped copy is not counted again in 'weights_q12': the counting rule of every path).
 */
static inline void apply_step(ns_learner *l, int32_t *W, int16_t *Wq, size_t i, int64_t d, int satIdx) {
  const int64_t delta = ns_rsrw(d, l->p.shiftApply) * l->p.applyMul;
  if (delta == 0) return;
  int32_t w = ns_sat32((int64_t)W[i] + delta, &l->sat[satIdx]);
  W[i] = w;
  if (Wq) Wq[i] = (int16_t)ns_sat16(ns_rsr(w, 12), &l->sat[NS_SAT_WEIGHTS_Q12]);
}

/* learners/optimized/rflo.ts updateRow ('step' part, general case): apply_step with the 32-bit rounding when d fits. */
static inline void apply_step_nonzero(ns_learner *l, int32_t *W, int16_t *Wq, size_t i, int64_t d, int satIdx) {
  const int sa = l->p.shiftApply;
  int64_t delta = (sa >= 1 && d >= INT32_MIN && d <= INT32_MAX ? (int64_t)ns_rsr((int32_t)d, sa) : ns_rsrw(d, sa)) * l->p.applyMul;
  if (delta == 0) return;
  int32_t w = ns_sat32((int64_t)W[i] + delta, &l->sat[satIdx]);
  W[i] = w;
  if (Wq) Wq[i] = (int16_t)ns_sat16(ns_rsr(w, 12), &l->sat[NS_SAT_WEIGHTS_Q12]);
}

/* learners/apply.ts applyTrial (a zero change writes nothing). */
static void apply_trial(ns_learner *l, int32_t *W, int16_t *Wq, int64_t *acc, size_t n, int32_t m, int shift, int satIdx) {
  for (size_t i = 0; i < n; i++) {
    const int64_t delta = ns_mulwide16(acc[i], m, shift) * l->p.applyMul;
    if (delta == 0) continue;
    int32_t w = ns_sat32((int64_t)W[i] + delta, &l->sat[satIdx]);
    W[i] = w;
    if (Wq) Wq[i] = (int16_t)ns_sat16(ns_rsr(w, 12), &l->sat[NS_SAT_WEIGHTS_Q12]);
  }
}

static void update_row(ns_learner *l, int32_t *W, int16_t *Wq, int64_t *acc, const int16_t *P, size_t len, int32_t f,
                       int accShift, int32_t g, int dShift, int step, int satIdx);

/* learners/output.ts updateOutput: the delta rule on W_out, term e_o h_j (Q27 x 8 -> Q30); with direct also on D,
 * term e_o x_j (Q24 x 64 -> Q30), step update round(g x_j / 2^shiftOutDirect), counted as 'W_out'; with normalized
 * the step is divided by eps + |[h; x]|^2 through the integer reciprocal (runtime/ARITHMETIC.md "Normalised readout"). */
static void update_output(ns_learner *l) {
  const int N = l->p.cfg.hidden, M = l->p.cfg.inputs, O = l->p.cfg.outputs;
  const int step = l->p.cfg.stepMode, accumulate = l->p.cfg.accumulate;
  /* normalised readout (NLMS): one reciprocal of n2 = eps + |h|^2 (+ 64 |x|^2), Q30 exact, per step */
  const int normalized = step && l->p.cfg.normalized;
  int32_t r = 0;
  int sOut = l->p.shiftOut, sDirect = l->p.shiftOutDirect;
  if (normalized) {
    int64_t n2 = l->p.readoutEpsQ30;
    for (int j = 0; j < N; j++) n2 += (int64_t)ns_imul(l->h[j], l->h[j]);
    if (l->p.cfg.direct)
      for (int j = 0; j < M; j++) n2 += (int64_t)ns_imul(l->x[j], l->x[j]) * 64;
    const int32_t pr = ns_nlms_reciprocal(n2);
    const int p = (int)((uint32_t)pr >> 16);
    r = pr & 0xffff;
    sOut = l->p.shiftOut + p - 31;
    sDirect = l->p.shiftOutDirect + p - 31;
  }
  for (int o = 0; o < O; o++) {
    int32_t e = l->e[o];
    if (e == 0) continue;
    int32_t g = ns_imul(e, l->p.etaOutM);
    const int64_t g1 = normalized ? ns_mul32x16(g, r, 15) : 0;
    size_t oo = (size_t)o * N;
    if (accumulate)
      for (int j = 0; j < N; j++) l->acc_W_out[oo + j] += (int64_t)ns_imul(e, l->h[j]) * 8;
    if (step && !normalized) update_row(l, l->W_out + oo, l->W_out_q12 + oo, NULL, l->h, (size_t)N, 0, 0, g, sOut, 1, NS_SAT_W_OUT);
    else if (step)
      for (int j = 0; j < N; j++)
        apply_step(l, l->W_out, l->W_out_q12, oo + j, ns_shift_wide(g1 * l->h[j], sOut), NS_SAT_W_OUT);
    if (!l->p.cfg.direct) continue;
    size_t od = (size_t)o * M;
    if (accumulate)
      for (int j = 0; j < M; j++) l->acc_D[od + j] += (int64_t)ns_imul(e, l->x[j]) * 64;
    if (step && !normalized) update_row(l, l->D + od, NULL, NULL, l->x, (size_t)M, 0, 0, g, sDirect, 1, NS_SAT_W_OUT);
    else if (step)
      for (int j = 0; j < M; j++)
        apply_step(l, l->D, NULL, od + j, ns_shift_wide(g1 * l->x[j], sDirect), NS_SAT_W_OUT);
  }
}

/*
 * The fast 'step' update of learners/optimized/rflo.ts updateRow (fastD) in a form with one shift:
 *   delta = rsr(rsr(t, ds), sa), t = hi(g) p + floor(lo(g) p / 2^16) = floor(g p / 2^16)
 *         = floor((t + K) / 2^S), S = ds + sa, K = 2^(ds-1) + 2^(S-1)     (nested floors: the same integer)
 * Valid for ds >= 1, sa >= 1, S <= 29 (then |t| + K < 2^31: |t| <= 2^30 + 2^15) and applyMul 1 (weightFracBits 24).
 */
typedef struct {
  int ok;        /* the shifts allow the fast form */
  int S;
  int32_t K;
} fast_update;

static inline fast_update fast_update_for(const ns_learner *l, int dShift) {
  fast_update u = { 0, 0, 0 };
  const int ds = dShift - 16, sa = l->p.shiftApply;
  if (ds >= 1 && sa >= 1 && ds + sa <= 29 && l->p.applyMul == 1) {
    u.ok = 1;
    u.S = ds + sa;
    u.K = ((int32_t)1 << (ds - 1)) + ((int32_t)1 << (u.S - 1));
  }
  return u;
}

/* W += delta, saturated (counted in *satW) and the Q3.12 copy refreshed (counted in *satQ); delta != 0. */
static inline void write_weight(int32_t *W, int16_t *Wq, int32_t delta, uint32_t *satW, uint32_t *satQ) {
  int32_t w;
  if (__builtin_add_overflow(*W, delta, &w)) {
    w = delta > 0 ? INT32_MAX : INT32_MIN;
    (*satW)++;
  }
  *W = w;
  if (Wq) {
    const int32_t r = ((w >> 11) + 1) >> 1; /* rsr(w, 12) */
    const int32_t q = ns_ssat16(r);
    *satQ += (uint32_t)(q != r);
    *Wq = (int16_t)q;
  }
}

#if NS_HAVE_Q_ASM
/*
 * The fast 'step' update of a row with a Q3.12 copy (update_row, W_out rows), in assembly on ARMv7-M: byte index
 * counting up to 0 from the row's end; the copy clamped by SSAT, counted only when the row set the Q flag (then
 * recounted from the weights and P); a write that overflows int32 stops the loop and is saturated and counted in C.
 */
static NS_NOINLINE void update_row_q(int32_t *W, int16_t *Wq, const int16_t *P, int32_t n, int32_t ghi, int32_t glo,
                                     fast_update fu, uint32_t *satW, uint32_t *satQ) {
  const int32_t K = fu.K, S = fu.S;
  char *wrE = (char *)(W + n), *wqE = (char *)(Wq + n);
  const char *pE = (const char *)(P + n);
  int32_t i = -2 * n;
  ns_q_clear();
  while (i != 0) {
    int32_t t, u;
    __asm__ volatile(
        "1:\n\t"
        "ldrsh  %[t], [%[p], %[i]]\n\t"
        "mul    %[u], %[glo], %[t]\n\t"
        "mla    %[t], %[ghi], %[t], %[K]\n\t"
        "add    %[t], %[t], %[u], asr #16\n\t"
        "asrs   %[t], %[t], %[S]\n\t"
        "beq    2f\n\t"
        "ldr    %[u], [%[wr], %[i], lsl #1]\n\t"
        "adds   %[u], %[u], %[t]\n\t"
        "bvs    3f\n\t"
        "str    %[u], [%[wr], %[i], lsl #1]\n\t"
        "asr    %[u], %[u], #11\n\t"
        "add    %[u], %[u], #1\n\t"
        "ssat   %[u], #16, %[u], asr #1\n\t"
        "strh   %[u], [%[wq], %[i]]\n"
        "2:\n\t"
        "adds   %[i], %[i], #2\n\t"
        "bne    1b\n"
        "3:"
        : [i] "+r"(i), [t] "=&r"(t), [u] "=&r"(u)
        : [p] "r"(pE), [wr] "r"(wrE), [wq] "r"(wqE), [ghi] "r"(ghi), [glo] "r"(glo), [K] "r"(K), [S] "r"(S)
        : "cc", "memory");
    if (i == 0) break;
    const int32_t w = t > 0 ? INT32_MAX : INT32_MIN;
    (void)u;
    (*satW)++;
    *(int32_t *)(void *)(wrE + 2 * i) = w;
    *(int16_t *)(void *)(wqE + i) = (int16_t)ns_ssat16_asr1((w >> 11) + 1);
    i += 2;
  }
  if (ns_q_read()) {
    uint32_t sq = 0;
    for (int b = 0; b < n; b++) {
      const int32_t p = P[b], r = ((W[b] >> 11) + 1) >> 1;
      if (((ghi * p + K + ((glo * p) >> 16)) >> S) != 0 && (r > 32767 || r < -32768)) sq++;
    }
    *satQ += sq;
  }
}
#endif

/*
 * One row of learners/optimized/rflo.ts updateUnit (updateRow): for each trace p of the row,
 *   acc += mul32x16RoundShift(f, p, accShift);  'step': W += round(mul32x16RoundShift(g, p, dShift) / 2^applyShift) mul
 * with 32-bit arithmetic where it is exact (the runtime's own split, runtime/fixed.ts): f and g are split once per
 * row into a signed high and an unsigned low half; for dShift >= 17 the product is hi(g) p + (lo(g) p >> 16),
 * rounded by one shift (fast_update). Other shifts take the 64-bit helpers. acc is NULL for a learner
 * without gradient accumulators ('step' mode without accumulateGradient): the 64-bit read-modify-write is skipped.
 */
static void update_row(ns_learner *l, int32_t *W, int16_t *Wq, int64_t *acc, const int16_t *P, size_t len, int32_t f,
                       int accShift, int32_t g, int dShift, int step, int satIdx) {
  const int32_t fhi = ns_asr32(f, 16), flo = (int32_t)((uint32_t)f & 0xffffu);
  const int32_t accMul = (int32_t)1 << (16 - accShift);
  const int32_t ghi = ns_asr32(g, 16), glo = (int32_t)((uint32_t)g & 0xffffu);
  if (acc)
    for (size_t i = 0; i < len; i++) {
      const int32_t p = P[i];
      acc[i] += (int64_t)(fhi * p) * accMul + ns_rsr(ns_imul(flo, p), accShift);
    }
  if (!step) return;
  const fast_update fu = fast_update_for(l, dShift);
  if (fu.ok) {
    /* The usual case (runtime: updateRow's fastD): every product and rounding in 32 bits. */
    uint32_t satW = 0, satQ = 0;
#if NS_HAVE_Q_ASM
    if (Wq) {
      update_row_q(W, Wq, P, (int32_t)len, ghi, glo, fu, &satW, &satQ);
      l->sat[satIdx] += satW;
      l->sat[NS_SAT_WEIGHTS_Q12] += satQ;
      return;
    }
#endif
    for (size_t i = 0; i < len; i++) {
      const int32_t p = P[i];
      const int32_t delta = (ghi * p + fu.K + ((glo * p) >> 16)) >> fu.S;
      if (delta != 0) write_weight(W + i, Wq ? Wq + i : NULL, delta, &satW, &satQ);
    }
    l->sat[satIdx] += satW;
    l->sat[NS_SAT_WEIGHTS_Q12] += satQ;
    return;
  }
  const int ds = dShift - 16;
  for (size_t i = 0; i < len; i++) {
    const int32_t p = P[i];
    apply_step_nonzero(l, W, Wq, i, dShift >= 17 ? ns_rsr(ghi * p + ns_asr32(ns_imul(glo, p), 16), ds) : ns_mul32x16(g, p, dShift), satIdx);
  }
}

/*
 * The RFLO row in one pass (traces_and_updates): p := round((d p + c h_prev) / 2^15), which cannot clamp here
 * (d, c >= 0, d + c <= 2^15), then the fast 'step' update of the weight with the new p. W saturations are counted in
 * *satW; the Q3.12 copy's in *satQ. On a core with the Q flag (ARMv7-M) the copy is clamped by SSAT without a
 * comparison per weight: the row clears Q, and only a row that set it is counted again afterwards, from the
 * weights and new traces, by recomputing which weights changed (the same delta) and which of those clip.
 */
#if NS_HAVE_Q_ASM
/* One trace and weight of rflo_row_fused (the Q flag counts the copy's clamp). */
static inline void fused_one(int16_t *pr, const int16_t *hp, int32_t *wr, int16_t *wq, int32_t d, int32_t c, int32_t g,
                             int32_t ghi, int32_t glo, int32_t K, int S, uint32_t *sw) {
  const int32_t p = ns_mla(d, *pr, ns_mla(c, *hp, 16384)) >> 15;
  *pr = (int16_t)p;
  const int32_t delta = ns_mul_hi16_add(g, ghi, glo, p, K) >> S;
  if (delta == 0) return;
  int32_t w;
  if (__builtin_add_overflow(*wr, delta, &w)) {
    w = delta > 0 ? INT32_MAX : INT32_MIN;
    (*sw)++;
  }
  *wr = w;
  *wq = (int16_t)ns_ssat16_asr1((w >> 11) + 1);
}
#endif

static inline __attribute__((always_inline)) void rflo_row_fused(int16_t *pr, const int16_t *hp, int32_t *wr, int16_t *wq, int n, int32_t d,
                                       int32_t c, int32_t g, fast_update fu, uint32_t *satW, uint32_t *satQ) {
  const int32_t ghi = ns_asr32(g, 16), glo = (int32_t)((uint32_t)g & 0xffffu), K = fu.K;
  const int S = fu.S;
  uint32_t sw = 0;
  (void)ghi, (void)glo;
#if NS_HAVE_Q_ASM
  const int32_t R = 16384;
  ns_q_clear();
  int b = 0;
#if defined(__ARM_FEATURE_DSP)
  /* Cortex-M4, in assembly: two traces per pass, each pair (p_b, h_b) packed (PKHBT/PKHTB) against (d, c) for one
   * SMLAD; d <= 2^15 - 1 always, c only below 2^15 (else the loop below). The new pair is stored as one word and
   * its halves feed SMLAWB/SMLAWT (floor(g p / 2^16) + K) directly. No sum can overflow (|d p + c h| + 2^14 < 2^31,
   * |g p / 2^16| + K < 2^31), so SMLAD and SMLAW* never set Q: only the SSAT does. A weight write that overflows
   * int32 leaves the loop (bvs) to be saturated and counted in C, with the other weight of its pair. */
  if (d <= 32767 && c <= 32767 && (n & 1) == 0) {
    const int32_t dc = (int32_t)(((uint32_t)c << 16) | (uint32_t)d);
    char *prE = (char *)(pr + n), *wqE = (char *)(wq + n), *wrE = (char *)(wr + n);
    const char *hpE = (const char *)(hp + n);
    const int32_t i0 = -2 * n;
    int32_t i = i0;
    while (i != 0) {
      int32_t x, y, z;
      __asm__ volatile(
          "1:\n\t"
          "ldr    %[x], [%[pr], %[i]]\n\t"
          "ldr    %[y], [%[hp], %[i]]\n\t"
          "pkhbt  %[z], %[x], %[y], lsl #16\n\t"
          "pkhtb  %[y], %[y], %[x], asr #16\n\t"
          "smlad  %[z], %[z], %[dc], %[R]\n\t"
          "smlad  %[y], %[y], %[dc], %[R]\n\t"
          "asr    %[z], %[z], #15\n\t"
          "pkhbt  %[x], %[z], %[y], lsl #1\n\t"
          "str    %[x], [%[pr], %[i]]\n\t"
          "smlawb %[z], %[g], %[x], %[K]\n\t"
          "asrs   %[z], %[z], %[S]\n\t"
          "beq    2f\n\t"
          "ldr    %[y], [%[wr], %[i], lsl #1]\n\t"
          "adds   %[y], %[y], %[z]\n\t"
          "bvs    3f\n\t"
          "str    %[y], [%[wr], %[i], lsl #1]\n\t"
          "asr    %[y], %[y], #11\n\t"
          "add    %[y], %[y], #1\n\t"
          "ssat   %[y], #16, %[y], asr #1\n\t"
          "strh   %[y], [%[wq], %[i]]\n"
          "2:\n\t"
          "add    %[i], %[i], #2\n\t"
          "smlawt %[z], %[g], %[x], %[K]\n\t"
          "asrs   %[z], %[z], %[S]\n\t"
          "beq    4f\n\t"
          "ldr    %[y], [%[wr], %[i], lsl #1]\n\t"
          "adds   %[y], %[y], %[z]\n\t"
          "bvs    3f\n\t"
          "str    %[y], [%[wr], %[i], lsl #1]\n\t"
          "asr    %[y], %[y], #11\n\t"
          "add    %[y], %[y], #1\n\t"
          "ssat   %[y], #16, %[y], asr #1\n\t"
          "strh   %[y], [%[wq], %[i]]\n"
          "4:\n\t"
          "adds   %[i], %[i], #2\n\t"
          "bne    1b\n"
          "3:"
          : [i] "+r"(i), [x] "=&r"(x), [y] "=&r"(y), [z] "=&r"(z)
          : [pr] "r"(prE), [hp] "r"(hpE), [wr] "r"(wrE), [wq] "r"(wqE), [dc] "r"(dc), [g] "r"(g), [K] "r"(K),
            [S] "r"(S), [R] "r"(R)
          : "cc", "memory");
      if (i == 0) break;
      /* the write at byte offset i overflowed (z is the change); when it was the first of a pair, the second's
       * trace is already advanced: its weight is updated here too */
      const int first = ((i - i0) & 2) == 0;
      sw++;
      const int32_t w = z > 0 ? INT32_MAX : INT32_MIN;
      *(int32_t *)(void *)(wrE + 2 * i) = w;
      *(int16_t *)(void *)(wqE + i) = (int16_t)ns_ssat16_asr1((w >> 11) + 1);
      i += 2;
      if (first) {
        const int e = n + i / 2;
        const int32_t delta = __smlawb(g, pr[e], K) >> S;
        if (delta != 0) {
          int32_t v;
          if (__builtin_add_overflow(wr[e], delta, &v)) {
            v = delta > 0 ? INT32_MAX : INT32_MIN;
            sw++;
          }
          wr[e] = v;
          wq[e] = (int16_t)ns_ssat16_asr1((v >> 11) + 1);
        }
        i += 2;
      }
    }
    b = n;
  }
#elif defined(__thumb2__) && defined(__GNUC__)
  /* Cortex-M3: the loop in assembly with one byte index counting up to 0 from the row's end (register-offset
   * addressing, no pointer increments): 14 instructions per trace whose weight does not change, 22 per one that does.
   * It stops early at a weight write that overflows int32 (bvs, rare), which the C below saturates and counts. */
  {
    char *prE = (char *)(pr + n), *wqE = (char *)(wq + n), *wrE = (char *)(wr + n);
    const char *hpE = (const char *)(hp + n);
    int32_t i = -2 * n;
    /* the loop below takes two traces per pass: an odd count starts with one in C */
    if (n & 1) {
      fused_one(pr, hp, wr, wq, d, c, g, ghi, glo, K, S, &sw);
      i += 2;
    }
    while (i != 0) {
      int32_t t, u;
      __asm__ volatile(
          "1:\n\t"
          "ldrsh  %[t], [%[hp], %[i]]\n\t"
          "ldrsh  %[u], [%[pr], %[i]]\n\t"
          "mla    %[t], %[c], %[t], %[R]\n\t"
          "mla    %[t], %[d], %[u], %[t]\n\t"
          "asr    %[t], %[t], #15\n\t"
          "strh   %[t], [%[pr], %[i]]\n\t"
          "mul    %[u], %[glo], %[t]\n\t"
          "mla    %[t], %[ghi], %[t], %[K]\n\t"
          "add    %[t], %[t], %[u], asr #16\n\t"
          "asrs   %[t], %[t], %[S]\n\t"
          "beq    2f\n\t"
          "ldr    %[u], [%[wr], %[i], lsl #1]\n\t"
          "adds   %[u], %[u], %[t]\n\t"
          "bvs    3f\n\t"
          "str    %[u], [%[wr], %[i], lsl #1]\n\t"
          "asr    %[u], %[u], #11\n\t"
          "add    %[u], %[u], #1\n\t"
          "ssat   %[u], #16, %[u], asr #1\n\t"
          "strh   %[u], [%[wq], %[i]]\n"
          "2:\n\t"
          "add    %[i], %[i], #2\n\t"
          "ldrsh  %[t], [%[hp], %[i]]\n\t"
          "ldrsh  %[u], [%[pr], %[i]]\n\t"
          "mla    %[t], %[c], %[t], %[R]\n\t"
          "mla    %[t], %[d], %[u], %[t]\n\t"
          "asr    %[t], %[t], #15\n\t"
          "strh   %[t], [%[pr], %[i]]\n\t"
          "mul    %[u], %[glo], %[t]\n\t"
          "mla    %[t], %[ghi], %[t], %[K]\n\t"
          "add    %[t], %[t], %[u], asr #16\n\t"
          "asrs   %[t], %[t], %[S]\n\t"
          "beq    4f\n\t"
          "ldr    %[u], [%[wr], %[i], lsl #1]\n\t"
          "adds   %[u], %[u], %[t]\n\t"
          "bvs    3f\n\t"
          "str    %[u], [%[wr], %[i], lsl #1]\n\t"
          "asr    %[u], %[u], #11\n\t"
          "add    %[u], %[u], #1\n\t"
          "ssat   %[u], #16, %[u], asr #1\n\t"
          "strh   %[u], [%[wq], %[i]]\n"
          "4:\n\t"
          "adds   %[i], %[i], #2\n\t"
          "bne    1b\n"
          "3:"
          : [i] "+r"(i), [t] "=&r"(t), [u] "=&r"(u)
          : [pr] "r"(prE), [hp] "r"(hpE), [wr] "r"(wrE), [wq] "r"(wqE), [d] "r"(d), [c] "r"(c), [ghi] "r"(ghi),
            [glo] "r"(glo), [K] "r"(K), [S] "r"(S), [R] "r"(R)
          : "cc", "memory");
      if (i == 0) break;
      /* the write at byte offset i overflowed: t is the change */
      const int32_t w = t > 0 ? INT32_MAX : INT32_MIN;
      (void)u;
      sw++;
      *(int32_t *)(void *)(wrE + 2 * i) = w;
      *(int16_t *)(void *)(wqE + i) = (int16_t)ns_ssat16_asr1((w >> 11) + 1);
      i += 2;
      if ((i >> 1) & 1) { /* an odd count left: one in C */
        const int e = n + i / 2;
        fused_one(pr + e, hp + e, wr + e, wq + e, d, c, g, ghi, glo, K, S, &sw);
        i += 2;
      }
    }
    b = n;
  }
#endif
  for (; b < n; b++) {
    const int32_t p = ns_mla(d, pr[b], ns_mla(c, hp[b], R)) >> 15;
    pr[b] = (int16_t)p;
    const int32_t delta = ns_mul_hi16_add(g, ghi, glo, p, K) >> S;
    if (delta == 0) continue;
    int32_t w;
    if (__builtin_add_overflow(wr[b], delta, &w)) {
      w = delta > 0 ? INT32_MAX : INT32_MIN;
      sw++;
    }
    wr[b] = w;
    wq[b] = (int16_t)ns_ssat16_asr1((w >> 11) + 1);
  }
  if (ns_q_read()) {
    uint32_t sq = 0;
    for (int b = 0; b < n; b++) {
      const int32_t p = pr[b], r = ((wr[b] >> 11) + 1) >> 1;
      if (((ghi * p + K + ((glo * p) >> 16)) >> S) != 0 && (r > 32767 || r < -32768)) sq++;
    }
    *satQ += sq;
  }
#else
  uint32_t sq = 0;
  for (int b = 0; b < n; b++) {
    const int32_t p = (d * pr[b] + c * hp[b] + 16384) >> 15;
    pr[b] = (int16_t)p;
    const int32_t delta = (ghi * p + K + ((glo * p) >> 16)) >> S;
    if (delta != 0) write_weight(wr + b, wq + b, delta, &sw, &sq);
  }
  *satQ += sq;
#endif
  *satW += sw;
}

/*
 * The rest of an RFLO unit in one call (traces_and_updates, rows with d, c >= 0, d + c <= 2^15): the W_in trace row
 * (cannot clamp, as the W_rec row) and its fast 'step' update, then the bias trace (general form: c 2^fr can clamp,
 * counted in counts[2]) and its update. W_in saturations in counts[0], b's in counts[1].
 */
static inline void rflo_small_rows_fused(int16_t *pi, const int16_t *x, int32_t *wi, int M, int32_t d, int32_t c,
                                              int32_t g, fast_update fuIn, int16_t *pb, int32_t *bias, fast_update fu,
                                              int fr, uint32_t *counts) {
  const int32_t ghi = ns_asr32(g, 16), glo = (int32_t)((uint32_t)g & 0xffffu);
  int b = 0;
#if defined(__thumb2__) && defined(__GNUC__)
  /* ARMv7-M: the W_in row as the W_rec row's loop (rflo_row_fused) without a Q3.12 copy; a write that overflows
   * int32 leaves the loop and is saturated and counted here */
  {
    char *piE = (char *)(pi + M), *wiE = (char *)(wi + M);
    const char *xE = (const char *)(x + M);
    const int32_t K = fuIn.K, S = fuIn.S, R = 16384;
    int32_t i = -2 * M;
    (void)ghi, (void)glo;
    while (i != 0) {
      int32_t t, u;
      __asm__ volatile(
          "1:\n\t"
          "ldrsh  %[t], [%[x], %[i]]\n\t"
          "ldrsh  %[u], [%[pi], %[i]]\n\t"
          "mla    %[t], %[c], %[t], %[R]\n\t"
          "mla    %[t], %[d], %[u], %[t]\n\t"
          "asr    %[t], %[t], #15\n\t"
          "strh   %[t], [%[pi], %[i]]\n\t"
#if defined(__ARM_FEATURE_DSP)
          "smlawb %[t], %[g], %[t], %[K]\n\t"
#else
          "mul    %[u], %[glo], %[t]\n\t"
          "mla    %[t], %[ghi], %[t], %[K]\n\t"
          "add    %[t], %[t], %[u], asr #16\n\t"
#endif
          "asrs   %[t], %[t], %[S]\n\t"
          "beq    2f\n\t"
          "ldr    %[u], [%[wi], %[i], lsl #1]\n\t"
          "adds   %[u], %[u], %[t]\n\t"
          "bvs    3f\n\t"
          "str    %[u], [%[wi], %[i], lsl #1]\n"
          "2:\n\t"
          "adds   %[i], %[i], #2\n\t"
          "bne    1b\n"
          "3:"
          : [i] "+r"(i), [t] "=&r"(t), [u] "=&r"(u)
          : [pi] "r"(piE), [x] "r"(xE), [wi] "r"(wiE), [d] "r"(d), [c] "r"(c),
#if defined(__ARM_FEATURE_DSP)
            [g] "r"(g),
#else
            [ghi] "r"(ghi), [glo] "r"(glo),
#endif
            [K] "r"(K), [S] "r"(S), [R] "r"(R)
          : "cc", "memory");
      if (i == 0) break;
      counts[0]++;
      *(int32_t *)(void *)(wiE + 2 * i) = t > 0 ? INT32_MAX : INT32_MIN;
      i += 2;
    }
    b = M;
  }
#endif
  for (; b < M; b++) {
    const int32_t p = (d * pi[b] + c * x[b] + 16384) >> 15;
    pi[b] = (int16_t)p;
    const int32_t delta = (ghi * p + fuIn.K + ((glo * p) >> 16)) >> fuIn.S;
    if (delta != 0) write_weight(wi + b, NULL, delta, &counts[0], NULL);
  }
  /* up = 0 here (d <= 2^15); c 2^fr < 2^31 */
  const int32_t p = ns_sat16(ns_rsr(ns_i32((int64_t)d * *pb + (int64_t)c * ((int64_t)1 << fr)), 15), &counts[2]);
  *pb = (int16_t)p;
  const int32_t delta = (ghi * p + fu.K + ((glo * p) >> 16)) >> fu.S;
  if (delta != 0) write_weight(bias, NULL, delta, &counts[1], NULL);
}

/*
 * RFLO 'step' learning without accumulators, the usual case, for every unit a whose rows take the fast forms
 * (f_a != 0, d, c >= 0, d + c <= 2^15; traces_and_updates takes the others): the W_rec row (rflo_row_fused), then
 * W_in and b (rflo_small_rows_fused). Units of RFLO are independent (a unit's update reads its own rows only and
 * nothing here writes aphi or fb), so doing these first changes no number. cnt: W_rec, weights_q12, W_in, b, trace,
 * gain saturations. Returns the number of units done.
 */
static NS_NOINLINE int rflo_fast_units(ns_learner *l, fast_update fu, fast_update fuIn, uint32_t *cnt) {
  const int N = l->p.cfg.hidden, M = l->p.cfg.inputs;
  const int32_t d = l->p.oneMinusAlpha, m = l->p.etaRecM;
  const int32_t *aphi = l->aphi, *fb = l->fb;
  const int16_t *hp = l->h_prev, *x = l->x;
  int done = 0;
  for (int a = 0; a < N; a++) {
    const int32_t c = aphi[a], f = fb[a];
    if (f == 0 || !(c >= 0 && d >= 0 && d + c <= 32768)) continue;
    done++;
    const int32_t g = ns_sat32(ns_mul32x16(f, m, 15), &cnt[5]);
    const size_t ro = (size_t)a * N, io = (size_t)a * M;
    rflo_row_fused(l->P_rec + ro, hp, l->W_rec + ro, l->W_rec_q12 + ro, N, d, c, g, fu, &cnt[0], &cnt[1]);
    rflo_small_rows_fused(l->P_in + io, x, l->W_in + io, M, d, c, g, fuIn, l->P_b + a, l->b + a, fu, 15, &cnt[2]);
  }
  return done;
}

/*
 * learners/rflo.ts advanceTraceRow and snap1.ts snap1Decay (Murray 2019, eq. 13-14; SnAp-1: Menick et al. 2021),
 * then learners/rflo.ts updateTraceUnit (optimized/rflo.ts updateUnit) for the same unit, one unit a at a time:
 *   P := round((d P + c v) / 2^15), d = 1 - alpha or the SnAp-1 decay (clamped to [0, 2], 'decay'),
 *   c = alpha phi'(u_a); a row with d > 1 is computed around 1, up P + round(((d - up 2^15) P + c v) / 2^15),
 *   so every product and sum stays in int32; saturated ('trace').
 *   Learning (target given, f_a = fb_a != 0): term f_a P (Q30) to the accumulators; 'step' mode applies
 *   round(g_a P), g_a = f_a m >> 15 ('gain').
 * The runtime advances every row before it updates any weight; a unit's update reads only its own trace rows and
 * the advance reads no weight but SnAp-1's own diagonal W_rec_q12[a][a] (written only by unit a's update, after),
 * so taking them unit by unit gives the same numbers. The RFLO row (Q1.15, d = 2^15 - alpha <= 2^15) cannot
 * saturate while d + c <= 2^15, which always holds (c = round(alpha phi' / 2^15) <= alpha, phi' <= 1):
 * |d P + c v| <= 2^15 (d + c), so |round(. / 2^15)| <= 2^15 and >= -2^15 exactly; such a row is advanced and
 * its W_rec row updated in one pass without a clamp. Any other row takes the general form.
 */
static NS_NOINLINE void traces_and_updates(ns_learner *l, int snap, int learn) {
  const int N = l->p.cfg.hidden, M = l->p.cfg.inputs, fr = l->p.traceFracRec;
  const int step = l->p.cfg.stepMode, accumulate = l->p.cfg.accumulate;
  const int sr = fr - 6, si = l->p.traceFracIn - 6;
  int16_t *Pr = l->P_rec, *Pi = l->P_in, *Pb = l->P_b;
  const int16_t *hp = l->h_prev, *x = l->x;
  uint32_t satT = 0, satDecay = 0, satGain = 0, satW = 0, satQ = 0, satWin = 0, satB = 0;
  const fast_update fu = fast_update_for(l, l->p.shiftTraceRec), fuIn = fast_update_for(l, l->p.shiftTraceIn);
  const int fusedOk = step && !accumulate && fu.ok;
  uint32_t counts[3] = { 0, 0, 0 };
  const int fastUnits = !snap && learn && fr == 15 && fusedOk && fuIn.ok;
  int allDone = 0;
  if (fastUnits) {
    uint32_t cnt[6] = { 0, 0, 0, 0, 0, 0 };
    allDone = rflo_fast_units(l, fu, fuIn, cnt) == N;
    satW += cnt[0], satQ += cnt[1], satWin += cnt[2], satB += cnt[3], satT += cnt[4], satGain += cnt[5];
  }
  for (int a = 0; a < N && !allDone; a++) {
    const int32_t c = l->aphi[a];
    int32_t d = l->p.oneMinusAlpha;
    if (fastUnits && l->fb[a] != 0 && c >= 0 && d >= 0 && d + c <= 32768) continue; /* done by rflo_fast_units */
    if (snap) {
      d += ns_rsr(ns_imul(c, l->W_rec_q12[(size_t)a * N + a]), 12);
      if (d > 65536) { satDecay++; d = 65536; }
      else if (d < 0) { satDecay++; d = 0; }
      l->decay[a] = d;
    }
    const int32_t up = d > 32768 ? 1 : 0, m = d - up * 32768;
    const int32_t f = learn ? l->fb[a] : 0;
    const int32_t g = f != 0 && step ? ns_sat32(ns_mul32x16(f, l->p.etaRecM, 15), &satGain) : 0;
    const size_t ro = (size_t)a * N, io = (size_t)a * M;
    int16_t *pr = Pr + ro;
    const int rowSafe = c >= 0 && d >= 0 && d + c <= 32768, noClamp = fr == 15 && rowSafe;
    if (noClamp && f != 0 && fusedOk) {
      rflo_row_fused(pr, hp, l->W_rec + ro, l->W_rec_q12 + ro, N, d, c, g, fu, &satW, &satQ);
    } else {
      if (noClamp) {
        for (int b = 0; b < N; b++) pr[b] = (int16_t)((d * pr[b] + c * hp[b] + 16384) >> 15);
      } else if (fr == 15) {
        for (int b = 0; b < N; b++)
          pr[b] = (int16_t)ns_sat16(ns_rsr(ns_i32((int64_t)ns_imul(d, pr[b]) + ns_imul(c, hp[b])), 15), &satT);
      } else {
        for (int b = 0; b < N; b++)
          pr[b] = (int16_t)ns_sat16(
              up * pr[b] + ns_rsr(ns_i32((int64_t)ns_imul(m, pr[b]) + ns_rsr(ns_imul(c, hp[b]), 15 - fr)), 15), &satT);
      }
      if (f != 0)
        update_row(l, l->W_rec + ro, l->W_rec_q12 + ro, accumulate ? l->acc_W_rec + ro : NULL, pr, (size_t)N, f, sr, g,
                   l->p.shiftTraceRec, step, NS_SAT_W_REC);
    }
    int16_t *pi = Pi + io;
    if (rowSafe && f != 0 && fusedOk && fuIn.ok) {
      rflo_small_rows_fused(pi, x, l->W_in + io, M, d, c, g, fuIn, Pb + a, l->b + a, fu, fr, counts);
      continue;
    }
    if (rowSafe) /* the same bound as the RFLO row: x is int16 too */
      for (int b = 0; b < M; b++) pi[b] = (int16_t)((d * pi[b] + c * x[b] + 16384) >> 15);
    else
      for (int b = 0; b < M; b++)
        pi[b] = (int16_t)ns_sat16(up * pi[b] + ns_rsr(ns_i32((int64_t)ns_imul(m, pi[b]) + ns_imul(c, x[b])), 15), &satT);
    Pb[a] = (int16_t)ns_sat16(
        up * Pb[a] + ns_rsr(ns_i32((int64_t)ns_imul(m, Pb[a]) + (int64_t)c * ((int64_t)1 << fr)), 15), &satT);
    if (f == 0) continue;
    update_row(l, l->W_in + io, NULL, accumulate ? l->acc_W_in + io : NULL, pi, (size_t)M, f, si, g, l->p.shiftTraceIn, step, NS_SAT_W_IN);
    update_row(l, l->b + a, NULL, accumulate ? l->acc_b + a : NULL, Pb + a, 1, f, sr, g, l->p.shiftTraceRec, step, NS_SAT_B);
  }
  satWin += counts[0];
  satB += counts[1];
  satT += counts[2];
  l->sat[NS_SAT_W_IN] += satWin;
  l->sat[NS_SAT_B] += satB;
  l->sat[NS_SAT_TRACE] += satT;
  l->sat[NS_SAT_DECAY] += satDecay;
  l->sat[NS_SAT_GAIN] += satGain;
  l->sat[NS_SAT_W_REC] += satW;
  l->sat[NS_SAT_WEIGHTS_Q12] += satQ;
}

/*
 * learners/rtrl.ts advanceRtrl (Williams & Zipser 1989): S' = (1-a) S + a phi'_j (direct + sum_k W_jk S_k).
 * The sums keep the runtime's split (hi = S >> 16 signed, lo = S & 0xffff) so the scratch buffers match too.
 */
static void advance_rtrl(ns_learner *l) {
  const int N = l->p.cfg.hidden, M = l->p.cfg.inputs, T = l->p.theta;
  const int inBase = N * N, bBase = N * N + N * M;
  int32_t *S = l->S, *Sn = l->S_next;
  int64_t *hi = l->sum_hi, *lo = l->sum_lo;
  uint32_t *ss = &l->sat[NS_SAT_SENS];
  for (int j = 0; j < N; j++) {
    for (int t = 0; t < T; t++) hi[t] = 0, lo[t] = 0;
    for (int k = 0; k < N; k++) {
      const int32_t w = l->W_rec_q12[(size_t)j * N + k];
      if (w == 0) continue;
      const int32_t *sk = S + (size_t)k * T;
      for (int t = 0; t < T; t++) {
        hi[t] += w * ns_asr32(sk[t], 16);
        lo[t] += w * (int32_t)((uint32_t)sk[t] & 0xffffu);
      }
    }
    const int32_t c = l->aphi[j], keep = l->p.oneMinusAlpha;
    size_t base = (size_t)j * T;
    for (int t = 0; t < T; t++) {
      int64_t inner = hi[t] * 16 + ns_rsrw(lo[t], 12);
      if (t >= j * N && t < j * N + N) inner += (int64_t)l->h_prev[t - j * N] * 32;
      else if (t >= inBase + j * M && t < inBase + j * M + M) inner += (int64_t)l->x[t - inBase - j * M] * 256;
      else if (t == bBase + j) inner += 1048576;
      int32_t in32 = ns_sat32(inner, ss);
      Sn[base + t] = ns_sat32(ns_mul32x16(S[base + t], keep, 15) + ns_mul32x16(in32, c, 15), ss);
    }
  }
  memcpy(S, Sn, (size_t)N * T * sizeof *S);
}

/* learners/rtrl.ts updateRtrl: D_theta = sum_j c_j S_j,theta (Q32), accumulated in Q30; 'step' applies D m. */
static void update_rtrl(ns_learner *l) {
  const int N = l->p.cfg.hidden, T = l->p.theta;
  const int nRec = N * N, nIn = N * l->p.cfg.inputs;
  const int step = l->p.cfg.stepMode, accumulate = l->p.cfg.accumulate;
  int64_t *hi = l->sum_hi, *lo = l->sum_lo;
  for (int t = 0; t < T; t++) hi[t] = 0, lo[t] = 0;
  for (int j = 0; j < N; j++) {
    const int32_t c = ns_sat16(ns_rsr(l->fb[j], 12), &l->sat[NS_SAT_FEEDBACK]);
    if (c == 0) continue;
    const int32_t *sj = l->S + (size_t)j * T;
    for (int t = 0; t < T; t++) {
      hi[t] += c * ns_asr32(sj[t], 16);
      lo[t] += c * (int32_t)((uint32_t)sj[t] & 0xffffu);
    }
  }
  for (int t = 0; t < T; t++) {
    int64_t term = hi[t] * 16384 + ns_rsrw(lo[t], 2);
    int64_t d = 0;
    if (step)
      d = ns_mul32x16(ns_sat32(hi[t] * 16 + ns_rsrw(lo[t], 12), &l->sat[NS_SAT_GRAD]), l->p.etaRecM, l->p.shiftRtrl);
    if (t < nRec) {
      if (accumulate) l->acc_W_rec[t] += term;
      if (step) apply_step(l, l->W_rec, l->W_rec_q12, (size_t)t, d, NS_SAT_W_REC);
    } else if (t < nRec + nIn) {
      if (accumulate) l->acc_W_in[t - nRec] += term;
      if (step) apply_step(l, l->W_in, NULL, (size_t)(t - nRec), d, NS_SAT_W_IN);
    } else {
      if (accumulate) l->acc_b[t - nRec - nIn] += term;
      if (step) apply_step(l, l->b, NULL, (size_t)(t - nRec - nIn), d, NS_SAT_B);
    }
  }
}

/* learner.ts stepQ + core. */
void ns_step(ns_learner *l, const int16_t *x, const int16_t *target, int16_t *out) {
  ns_step_missing(l, x, 0, target, 0, out);
}

/* learner.ts stepQ with missing readings: a missing input holds its last value (x_invalid), a missing target
 * makes the step inference only (target_invalid). */
void ns_step_missing(ns_learner *l, const int16_t *x, const uint8_t *xMissing, const int16_t *target,
                     int targetMissing, int16_t *out) {
  const int kind = l->p.cfg.kind;
  const int M = l->p.cfg.inputs;
  for (int j = 0; j < M; j++) {
    if (xMissing && xMissing[j]) l->sat[NS_SAT_X_INVALID]++;
    else l->x[j] = x[j];
  }
  if (targetMissing) {
    l->sat[NS_SAT_TARGET_INVALID]++;
    target = 0;
  }
  if (target) memcpy(l->target, target, (size_t)l->p.cfg.outputs * sizeof *target);
  forward(l);
  l->steps[0]++;
  if (kind == NS_RTRL) {
    advance_rtrl(l);
    if (target) {
      error_q(l);
      feedback_q(l);
      update_rtrl(l);
    }
  } else if (kind == NS_RFLO || kind == NS_SNAP1) {
    if (target) {
      error_q(l);
      feedback_q(l);
    }
    traces_and_updates(l, kind == NS_SNAP1, target != 0);
  } else if (target) {
    error_q(l);
  }
  if (target) update_output(l);
  memcpy(out, l->y, (size_t)l->p.cfg.outputs * sizeof *out);
}

/* learner.ts resetState: h := h0, traces and sensitivities := 0. */
void ns_reset_state(ns_learner *l) {
  const ns_plan *p = &l->p;
  memcpy(l->h, l->h0, p->length[NB_h] * 2u);
  memcpy(l->h_prev, l->h0, p->length[NB_h] * 2u);
  memset(l->P_in, 0, p->length[NB_P_in] * 2u);
  memset(l->P_rec, 0, p->length[NB_P_rec] * 2u);
  memset(l->P_b, 0, p->length[NB_P_b] * 2u);
  memset(l->S, 0, p->length[NB_S] * 4u);
  memset(l->S_next, 0, p->length[NB_S_next] * 4u);
}

/* learner.ts endTrial: in 'trial' mode apply the accumulated terms; then clear the accumulators. */
void ns_end_trial(ns_learner *l) {
  const ns_plan *p = &l->p;
  if (!p->cfg.stepMode) {
    apply_trial(l, l->W_rec, l->W_rec_q12, l->acc_W_rec, p->length[NB_W_rec], p->etaRecM, p->shiftTrialRec, NS_SAT_W_REC);
    apply_trial(l, l->W_in, NULL, l->acc_W_in, p->length[NB_W_in], p->etaRecM, p->shiftTrialRec, NS_SAT_W_IN);
    apply_trial(l, l->b, NULL, l->acc_b, p->length[NB_b], p->etaRecM, p->shiftTrialRec, NS_SAT_B);
    apply_trial(l, l->W_out, l->W_out_q12, l->acc_W_out, p->length[NB_W_out], p->etaOutM, p->shiftTrialOut, NS_SAT_W_OUT);
    apply_trial(l, l->D, NULL, l->acc_D, p->length[NB_D], p->etaOutM, p->shiftTrialOut, NS_SAT_W_OUT);
  }
  memset(l->acc_W_in, 0, p->length[NB_acc_W_in] * 8u);
  memset(l->acc_W_rec, 0, p->length[NB_acc_W_rec] * 8u);
  memset(l->acc_b, 0, p->length[NB_acc_b] * 8u);
  memset(l->acc_W_out, 0, p->length[NB_acc_W_out] * 8u);
  memset(l->acc_D, 0, p->length[NB_acc_D] * 8u);
}
