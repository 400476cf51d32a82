/**
 * RFLO and SnAp-1 eligibility traces (runtime/learners/rflo.ts, snap1.ts: the equations and the reference kernel),
 * the optimized TypeScript kernel of the live path: the trace recursion and the learning update fused one unit at a
 * time (each row of traces is used while it is still in cache), the 32x16 products and roundings of the update
 * written out with the halves of f and g split once per row. Bit-exact with the reference, saturation counters
 * included (test/runtime-kernels.test.ts). Formats and rounding: runtime/ARITHMETIC.md, "traces" and "learning".
 */
import type { LearnerState } from '../../state.ts';
import { mul32x16RoundShift, roundShiftRight, roundShiftRightWide, saturate16Count, saturate32Count } from '../../fixed.ts';
import { SAT } from '../../layout.ts';
import { snap1Decay } from '../snap1.ts';

/** Saturates a trace to int16, counted as 'trace'. */
function satTrace(v: number, sat: Uint32Array): number {
  return saturate16Count(v, sat, SAT.trace);
}

/**
 * rflo.ts advanceTraceRow, with the Q1.15 (RFLO) and Q3.12 (SnAp-1) W_rec trace formats as separate loops; a
 * SnAp-1 row whose decay exceeds 1 is computed around 1 (up = 1, m = d - 2^15), as in the reference.
 */
function advanceRow(s: LearnerState, a: number, d: number): void {
  const N = s.N;
  const M = s.M;
  const hp = s.h_prev;
  const x = s.x;
  const Pr = s.P_rec;
  const Pi = s.P_in;
  const Pb = s.P_b;
  const sat = s.saturation;
  const fr = s.traceFracRec;
  const c = s.aphi[a];
  const up = d > 32768 ? 1 : 0;
  const m = d - up * 32768;
  const ro = a * N;
  if (fr === 15) {
    for (let b = 0; b < N; b++) Pr[ro + b] = satTrace(roundShiftRight((Math.imul(d, Pr[ro + b]) + Math.imul(c, hp[b])) | 0, 15), sat);
  } else {
    for (let b = 0; b < N; b++) {
      const p = Pr[ro + b];
      Pr[ro + b] = satTrace(up * p + roundShiftRight((Math.imul(m, p) + roundShiftRight(Math.imul(c, hp[b]), 15 - fr)) | 0, 15), sat);
    }
  }
  const io = a * M;
  for (let b = 0; b < M; b++) {
    const p = Pi[io + b];
    Pi[io + b] = satTrace(up * p + roundShiftRight((Math.imul(m, p) + Math.imul(c, x[b])) | 0, 15), sat);
  }
  const p = Pb[a];
  Pb[a] = satTrace(up * p + roundShiftRight((Math.imul(m, p) + c * (1 << fr)) | 0, 15), sat);
}

/**
 * One row of updateTraces with the 32x16 products and roundings written out (the optimized kernel; bit-exact
 * with rflo.ts updateTraceUnit, test/runtime-kernels.test.ts). f and g are split into signed high and unsigned low
 * halves once per row. accShift is T - 6 in 6..9.
 *   term = hi(f) p 2^(16 - accShift) + roundShiftRight(lo(f) p, accShift)        (= mul32x16RoundShift(f, p, accShift))
 * 'step' mode, when dShift >= 17, applyShift >= 1 and weights are full Q7.24 (the usual case; else the helpers):
 *   d    = roundShiftRight(hi(g) p + (lo(g) p >> 16), dShift - 16)                (= mul32x16RoundShift(g, p, dShift))
 *   W   += roundShiftRight(d, applyShift) applyMul, saturated; Wq = roundShiftRight(W, 12), saturated.
 */
function updateRow(
  W: Int32Array,
  Wq: Int16Array | null,
  acc: Float64Array | null,
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
    if (acc === null) return;
    for (let i = off; i < off + len; i++) {
      const p = P[i];
      const lp = Math.imul(flo, p);
      acc[i] += Math.imul(fhi, p) * accMul + ((lp >> accShift) + ((lp >> ar) & 1));
    }
    return;
  }
  for (let i = off; i < off + len; i++) {
    const p = P[i];
    if (acc !== null) {
      const lp = Math.imul(flo, p);
      acc[i] += Math.imul(fhi, p) * accMul + ((lp >> accShift) + ((lp >> ar) & 1));
    }
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

/** Advances the traces of every unit (inference steps): RFLO decay 1 - alpha, or SnAp-1's (snap1.ts snap1Decay). */
export function advanceTraces(s: LearnerState, snap: boolean): void {
  for (let a = 0; a < s.N; a++) advanceRow(s, a, snap ? snap1Decay(s, a) : s.oneMinusAlpha);
}

/**
 * A learning step's traces and recurrent update, after feedbackQ: per unit a, the trace recursion then the update.
 * The same operations on the same values as the reference's two passes (advance every unit, then update every unit):
 * unit a's trace update reads only unit a's weights (SnAp-1's W_aa), which only unit a's learning update changes,
 * after it.
 */
export function learnTraces(s: LearnerState, snap: boolean): void {
  for (let a = 0; a < s.N; a++) {
    advanceRow(s, a, snap ? snap1Decay(s, a) : s.oneMinusAlpha);
    updateUnit(s, a);
  }
}

/** RFLO's learning step (learner.ts, backend 'js'). */
export function learnRflo(s: LearnerState): void {
  learnTraces(s, false);
}

/** rflo.ts updateTraceUnit, with the rows through updateRow. */
function updateUnit(s: LearnerState, a: number): void {
  const f = s.fb[a];
  if (f === 0) return;
  const N = s.N;
  const M = s.M;
  const step = s.stepMode;
  const sat = s.saturation;
  const sr = s.traceFracRec - 6;
  const si = s.traceFracIn - 6;
  const sa = s.shiftApply;
  const am = s.applyMul;
  const g = step ? saturate32Count(mul32x16RoundShift(f, s.etaRecM, 15), sat, SAT.gain) : 0;
  const acc = s.accumulate;
  updateRow(s.W_rec, s.W_rec_q12, acc ? s.acc_W_rec : null, s.P_rec, a * N, N, f, sr, g, s.shiftTraceRec, step, sa, am, sat, SAT.W_rec);
  updateRow(s.W_in, null, acc ? s.acc_W_in : null, s.P_in, a * M, M, f, si, g, s.shiftTraceIn, step, sa, am, sat, SAT.W_in);
  updateRow(s.b, null, acc ? s.acc_b : null, s.P_b, a, 1, f, sr, g, s.shiftTraceRec, step, sa, am, sat, SAT.b);
}
