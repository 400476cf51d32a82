/**
 * Writing updates into the master weights (runtime/ARITHMETIC.md, "learning"). Shared by every learner.
 *
 * Counting rule (the same in every kernel: reference, optimized TypeScript, wasm and C): a weight whose rounded
 * change is zero is left as it is, together with its Q3.12 copy; only a weight that changes is written, saturated
 * (counted under its block's name) and, for W_rec and W_out, has its Q3.12 copy refreshed (counted as 'weights_q12'
 * when the copy clips). So 'weights_q12' counts updates that produced a clipped copy, not steps during which an
 * already clipped copy sat unchanged.
 */
import { roundShiftRight, roundShiftRightWide, saturate16Count, saturate32Count, mulWide16RoundShift } from '../fixed.ts';
import { SAT } from '../layout.ts';

/**
 * 'step' mode: W[i] += round(d / 2^shift) * mul, where d is this step's scaled update in Q(updateFracBits),
 * saturated to int32 (counted in satIdx); the Q3.12 copy (W_rec_q12, W_out_q12), when the block has one, is
 * refreshed (round half up, saturated, counted as 'weights_q12'). A zero change writes nothing.
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
  const delta = roundShiftRightWide(d, shift) * mul;
  if (delta === 0) return;
  const w = saturate32Count(W[i] + delta, sat, satIdx);
  W[i] = w;
  if (Wq !== null) Wq[i] = saturate16Count(roundShiftRight(w, 12), sat, SAT.weights_q12);
}

/**
 * 'trial' mode: W += round(acc * m / 2^shift) * mul for every entry, where acc holds the summed unscaled terms in
 * Q30 and m 2^-k is lr / trialLength (shift = k + 30 - weightFracBits); refreshes the Q3.12 copy if any. A zero
 * change writes nothing.
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
    const delta = mulWide16RoundShift(acc[i], m, shift) * mul;
    if (delta === 0) continue;
    const w = saturate32Count(W[i] + delta, sat, satIdx);
    W[i] = w;
    if (Wq !== null) Wq[i] = saturate16Count(roundShiftRight(w, 12), sat, SAT.weights_q12);
  }
}
