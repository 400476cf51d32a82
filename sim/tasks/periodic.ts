/**
 * Murray 2019 (Fig. 2), the periodic-output task: no input, one output that must produce
 *   y*(t) = sin(2 pi t / P) + 0.5 sin(4 pi t / P) + 0.25 sin(8 pi t / P),   t = 1..P,
 * one trial = one period (P = 200 by default), the network state reset to h0 at each trial start.
 * Deterministic: the seed is accepted for a uniform registry and ignored.
 */
import type { Task } from './task.ts';
import { InputError } from '../modelio.ts';

export interface PeriodicOptions {
  /** Period P in steps = trial length (default 200). */
  period?: number;
}

/** Murray 2019, Fig. 2: the target of step t (1-based) of a period of P steps. */
export function periodicTarget(t: number, P: number): number {
  const w = (2 * Math.PI * t) / P;
  return Math.sin(w) + 0.5 * Math.sin(2 * w) + 0.25 * Math.sin(4 * w);
}

export function createPeriodicTask(o: PeriodicOptions = {}): Task {
  const P = o.period ?? 200;
  if (!Number.isInteger(P) || P < 2) throw new InputError(`periodic: period must be an integer >= 2 (got ${P})`);
  let t = 0; // steps written in the current trial (a small integer: no boxing)
  // [previous target, current target]: doubles live in a typed array, since a double held in a closure variable
  // would be boxed into a fresh heap number on every write.
  const v = new Float64Array(2);
  return {
    name: 'periodic',
    inputs: 0,
    outputs: 1,
    trialLength: P,
    length: null,
    scale: new Float64Array([1]),
    offset: new Float64Array([0]),
    skipped: 0,
    events: [],
    next(_x: Float64Array, target: Float64Array): boolean {
      if (t >= P) t = 0; // a caller that forgot startTrial() still gets the periodic signal
      t++;
      v[0] = v[1];
      v[1] = periodicTarget(t, P);
      target[0] = v[1];
      return true;
    },
    startTrial(): void {
      t = 0;
      v[0] = 0;
      v[1] = 0;
    },
    reset(): void {
      this.startTrial();
    },
    persistence(out: Float64Array): Float64Array {
      out[0] = t === 1 ? 0 : v[0];
      return out;
    },
    describe(): string {
      return `periodic (Murray 2019): no input, 1 output, period P = ${P} steps = one trial`;
    },
  };
}
