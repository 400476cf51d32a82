/**
 * SnAp-1 (Menick et al. 2021, "A practical sparse approximation for real time recurrent learning"): the entries of
 * RTRL's sensitivity S_j,theta with j equal to the parameter's own unit a, so S_a,ab follows
 *   S_a,ab(t) = [(1-a) + a phi'(u_a) W_aa] S_a,ab(t-1) + a phi'(u_a) h_b(t-1),
 * and the update is (W_out^T e)_a S_a,ab. It is the RFLO kernel (rflo.ts) with that decay and W_out^T feedback;
 * the decay is Q1.15 in an int32, clamped to [-1, 1] (counted as 'decay').
 */
import { advanceTraces, updateTraces } from './rflo.ts';
import type { TraceState } from './rflo.ts';

export function advanceSnap1(s: TraceState): void {
  advanceTraces(s, true);
}

export function updateSnap1(s: TraceState): void {
  updateTraces(s);
}
