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
  /** Streams only. */
  skipped?: number;
  persistence_nmse?: number;
  /** Streams only: persistence NMSE per seed. */
  persistence?: number[];
  /** drift only, per seed: one entry per change. */
  recovery?: { event: number; pre_nmse: number; post_nmse: number; steps: number | null }[][];
  description: string;
}
