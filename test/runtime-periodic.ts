/** Murray's periodic task for the learning-curve checks (shared by test/runtime-learning and test/long/fixed-learning). */
import type { LearnerKind, LearnerOptions, OnlineLearner } from '../runtime/types.ts';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import type { FixedOptions } from '../runtime/plan.ts';
import { createFloatLearner } from '../sim/reference/index.ts';

export const PERIOD = 200;

export function periodicTarget(P = PERIOD): { target: Float64Array; variance: number } {
  const target = new Float64Array(P);
  let mean = 0;
  for (let t = 0; t < P; t++) {
    const p = (2 * Math.PI * t) / P;
    target[t] = Math.sin(p) + 0.5 * Math.sin(2 * p) + 0.25 * Math.sin(4 * p);
    mean += target[t] / P;
  }
  let variance = 0;
  for (let t = 0; t < P; t++) variance += (target[t] - mean) ** 2 / P;
  return { target, variance };
}

/** Trains for `trials` periods (reset to h0 each trial, endTrial after each), then the test NMSE with learning off. */
export function trainPeriodic(l: OnlineLearner, trials: number): number {
  const { target, variance } = periodicTarget();
  const out = new Float64Array(1);
  const x = new Float64Array(0);
  const tt = new Float64Array(1);
  for (let k = 0; k < trials; k++) {
    l.resetState();
    for (let t = 0; t < PERIOD; t++) {
      tt[0] = target[t];
      l.step(x, tt, out);
    }
    l.endTrial();
  }
  l.resetState();
  let se = 0;
  for (let t = 0; t < PERIOD; t++) {
    l.step(x, null, out);
    se += (target[t] - out[0]) ** 2;
  }
  return se / PERIOD / variance;
}

export function periodicOptions(kind: LearnerKind, update: 'trial' | 'step' = 'trial'): LearnerOptions {
  const N = kind === 'rtrl' ? 8 : 30;
  return {
    learner: kind,
    inputs: 0,
    hidden: N,
    outputs: 1,
    tau: 10,
    lrRec: kind === 'output' ? 0 : 0.03,
    lrOut: kind === 'output' ? 0.1 : 0.03,
    update,
    trialLength: PERIOD,
  };
}

/** NMSE of the fixed learner and of its float twin from the same seeded weights. */
export function comparePeriodic(
  kind: LearnerKind,
  seed: number,
  trials: number,
  extra: FixedOptions & { update?: 'trial' | 'step' } = {},
): { fixed: number; float: number } {
  const opt = periodicOptions(kind, extra.update ?? 'trial');
  const w = initWeights({ inputs: 0, hidden: opt.hidden, outputs: 1, tau: opt.tau, seed });
  const fixed = trainPeriodic(createFixedLearner(opt, w, { backend: 'js', ...extra }), trials);
  const float = trainPeriodic(createFloatLearner(opt, w), trials);
  return { fixed, float };
}

export function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
