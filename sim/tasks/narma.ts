/**
 * NARMA-10 (Atiya & Parlos 2000, IEEE Trans. Neural Networks 11(3), eq. 26), the standard reservoir-computing
 * benchmark of memory and nonlinearity:
 *   y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i=0}^{9} y(t-i) + 1.5 u(t-9) u(t) + 0.1,   u(t) ~ U(0, 0.5) i.i.d.
 * Input x(t) = u(t), target y(t+1): the learner must remember u ten steps back and multiply. y starts at 0; the first
 * `washout` (default 200) samples are generated and dropped. The series is generated once at construction (length
 * `steps`), so next() allocates nothing. Persistence predicts y(t).
 * For u in [0, 0.5] the recursion stays in [0, 1] for practical lengths; a seed whose series leaves it is refused.
 */
import type { Task } from './task.ts';
import { createRng, rngUniform } from '../../runtime/rng.ts';
import { InputError } from '../modelio.ts';

export interface NarmaOptions {
  seed?: number;
  /** Samples (default 10000). */
  steps?: number;
  /** Generated and dropped first (default 200). */
  washout?: number;
}

export function narma10Series(seed: number, length: number, washout = 200): { u: Float64Array; y: Float64Array } {
  const rng = createRng(seed);
  const T = length + washout + 1;
  const u = new Float64Array(T);
  const y = new Float64Array(T + 1);
  for (let t = 0; t < T; t++) u[t] = 0.5 * rngUniform(rng);
  for (let t = 0; t < T; t++) {
    let s = 0;
    for (let i = 0; i < 10 && t - i >= 0; i++) s += y[t - i];
    const uLag = t >= 9 ? u[t - 9] : 0;
    // Atiya & Parlos 2000, eq. 26 (the order-10 NARMA system).
    y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * s + 1.5 * uLag * u[t] + 0.1;
    if (!(Math.abs(y[t + 1]) <= 1)) throw new InputError(`narma10: the series of seed ${seed} left [0, 1] at step ${t + 1}; use another seed`);
  }
  return { u: u.subarray(washout, washout + length), y: y.subarray(washout, washout + length + 1) };
}

export function createNarmaTask(o: NarmaOptions = {}): Task {
  const seed = o.seed ?? 1;
  const steps = o.steps ?? 10000;
  if (!Number.isInteger(steps) || steps < 1) throw new InputError(`narma10: steps must be an integer >= 1 (got ${steps})`);
  const washout = o.washout ?? 200;
  const { u, y } = narma10Series(seed, steps, washout);
  let t = 0;
  return {
    name: 'narma10',
    inputs: 1,
    outputs: 1,
    trialLength: null,
    length: steps,
    scale: new Float64Array(1).fill(1),
    offset: new Float64Array(1),
    skipped: 0,
    events: [],
    next(x: Float64Array, target: Float64Array): boolean {
      if (t >= steps) return false;
      x[0] = u[t];
      target[0] = y[t + 1];
      t++;
      return true;
    },
    startTrial(): void {},
    reset(): void {
      t = 0;
    },
    persistence(out: Float64Array): Float64Array {
      out[0] = y[t - 1 < 0 ? 0 : t - 1];
      return out;
    },
    describe(): string {
      return `narma10 (Atiya & Parlos 2000): input u(t) ~ U(0, 0.5), target y(t+1) of the order-10 NARMA system; ${steps} steps after a washout of ${washout}, seed ${seed}`;
    },
  };
}
