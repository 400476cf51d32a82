/**
 * RFLO, random-feedback local online learning (Murray 2019, "Local online learning in recurrent networks with random
 * feedback", eLife 8:e43299), reference kernel in fixed point.
 *
 *   u(t)     = W_rec h(t-1) + W_in x(t) + b                                     (eq. 1)
 *   h(t)     = (1 - alpha) h(t-1) + alpha phi(u(t)),  alpha = 1/tau, phi = tanh    (eq. 2)
 *   P_ab(t)  = (1 - alpha) P_ab(t-1) + alpha phi'(u_a(t)) v_b(t)               (eq. 13, the eligibility trace)
 *              v_b = h_b(t-1) for W_rec, x_b(t) for W_in, 1 for b
 *   dW_ab    = eta (B e(t))_a P_ab(t)                                           (eq. 14; B the fixed random feedback
 *              matrix, or W_out^T with feedback 'transpose')
 *
 * Buffers (runtime/layout.ts, kinds rflo and snap1): P_in (Q3.12), P_rec and P_b (Q1.15; SnAp-1: Q3.12).
 * The forward step, e and (B e) are runtime/network.ts; W_out's delta rule is output.ts; weights are written by
 * apply.ts. SnAp-1 (snap1.ts) is this recursion with another decay.
 *
 * This is the reference: every product, rounding and clamp goes through the named helpers of runtime/fixed.ts, one
 * unit after another, in the paper's order. The live kernels are bit-exact with it, saturation counters included:
 * optimized/rflo.ts (TypeScript), runtime/wasm/assembly/kernels.as and firmware-bridge/firmware/ns_kernel.c
 * (test/runtime-kernels.test.ts, test/wasm.test.ts, test/firmware-kernels.test.ts).
 * Formats and rounding: runtime/ARITHMETIC.md, "traces" and "learning".
 */
import type { LearnerState } from '../state.ts';
import { mul32x16RoundShift, Q15_ONE, roundShiftRight, saturate16Count, saturate32Count } from '../fixed.ts';
import { SAT } from '../layout.ts';
import { applyStep } from './apply.ts';

/**
 * Eq. 13 for the traces of unit a (row a of P_rec and P_in, and P_b[a]), with decay d in Q1.15 (0 <= d <= 2^16):
 * P := round((d P + c v) / 2^15), c = alpha phi'(u_a) (Q1.15), v = h_b(t-1) (Q1.15), x_b (Q3.12) or 1.
 * c v is first brought to the trace's format Q(15 + T) (exact for RFLO, where T equals v's fractional bits;
 * SnAp-1's Q3.12 W_rec/b traces round c h by 3 bits first). For d <= 1 (RFLO always) it is computed as written
 * (|d P| <= 2^30, |c v| <= 2^30, the sum fits int32); a row whose SnAp-1 decay exceeds 1 is computed around 1,
 * P + round(((d - 1) P + c v) / 2^15), the same number (2^15 P is a multiple of 2^15) with every term in int32.
 * Round half up; saturated to int16 ('trace'). Reads h_prev, x, aphi (after forwardQ).
 */
export function advanceTraceRow(s: LearnerState, a: number, d: number): void {
  const N = s.N;
  const M = s.M;
  const hp = s.h_prev;
  const x = s.x;
  const Pr = s.P_rec;
  const Pi = s.P_in;
  const sat = s.saturation;
  const fr = s.traceFracRec;
  const c = s.aphi[a];
  // around 1: up = 1 when d > 1, and P := up P + round(((d - up 2^15) P + c v) / 2^15)
  const up = d > Q15_ONE ? 1 : 0;
  const m = d - up * Q15_ONE;
  const ro = a * N;
  for (let b = 0; b < N; b++) {
    const cv = fr === 15 ? Math.imul(c, hp[b]) : roundShiftRight(Math.imul(c, hp[b]), 15 - fr);
    const p = Pr[ro + b];
    Pr[ro + b] = saturate16Count(up * p + roundShiftRight(Math.imul(m, p) + cv, 15), sat, SAT.trace);
  }
  const io = a * M;
  for (let b = 0; b < M; b++) {
    const p = Pi[io + b];
    Pi[io + b] = saturate16Count(up * p + roundShiftRight(Math.imul(m, p) + Math.imul(c, x[b]), 15), sat, SAT.trace);
  }
  const p = s.P_b[a];
  s.P_b[a] = saturate16Count(up * p + roundShiftRight(Math.imul(m, p) + c * (1 << fr), 15), sat, SAT.trace);
}

/** Eq. 13 for every unit, RFLO's decay d = 1 - alpha. */
export function advanceRflo(s: LearnerState): void {
  for (let a = 0; a < s.N; a++) advanceTraceRow(s, a, s.oneMinusAlpha);
}

/**
 * Eq. 14 for the parameters of unit a, after feedbackQ: with f_a = (B e)_a (Q7.24), accumulates the term
 * f_a P (Q7.24 x Q(T) >> (T - 6) -> Q30, rounded half up) and, in 'step' mode, applies round(g_a P / 2^shift) with
 * gain g_a = round(f_a m_rec / 2^15) in Q(9 + k) (saturated, 'gain'). A unit with f_a = 0 changes nothing.
 */
export function updateTraceUnit(s: LearnerState, a: number): void {
  const f = s.fb[a];
  if (f === 0) return;
  const N = s.N;
  const M = s.M;
  const step = s.stepMode;
  const accumulate = s.accumulate;
  const sat = s.saturation;
  const sr = s.traceFracRec - 6;
  const si = s.traceFracIn - 6;
  const g = step ? saturate32Count(mul32x16RoundShift(f, s.etaRecM, 15), sat, SAT.gain) : 0;
  const ro = a * N;
  for (let b = 0; b < N; b++) {
    const p = s.P_rec[ro + b];
    if (accumulate) s.acc_W_rec[ro + b] += mul32x16RoundShift(f, p, sr);
    if (step) applyStep(s.W_rec, s.W_rec_q12, ro + b, mul32x16RoundShift(g, p, s.shiftTraceRec), s.shiftApply, s.applyMul, sat, SAT.W_rec);
  }
  const io = a * M;
  for (let b = 0; b < M; b++) {
    const p = s.P_in[io + b];
    if (accumulate) s.acc_W_in[io + b] += mul32x16RoundShift(f, p, si);
    if (step) applyStep(s.W_in, null, io + b, mul32x16RoundShift(g, p, s.shiftTraceIn), s.shiftApply, s.applyMul, sat, SAT.W_in);
  }
  const p = s.P_b[a];
  if (accumulate) s.acc_b[a] += mul32x16RoundShift(f, p, sr);
  if (step) applyStep(s.b, null, a, mul32x16RoundShift(g, p, s.shiftTraceRec), s.shiftApply, s.applyMul, sat, SAT.b);
}

/** Eq. 14 for every unit. */
export function updateRflo(s: LearnerState): void {
  for (let a = 0; a < s.N; a++) updateTraceUnit(s, a);
}
