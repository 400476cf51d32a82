/**
 * The leaky RNN state bound to one arena, and its fixed-point forward step (Murray 2019, eq. 1-2):
 *   u = W_rec h(t-1) + W_in x(t) + b;  h(t) = h(t-1) + a (tanh(u) - h(t-1));  y = W_out h(t) (+ D x(t), direct).
 * Formats and rounding: runtime/ARITHMETIC.md, "forward".
 */
import { roundShiftRight, roundShiftRightWide, saturate16Count, saturate32Count } from './fixed.ts';
import { dtanhQ15, tanhQ15 } from './activation.ts';
import { SAT } from './layout.ts';
import type { LearnerState } from './state.ts';

/**
 * Forward step from s.x: h_prev := h; u, h, phi'(u), a phi'(u) and y, reading the Q7.24 master weights exactly.
 * u: every master weight (int32) is split into hi = W >> 16 (signed) and lo = W & 0xffff; hi h and lo h (x Q1.15) are
 * single Math.imul products, summed exactly in two wide sums (int64_t in C). W_in x (Q7.24 x Q3.12 = Q36) enters
 * both sums times 8 and b (Q24) times 2^15, so the exact total hi 2^16 + lo is Q39. It is rounded half up to Q19.12
 * as roundShiftRightWide(hi + floor(lo / 2^16), 11) (exact: floor((hi 2^16 + lo + 2^26) / 2^27)).
 * h: h + round(a (tanh(u) - h)), one Math.imul (|a| <= 2^15, |tanh - h| < 2^16: fits int32).
 * y: W_out h the same way (Q39 -> Q3.12), saturated to int16 (counted as 'y'); with direct, D x (Q36) enters the
 * same two sums times 8 before the one rounding (so y = round(W_out h + D x), one rounding, as u rounds W_in x).
 * Measured reason for reading the master weights rather than a Q3.12 copy: ARITHMETIC.md, "Why these formats".
 */
export function forwardQ(s: LearnerState): void {
  const N = s.N;
  const M = s.M;
  const O = s.O;
  const h = s.h;
  const hp = s.h_prev;
  const x = s.x;
  const Wr = s.W_rec;
  const Wi = s.W_in;
  const bias = s.b;
  const alpha = s.alpha;
  for (let i = 0; i < N; i++) hp[i] = h[i];
  for (let i = 0; i < N; i++) {
    let hi = 0;
    let lo = 0;
    const ro = i * N;
    for (let k = 0; k < N; k++) {
      const w = Wr[ro + k];
      const v = hp[k];
      hi += Math.imul(w >> 16, v);
      lo += Math.imul(w & 0xffff, v);
    }
    let hiIn = 0;
    let loIn = 0;
    const io = i * M;
    for (let j = 0; j < M; j++) {
      const w = Wi[io + j];
      const v = x[j];
      hiIn += Math.imul(w >> 16, v);
      loIn += Math.imul(w & 0xffff, v);
    }
    const bi = bias[i];
    hi += hiIn * 8 + (bi >> 16) * 32768;
    lo += loIn * 8 + (bi & 0xffff) * 32768;
    const u = roundShiftRightWide(hi + Math.floor(lo * TWO_NEG16), 11);
    s.u[i] = u;
    const t = tanhQ15(u);
    const d = dtanhQ15(t);
    s.dphi[i] = d;
    s.aphi[i] = roundShiftRight(Math.imul(alpha, d), 15);
    const hv = hp[i];
    h[i] = hv + roundShiftRight(Math.imul(alpha, t - hv), 15);
  }
  const Wo = s.W_out;
  const Dm = s.D;
  const direct = s.direct;
  const sat = s.saturation;
  for (let o = 0; o < O; o++) {
    let hi = 0;
    let lo = 0;
    const oo = o * N;
    for (let i = 0; i < N; i++) {
      const w = Wo[oo + i];
      const v = h[i];
      hi += Math.imul(w >> 16, v);
      lo += Math.imul(w & 0xffff, v);
    }
    if (direct) {
      // D x (Q7.24 x Q3.12 = Q36), times 8 into the same Q39 sums, exactly as W_in x enters u.
      let hiD = 0;
      let loD = 0;
      const od = o * M;
      for (let j = 0; j < M; j++) {
        const w = Dm[od + j];
        const v = x[j];
        hiD += Math.imul(w >> 16, v);
        loD += Math.imul(w & 0xffff, v);
      }
      hi += hiD * 8;
      lo += loD * 8;
    }
    s.y[o] = saturate16Count(roundShiftRightWide(hi + Math.floor(lo * TWO_NEG16), 11), sat, SAT.y);
  }
}

const TWO_NEG16 = 2 ** -16;

/** e = target - y, saturated to Q3.12 (counted as 'e'). */
export function errorQ(s: LearnerState): void {
  for (let o = 0; o < s.O; o++) s.e[o] = saturate16Count(s.target[o] - s.y[o], s.saturation, SAT.e);
}

/**
 * Error fed back to each unit, Q7.24 (exact Q3.12 x Q3.12 sums, saturated to int32, counted as 'feedback'):
 * (W_out^T e)_a with the Q3.12 copy of W_out before this step's update, or (B e)_a for RFLO's random feedback.
 */
export function feedbackQ(s: LearnerState, transpose: boolean): void {
  const N = s.N;
  const O = s.O;
  const e = s.e;
  const fb = s.fb;
  const sat = s.saturation;
  for (let a = 0; a < N; a++) {
    let acc = 0;
    if (transpose) for (let o = 0; o < O; o++) acc += Math.imul(s.W_out_q12[o * N + a], e[o]);
    else for (let o = 0; o < O; o++) acc += Math.imul(s.B[a * O + o], e[o]);
    fb[a] = saturate32Count(acc, sat, SAT.feedback);
  }
}
