/**
 * Output-only learner (delta rule on W_out; the reservoir baseline) and the W_out update every learner shares:
 * term_oj(t) = e_o(t) h_j(t).
 */
/**
 * The readout's delta rule (LMS, as in Murray 2019), shared by every learner and the only learning of the
 * 'output' kind (an echo-state readout), reference kernel in fixed point:
 *
 *   y(t) = W_out h(t),  e(t) = target(t) - y(t),  dW_out oj = eta_out e_o(t) h_j(t)
 *
 * With options.direct the readout reads [h; x] (reservoir computing's input-to-output connection):
 *
 *   y(t) = W_out h(t) + D x(t),  dD oj = eta_out e_o(t) x_j(t)
 *
 * Buffers (runtime/layout.ts, every kind): W_out (Q7.24), its copy W_out_q12 (Q3.12, read by the W_out^T e feedback),
 * acc_W_out (Q30); with direct also D (Q7.24, no Q3.12 copy: nothing feeds back through it) and acc_D (Q30); D's
 * saturating writes are counted as 'W_out' (the readout's weights [W_out D], and no new counter, so the arena of a
 * learner without D is unchanged). This kernel is also the live TypeScript path; wasm (kernels.as updateOutput) and C
 * (ns_kernel.c update_output) are bit-exact with it, counters included.
 */
import type { LearnerState } from '../state.ts';
import { mul32x16RoundShift, nlmsReciprocal, mulShiftWide } from '../fixed.ts';
import { SAT } from '../layout.ts';
import { applyStep } from './apply.ts';

/**
 * Accumulates e h^T in Q30 (Math.imul of Q3.12 x Q1.15 = Q27, times 8, exact) and, in 'step' mode, applies
 * round(gain_o h_j) with gain_o = e_o m_out in Q(12 + k_out) (exact int32), shifted to Q(updateFracBits).
 * With direct, the same for D: e x^T (Q24, times 64) and round(gain_o x_j) (Q(24 + k_out) -> Q(updateFracBits)).
 *
 * With normalizedReadout (NLMS; Haykin, Adaptive Filter Theory), the step is divided by eps + |z|^2, z = h (or
 * [h; x] with direct), as the float twin does (sim/reference/learner.ts): n2 = eps + sum h_j^2 + 64 sum x_j^2 is an
 * exact Q30 integer, nlmsReciprocal gives r and p with 2^30 / n2 ~= r 2^(16 - p), gain1_o = round(gain_o r / 2^15)
 * (int32, |gain1| < 2^30), and each update is round(gain1_o z_j 2^-(shift + p - 31)) (mulShiftWide). The accumulated
 * terms (readGradient) stay unnormalised. runtime/ARITHMETIC.md, "Normalised readout".
 */
export function updateOutput(s: LearnerState): void {
  if (s.stepMode && s.normalized) {
    updateOutputNormalized(s);
    return;
  }
  const N = s.N;
  const M = s.M;
  const O = s.O;
  const h = s.h;
  const x = s.x;
  const acc = s.acc_W_out;
  const accumulate = s.accumulate;
  const step = s.stepMode;
  for (let o = 0; o < O; o++) {
    const e = s.e[o];
    if (e === 0) continue;
    const g = Math.imul(e, s.etaOutM);
    const oo = o * N;
    for (let j = 0; j < N; j++) {
      if (accumulate) acc[oo + j] += Math.imul(e, h[j]) * 8;
      if (step) applyStep(s.W_out, s.W_out_q12, oo + j, mul32x16RoundShift(g, h[j], s.shiftOut), s.shiftApply, s.applyMul, s.saturation, SAT.W_out);
    }
    if (!s.direct) continue;
    // D's row: term e_o x_j (Q3.12 x Q3.12 = Q24, times 64 -> Q30, exact); step d = round(g x_j / 2^shiftOutDirect).
    const od = o * M;
    for (let j = 0; j < M; j++) {
      if (accumulate) s.acc_D[od + j] += Math.imul(e, x[j]) * 64;
      if (step) applyStep(s.D, null, od + j, mul32x16RoundShift(g, x[j], s.shiftOutDirect), s.shiftApply, s.applyMul, s.saturation, SAT.W_out);
    }
  }
}

/**
 * The normalised readout's 'step' mode (options.normalizedReadout): the same terms and the NLMS step
 * round(gain1_o z_j 2^-(shift + p - 31)). A function of its own, so that the engine's inlining budget keeps every
 * double of the update inside it (a double passed to a call that is not inlined is boxed: an allocation per step).
 */
function updateOutputNormalized(s: LearnerState): void {
  const N = s.N;
  const M = s.M;
  const O = s.O;
  const h = s.h;
  const x = s.x;
  const acc = s.acc_W_out;
  const accumulate = s.accumulate;
  // One reciprocal per step, shared by every output row: n2 = eps + sum h_j^2 (Q30) + 64 sum x_j^2 (Q24 -> Q30).
  let n2 = s.readoutEpsQ30;
  for (let j = 0; j < N; j++) n2 += h[j] * h[j];
  if (s.direct) for (let j = 0; j < M; j++) n2 += x[j] * x[j] * 64;
  const hi = Math.floor(n2 / 67108864);
  const pr = nlmsReciprocal(hi, n2 - hi * 67108864);
  const r = pr & 0xffff;
  const p = pr >>> 16;
  const sOut = s.shiftOut + p - 31;
  const sDirect = s.shiftOutDirect + p - 31;
  for (let o = 0; o < O; o++) {
    const e = s.e[o];
    if (e === 0) continue;
    const g1 = mul32x16RoundShift(Math.imul(e, s.etaOutM), r, 15);
    const oo = o * N;
    for (let j = 0; j < N; j++) {
      if (accumulate) acc[oo + j] += Math.imul(e, h[j]) * 8;
      applyStep(s.W_out, s.W_out_q12, oo + j, mulShiftWide(g1, h[j], sOut), s.shiftApply, s.applyMul, s.saturation, SAT.W_out);
    }
    if (!s.direct) continue;
    const od = o * M;
    for (let j = 0; j < M; j++) {
      if (accumulate) s.acc_D[od + j] += Math.imul(e, x[j]) * 64;
      applyStep(s.D, null, od + j, mulShiftWide(g1, x[j], sDirect), s.shiftApply, s.applyMul, s.saturation, SAT.W_out);
    }
  }
}
