/**
 * computeGradient: the loss and (approximate) gradient of one sequence for fixed weights, obtained by running the
 * real learner in 'trial' mode and reading its accumulator, so every caller exercises the same code as training.
 */
import { zeroGradient } from '../../runtime/types.ts';
import type { Feedback, Gradient, LearnerKind, LearnerOptions, ModelWeights, OnlineLearner } from '../../runtime/types.ts';
import { createBpttLearner } from './bptt.ts';
import { createFloatLearner } from './learner.ts';

export interface GradientOptions {
  /** RFLO feedback (default 'random', i.e. weights.B). */
  feedback?: Feedback;
  /** BPTT truncation window (default Infinity = full). */
  window?: number;
  /** The readout reads the input too (y = W_out h + D x; weights.D, zeros when absent); the gradient gains D. */
  direct?: boolean;
}

/**
 * For fixed weights and a sequence starting from weights.h0 (x[t-1], target[t-1] belong to step t):
 * L = 1/2 sum_t sum_o (target_o(t) - y_o(t))^2 and the gradient of L with respect to W_in, W_rec, b, W_out.
 * Exact for 'bptt' (window Infinity) and 'rtrl'; for 'rflo', 'snap1', 'output' the learner's approximation
 * (minus its summed update direction; 'output' has zeros for W_in, W_rec and b).
 */
export function computeGradient(
  kind: LearnerKind | 'bptt',
  weights: ModelWeights,
  x: ArrayLike<number>[],
  target: ArrayLike<number>[],
  opts: GradientOptions = {},
): { loss: number; grad: Gradient } {
  if (target.length !== x.length) throw new Error(`target has ${target.length} steps but x has ${x.length}; give one per step`);
  const T = x.length;
  const common: Omit<LearnerOptions, 'learner'> = {
    inputs: weights.inputs,
    hidden: weights.hidden,
    outputs: weights.outputs,
    tau: weights.tau,
    lrRec: 0,
    lrOut: 0,
    update: 'trial',
    trialLength: Math.max(1, T),
    feedback: opts.feedback,
    direct: opts.direct === true || weights.D !== undefined ? true : undefined,
  };
  const learner: OnlineLearner =
    kind === 'bptt'
      ? createBpttLearner({ ...common, window: opts.window ?? Infinity }, weights)
      : createFloatLearner({ ...common, learner: kind }, weights);
  const out = new Float64Array(weights.outputs);
  let L = 0;
  for (let t = 0; t < T; t++) {
    const tt = target[t];
    learner.step(x[t], tt, out);
    for (let o = 0; o < out.length; o++) {
      const e = tt[o] - out[o];
      L += 0.5 * e * e;
    }
  }
  const grad = learner.readGradient(zeroGradient(weights));
  return { loss: L, grad };
}
