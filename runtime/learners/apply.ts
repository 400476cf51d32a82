/**
 * Writing updates into the master weights (runtime/ARITHMETIC.md, "learning"). Shared by every learner.
 */
import { roundShiftRight, roundShiftRightWide, saturate16Count, saturate32Count, mulWide16RoundShift } from '../fixed.ts';
import { SAT } from '../plan.ts';

/**
 * 'step' mode: W[i] += round(d / 2^shift) * mul, where d is this step's scaled update in Q(updateFracBits),
 * saturated to int32 (counted in satIdx); the Q3.12 copy (W_rec_q12, W_out_q12) is refreshed (round half up, saturated, counted
 * as 'weights_q12') when the block has one (W_rec, W_out).
 */
export function applyStep(
  W: Int32Array,
  Wq: Int16Array | null,
  i: number,
  d: number,
  shift: number,
  mul: number,
  sat: Uint32Array,
  satIdx: number,
): void {
  const w = saturate32Count(W[i] + roundShiftRightWide(d, shift) * mul, sat, satIdx);
  W[i] = w;
  if (Wq !== null) Wq[i] = saturate16Count(roundShiftRight(w, 12), sat, SAT.weights_q12);
}

/**
 * 'trial' mode: W += round(acc * m / 2^shift) * mul for every entry, where acc holds the summed unscaled terms in
 * Q30 and m 2^-k is lr / trialLength (shift = k + 30 - weightFracBits); refreshes the Q3.12 copy if any.
 */
export function applyTrial(
  W: Int32Array,
  Wq: Int16Array | null,
  acc: Float64Array,
  m: number,
  shift: number,
  mul: number,
  sat: Uint32Array,
  satIdx: number,
): void {
  for (let i = 0; i < W.length; i++) {
    const w = saturate32Count(W[i] + mulWide16RoundShift(acc[i], m, shift) * mul, sat, satIdx);
    W[i] = w;
    if (Wq !== null) Wq[i] = saturate16Count(roundShiftRight(w, 12), sat, SAT.weights_q12);
  }
}
