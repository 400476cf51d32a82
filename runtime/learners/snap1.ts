/**
 * SnAp-1 (Menick et al. 2021, "A practical sparse approximation for real time recurrent learning"), reference kernel
 * in fixed point. RTRL's sensitivity S_j,theta = dh_j/dtheta (rtrl.ts) kept only where j is the parameter's own
 * unit a, so for theta = W_ab, W_in ab or b_a (alpha = 1/tau):
 *
 *   S_a,ab(t) = [(1 - alpha) + alpha phi'(u_a(t)) W_aa] S_a,ab(t-1) + alpha phi'(u_a(t)) v_b(t)
 *               (the one-step sparsity pattern of the exact recursion; v_b = h_b(t-1), x_b(t) or 1)
 *   dW_ab     = eta (W_out^T e(t))_a S_a,ab(t)
 *
 * That is RFLO's recursion (rflo.ts, eq. 13) with the decay d_a = (1 - alpha) + alpha phi'(u_a) W_aa instead of
 * 1 - alpha, and RFLO's update with W_out^T feedback. The decay reads the Q3.12 copy W_rec_q12 and is kept in Q1.15
 * in an int32, clamped to [0, 2] (counted as 'decay'); the traces are Q3.12 (they exceed 1).
 *
 * Buffers (runtime/layout.ts): P_in, P_rec, P_b (Q3.12) and decay (Q1.15, kind snap1 only).
 * Reference kernel: every rounding and clamp through runtime/fixed.ts. Optimized: optimized/snap1.ts (TypeScript),
 * kernels.as advanceTraces(true) (wasm), ns_kernel.c advance_traces(l, 1) (C); bit-exact, counters included.
 */
import type { LearnerState } from '../state.ts';
import { roundShiftRight, saturateQ15ZeroTwoCount } from '../fixed.ts';
import { SAT } from '../layout.ts';
import { advanceTraceRow, updateRflo } from './rflo.ts';

/**
 * d_a = (1 - alpha) + round(alpha phi'(u_a) W_aa / 2^12), Q1.15 in an int32, clamped to [0, 65536] (0..2, 'decay');
 * stored in decay[a]. d_a exceeds 1 whenever phi'(u_a) W_aa > 1 (a unit whose self-excitation beats its leak), which
 * learning on Murray's periodic task reaches: clamping at 1 biased the traces (runtime/ARITHMETIC.md, "Traces").
 */
export function snap1Decay(s: LearnerState, a: number): number {
  const d = saturateQ15ZeroTwoCount(s.oneMinusAlpha + roundShiftRight(Math.imul(s.aphi[a], s.W_rec_q12[a * s.N + a]), 12), s.saturation, SAT.decay);
  s.decay[a] = d;
  return d;
}

/** The SnAp-1 recursion for every unit (after forwardQ). */
export function advanceSnap1(s: LearnerState): void {
  for (let a = 0; a < s.N; a++) advanceTraceRow(s, a, snap1Decay(s, a));
}

/** The SnAp-1 update after feedbackQ (fb = W_out^T e): RFLO's update on the SnAp-1 traces. */
export function updateSnap1(s: LearnerState): void {
  updateRflo(s);
}
