/**
 * Stream defaults of every online learner for `sim` on stream tasks (drift, board, narma10, mackey-glass, csv), and
 * the documented starting point of the library. Murray's periodic task keeps its own (sim/tasks/run.ts
 * defaultLearningRate, N 30, tau 10, no D), so its acceptance numbers stay as they are.
 *
 * Chosen by measurement with the float engine (`npm run bench:learning -- --sweep`, seeds 1..3, then the acceptance
 * table over seeds 1..10; the numbers are in sim/README.md): on every stream measured, tau 1-2 and a readout that
 * reads the input (D) beat tau 10 without it; normalised readout steps (NLMS-style) make one readout rate work on
 * every stream; a bound on each recurrent update keeps the recurrent learners from diverging at their rate (RTRL needs
 * a tighter one, 0.003: at 0.05 two NARMA-10 seeds ended above NMSE 1).
 */
import type { LearnerKind } from '../runtime/types.ts';

export interface StreamConfig {
  hidden: number;
  tau: number;
  lrRec: number;
  lrOut: number;
  /** The readout reads the input: y = W_out h + D x. */
  direct: boolean;
  /** NLMS-normalised readout steps. */
  normalized: boolean;
  /** Bound on the norm of each recurrent update (undefined: none). */
  maxRecStep?: number;
  /** RLS readout with this forgetting factor (undefined: the delta rule, normalised or not). */
  rlsReadout?: number;
  /** Gain g of the initial W_rec ~ N(0, g^2 / N) (undefined: 1.5, Murray 2019). */
  gain?: number;
}

export const STREAM_DEFAULTS: Record<LearnerKind, StreamConfig> = {
  rflo: { hidden: 32, tau: 2, lrRec: 0.01, lrOut: 0.3, direct: true, normalized: false, rlsReadout: 0.99, gain: 0.9, maxRecStep: 0.05 },
  snap1: { hidden: 32, tau: 2, lrRec: 0.01, lrOut: 0.3, direct: true, normalized: false, rlsReadout: 0.99, gain: 0.9, maxRecStep: 0.003 },
  rtrl: { hidden: 8, tau: 2, lrRec: 0.03, lrOut: 0.3, direct: true, normalized: false, rlsReadout: 0.99, gain: 0.9, maxRecStep: 0.003 },
  output: { hidden: 32, tau: 2, lrRec: 0, lrOut: 0.3, direct: true, normalized: false, rlsReadout: 0.99, gain: 0.9 },
};
