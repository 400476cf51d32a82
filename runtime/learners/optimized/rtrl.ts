/**
 * RTRL (runtime/learners/rtrl.ts: the equations and the reference kernel), the optimized TypeScript kernel of the live
 * path ('js' backend). Bit-exact with the reference, saturation counters included (test/runtime-kernels.test.ts).
 *
 * sum_k W_jk S_k,theta is summed as one float64 per parameter instead of the reference's hi/lo pair: each product
 * |W S| <= 2^15 2^31 = 2^46 is exact in float64, and for N <= 127 every partial sum stays below 2^53, so the total is
 * the exact integer hi 2^16 + lo, and roundShiftRightWide(total, 12) is the reference's hi 16 + round(lo / 2^12).
 * The last row goes through the reference's split so that sum_hi/sum_lo hold the reference's values after the step.
 * N > 127 takes the reference kernel.
 */
import type { LearnerState } from '../../state.ts';
import { mul32x16RoundShift, roundShiftRightWide, saturate32Count } from '../../fixed.ts';
import { SAT } from '../../layout.ts';
import { advanceRtrl } from '../rtrl.ts';

/** advanceRtrl (runtime/learners/rtrl.ts), bit-exact; sum_hi is the float64 scratch of rows 0 .. N - 2. */
export function advanceRtrlFast(s: LearnerState): void {
  const N = s.N;
  if (N > 127) {
    advanceRtrl(s);
    return;
  }
  const M = s.M;
  const T = s.theta;
  const S = s.S;
  const Sn = s.S_next;
  const acc = s.sum_hi;
  const lo = s.sum_lo;
  const Wq = s.W_rec_q12;
  const sat = s.saturation;
  const keep = s.oneMinusAlpha;
  const inBase = N * N;
  const bBase = inBase + N * M;
  for (let j = 0; j < N; j++) {
    const last = j === N - 1;
    acc.fill(0);
    if (last) lo.fill(0);
    for (let k = 0; k < N; k++) {
      const w = Wq[j * N + k];
      if (w === 0) continue;
      const base = k * T;
      if (last) {
        for (let t = 0; t < T; t++) {
          const v = S[base + t];
          acc[t] += Math.imul(w, v >> 16);
          lo[t] += Math.imul(w, v & 0xffff);
        }
      } else {
        for (let t = 0; t < T; t++) acc[t] += w * S[base + t];
      }
    }
    const c = s.aphi[j];
    const base = j * T;
    if (last) {
      // the reference's loop: sum_hi/sum_lo keep row N - 1's exact partial sums
      for (let t = 0; t < T; t++) {
        let inner = acc[t] * 16 + roundShiftRightWide(lo[t], 12);
        if (t >= j * N && t < j * N + N) inner += s.h_prev[t - j * N] * 32;
        else if (t >= inBase + j * M && t < inBase + j * M + M) inner += s.x[t - inBase - j * M] * 256;
        else if (t === bBase + j) inner += 1048576;
        inner = saturate32Count(inner, sat, SAT.sens);
        Sn[base + t] = saturate32Count(mul32x16RoundShift(S[base + t], keep, 15) + mul32x16RoundShift(inner, c, 15), sat, SAT.sens);
      }
      continue;
    }
    // acc becomes the inner term: the rounded Q20 sum plus the direct terms (h_b << 5, x_b << 8, 1 << 20)
    for (let t = 0; t < T; t++) acc[t] = roundShiftRightWide(acc[t], 12);
    const rec0 = j * N;
    for (let b = 0; b < N; b++) acc[rec0 + b] += s.h_prev[b] * 32;
    const in0 = inBase + j * M;
    for (let b = 0; b < M; b++) acc[in0 + b] += s.x[b] * 256;
    acc[bBase + j] += 1048576;
    for (let t = 0; t < T; t++) {
      const inner = saturate32Count(acc[t], sat, SAT.sens);
      Sn[base + t] = saturate32Count(mul32x16RoundShift(S[base + t], keep, 15) + mul32x16RoundShift(inner, c, 15), sat, SAT.sens);
    }
  }
  S.set(Sn);
}
