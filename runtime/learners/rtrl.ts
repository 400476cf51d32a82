/**
 * Exact RTRL (Williams & Zipser 1989, "A learning algorithm for continually running fully recurrent neural
 * networks", Neural Computation 1(2)) for the leaky RNN, reference kernel in fixed point. With alpha = 1/tau and
 * theta running over W_rec, W_in and b:
 *
 *   S_j,theta(t) = (1 - alpha) S_j,theta(t-1) + alpha phi'(u_j(t)) [ direct_j,theta(t) + sum_k W_jk S_k,theta(t-1) ]
 *                  direct_j,W_jb = h_b(t-1),  direct_j,W_in jb = x_b(t),  direct_j,b_j = 1,  0 otherwise
 *   dtheta       = eta sum_j (W_out^T e(t))_j S_j,theta(t)      (the exact gradient of 1/2 |e(t)|^2)
 *
 * theta is laid out [W_rec (N*N) | W_in (N*M) | b (N)]. Buffers (runtime/layout.ts, kind rtrl): S and S_next
 * (N x theta, Q11.20 int32), sum_hi and sum_lo (theta, exact partial sums). W_rec enters as its Q3.12 copy W_rec_q12.
 * This TypeScript kernel is the reference (and the live TypeScript path's learning step); the optimized kernels are
 * TypeScript (advanceRtrlFast below, the sensitivity step), wasm (kernels.as advanceRtrl/advanceRtrlDot/updateRtrl, SIMD)
 * and C (ns_kernel.c advance_rtrl/update_rtrl), bit-exact, counters included. Formats and rounding: runtime/ARITHMETIC.md, "RTRL".
 */
import type { LearnerState } from '../state.ts';
import { mul32x16RoundShift, roundShiftRight, roundShiftRightWide, saturate16Count, saturate32Count } from '../fixed.ts';
import { SAT } from '../layout.ts';
import { applyStep } from './apply.ts';

/**
 * sum_k W_jk S_k,theta: each S (int32) is split into hi (signed) and lo (unsigned 16 bits); W (Q3.12 int16) times
 * each half is one Math.imul; the two sums are exact in float64 (int64_t in C). The Q32 total is rounded half up to
 * Q20 as hi * 16 + round(lo / 2^12). Adds the direct term (h_b Q15 << 5, x_b Q12 << 8, 1 << 20), then
 * S' = round((1 - alpha) S / 2^15) + round(alpha phi'_j inner / 2^15) (two 32x16 products), saturated ('sens').
 */
export function advanceRtrl(s: LearnerState): void {
  const N = s.N;
  const M = s.M;
  const T = s.theta;
  const S = s.S;
  const Sn = s.S_next;
  const hi = s.sum_hi;
  const lo = s.sum_lo;
  const Wq = s.W_rec_q12;
  const sat = s.saturation;
  const inBase = N * N;
  const bBase = N * N + N * M;
  for (let j = 0; j < N; j++) {
    for (let t = 0; t < T; t++) {
      hi[t] = 0;
      lo[t] = 0;
    }
    for (let k = 0; k < N; k++) {
      const w = Wq[j * N + k];
      if (w === 0) continue;
      const base = k * T;
      for (let t = 0; t < T; t++) {
        const v = S[base + t];
        hi[t] += Math.imul(w, v >> 16);
        lo[t] += Math.imul(w, v & 0xffff);
      }
    }
    const c = s.aphi[j];
    const keep = s.oneMinusAlpha;
    const base = j * T;
    for (let t = 0; t < T; t++) {
      let inner = hi[t] * 16 + roundShiftRightWide(lo[t], 12);
      if (t >= j * N && t < j * N + N) inner += s.h_prev[t - j * N] * 32;
      else if (t >= inBase + j * M && t < inBase + j * M + M) inner += s.x[t - inBase - j * M] * 256;
      else if (t === bBase + j) inner += 1048576;
      inner = saturate32Count(inner, sat, SAT.sens);
      Sn[base + t] = saturate32Count(mul32x16RoundShift(S[base + t], keep, 15) + mul32x16RoundShift(inner, c, 15), sat, SAT.sens);
    }
  }
  S.set(Sn);
}

/**
 * Learning step after feedbackQ. c_j = (W_out^T e)_j rounded to Q3.12 int16 ('feedback'); D_theta = sum_j c_j S_j,theta
 * exactly (split products as above, Q32). Accumulates D in Q30 (hi * 2^14 + round(lo / 4)); in 'step' mode rounds D to
 * Q20 int32 ('grad') and applies round(D m_rec / 2^shift).
 */
export function updateRtrl(s: LearnerState): void {
  const N = s.N;
  const T = s.theta;
  const S = s.S;
  const hi = s.sum_hi;
  const lo = s.sum_lo;
  const sat = s.saturation;
  const step = s.stepMode;
  const accumulate = s.accumulate;
  const nRec = N * N;
  const nIn = N * s.M;
  for (let t = 0; t < T; t++) {
    hi[t] = 0;
    lo[t] = 0;
  }
  for (let j = 0; j < N; j++) {
    const c = saturate16Count(roundShiftRight(s.fb[j], 12), sat, SAT.feedback);
    if (c === 0) continue;
    const base = j * T;
    for (let t = 0; t < T; t++) {
      const v = S[base + t];
      hi[t] += Math.imul(c, v >> 16);
      lo[t] += Math.imul(c, v & 0xffff);
    }
  }
  for (let t = 0; t < T; t++) {
    const term = hi[t] * 16384 + roundShiftRightWide(lo[t], 2);
    let d = 0;
    if (step) d = mul32x16RoundShift(saturate32Count(hi[t] * 16 + roundShiftRightWide(lo[t], 12), sat, SAT.grad), s.etaRecM, s.shiftRtrl);
    if (t < nRec) {
      if (accumulate) s.acc_W_rec[t] += term;
      if (step) applyStep(s.W_rec, s.W_rec_q12, t, d, s.shiftApply, s.applyMul, sat, SAT.W_rec);
    } else if (t < nRec + nIn) {
      if (accumulate) s.acc_W_in[t - nRec] += term;
      if (step) applyStep(s.W_in, null, t - nRec, d, s.shiftApply, s.applyMul, sat, SAT.W_in);
    } else {
      if (accumulate) s.acc_b[t - nRec - nIn] += term;
      if (step) applyStep(s.b, null, t - nRec - nIn, d, s.shiftApply, s.applyMul, sat, SAT.b);
    }
  }
}

/**
 * advanceRtrl, optimized for the live TypeScript path ('js' backend), bit-exact with it, saturation counters included
 * (test/runtime-kernels.test.ts). sum_k W_jk S_k,theta is summed as one float64 per parameter instead of the hi/lo
 * pair: each product |W S| <= 2^15 2^31 = 2^46 is exact in float64, and for N <= 127 every partial sum stays below
 * 2^53, so the total is the exact integer hi 2^16 + lo, and roundShiftRightWide(total, 12) is hi 16 + round(lo / 2^12).
 * The last row goes through the hi/lo split so that sum_hi/sum_lo hold the reference's values after the step; sum_hi
 * is the float64 scratch of rows 0 .. N - 2. N > 127 takes advanceRtrl. (Kept in this file rather than in
 * learners/optimized/: a module of its own would take the package past its file budget, test/consumer.test.ts.)
 */
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
