/** Float64 reference twin of the runtime: the online learners, BPTT, and helpers for gradient checks. */
export { createFloatLearner, copyGradientInto } from './learner.ts';
export type { FloatLearner } from './learner.ts';
export { createBpttLearner, isBpttLearner } from './bptt.ts';
export type { BpttOptions, BpttLearnerOptions, GradientKind } from './bptt.ts';
export { computeGradient } from './gradient.ts';
export { randomProblem, grid } from './fixtures.ts';
export type { Problem, ProblemOptions } from './fixtures.ts';
export type { GradientOptions } from './gradient.ts';
export {
  forward,
  loss,
  checkShape,
  checkCommonOptions,
  checkWeights,
  copyWeights,
  copyWeightsInto,
  withDirect,
  gradientMaxAbs,
  gradientRelativeError,
} from './model.ts';
export type { Trajectory } from './model.ts';
