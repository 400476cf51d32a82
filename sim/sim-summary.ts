/**
 * The result of `neurostream sim` (sim/commands/sim.ts runSim), as the text formatter and the HTML report
 * (sim/plot/sim-report.ts) read it. Its own module so that the report does not import the command.
 */
import type { Engine, UpdateMode } from '../runtime/types.ts';
import type { SimLearner } from './tasks/run.ts';

export interface SimSummary {
  task: string;
  learner: SimLearner;
  engine: Engine;
  /** Trials per seed (trial tasks) or null (streams). */
  trials: number | null;
  /** Samples per seed (streams) or null (trial tasks). */
  steps: number | null;
  seeds: number[];
  nmse: number[];
  median_nmse: number;
  /** Median over seeds at each point: {trial|step, nmse}. */
  curve: { trial?: number; step?: number; nmse: number }[];
  lr_rec: number;
  lr_out: number;
  hidden: number;
  tau: number;
  update: UpdateMode;
  /** BPTT truncation window in steps; null = full BPTT or not BPTT. */
  window: number | null;
  noise: number;
  /** Readout options (float engine): y = W_out h + D x, NLMS-normalised readout steps, recurrent update bound. */
  direct: boolean;
  normalized: boolean;
  max_rec_step: number | null;
  /** RLS readout forgetting factor, null when the readout learns by the delta rule. */
  rls_readout: number | null;
  /** Gain of the initial W_rec. */
  gain: number;
  /** Scale s of the initial W_in ~ U(-s, s). */
  input_scale: number;
  /** Streams only. */
  skipped?: number;
  persistence_nmse?: number;
  /** Streams only: persistence NMSE per seed. */
  persistence?: number[];
  /**
   * Streams with inputs: the better of the two linear AR baselines (median over seeds; sim/baselines.ts), which one,
   * both medians and both per seed. NLMS mu 0.5 and RLS lambda 0.999, over the last 8 samples of every input.
   */
  linear_nmse?: number;
  linear_variant?: 'nlms' | 'rls';
  nlms_nmse?: number;
  rls_nmse?: number;
  nlms?: number[];
  rls?: number[];
  /** Streams: samples the outlier guard kept from the learner (part of skipped). */
  rejected?: number;
  /** Why the NMSE is undefined (null in JSON) when it is: the target has no variance. */
  nmse_undefined?: string;
  /** What the data itself showed: a units row, missing readings, outliers, constant columns. */
  notes?: string[];
  /** Per seed, false (it did not diverge) or how the run diverged ('nan' | 'exploded' | 'saturated') and what to change. */
  diverged?: ({ kind: string; at: number; message: string } | false)[];
  /** drift only, per seed: one entry per change. */
  recovery?: { event: number; pre_nmse: number; post_nmse: number; steps: number | null }[][];
  description: string;
}
