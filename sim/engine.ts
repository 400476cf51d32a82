/**
 * Engine selection for the CLI and the simulator: the fixed-point runtime or its float64 twin, same interface.
 */
import type { Engine, LearnerOptions, ModelWeights, OnlineLearner } from '../runtime/types.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import type { FixedOptions } from '../runtime/plan.ts';
import { createFloatLearner } from './reference/index.ts';
import { InputError } from './modelio.ts';
import { FixedLearner } from '../runtime/learner.ts';
import { ArenaCheckpoint, WeightsCheckpoint, type LearnerCheckpoint } from '../runtime/divergence.ts';

/**
 * Learner options the fixed-point engine does not implement yet, with the CLI flag that sets each. The fixed engine
 * refuses them rather than ignore them.
 */
const FLOAT_ONLY: readonly [keyof LearnerOptions, string][] = [
  ['maxRecStep', '--max-rec-step (the recurrent update bound)'],
  ['rlsReadout', '--rls-readout (the recursive-least-squares readout)'],
  ['readoutDelta', '--rls-readout (the recursive-least-squares readout)'],
];

/** Throws an InputError naming the first option of `options` that the fixed-point engine does not have yet. */
export function checkFixedSupports(options: LearnerOptions): void {
  for (const [key, flag] of FLOAT_ONLY) {
    const v = options[key];
    if (v !== undefined && v !== false) {
      throw new InputError(`${flag} is not yet in the fixed-point engine; use --engine float, or leave it out`);
    }
  }
}

export const ENGINES: readonly Engine[] = ['fixed', 'float'];

/** A learner of the given engine ('fixed': runtime/, quantizing the weights; 'float': sim/reference). */
export function createLearner(engine: Engine, options: LearnerOptions, weights: ModelWeights, fixed: FixedOptions = {}): OnlineLearner {
  if (engine === 'fixed') {
    checkFixedSupports(options);
    if (weights.D !== undefined && options.direct !== true) {
      throw new InputError('the weights carry D (the readout that reads the input) but --direct is off; add --direct, or use weights without D');
    }
    return createFixedLearner(options, weights, fixed);
  }
  if (engine === 'float') return createFloatLearner(options, weights);
  throw new RangeError(`engine must be 'fixed' or 'float' (got ${String(engine)})`);
}

/**
 * The live divergence guard's last good state for a learner of either engine: the fixed-point arena (copied without
 * allocating), or the float64 twin's weights (a restore then starts from a fresh state and traces).
 */
export function checkpointFor(l: OnlineLearner): LearnerCheckpoint {
  if (l instanceof FixedLearner) return new ArenaCheckpoint(l);
  return new WeightsCheckpoint(l, createFloatLearner);
}
