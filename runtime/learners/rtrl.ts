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
 * TypeScript (optimized/rtrl.ts, the sensitivity step), wasm (kernels.as advanceRtrl/advanceRtrlDot/updateRtrl, SIMD)
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
