/**
 * RFLO (Murray 2019, "Local online learning in recurrent networks with random feedback", eq. 13-14) in fixed point:
 *   P_ab(t) = (1-a) P_ab(t-1) + a phi'(u_a) h_b(t-1)     (x_b(t) for W_in, 1 for b)
 *   term_ab(t) = (B e(t))_a P_ab(t)                      (W_out^T e with feedback 'transpose')
 * SnAp-1 (runtime/learners/snap1.ts) is the same kernel with decay (1-a) + a phi'(u_a) W_aa and W_out^T feedback.
 * Formats and rounding: runtime/ARITHMETIC.md, "traces" and "learning".
 */
import type { FixedState } from '../network.ts';
import { mul32x16RoundShift, roundShiftRight, roundShiftRightWide, saturate16Count, saturate32Count } from '../fixed.ts';
import { SAT } from '../plan.ts';
import { applyStep } from './apply.ts';

export interface TraceState extends FixedState {
  readonly P_in: Int16Array;
  readonly P_rec: Int16Array;
  readonly P_b: Int16Array;
  /** SnAp-1 only (length N); RFLO leaves it empty. */
  readonly decay: Int32Array;
}

/** Saturates a trace to int16, counted as 'trace'. */
function satTrace(v: number, sat: Uint32Array): number {
  return saturate16Count(v, sat, SAT.trace);
}

/**
 * Advances every trace one step, after forwardQ (uses h_prev, x, a phi'(u)).
 * P := round((d P + c v) / 2^15) with d = 1 - a (RFLO) or the SnAp-1 decay (Q1.15, |d| <= 1), c = a phi'(u_a) (Q1.15)
 * and v = h_b(t-1) (Q1.15), x_b (Q3.12) or 1. c v is first brought to the trace's format Q(15 + T) (exact for RFLO,
 * where T equals v's fractional bits; SnAp-1's Q3.12 W_rec/b traces round c h by 3 bits first). Both terms fit int32
 * and so does their sum (|d P| <= 2^30, |c v| < 2^30; in [-2^31, 2^31 - 2^15], so `| 0` is exact and keeps V8 on
 * int32 arithmetic). Round half up; saturated to int16 ('trace').
 */
export function advanceTraces(s: TraceState, snap: boolean): void {
  for (let a = 0; a < s.N; a++) advanceRow(s, a, snap);
}

/** advanceTraces for the traces of unit a (row a of P_rec and P_in, and P_b[a]). */
function advanceRow(s: TraceState, a: number, snap: boolean): void {
  const N = s.N;
  const M = s.M;
  const hp = s.h_prev;
  const x = s.x;
  const Pr = s.P_rec;
  const Pi = s.P_in;
  const Pb = s.P_b;
  const sat = s.sat;
  const fr = s.traceFracRec;
  const c = s.aphi[a];
  let d = s.oneMinusAlpha;
  if (snap) {
    // SnAp-1 (Menick et al. 2021): the diagonal of the exact recursion, d = (1-a) + a phi'(u_a) W_aa.
    d += roundShiftRight(Math.imul(c, s.W_rec_q12[a * N + a]), 12);
    if (d > 32768) {
      sat[SAT.decay]++;
      d = 32768;
    } else if (d < -32768) {
      sat[SAT.decay]++;
      d = -32768;
    }
    s.decay[a] = d;
  }
  const ro = a * N;
  if (fr === 15) {
    for (let b = 0; b < N; b++) Pr[ro + b] = satTrace(roundShiftRight((Math.imul(d, Pr[ro + b]) + Math.imul(c, hp[b])) | 0, 15), sat);
  } else {
    for (let b = 0; b < N; b++) {
      Pr[ro + b] = satTrace(roundShiftRight((Math.imul(d, Pr[ro + b]) + roundShiftRight(Math.imul(c, hp[b]), 15 - fr)) | 0, 15), sat);
    }
  }
  const io = a * M;
  for (let b = 0; b < M; b++) Pi[io + b] = satTrace(roundShiftRight((Math.imul(d, Pi[io + b]) + Math.imul(c, x[b])) | 0, 15), sat);
  Pb[a] = satTrace(roundShiftRight((Math.imul(d, Pb[a]) + c * (1 << fr)) | 0, 15), sat);
}

/**
 * One row of updateTraces with the 32x16 products and roundings written out (the optimized kernel; bit-exact
 * with updateTracesReference, test/runtime-kernels.test.ts). f and g are split into signed high and unsigned low
 * halves once per row. accShift is T - 6 in 6..9.
 *   term = hi(f) p 2^(16 - accShift) + roundShiftRight(lo(f) p, accShift)        (= mul32x16RoundShift(f, p, accShift))
 * 'step' mode, when dShift >= 17, applyShift >= 1 and weights are full Q7.24 (the usual case; else the helpers):
 *   d    = roundShiftRight(hi(g) p + (lo(g) p >> 16), dShift - 16)                (= mul32x16RoundShift(g, p, dShift))
 *   W   += roundShiftRight(d, applyShift) applyMul, saturated; Wq = roundShiftRight(W, 12), saturated.
 */
function updateRow(
  W: Int32Array,
  Wq: Int16Array | null,
  acc: Float64Array,
  P: Int16Array,
  off: number,
  len: number,
  f: number,
  accShift: number,
  g: number,
  dShift: number,
  step: boolean,
  applyShift: number,
  applyMul: number,
  sat: Uint32Array,
  satIdx: number,
): void {
  const fhi = f >> 16;
  const flo = f & 0xffff;
  const accMul = 1 << (16 - accShift);
  const ar = accShift - 1;
  const ghi = g >> 16;
  const glo = g & 0xffff;
  const ds = dShift - 16;
  const dr = ds - 1;
  const as = applyShift - 1;
  const fastD = dShift >= 17 && applyShift >= 1 && applyMul === 1;
  if (!step) {
    for (let i = off; i < off + len; i++) {
      const p = P[i];
      const lp = Math.imul(flo, p);
      acc[i] += Math.imul(fhi, p) * accMul + ((lp >> accShift) + ((lp >> ar) & 1));
    }
    return;
  }
  for (let i = off; i < off + len; i++) {
    const p = P[i];
    const lp = Math.imul(flo, p);
    acc[i] += Math.imul(fhi, p) * accMul + ((lp >> accShift) + ((lp >> ar) & 1));
    let w: number;
    if (fastD) {
      const t = Math.imul(ghi, p) + (Math.imul(glo, p) >> 16);
      const d = (t >> ds) + ((t >> dr) & 1);
      // |delta| < 2^30: int32 addition; signed overflow iff the sum's sign differs from both operands' signs.
      const delta = ((d >> applyShift) + ((d >> as) & 1)) * applyMul;
      if (delta === 0) continue;
      const w0 = W[i];
      w = (w0 + delta) | 0;
      if (((w0 ^ w) & (delta ^ w)) < 0) {
        sat[satIdx]++;
        w = w0 < 0 ? -2147483648 : 2147483647;
      }
    } else {
      const delta = roundShiftRightWide(mul32x16RoundShift(g, p, dShift), applyShift) * applyMul;
      if (delta === 0) continue;
      w = W[i] + delta;
      if (w > 2147483647) {
        sat[satIdx]++;
        w = 2147483647;
      } else if (w < -2147483648) {
        sat[satIdx]++;
        w = -2147483648;
      }
    }
    W[i] = w;
    if (Wq === null) continue;
    let q = (w >> 12) + ((w >> 11) & 1);
    if (q > 32767) {
      sat[SAT.weights_q12]++;
      q = 32767;
    } else if (q < -32768) {
      sat[SAT.weights_q12]++;
      q = -32768;
    }
    Wq[i] = q;
  }
}

/**
 * Learning step after feedbackQ: for every unit a with feedback f_a (Q7.24),
 * accumulates term = f_a P (Q7.24 x Q(T) >> (T - 6) -> Q30, exact 32x16 products, rounded half up);
 * in 'step' mode also applies round(g_a P) with gain g_a = f_a m_rec >> 15 in Q(9 + k) (saturated, 'gain').
 */
export function updateTraces(s: TraceState): void {
  for (let a = 0; a < s.N; a++) updateUnit(s, a);
}

/**
 * advanceTraces then updateTraces, one unit at a time, so each row of traces is used while it is still in cache.
 * The same operations on the same values as the two passes: unit a's trace update reads only unit a's weights
 * (SnAp-1's W_aa), which only unit a's learning update changes, after it.
 */
export function advanceAndUpdateTraces(s: TraceState, snap: boolean): void {
  for (let a = 0; a < s.N; a++) {
    advanceRow(s, a, snap);
    updateUnit(s, a);
  }
}

function updateUnit(s: TraceState, a: number): void {
  const f = s.fb[a];
  if (f === 0) return;
  const N = s.N;
  const M = s.M;
  const step = s.stepMode;
  const sat = s.sat;
  const sr = s.traceFracRec - 6;
  const si = s.traceFracIn - 6;
  const sa = s.shiftApply;
  const am = s.applyMul;
  const g = step ? saturate32Count(mul32x16RoundShift(f, s.etaRecM, 15), sat, SAT.gain) : 0;
  updateRow(s.W_rec, s.W_rec_q12, s.acc_W_rec, s.P_rec, a * N, N, f, sr, g, s.shiftTraceRec, step, sa, am, sat, SAT.W_rec);
  updateRow(s.W_in, null, s.acc_W_in, s.P_in, a * M, M, f, si, g, s.shiftTraceIn, step, sa, am, sat, SAT.W_in);
  updateRow(s.b, null, s.acc_b, s.P_b, a, 1, f, sr, g, s.shiftTraceRec, step, sa, am, sat, SAT.b);
}

/** The reference form of updateTraces: every product through the named helpers. */
export function updateTracesReference(s: TraceState): void {
  const N = s.N;
  const M = s.M;
  const step = s.stepMode;
  const sat = s.sat;
  const Pr = s.P_rec;
  const Pi = s.P_in;
  const accR = s.acc_W_rec;
  const accI = s.acc_W_in;
  const sr = s.traceFracRec - 6;
  const si = s.traceFracIn - 6;
  for (let a = 0; a < N; a++) {
    const f = s.fb[a];
    if (f === 0) continue;
    const g = step ? saturate32Count(mul32x16RoundShift(f, s.etaRecM, 15), sat, SAT.gain) : 0;
    const ro = a * N;
    for (let b = 0; b < N; b++) {
      const p = Pr[ro + b];
      accR[ro + b] += mul32x16RoundShift(f, p, sr);
      if (step) applyStep(s.W_rec, s.W_rec_q12, ro + b, mul32x16RoundShift(g, p, s.shiftTraceRec), s.shiftApply, s.applyMul, sat, SAT.W_rec);
    }
    const io = a * M;
    for (let b = 0; b < M; b++) {
      const p = Pi[io + b];
      accI[io + b] += mul32x16RoundShift(f, p, si);
      if (step) applyStep(s.W_in, null, io + b, mul32x16RoundShift(g, p, s.shiftTraceIn), s.shiftApply, s.applyMul, sat, SAT.W_in);
    }
    const p = s.P_b[a];
    s.acc_b[a] += mul32x16RoundShift(f, p, sr);
    if (step) applyStep(s.b, null, a, mul32x16RoundShift(g, p, s.shiftTraceRec), s.shiftApply, s.applyMul, sat, SAT.b);
  }
}
