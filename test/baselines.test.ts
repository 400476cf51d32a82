import test from 'ava';
import { createNlmsAr, createRlsAr, scoreLinearBaselines, scorePredictor } from '../sim/baselines.ts';
import { createDriftTask, type Task } from '../sim/tasks/index.ts';
import { createSimLearner, runStream } from '../sim/tasks/run.ts';
import { createRng, rngUniform } from '../runtime/rng.ts';

/** A finite stream task over given samples (x[t], target[t]); persistence = the previous target. */
function arrayTask(xs: number[][], ts: number[][]): Task {
  const M = xs[0].length;
  const O = ts[0].length;
  let t = 0;
  return {
    name: 'array',
    inputs: M,
    outputs: O,
    trialLength: null,
    length: xs.length,
    scale: new Float64Array(O).fill(1),
    offset: new Float64Array(O),
    skipped: 0,
    events: [],
    next(x, target) {
      if (t >= xs.length) return false;
      x.set(xs[t]);
      target.set(ts[t]);
      t++;
      return true;
    },
    startTrial() {},
    reset() {
      t = 0;
    },
    persistence(out) {
      out.set(t >= 2 ? ts[t - 2] : new Array(O).fill(0));
      return out;
    },
    describe: () => 'array',
  };
}

test('RLS (lambda 1) on a noiseless AR(2) oscillation recovers its two coefficients and a zero bias', (t) => {
  // s(t+1) = a1 s(t) + a2 s(t-1) with a1 = 2 cos(0.3), a2 = -1: a sinusoid of period 2 pi / 0.3 samples.
  const a1 = 2 * Math.cos(0.3);
  const a2 = -1;
  const s = [0.7, 0.7 * Math.cos(0.3) + 0.2];
  for (let i = 2; i < 402; i++) s.push(a1 * s[i - 1] + a2 * s[i - 2]);
  const xs = s.slice(0, 400).map((v) => [v]);
  const ts = s.slice(1, 401).map((v) => [v]);
  const rls = createRlsAr({ inputs: 1, outputs: 1, lags: 2, lambda: 1, delta: 1e-6 });
  const y = new Float64Array(1);
  // The first sample only fills the lag register (its x(t-1) would be the register's 0, not s(-1)).
  rls.step(xs[0], null, y);
  for (let i = 1; i < 400; i++) rls.step(xs[i], ts[i], y);
  // weights = [x(t), x(t-1), bias]
  t.true(Math.abs(rls.weights[0] - a1) < 1e-6, `a1 ${rls.weights[0]} vs ${a1}`);
  t.true(Math.abs(rls.weights[1] - a2) < 1e-6, `a2 ${rls.weights[1]} vs ${a2}`);
  t.true(Math.abs(rls.weights[2]) < 1e-6, `bias ${rls.weights[2]}`);
});

test('NLMS converges to the coefficients of a noiseless linear stream of three inputs', (t) => {
  const rng = createRng(5);
  const c = [0.8, -0.5, 0.3];
  const xs: number[][] = [];
  const ts: number[][] = [];
  for (let i = 0; i < 3000; i++) {
    const x = [rngUniform(rng) - 0.5, rngUniform(rng) - 0.5, rngUniform(rng) - 0.5];
    xs.push(x);
    ts.push([c[0] * x[0] + c[1] * x[1] + c[2] * x[2] + 0.1]);
  }
  const nlms = createNlmsAr({ inputs: 3, outputs: 1, lags: 1, mu: 0.5 });
  scorePredictor(nlms, arrayTask(xs, ts));
  for (let j = 0; j < 3; j++) t.true(Math.abs(nlms.weights[j] - c[j]) < 1e-3, `w${j} ${nlms.weights[j]} vs ${c[j]}`);
  t.true(Math.abs(nlms.weights[3] - 0.1) < 1e-3, `bias ${nlms.weights[3]}`);
  // On the same stream the prequential error of the last 1000 samples is tiny: it has converged.
  const y = new Float64Array(1);
  let se = 0;
  for (let i = 2000; i < 3000; i++) {
    nlms.step(xs[i], ts[i], y);
    se += (ts[i][0] - y[0]) ** 2;
  }
  t.true(se / 1000 < 1e-8, `late MSE ${se / 1000}`);
});

test('a step with a null target predicts but does not learn', (t) => {
  for (const p of [createNlmsAr({ inputs: 2, outputs: 1 }), createRlsAr({ inputs: 2, outputs: 1 })]) {
    const y = new Float64Array(1);
    p.step([1, 2], [3], y);
    const w = Float64Array.from(p.weights);
    p.step([0.5, -1], null, y);
    t.deepEqual(Array.from(p.weights), Array.from(w), p.name);
  }
});

test('on drift, both AR baselines beat persistence and are scored on the same samples as a learner', (t) => {
  const task = createDriftTask({ seed: 1, steps: 4000 });
  const b = scoreLinearBaselines(task);
  const { learner } = createSimLearner({ learner: 'output', hidden: 8, tau: 1, lrRec: 0, lrOut: 0, update: 'step', seed: 1 }, task);
  const r = runStream(learner, task);
  t.true(b.nlms < r.persistenceNmse, `NLMS ${b.nlms} vs persistence ${r.persistenceNmse}`);
  t.true(b.rls < r.persistenceNmse, `RLS ${b.rls} vs persistence ${r.persistenceNmse}`);
  t.is(b.best, Math.min(b.nlms, b.rls));
  t.is(b.variant, b.rls < b.nlms ? 'rls' : 'nlms');
  // A predictor that always says 0 scores sum t^2 / sum (t - mean)^2 >= 1: the normalisation is runStream's.
  const zero = { name: 'zero', step: (_x: ArrayLike<number>, _t: ArrayLike<number> | null, out: Float64Array) => out.fill(0), reset() {} };
  const z = scorePredictor(zero, task).nmse;
  t.true(z >= 1 && z < 1.1, `zero predictor ${z}`);
});

test('bad baseline options are refused with the range that works', (t) => {
  t.throws(() => createNlmsAr({ inputs: 1, outputs: 1, mu: 2 }), { message: /mu must be in \(0, 2\)/ });
  t.throws(() => createRlsAr({ inputs: 1, outputs: 1, lambda: 1.5 }), { message: /lambda must be in \(0, 1\]/ });
  t.throws(() => createRlsAr({ inputs: 0, outputs: 1 }), { message: /inputs >= 1/ });
});

test('a missing input reading (NaN) is held at its last value by both linear baselines, so they stay finite', (t) => {
  for (const make of [() => createNlmsAr({ inputs: 2, outputs: 1, lags: 3 }), () => createRlsAr({ inputs: 2, outputs: 1, lags: 3 })]) {
    const a = make();
    const b = make();
    const out = new Float64Array(1);
    const outB = new Float64Array(1);
    let last = 0;
    for (let s = 0; s < 400; s++) {
      const v = Math.sin(s / 7);
      const missing = s % 9 === 4;
      const xa = [missing ? NaN : v, 0.5 * v];
      if (!missing) last = v;
      const xb = [last, 0.5 * v];
      a.step(xa, [Math.sin((s + 1) / 7)], out);
      b.step(xb, [Math.sin((s + 1) / 7)], outB);
      t.true(Number.isFinite(out[0]));
      t.is(out[0], outB[0], `step ${s}: the same as a stream with the last value written in`);
    }
  }
});
