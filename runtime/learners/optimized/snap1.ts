/**
 * SnAp-1 (runtime/learners/snap1.ts: the equations and the reference kernel), the optimized TypeScript kernel of the
 * live path: optimized/rflo.ts's fused trace-and-update loop with SnAp-1's decay. Bit-exact with the reference,
 * saturation counters included (test/runtime-kernels.test.ts).
 */
import type { LearnerState } from '../../state.ts';
import { learnTraces } from './rflo.ts';

/** SnAp-1's learning step (learner.ts, backend 'js'). */
export function learnSnap1(s: LearnerState): void {
  learnTraces(s, true);
}
