/**
 * Seeded random problems for gradient checks: a network with the runtime's initial weights (W_rec gain 1.5 by
 * default) plus random bias, initial state, inputs and targets. Plan-time code: allocates freely.
 */
import type { ModelWeights } from '../../runtime/types.ts';
import { initWeights } from '../../runtime/init.ts';
import { createRng, rngNormal, rngUniform } from '../../runtime/rng.ts';

export interface ProblemOptions {
  inputs: number;
  hidden: number;
  outputs: number;
  tau: number;
  /** Sequence length in steps. */
  steps: number;
  seed: number;
  /** W_rec ~ N(0, gain^2 / N); default 1.5. */
  gain?: number;
}

export interface Problem {
  weights: ModelWeights;
  /** x[t-1] is the input of step t. */
  x: Float64Array[];
  /** target[t-1] is the target of step t. */
  target: Float64Array[];
}

/**
 * W_rec, W_in, B as in runtime/init.ts; W_out ~ U(-1, 1)/sqrt(N) (larger than the training default, so the
 * recurrent gradients are not tiny); b ~ N(0, 0.3^2); h0 ~ U(-0.5, 0.5); x ~ N(0, 1); targets ~ N(0, 0.5^2).
 */
export function randomProblem(o: ProblemOptions): Problem {
  const { inputs: M, hidden: N, outputs: O } = o;
  const weights = initWeights({ inputs: M, hidden: N, outputs: O, tau: o.tau, seed: o.seed, gain: o.gain ?? 1.5, outScale: 1 });
  const rng = createRng((o.seed ^ 0x5bd1e995) >>> 0);
  for (let i = 0; i < N; i++) weights.b[i] = 0.3 * rngNormal(rng);
  for (let i = 0; i < N; i++) weights.h0[i] = rngUniform(rng) - 0.5;
  const x: Float64Array[] = [];
  const target: Float64Array[] = [];
  for (let t = 0; t < o.steps; t++) {
    const xt = new Float64Array(M);
    for (let j = 0; j < M; j++) xt[j] = rngNormal(rng);
    const yt = new Float64Array(O);
    for (let k = 0; k < O; k++) yt[k] = 0.5 * rngNormal(rng);
    x.push(xt);
    target.push(yt);
  }
  return { weights, x, target };
}

/** Every combination of the listed sizes, for grid tests. */
export function grid(axes: { hidden: number[]; inputs: number[]; outputs: number[]; tau: number[]; steps: number[] }) {
  const out: { hidden: number; inputs: number; outputs: number; tau: number; steps: number }[] = [];
  for (const hidden of axes.hidden)
    for (const inputs of axes.inputs)
      for (const outputs of axes.outputs)
        for (const tau of axes.tau) for (const steps of axes.steps) out.push({ hidden, inputs, outputs, tau, steps });
  return out;
}
