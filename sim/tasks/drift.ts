/**
 * Streaming sensor adaptation. C channels (default 3), each a sum of two sinusoids plus Gaussian sensor noise:
 *   s_c(t) = sum_k a_ck sin(2 pi t / p_ck + phi_ck) + sigma n_c(t),   n ~ N(0, 1)
 * Every `changeEvery` steps all periods, amplitudes and phases are drawn
 * afresh, abruptly: periods U(8, 80) steps, amplitudes U(0.2, 0.6), phases U(0, 2 pi).
 * Input x(t) = s(t) (all channels), target = s(t+1) (all channels, so O = C): one-step-ahead prediction.
 * Persistence baseline: predict s(t+1) = s(t).
 * `events` lists, for each change, the 0-based index of the first sample whose target comes from the new regime
 * (k * changeEvery - 1); its input is the last sample of the old regime.
 * Seeded with the integer xorshift RNG; parameters are redrawn into preallocated arrays, nothing allocates per sample.
 */
import type { Task } from './task.ts';
import { createRng, rngSeed, rngUniform } from '../../runtime/rng.ts';
import { fillNormal } from './noise.ts';
import { InputError } from '../modelio.ts';

export interface DriftOptions {
  seed?: number;
  /** Number of channels C (default 3). */
  channels?: number;
  /** Steps between abrupt changes (default 2000). */
  changeEvery?: number;
  /** Total samples; null = endless (default 10000). */
  steps?: number | null;
  /** Sensor noise standard deviation (default 0.05). */
  noise?: number;
}

const COMPONENTS = 2;

export function createDriftTask(o: DriftOptions = {}): Task {
  const seed = o.seed ?? 1;
  const C = o.channels ?? 3;
  const every = o.changeEvery ?? 2000;
  const steps = o.steps === undefined ? 10000 : o.steps;
  const sigma = o.noise ?? 0.05;
  if (!Number.isInteger(C) || C < 1) throw new InputError(`drift: channels must be an integer >= 1 (got ${C})`);
  if (!Number.isInteger(every) || every < 1) throw new InputError(`drift: changeEvery must be an integer >= 1 (got ${every})`);
  if (steps !== null && (!Number.isInteger(steps) || steps < 1)) throw new InputError(`drift: steps must be an integer >= 1 (got ${steps})`);
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new InputError(`drift: noise must be a finite number >= 0 (got ${sigma})`);

  const rng = createRng(seed);
  const amp = new Float64Array(C * COMPONENTS);
  const period = new Float64Array(C * COMPONENTS);
  const phase = new Float64Array(C * COMPONENTS);
  const cur = new Float64Array(C); // s(t), the sample handed out as input
  const nxt = new Float64Array(C); // s(t+1), the target
  const nz = new Float64Array(C); // sensor noise of one sample
  const events: number[] = [];
  // An event is the index of the first sample whose target follows the new regime (its input is still old).
  if (steps !== null) for (let s = every; s < steps; s += every) events.push(s - 1);
  let t = 0; // index of the next sample to hand out

  function draw(): void {
    for (let i = 0; i < C * COMPONENTS; i++) {
      period[i] = 8 + 72 * rngUniform(rng);
      amp[i] = 0.2 + 0.4 * rngUniform(rng);
      phase[i] = 2 * Math.PI * rngUniform(rng);
    }
  }
  // Sample of time index n under the current regime, noise included, into out.
  function sample(n: number, out: Float64Array): void {
    fillNormal(nz, 0, C, sigma, rng);
    for (let c = 0; c < C; c++) {
      let v = 0;
      for (let k = 0; k < COMPONENTS; k++) {
        const i = c * COMPONENTS + k;
        v += amp[i] * Math.sin((2 * Math.PI * n) / period[i] + phase[i]);
      }
      out[c] = v + nz[c];
    }
  }
  function rewind(): void {
    rngSeed(rng, seed);
    t = 0;
    draw();
    sample(0, nxt);
  }
  rewind();

  return {
    name: 'drift',
    inputs: C,
    outputs: C,
    trialLength: null,
    length: steps,
    scale: new Float64Array(C).fill(1),
    offset: new Float64Array(C),
    skipped: 0,
    events,
    next(x: Float64Array, target: Float64Array): boolean {
      if (steps !== null && t >= steps) return false;
      for (let c = 0; c < C; c++) cur[c] = nxt[c];
      // The regime of sample t+1 changes at the event: the target of the last pre-change input is already new.
      if ((t + 1) % every === 0) draw();
      sample(t + 1, nxt);
      for (let c = 0; c < C; c++) {
        x[c] = cur[c];
        target[c] = nxt[c];
      }
      t++;
      return true;
    },
    startTrial(): void {},
    reset(): void {
      rewind();
    },
    persistence(out: Float64Array): Float64Array {
      for (let c = 0; c < C; c++) out[c] = cur[c];
      return out;
    },
    describe(): string {
      return `drift: ${C} noisy channels (sums of 2 sinusoids, noise ${sigma}), all redrawn every ${every} steps; ` +
        `input s(t), target s(t+1) of all channels; ${steps === null ? 'endless' : steps + ' steps'}, seed ${seed}`;
    },
  };
}
