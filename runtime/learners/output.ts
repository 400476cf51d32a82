/**
 * Output-only learner (delta rule on W_out; the reservoir baseline) and the W_out update every learner shares:
 * term_oj(t) = e_o(t) h_j(t).
 */
import type { FixedState } from '../network.ts';
import { mul32x16RoundShift } from '../fixed.ts';
import { SAT } from '../plan.ts';
import { applyStep } from './apply.ts';

/**
 * Accumulates e h^T in Q30 (Math.imul of Q3.12 x Q1.15 = Q27, times 8, exact) and, in 'step' mode, applies
 * round(gain_o h_j) with gain_o = e_o m_out in Q(12 + k_out) (exact int32), shifted to Q(updateFracBits).
 */
export function updateOutput(s: FixedState): void {
  const N = s.N;
  const O = s.O;
  const h = s.h;
  const acc = s.acc_W_out;
  const step = s.stepMode;
  for (let o = 0; o < O; o++) {
    const e = s.e[o];
    if (e === 0) continue;
    const g = Math.imul(e, s.etaOutM);
    const oo = o * N;
    for (let j = 0; j < N; j++) {
      acc[oo + j] += Math.imul(e, h[j]) * 8;
      if (step) applyStep(s.W_out, s.W_out_q12, oo + j, mul32x16RoundShift(g, h[j], s.shiftOut), s.shiftApply, s.applyMul, s.sat, SAT.W_out);
    }
  }
}
