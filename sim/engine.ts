/**
 * Engine selection for the CLI and the simulator: the fixed-point runtime or its float64 twin, same interface.
 */
import type { Engine, LearnerOptions, ModelWeights, OnlineLearner } from '../runtime/types.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import type { FixedOptions } from '../runtime/plan.ts';
import { createFloatLearner } from './reference/index.ts';

export const ENGINES: readonly Engine[] = ['fixed', 'float'];

/** A learner of the given engine ('fixed': runtime/, quantizing the weights; 'float': sim/reference). */
export function createLearner(engine: Engine, options: LearnerOptions, weights: ModelWeights, fixed: FixedOptions = {}): OnlineLearner {
  if (engine === 'fixed') return createFixedLearner(options, weights, fixed);
  if (engine === 'float') return createFloatLearner(options, weights);
  throw new RangeError(`engine must be 'fixed' or 'float' (got ${String(engine)})`);
}
