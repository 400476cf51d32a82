/**
 * Mackey-Glass (Mackey & Glass 1977, Science 197, eq. 4b) with the standard chaotic parameters:
 *   dx/dt = beta x(t - delay) / (1 + x(t - delay)^n) - gamma x(t),   beta 0.2, gamma 0.1, n 10, delay 17,
 * history x(t) = 1.2 for t <= 0 (as in Jaeger & Haas 2004 and ReservoirPy). Integrated with classical 4th-order
 * Runge-Kutta at dt = 0.1 (170 steps per delay); the delayed value at a half step is the mean of its two grid
 * neighbours. After a transient of `transient` time units (default 1000) it is sampled every `sampleStep` time units
 * (default 1). Input x(t) - 1 (centred as in Jaeger 2001's tanh(x - 1)), target x(t + horizon samples) - 1
 * (default horizon 1); errors are scored in x's units (offset 1). Generated once at construction; next() allocates
 * nothing. Persistence predicts x(t + horizon) = x(t), the last value known.
 */
import type { Task } from './task.ts';
import { InputError } from '../modelio.ts';

export interface MackeyGlassOptions {
  /** Samples (default 10000). */
  steps?: number;
  /** Time units between samples (default 1). */
  sampleStep?: number;
  /** Predict this many samples ahead (default 1). */
  horizon?: number;
  /** Time units dropped at the start (default 1000). */
  transient?: number;
  /** Seed: the constant history is 1.2 + 0.01 (seed - 1), so seeds give different (chaotic) series. */
  seed?: number;
}

const BETA = 0.2;
const GAMMA = 0.1;
const DELAY = 17;
const DT = 0.1;

function mg(x: number, xd: number): number {
  // xd^10 by multiplications, each correctly rounded by IEEE 754, not Math.pow, whose last bits differ between
  // engines: with Math.pow, Node 20 and Node 24 gave different series (the system is chaotic; sample 9999 of the
  // default series was 0.767 on one and 1.197 on the other)
  const x2 = xd * xd;
  const x4 = x2 * x2;
  const x8 = x4 * x4;
  return (BETA * xd) / (1 + x8 * x2) - GAMMA * x;
}

/** The sampled series: count samples every sampleStep time units after the transient, from history x0. */
export function mackeyGlassSeries(count: number, sampleStep = 1, transient = 1000, x0 = 1.2): Float64Array {
  const per = Math.round(sampleStep / DT);
  const lag = Math.round(DELAY / DT);
  const skip = Math.round(transient / DT);
  const total = skip + (count - 1) * per + 1;
  // Grid values from t = -delay to the end: index lag + k is time k dt.
  const grid = new Float64Array(lag + total);
  grid.fill(x0, 0, lag + 1);
  for (let k = 0; k < total - 1; k++) {
    const i = lag + k;
    const x = grid[i];
    const d0 = grid[i - lag];
    const d1 = grid[i - lag + 1];
    const dm = 0.5 * (d0 + d1);
    // Classical RK4 with the delayed term taken from the grid (exact at grid points, mean at half steps).
    const k1 = mg(x, d0);
    const k2 = mg(x + 0.5 * DT * k1, dm);
    const k3 = mg(x + 0.5 * DT * k2, dm);
    const k4 = mg(x + DT * k3, d1);
    grid[i + 1] = x + (DT / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
  }
  const out = new Float64Array(count);
  for (let s = 0; s < count; s++) out[s] = grid[lag + skip + s * per];
  return out;
}

export function createMackeyGlassTask(o: MackeyGlassOptions = {}): Task {
  const steps = o.steps ?? 10000;
  const sampleStep = o.sampleStep ?? 1;
  const horizon = o.horizon ?? 1;
  const transient = o.transient ?? 1000;
  const seed = o.seed ?? 1;
  if (!Number.isInteger(steps) || steps < 1) throw new InputError(`mackey-glass: steps must be an integer >= 1 (got ${steps})`);
  if (!(sampleStep >= DT) || Math.abs(sampleStep / DT - Math.round(sampleStep / DT)) > 1e-9) {
    throw new InputError(`mackey-glass: sampleStep must be a positive multiple of ${DT} time units (got ${sampleStep})`);
  }
  if (!Number.isInteger(horizon) || horizon < 1) throw new InputError(`mackey-glass: horizon must be an integer >= 1 (got ${horizon})`);
  const s = mackeyGlassSeries(steps + horizon, sampleStep, transient, 1.2 + 0.01 * (seed - 1));
  let t = 0;
  return {
    name: 'mackey-glass',
    inputs: 1,
    outputs: 1,
    trialLength: null,
    length: steps,
    scale: new Float64Array(1).fill(1),
    offset: new Float64Array(1).fill(1),
    skipped: 0,
    events: [],
    next(x: Float64Array, target: Float64Array): boolean {
      if (t >= steps) return false;
      x[0] = s[t] - 1;
      target[0] = s[t + horizon] - 1;
      t++;
      return true;
    },
    startTrial(): void {},
    reset(): void {
      t = 0;
    },
    persistence(out: Float64Array): Float64Array {
      // The last value known when predicting: x(t), the current input.
      out[0] = s[t - 1] - 1;
      return out;
    },
    describe(): string {
      return `mackey-glass (delay 17, beta 0.2, gamma 0.1, n 10; RK4 dt 0.1): input x(t) - 1 sampled every ${sampleStep}, target ${horizon} sample(s) ahead; ${steps} steps, seed ${seed}`;
    },
  };
}
