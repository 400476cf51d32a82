/**
 * The virtual board's signal (sim/board/signals.ts) as a simulator stream, so the learners can be measured on what
 * `run --virtual` and `demo` stream, without the serial link: input x(n) = the board's noisy channels, target = the
 * board's target of the same sample. scenario 'mix' (the default board): a same-time linear mix of the clean
 * channels, every parameter redrawn every `driftEvery` samples; 'heater': the temperature of a heated body driven by
 * the channels through a first-order lag and a square-law heater (its history matters).
 * Persistence predicts the previous sample's target. Allocation-free per sample.
 */
import type { Task } from './task.ts';
import { SyntheticSignal } from '../board/signals.ts';
import { InputError } from '../modelio.ts';

export interface BoardTaskOptions {
  seed?: number;
  scenario?: 'mix' | 'heater';
  /** Sensor channels (default 3). */
  channels?: number;
  /** Samples between drift events (default 4000; 0 = never). */
  driftEvery?: number;
  /** Total samples (default 10000). */
  steps?: number;
}

export function createBoardTask(o: BoardTaskOptions = {}): Task {
  const seed = o.seed ?? 1;
  const steps = o.steps ?? 10000;
  const driftEvery = o.driftEvery ?? 4000;
  const scenario = o.scenario ?? 'mix';
  if (!Number.isInteger(steps) || steps < 1) throw new InputError(`board: steps must be an integer >= 1 (got ${steps})`);
  if (!Number.isInteger(driftEvery) || driftEvery < 0) throw new InputError(`board: driftEvery must be an integer >= 0 (got ${driftEvery})`);
  let signal: SyntheticSignal;
  try {
    signal = new SyntheticSignal({ seed, channels: o.channels, driftEvery, scenario, outputs: 1 });
  } catch (err) {
    throw new InputError(`board: ${(err as Error).message}`);
  }
  const C = signal.channels;
  const prev = new Float64Array(1);
  const cur = new Float64Array(1);
  const events: number[] = [];
  if (driftEvery > 0) for (let s = driftEvery; s < steps; s += driftEvery) events.push(s);
  let n = 0;
  return {
    name: 'board',
    inputs: C,
    outputs: 1,
    trialLength: null,
    length: steps,
    scale: new Float64Array(1).fill(1),
    offset: new Float64Array(1),
    skipped: 0,
    events,
    next(x: Float64Array, target: Float64Array): boolean {
      if (n >= steps) return false;
      prev[0] = cur[0];
      signal.sample(n, x, target);
      cur[0] = target[0];
      n++;
      return true;
    },
    startTrial(): void {},
    reset(): void {
      n = 0;
      prev[0] = 0;
      cur[0] = 0;
    },
    persistence(out: Float64Array): Float64Array {
      out[0] = prev[0];
      return out;
    },
    describe(): string {
      const what =
        scenario === 'heater'
          ? 'heated body: target = temperature after a first-order lag of heater drive^2, fan and ambient'
          : 'target = a same-time linear mix of the clean channels';
      return `board (${scenario}): ${C} noisy channels at 1 kHz, ${what}; drift every ${driftEvery || 'never'} samples; ${steps} steps, seed ${seed}`;
    },
  };
}
