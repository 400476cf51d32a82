/**
 * What the benchmark scripts share: the learner options they time, a timed stepper over 64 cycled samples
 * (allocated outside the timed loop), and the median.
 */
import type { LearnerKind, LearnerOptions, OnlineLearner } from '../runtime/types.ts';

export const M = 4;
export const O = 4;

/** 4 inputs, 4 outputs, tau 10, per-step updates: the per-sample learning case every bench times. */
export function benchOptions(kind: LearnerKind, N: number): LearnerOptions {
  return { learner: kind, inputs: M, hidden: N, outputs: O, tau: 10, lrRec: 0.01, lrOut: 0.01, update: 'step', trialLength: 100 };
}

/** Returns run(seconds) -> steps per second; each call continues the same stream. */
export function stepper(l: OnlineLearner, batch = 16): (seconds: number) => number {
  const xs: Float64Array[] = [];
  const ys: Float64Array[] = [];
  for (let t = 0; t < 64; t++) {
    xs.push(Float64Array.from({ length: M }, (_, j) => Math.sin(t / 5 + j)));
    ys.push(Float64Array.from({ length: O }, (_, j) => 0.5 * Math.cos(t / 7 + j)));
  }
  const out = new Float64Array(O);
  let t = 0;
  return (seconds: number): number => {
    let n = 0;
    const start = performance.now();
    const end = start + seconds * 1000;
    let now = start;
    while (now < end) {
      for (let i = 0; i < batch; i++) {
        l.step(xs[t & 63], ys[t & 63], out);
        t++;
      }
      n += batch;
      now = performance.now();
    }
    return n / ((now - start) / 1000);
  };
}

export function median(a: readonly number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
