/**
 * The one learner interface shared by the fixed-point runtime and the float64 reference twin (sim/reference).
 * Every check in the project runs the same stream through both engines and compares; keep the signatures equal.
 *
 * Model (Murray 2019), a = 1/tau:
 *   u(t) = W_rec h(t-1) + W_in x(t) + b
 *   h(t) = (1 - a) h(t-1) + a tanh(u(t))
 *   y(t) = W_out h(t)
 *   e(t) = target(t) - y(t)
 *
 * Matrices are row-major Float64Arrays: W_in is N x M (W_in[i*M + j]), W_rec N x N, W_out O x N, B N x O.
 */

import { LEARNER_KIND_ORDER } from './layout.ts';
import type { LearnerKindName } from './layout.ts';

/** The learning rules; their codes are defined once in runtime/layout.ts. */
export type LearnerKind = LearnerKindName;
export const LEARNER_KINDS: readonly LearnerKind[] = LEARNER_KIND_ORDER;

export type Engine = 'fixed' | 'float';

/**
 * 'step': weights change after every step by (lr / trialLength) * term(t).
 * 'trial': the terms are summed and endTrial() applies (lr / trialLength) * sum (Murray 2019).
 */
export type UpdateMode = 'step' | 'trial';

/** RFLO feedback: a fixed random B (entries N(0, 1/outputs)), or W_out^T (then RFLO is "RFLO with symmetric feedback"). */
export type Feedback = 'random' | 'transpose';

export interface NetworkShape {
  /** M, number of inputs (may be 0). */
  inputs: number;
  /** N, number of hidden units. */
  hidden: number;
  /** O, number of outputs. */
  outputs: number;
}

export interface LearnerOptions extends NetworkShape {
  learner: LearnerKind;
  /** Time constant in steps, >= 1. */
  tau: number;
  /** Learning rate of W_in, W_rec and b. */
  lrRec: number;
  /** Learning rate of W_out. */
  lrOut: number;
  update: UpdateMode;
  /** P: learning rates are divided by it, so lr means the same per-step and per-trial. 1 for open streams. */
  trialLength: number;
  /** RFLO only; default 'random'. */
  feedback?: Feedback;
  /**
   * The readout also reads the input: y = W_out h + D x, D (O x M) learned by the delta rule with lrOut (in
   * reservoir-computing terms the readout reads [h; x]). Default false. Both engines (fixed point: D in Q7.24,
   * runtime/ARITHMETIC.md).
   */
  direct?: boolean;
  /**
   * Normalised readout steps (NLMS): in 'step' mode W_out (and D) move by lrOut / (readoutEps + |h|^2 (+ |x|^2 with
   * direct)) times the delta-rule term, so one lrOut works across input scales and sizes (stable for 0 < lrOut < 2;
   * the fixed-point plan refuses lrOut / trialLength >= 2). Default false. Both engines (fixed point: an integer
   * reciprocal of the Q30 norm, runtime/ARITHMETIC.md "Normalised readout").
   */
  normalizedReadout?: boolean;
  /**
   * Keep the summed per-step terms for readGradient() (the Q30 accumulators acc_* of the fixed-point arena).
   * 'trial' mode always accumulates (endTrial() applies the sum; false is refused there); in 'step' mode the default
   * is false: the weights move every step and nothing reads the sum, so the fixed-point learner neither allocates
   * nor writes the accumulators, and readGradient() throws. `neurostream grad` runs in 'trial' mode;
   * `neurostream plan --accumulate-gradient` shows the accumulators' bytes.
   */
  accumulateGradient?: boolean;
  /** eps of the normalised readout step (default 1e-3). */
  readoutEps?: number;
  /**
   * Divergence guard: in 'step' mode a recurrent update (W_rec, W_in, b together) whose Euclidean norm exceeds this
   * bound is scaled down to it. Default: no bound. Float engine only for now.
   */
  maxRecStep?: number;
  /**
   * Recursive-least-squares readout with forgetting factor lambda in (0, 1] (Haykin, Adaptive Filter Theory, RLS;
   * for reservoir readouts Jaeger 2003, "Adaptive nonlinear system identification with echo state networks"; FORCE,
   * Sussillo & Abbott 2009): in 'step' mode W_out (and D) move by e(t) k(t)^T, k = P z / (lambda + z^T P z), with
   * z = [h; x] and P (L x L, L = N (+ M)) the inverse of the exponentially weighted correlation of z, P(0) = I /
   * readoutDelta. Replaces the delta-rule / normalised step (lrOut is not used for the readout). Does not change
   * the gradient. Default: off. Float engine only for now.
   */
  rlsReadout?: number;
  /** P(0) = I / readoutDelta of the RLS readout (default 0.01). */
  readoutDelta?: number;
}

/** Float64 interchange form of all parameters and the initial state. */
export interface ModelWeights {
  tau: number;
  inputs: number;
  hidden: number;
  outputs: number;
  W_in: Float64Array; // N x M
  W_rec: Float64Array; // N x N
  b: Float64Array; // N
  W_out: Float64Array; // O x N
  h0: Float64Array; // N, the state a trial starts from
  B: Float64Array; // N x O, RFLO's fixed random feedback
  D?: Float64Array; // O x M, the input-to-output readout (options.direct only)
}

/** A gradient (or an approximate one) with respect to every trained parameter, same layout as ModelWeights. */
export interface Gradient {
  W_in: Float64Array;
  W_rec: Float64Array;
  b: Float64Array;
  W_out: Float64Array;
  /** O x M, with options.direct only. */
  D?: Float64Array;
}

export interface OnlineLearner {
  readonly engine: Engine;
  readonly options: Readonly<LearnerOptions>;
  /**
   * One sample: forward pass with x(t) (length M), then, when target (length O) is given, the learning step.
   * Writes y(t) (computed before any weight change of this step) into out (length O) and returns out.
   * target === null runs inference only: state and traces advance, weights and accumulators do not change.
   * Missing readings (runtime/ARITHMETIC.md): a target with a non-finite entry is treated as null (counted); a
   * non-finite input holds that channel's last finite value, 0 before the first (counted). Allocates nothing.
   */
  step(x: ArrayLike<number>, target: ArrayLike<number> | null, out: Float64Array): Float64Array;
  /** Start of a trial: h := h0, all eligibility traces / sensitivities := 0. Accumulators are kept. */
  resetState(): void;
  /** 'trial' mode: apply the accumulated update and clear the accumulators. No-op in 'step' mode. */
  endTrial(): void;
  /**
   * The accumulated per-step terms since the last endTrial()/clearGradient(), with the sign of a gradient of
   * L = 1/2 sum_t |e(t)|^2 (that is, minus the summed update direction, not scaled by any learning rate).
   * For RTRL this is the exact gradient when weights did not change during the sequence.
   */
  readGradient(out: Gradient): Gradient;
  clearGradient(): void;
  /** Current hidden state h(t) into out (length N). */
  readHidden(out: Float64Array): Float64Array;
  /**
   * h(t) += delta (length N), between steps: state noise (the periodic task's sigma per step). The fixed-point engine
   * rounds to its state format and saturates (counted). Allocates nothing.
   */
  perturbHidden(delta: ArrayLike<number>): void;
  /** Current parameters as float64. */
  getWeights(): ModelWeights;
  /** Replace all parameters (and h0, B); resets state. */
  setWeights(w: ModelWeights): void;
}

export function zeroGradient(shape: NetworkShape): Gradient {
  const { inputs: M, hidden: N, outputs: O } = shape;
  return { W_in: new Float64Array(N * M), W_rec: new Float64Array(N * N), b: new Float64Array(N), W_out: new Float64Array(O * N) };
}
