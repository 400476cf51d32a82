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
import { mul32x16RoundShift } from '../fixed.ts';
import { SAT } from '../layout.ts';
import { applyStep } from './apply.ts';

/**
 * Accumulates e h^T in Q30 (Math.imul of Q3.12 x Q1.15 = Q27, times 8, exact) and, in 'step' mode, applies
 * round(gain_o h_j) with gain_o = e_o m_out in Q(12 + k_out) (exact int32), shifted to Q(updateFracBits).
 * With direct, the same for D: e x^T (Q24, times 64) and round(gain_o x_j) (Q(24 + k_out) -> Q(updateFracBits)).
 */
export function updateOutput(s: LearnerState): void {
  const N = s.N;
  const M = s.M;
  const O = s.O;
  const h = s.h;
  const x = s.x;
  const acc = s.acc_W_out;
  const step = s.stepMode;
  for (let o = 0; o < O; o++) {
    const e = s.e[o];
    if (e === 0) continue;
    const g = Math.imul(e, s.etaOutM);
    const oo = o * N;
    for (let j = 0; j < N; j++) {
      acc[oo + j] += Math.imul(e, h[j]) * 8;
      if (step) applyStep(s.W_out, s.W_out_q12, oo + j, mul32x16RoundShift(g, h[j], s.shiftOut), s.shiftApply, s.applyMul, s.saturation, SAT.W_out);
    }
    if (!s.direct) continue;
    // D's row: term e_o x_j (Q3.12 x Q3.12 = Q24, times 64 -> Q30, exact); step d = round(g x_j / 2^shiftOutDirect).
    const od = o * M;
    for (let j = 0; j < M; j++) {
      s.acc_D[od + j] += Math.imul(e, x[j]) * 64;
      if (step) applyStep(s.D, null, od + j, mul32x16RoundShift(g, x[j], s.shiftOutDirect), s.shiftApply, s.applyMul, s.saturation, SAT.W_out);
    }
  }
}
