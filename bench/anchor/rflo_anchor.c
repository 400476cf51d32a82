/*
 * The optimized C anchor of `neurostream bench`: the fastest RFLO 'step' learner we can write in C for the runtime's
 * own arithmetic (runtime/ARITHMETIC.md: Q7.24 master weights read exactly by the forward pass, Q1.15 traces, round
 * half up everywhere, every saturation counted), so that "wasm vs C" compares like with like. It works on the
 * firmware's arena (firmware-bridge/firmware/ns.h, loaded from a runtime snapshot) and is checked bit for bit against
 * the TypeScript runtime (test/anchor.test.ts: golden vectors and random full-range arenas at N = 8, 64, 256).
 *
 * What makes it fast, for the same results:
 *  - no Q30 gradient accumulators: in 'step' mode only readGradient() reads acc_*, so the anchor skips the 64-bit
 *    read-modify-write per weight per step (acc_W_in, acc_W_rec, acc_b, acc_W_out, acc_D keep whatever they held;
 *    every other arena byte equals the runtime's);
 *  - the forward matvec sums the exact products W h (int32 x int16 < 2^46) in one int64 sum per row, instead of the
 *    two split sums: the exact total is the same, and so is its one rounding floor((total + 2^26) / 2^27);
 *  - per unit, the trace recursion and the weight update in one pass over the row (trace, W_rec, W_rec_q12), every
 *    lane in 32-bit integers with branch-free saturation counted by reductions, so gcc -O3 -march=native
 *    vectorises each row loop (AVX2 / AVX-512: 8 or 16 lanes); where the compiler targets AVX-512BW/DQ, that row
 *    takes intrinsics with 16-bit multiply-adds (advance_update_row_avx512);
 *  - roundings as one add and one shift where the operands' bounds allow it, and no saturation test on RFLO's
 *    recurrent traces, which cannot saturate (a phi' <= a);
 *  - the readout's delta rule through the same vectorised row kernel.
 * Configurations outside the fast path (tau = 1, weightFracBits < 24, shifts below 17) take scalar code with the
 * same formulas, so the anchor is exact for every RFLO 'step' configuration (rflo_anchor_unsupported says which
 * configurations it refuses: other learners and 'trial' mode).
 */
#include <string.h>
#include "rflo_anchor.h"
#include "../../firmware-bridge/firmware/ns_fixed.h"

#define ANCHOR_MAX_HIDDEN 4096
static int32_t hw[ANCHOR_MAX_HIDDEN] __attribute__((aligned(64)));

const char *rflo_anchor_unsupported(const ns_learner *l) {
  if (l->p.cfg.kind != NS_RFLO) return "the anchor steps RFLO only";
  if (!l->p.cfg.stepMode) return "the anchor steps 'step' updates only (it keeps no gradient accumulators)";
  if (l->p.traceFracRec != 15 || l->p.traceFracIn != 12) return "unexpected RFLO trace formats";
  if (l->p.cfg.hidden > ANCHOR_MAX_HIDDEN) return "hidden is above the anchor's 4096";
  return 0;
}

/* The exact sum of w[k] v[k] (int32 x int32 with |v| <= 2^15: every product below 2^47). */
static inline int64_t dot_exact(const int32_t *restrict w, const int32_t *restrict v, int n) {
  int64_t acc = 0;
  for (int k = 0; k < n; k++) acc += (int64_t)w[k] * v[k];
  return acc;
}

/* network.ts forwardQ: u, h, phi', a phi', y. The exact Q39 total rounded half up to Q19.12 (or Q3.12 for y). */
static void forward(ns_learner *l) {
  const int N = l->p.cfg.hidden, M = l->p.cfg.inputs, O = l->p.cfg.outputs;
  const int32_t alpha = l->p.alpha;
  int16_t *restrict h = l->h, *restrict hp = l->h_prev;
  const int16_t *x = l->x;
  memcpy(hp, h, (size_t)N * sizeof *h);
  for (int k = 0; k < N; k++) hw[k] = hp[k];
  for (int i = 0; i < N; i++) {
    const int32_t *wi = l->W_in + (size_t)i * M;
    int64_t in = 0;
    for (int j = 0; j < M; j++) in += (int64_t)wi[j] * x[j];
    const int64_t total = dot_exact(l->W_rec + (size_t)i * N, hw, N) + in * 8 + (int64_t)l->b[i] * 32768;
    const int64_t u = (total + ((int64_t)1 << 26)) >> 27;
    l->u[i] = ns_i32(u);
    const int32_t t = ns_tanh_q15(u);
    const int32_t d = ns_dtanh_q15(t);
    l->dphi[i] = d;
    l->aphi[i] = ns_rsr(ns_imul(alpha, d), 15);
    const int32_t hv = hp[i];
    h[i] = ns_i16(hv + ns_rsr(ns_imul(alpha, t - hv), 15));
  }
  for (int k = 0; k < N; k++) hw[k] = h[k];
  for (int o = 0; o < O; o++) {
    int64_t total = dot_exact(l->W_out + (size_t)o * N, hw, N);
    if (l->p.cfg.direct) {
      const int32_t *wd = l->D + (size_t)o * M;
      int64_t in = 0;
      for (int j = 0; j < M; j++) in += (int64_t)wd[j] * x[j];
      total += in * 8;
    }
    l->y[o] = (int16_t)ns_sat16((total + ((int64_t)1 << 26)) >> 27, &l->sat[NS_SAT_Y]);
  }
}

/* learners/apply.ts applyStep for one weight, general case: W += round(d / 2^shiftApply) applyMul, saturated. */
static inline void apply_general(ns_learner *l, int32_t *W, int16_t *Wq, int i, int64_t d, int satIdx) {
  const int64_t delta = ns_rsrw(d, l->p.shiftApply) * l->p.applyMul;
  if (delta == 0) return;
  const int32_t w = ns_sat32((int64_t)W[i] + delta, &l->sat[satIdx]);
  W[i] = w;
  if (Wq) Wq[i] = (int16_t)ns_sat16(ns_rsr(w, 12), &l->sat[NS_SAT_WEIGHTS_Q12]);
}

/* mul32x16RoundShift(g, p, s) (runtime/fixed.ts), exact for every s in 0..47. */
static inline int64_t mul_round(int32_t g, int32_t p, int s) {
  return s >= 17 ? (int64_t)ns_rsr(ns_asr32(g, 16) * p + ns_asr32((int32_t)((uint32_t)g & 0xffffu) * p, 16), s - 16)
                 : ns_mul32x16(g, p, s);
}

/* A row of weight updates W[i] += round(mul32x16RoundShift(g, p[i], s) / 2^shiftApply) applyMul, any shifts (scalar). */
static void update_row_general(ns_learner *l, int32_t *W, int16_t *Wq, const int16_t *p, int n, int32_t g, int s, int satIdx) {
  for (int i = 0; i < n; i++) apply_general(l, W, Wq, i, mul_round(g, p[i], s), satIdx);
}

/*
 * The vectorised row update, for dShift >= 17, shiftApply >= 1 and applyMul == 1 (the usual case; the runtime's
 * updateRow fastD): d = roundShiftRight(hi(g) p + (lo(g) p >> 16), dShift - 16), delta = roundShiftRight(d, sa),
 * W += delta with int32 overflow saturated, Wq = roundShiftRight(W, 12) saturated, only where delta != 0 (counting rule
 * of ARITHMETIC.md). Counters are returned through *nw and *nq. Wq may be NULL.
 */
static inline void update_row_fast(int32_t *restrict W, int16_t *restrict Wq, const int16_t *restrict p, int n, int32_t g, int ds,
                                   int sa, uint32_t *nwOut, uint32_t *nqOut) {
  const int32_t ghi = ns_asr32(g, 16), glo = (int32_t)((uint32_t)g & 0xffffu);
  const int dr = ds - 1, ar = sa - 1;
  uint32_t nw = 0, nq = 0;
  for (int i = 0; i < n; i++) {
    const int32_t pv = p[i];
    const int32_t t = ghi * pv + ((glo * pv) >> 16);
    const int32_t d = (t >> ds) + ((t >> dr) & 1);
    const int32_t delta = (d >> sa) + ((d >> ar) & 1);
    const int32_t w0 = W[i];
    int32_t w = (int32_t)((uint32_t)w0 + (uint32_t)delta);
    const int32_t ov = ((w0 ^ w) & (delta ^ w)) < 0;
    w = ov ? (INT32_MAX ^ (w0 >> 31)) : w;
    nw += (uint32_t)ov;
    W[i] = w;
    if (Wq) {
      const int32_t q = (w >> 12) + ((w >> 11) & 1);
      const int32_t qs = q > 32767 ? 32767 : q < -32768 ? -32768 : q;
      const int32_t ch = delta != 0;
      nq += (uint32_t)(ch & (q != qs));
      Wq[i] = (int16_t)(ch ? qs : Wq[i]);
    }
  }
  *nwOut += nw;
  *nqOut += nq;
}

/* rflo.ts advanceTraceRow for a Q1.15 row: P := sat16(round((d P + c v) / 2^15)), counted ('trace'). Every lane in int32:
 * |d P| < 2^30 and |c v| <= 2^30 for |d|, |c| <= 2^15. */
static inline uint32_t advance_row(int16_t *restrict P, const int16_t *restrict v, int n, int32_t d, int32_t c) {
  uint32_t ns = 0;
  for (int b = 0; b < n; b++) {
    const int32_t s = d * P[b] + c * v[b];
    const int32_t r = (s >> 15) + ((s >> 14) & 1);
    const int32_t q = r > 32767 ? 32767 : r < -32768 ? -32768 : r;
    ns += (uint32_t)(r != q);
    P[b] = (int16_t)q;
  }
  return ns;
}

/*
 * The fused row: advance_row and then update_row_fast on the new traces, in one pass over P, W and Wq, for the
 * RFLO case 0 <= c, d and c + d <= 2^15 (c = a phi' <= a, d = 1 - a): then |d P + c v| <= 2^30 and the rounded trace
 * stays in [-32768, 32767], so no trace saturates (nothing to count). With these bounds every rounding is one add and
 * one shift, exact without overflow: d P + c v + 2^14 < 2^31; t + 2^(ds-1) < 2^31 for ds <= 29 (|t| <= 2^30 + 2^15);
 * |dd| <= 2^29 so dd + 2^(sa-1) < 2^31 for sa <= 30; and roundShiftRight(w, 12) = ((w >> 1) + 2^10) >> 11 (no overflow
 * at w = INT32_MAX).
 */
static inline void advance_update_row(int16_t *restrict P, const int16_t *restrict v, int n, int32_t d, int32_t c, int32_t *restrict W,
                                      int16_t *restrict Wq, int32_t g, int ds, int sa, uint32_t *nwOut, uint32_t *nqOut) {
  const int32_t ghi = ns_asr32(g, 16), glo = (int32_t)((uint32_t)g & 0xffffu);
  const int32_t hd = (int32_t)1 << (ds - 1), ha = (int32_t)1 << (sa - 1);
  uint32_t nw = 0, nq = 0;
  for (int i = 0; i < n; i++) {
    const int32_t pv = (d * P[i] + c * v[i] + 16384) >> 15;
    P[i] = (int16_t)pv;
    const int32_t t = ghi * pv + ((glo * pv) >> 16);
    const int32_t dd = (t + hd) >> ds;
    const int32_t delta = (dd + ha) >> sa;
    const int32_t w0 = W[i];
    int32_t w = (int32_t)((uint32_t)w0 + (uint32_t)delta);
    const int32_t ov = ((w0 ^ w) & (delta ^ w)) < 0;
    w = ov ? (INT32_MAX ^ (w0 >> 31)) : w;
    nw += (uint32_t)ov;
    W[i] = w;
    const int32_t q = ((w >> 1) + 1024) >> 11;
    const int32_t qs = q > 32767 ? 32767 : q < -32768 ? -32768 : q;
    const int32_t ch = delta != 0;
    nq += (uint32_t)(ch & (q != qs));
    Wq[i] = (int16_t)(ch ? qs : Wq[i]);
  }
  *nwOut += nw;
  *nqOut += nq;
}

#if defined(__AVX512BW__) && defined(__AVX512DQ__)
#include <immintrin.h>
/*
 * advance_update_row with AVX-512BW intrinsics, 32 weights per iteration, the same integers (returns how many it did;
 * the rest goes to the loop above). The trace is one multiply-add of 16-bit pairs: (P, h) interleaved against (d, c)
 * gives d P + c h exactly in 32 bits (needs d, c <= 32767). t = hi(g) p + floor(lo(g) p / 2^16) is one more: with
 * lo(g) taken as signed, floor(lo p / 2^16) = mulhi(p, lo) (+ p when lo >= 2^15), so t = G p + mulhi with
 * G = hi(g) + (lo >= 2^15), a multiply-add of the pairs (p, mulhi) against (G, 1) (needs G <= 32767). The interleaving
 * leaves the 32-bit lanes in the order of unpacklo/unpackhi; one permutation per 16 lanes restores it. The Q3.12 copy
 * is written by a masked saturating narrow (only where the weight changed), saturations counted from the masks.
 */
static int advance_update_row_avx512(int16_t *restrict P, const int16_t *restrict v, int n, int32_t d, int32_t c, int32_t *restrict W,
                                     int16_t *restrict Wq, int32_t g, int ds, int sa, uint32_t *nwOut, uint32_t *nqOut) {
  const int32_t ghi = ns_asr32(g, 16), glo = (int32_t)((uint32_t)g & 0xffffu);
  const int32_t G = ghi + (glo >= 32768);
  if (d > 32767 || c > 32767 || G > 32767) return 0;
  const __m512i dc = _mm512_set1_epi32((int32_t)((uint32_t)(uint16_t)d | ((uint32_t)(uint16_t)c << 16)));
  const __m512i g1 = _mm512_set1_epi32((int32_t)((uint32_t)(uint16_t)G | (1u << 16)));
  const __m512i gl = _mm512_set1_epi16((int16_t)(uint16_t)glo);
  const __m512i half15 = _mm512_set1_epi32(16384), hd = _mm512_set1_epi32((int32_t)1 << (ds - 1));
  const __m512i ha = _mm512_set1_epi32((int32_t)1 << (sa - 1)), h11 = _mm512_set1_epi32(1024);
  const __m512i maxv = _mm512_set1_epi32(INT32_MAX), q15 = _mm512_set1_epi32(32767), qm15 = _mm512_set1_epi32(-32768);
  const __m128i cds = _mm_cvtsi32_si128(ds), csa = _mm_cvtsi32_si128(sa);
  const __m512i idx0 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i idx1 = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  uint32_t nw = 0, nq = 0;
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512i p16 = _mm512_loadu_si512(P + i), v16 = _mm512_loadu_si512(v + i);
    const __m512i rl = _mm512_srai_epi32(_mm512_add_epi32(_mm512_madd_epi16(_mm512_unpacklo_epi16(p16, v16), dc), half15), 15);
    const __m512i rh = _mm512_srai_epi32(_mm512_add_epi32(_mm512_madd_epi16(_mm512_unpackhi_epi16(p16, v16), dc), half15), 15);
    const __m512i pn = _mm512_packs_epi32(rl, rh); /* in range: no lane saturates (see advance_update_row) */
    _mm512_storeu_si512(P + i, pn);
    const __m512i mh = _mm512_mulhi_epi16(pn, gl);
    const __m512i tl = _mm512_madd_epi16(_mm512_unpacklo_epi16(pn, mh), g1);
    const __m512i th = _mm512_madd_epi16(_mm512_unpackhi_epi16(pn, mh), g1);
    for (int half = 0; half < 2; half++) {
      const __m512i t = _mm512_permutex2var_epi32(tl, half ? idx1 : idx0, th);
      const __m512i dd = _mm512_sra_epi32(_mm512_add_epi32(t, hd), cds);
      const __m512i delta = _mm512_sra_epi32(_mm512_add_epi32(dd, ha), csa);
      int32_t *pw = W + i + 16 * half;
      const __m512i w0 = _mm512_loadu_si512(pw);
      __m512i w = _mm512_add_epi32(w0, delta);
      const __mmask16 ov = _mm512_movepi32_mask(_mm512_and_si512(_mm512_xor_si512(w0, w), _mm512_xor_si512(delta, w)));
      if (ov) {
        w = _mm512_mask_mov_epi32(w, ov, _mm512_xor_si512(_mm512_srai_epi32(w0, 31), maxv));
        nw += (uint32_t)__builtin_popcount(ov);
      }
      _mm512_storeu_si512(pw, w);
      const __m512i q = _mm512_srai_epi32(_mm512_add_epi32(_mm512_srai_epi32(w, 1), h11), 11);
      const __mmask16 nz = _mm512_test_epi32_mask(delta, delta);
      const __mmask16 qs = (__mmask16)((_mm512_cmpgt_epi32_mask(q, q15) | _mm512_cmplt_epi32_mask(q, qm15)) & nz);
      if (qs) nq += (uint32_t)__builtin_popcount(qs);
      _mm512_mask_cvtsepi32_storeu_epi16(Wq + i + 16 * half, nz, q);
    }
  }
  *nwOut += nw;
  *nqOut += nq;
  return i;
}
#endif

/* Traces of unit a's W_in row (Q3.12, follows x) and bias (c 2^15). */
static inline void advance_in_bias(ns_learner *l, int a, int32_t d, int32_t c) {
  const int M = l->p.cfg.inputs;
  uint32_t *st = &l->sat[NS_SAT_TRACE];
  *st += advance_row(l->P_in + (size_t)a * M, l->x, M, d, c);
  int16_t *pb = l->P_b + a;
  *pb = (int16_t)ns_sat16(ns_rsr(ns_i32((int64_t)ns_imul(d, *pb) + (int64_t)c * 32768), 15), st);
}

/* rflo.ts advanceRflo (inference) or learnRflo (optimized/rflo.ts learnTraces: per unit the traces, then its update). */
static void traces(ns_learner *l, int learn) {
  const int N = l->p.cfg.hidden, M = l->p.cfg.inputs;
  const int32_t d = l->p.oneMinusAlpha;
  const int sa = l->p.shiftApply, sr = l->p.shiftTraceRec, si = l->p.shiftTraceIn;
  const int fast = sr >= 17 && sr - 16 <= 29 && sa >= 1 && sa <= 30 && l->p.applyMul == 1;
  uint32_t nt = 0, nw = 0, nq = 0;
  for (int a = 0; a < N; a++) {
    const int32_t c = l->aphi[a];
    int16_t *pr = l->P_rec + (size_t)a * N;
    const int32_t f = learn ? l->fb[a] : 0;
    if (f == 0) {
      nt += advance_row(pr, l->h_prev, N, d, c);
      advance_in_bias(l, a, d, c);
      continue;
    }
    const int32_t g = ns_sat32(ns_mul32x16(f, l->p.etaRecM, 15), &l->sat[NS_SAT_GAIN]);
    int32_t *wr = l->W_rec + (size_t)a * N;
    int16_t *wq = l->W_rec_q12 + (size_t)a * N;
    if (fast && c >= 0 && d >= 0 && c + d <= 32768) {
      int done = 0;
#if defined(__AVX512BW__) && defined(__AVX512DQ__)
      done = advance_update_row_avx512(pr, l->h_prev, N, d, c, wr, wq, g, sr - 16, sa, &nw, &nq);
#endif
      advance_update_row(pr + done, l->h_prev + done, N - done, d, c, wr + done, wq + done, g, sr - 16, sa, &nw, &nq);
    }
    else {
      nt += advance_row(pr, l->h_prev, N, d, c);
      update_row_general(l, wr, wq, pr, N, g, sr, NS_SAT_W_REC);
    }
    advance_in_bias(l, a, d, c);
    update_row_general(l, l->W_in + (size_t)a * M, NULL, l->P_in + (size_t)a * M, M, g, si, NS_SAT_W_IN);
    update_row_general(l, l->b + a, NULL, l->P_b + a, 1, g, sr, NS_SAT_B);
  }
  l->sat[NS_SAT_TRACE] += nt;
  l->sat[NS_SAT_W_REC] += nw;
  l->sat[NS_SAT_WEIGHTS_Q12] += nq;
}

/* network.ts errorQ and feedbackQ. */
static void error_feedback(ns_learner *l) {
  const int N = l->p.cfg.hidden, O = l->p.cfg.outputs;
  for (int o = 0; o < O; o++) l->e[o] = (int16_t)ns_sat16((int32_t)l->target[o] - l->y[o], &l->sat[NS_SAT_E]);
  for (int a = 0; a < N; a++) {
    int64_t acc = 0;
    if (l->p.transpose)
      for (int o = 0; o < O; o++) acc += (int32_t)l->W_out_q12[(size_t)o * N + a] * l->e[o];
    else
      for (int o = 0; o < O; o++) acc += (int32_t)l->B[(size_t)a * O + o] * l->e[o];
    l->fb[a] = ns_sat32(acc, &l->sat[NS_SAT_FEEDBACK]);
  }
}

/* learners/output.ts updateOutput, 'step' part: W_out (and D) += round(g_o h / 2^shiftOut), g_o = e_o m_out. */
static void readout(ns_learner *l) {
  const int N = l->p.cfg.hidden, M = l->p.cfg.inputs, O = l->p.cfg.outputs;
  const int sa = l->p.shiftApply, so = l->p.shiftOut;
  const int fast = so >= 17 && sa >= 1 && l->p.applyMul == 1;
  uint32_t nw = 0, nq = 0;
  for (int o = 0; o < O; o++) {
    const int32_t e = l->e[o];
    if (e == 0) continue;
    const int32_t g = ns_imul(e, l->p.etaOutM);
    int32_t *wo = l->W_out + (size_t)o * N;
    int16_t *wq = l->W_out_q12 + (size_t)o * N;
    if (fast) update_row_fast(wo, wq, l->h, N, g, so - 16, sa, &nw, &nq);
    else update_row_general(l, wo, wq, l->h, N, g, so, NS_SAT_W_OUT);
    if (l->p.cfg.direct) update_row_general(l, l->D + (size_t)o * M, NULL, l->x, M, g, l->p.shiftOutDirect, NS_SAT_W_OUT);
  }
  l->sat[NS_SAT_W_OUT] += nw;
  l->sat[NS_SAT_WEIGHTS_Q12] += nq;
}

void rflo_anchor_step(ns_learner *l, const int16_t *x, const uint8_t *xMissing, const int16_t *target, int targetMissing,
                      int16_t *out) {
  const int M = l->p.cfg.inputs, O = l->p.cfg.outputs;
  for (int j = 0; j < M; j++) {
    if (xMissing && xMissing[j]) l->sat[NS_SAT_X_INVALID]++;
    else l->x[j] = x[j];
  }
  if (targetMissing) {
    l->sat[NS_SAT_TARGET_INVALID]++;
    target = 0;
  }
  if (target) memcpy(l->target, target, (size_t)O * sizeof *target);
  forward(l);
  l->steps[0]++;
  if (target) {
    error_feedback(l);
    traces(l, 1);
    readout(l);
  } else traces(l, 0);
  memcpy(out, l->y, (size_t)O * sizeof *out);
}

#ifdef RFLO_ANCHOR_PROFILE
/* Profiling build only (-DRFLO_ANCHOR_PROFILE): a learning step with the time of each pass added to ns[0..3]
 * (forward; error and feedback; traces and W_rec/W_in/b updates; readout update), in nanoseconds. */
#include <time.h>
static double ns_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}
void rflo_anchor_step_profiled(ns_learner *l, const int16_t *x, const int16_t *target, int16_t *out, double *ns) {
  const int M = l->p.cfg.inputs, O = l->p.cfg.outputs;
  for (int j = 0; j < M; j++) l->x[j] = x[j];
  memcpy(l->target, target, (size_t)O * sizeof *target);
  double t0 = ns_now();
  forward(l);
  l->steps[0]++;
  double t1 = ns_now();
  error_feedback(l);
  double t2 = ns_now();
  traces(l, 1);
  double t3 = ns_now();
  readout(l);
  double t4 = ns_now();
  ns[0] += t1 - t0, ns[1] += t2 - t1, ns[2] += t3 - t2, ns[3] += t4 - t3;
  memcpy(out, l->y, (size_t)O * sizeof *out);
}
#endif
