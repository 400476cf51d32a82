import test from 'ava';
import type { Gradient, ModelWeights } from '../runtime/types.ts';
import { zeroGradient } from '../runtime/types.ts';
import { cloneWeights, initWeights } from '../runtime/init.ts';
import type { BpttOptions } from '../sim/reference/index.ts';
import {
  computeGradient,
  createBpttLearner,
  createFloatLearner,
  forward,
  grid,
  gradientMaxAbs,
  gradientRelativeError,
  isBpttLearner,
  loss,
  randomProblem,
} from '../sim/reference/index.ts';

const GRID = grid({ hidden: [1, 3, 8, 16], inputs: [0, 2], outputs: [1, 3], tau: [1, 2, 10], steps: [1, 5, 50] });
const BLOCKS = ['W_in', 'W_rec', 'b', 'W_out'] as const;

function label(p: { hidden: number; inputs: number; outputs: number; tau: number; steps: number }): string {
  return `N=${p.hidden} M=${p.inputs} O=${p.outputs} tau=${p.tau} T=${p.steps}`;
}

function bpttOptions(w: ModelWeights, extra: Partial<BpttOptions> = {}): BpttOptions {
  return {
    inputs: w.inputs,
    hidden: w.hidden,
    outputs: w.outputs,
    tau: w.tau,
    lrRec: 0,
    lrOut: 0,
    update: 'trial',
    trialLength: 10,
    window: Infinity,
    ...extra,
  };
}

function add(a: Gradient, b: Gradient): Gradient {
  const out = zeroGradient({ inputs: a.W_in.length / a.b.length, hidden: a.b.length, outputs: a.W_out.length / a.b.length });
  for (const k of BLOCKS) for (let i = 0; i < a[k].length; i++) out[k][i] = a[k][i] + b[k][i];
  return out;
}

/**
 * The one-step gradient derived by hand from the model equations, treating h(t-1) as a constant:
 * dL/du(t) = a phi'(u(t)) (-W_out^T e(t)); dW_rec += dL/du h(t-1)^T, dW_in += dL/du x(t)^T, db += dL/du,
 * dW_out += -e(t) h(t)^T.
 */
function oneStepGradient(w: ModelWeights, x: Float64Array[], target: Float64Array[]): Gradient {
  const { inputs: M, hidden: N, outputs: O } = w;
  const a = 1 / w.tau;
  const { h, u, y } = forward(w, x);
  const g = zeroGradient(w);
  for (let t = 1; t <= x.length; t++) {
    const e = target[t - 1].map((v, o) => v - y[t][o]);
    for (let i = 0; i < N; i++) {
      let back = 0;
      for (let o = 0; o < O; o++) back -= w.W_out[o * N + i] * e[o];
      const th = Math.tanh(u[t][i]);
      const gu = a * (1 - th * th) * back;
      for (let k = 0; k < N; k++) g.W_rec[i * N + k] += gu * h[t - 1][k];
      for (let j = 0; j < M; j++) g.W_in[i * M + j] += gu * x[t - 1][j];
      g.b[i] += gu;
    }
    for (let o = 0; o < O; o++) for (let i = 0; i < N; i++) g.W_out[o * N + i] -= e[o] * h[t][i];
  }
  return g;
}

test('truncated BPTT with a window of at least T equals full BPTT on every grid point', (t) => {
  let worst = 0;
  for (const p of GRID) {
    const { weights, x, target } = randomProblem({ ...p, seed: 31 * p.hidden + 7 * p.steps + p.tau + 3 * p.inputs + p.outputs });
    const full = computeGradient('bptt', weights, x, target).grad;
    const zero = computeGradient('bptt', weights, x, target, { window: 0 }).grad;
    t.is(gradientRelativeError(zero, full), 0, `${label(p)}: window 0 means full`);
    for (const K of [p.steps, p.steps + 3]) {
      const rel = gradientRelativeError(computeGradient('bptt', weights, x, target, { window: K }).grad, full);
      worst = Math.max(worst, rel);
      t.true(rel <= 1e-12, `${label(p)} window ${K}: ${rel}`);
    }
  }
  t.log(`worst truncated (window >= T) vs full relative error ${worst.toExponential(2)}`);
});

test('BPTT with window 1 is the hand-derived one-step gradient and differs from the full gradient', (t) => {
  let worst = 0;
  let minDiff = Infinity;
  for (const p of GRID) {
    const { weights, x, target } = randomProblem({ ...p, seed: 17 * p.hidden + 5 * p.steps + p.tau + p.inputs + 11 * p.outputs });
    const one = computeGradient('bptt', weights, x, target, { window: 1 }).grad;
    const rel = gradientRelativeError(one, oneStepGradient(weights, x, target));
    worst = Math.max(worst, rel);
    t.true(rel <= 1e-13, `${label(p)}: ${rel}`);
    if (p.steps > 1) {
      const d = gradientRelativeError(one, computeGradient('bptt', weights, x, target).grad);
      minDiff = Math.min(minDiff, d);
      t.true(d > 1e-6, `${label(p)}: window 1 should differ from full BPTT (${d})`);
    }
  }
  t.log(`worst window-1 vs hand-derived relative error ${worst.toExponential(2)}; smallest window-1 vs full difference ${minDiff.toExponential(2)}`);
});

test('window K lets the error of step t reach exactly K steps back', (t) => {
  // With an error only at the last step T, window K touches u(T-K+1)..u(T): only those steps' inputs get gradient.
  const T = 8;
  const { weights, x, target } = randomProblem({ hidden: 3, inputs: 1, outputs: 1, tau: 2, steps: T, seed: 41 });
  const y = forward(weights, x).y;
  for (let K = 1; K <= T; K++) {
    // One-hot inputs make each step's W_in gradient visible separately: use input k only at step k (M = 1 per step).
    const xs = x.map((_, s) => Float64Array.from({ length: T }, (_, j) => (j === s ? x[s][0] : 0)));
    const w = cloneWeights(weights);
    w.inputs = T;
    w.W_in = new Float64Array(w.hidden * T);
    for (let i = 0; i < w.hidden; i++) for (let j = 0; j < T; j++) w.W_in[i * T + j] = weights.W_in[i];
    const tg = target.map((v, s) => (s === T - 1 ? v : y[s + 1]));
    const g = computeGradient('bptt', w, xs, tg, { window: K }).grad;
    for (let s = 0; s < T; s++) {
      let m = 0;
      for (let i = 0; i < w.hidden; i++) m = Math.max(m, Math.abs(g.W_in[i * T + s]));
      if (s >= T - K) t.true(m > 0, `K=${K}: step ${s + 1} should get gradient`);
      else t.is(m, 0, `K=${K}: step ${s + 1} should get none`);
    }
  }
});

test('with tau = 1, RFLO with W_out^T feedback equals one-step BPTT', (t) => {
  let worst = 0;
  for (const p of GRID.filter((q) => q.tau === 1)) {
    const { weights, x, target } = randomProblem({ ...p, seed: 1000 + p.hidden * 13 + p.steps });
    const rflo = computeGradient('rflo', weights, x, target, { feedback: 'transpose' }).grad;
    const rel = gradientRelativeError(rflo, computeGradient('bptt', weights, x, target, { window: 1 }).grad);
    worst = Math.max(worst, rel);
    t.true(rel <= 1e-13, `${label(p)}: ${rel}`);
  }
  t.log(`worst RFLO (tau = 1) vs one-step BPTT relative error ${worst.toExponential(2)}`);
});

test('the gradient does not flow across resetState: two segments give the sum of their separate gradients', (t) => {
  const { weights, x, target } = randomProblem({ hidden: 5, inputs: 2, outputs: 2, tau: 3, steps: 30, seed: 42 });
  for (const window of [Infinity, 4]) {
    const l = createBpttLearner(bpttOptions(weights, { window, trialLength: 30 }), weights);
    const out = new Float64Array(2);
    for (let s = 0; s < 12; s++) l.step(x[s], target[s], out);
    l.resetState();
    for (let s = 12; s < 30; s++) l.step(x[s], target[s], out);
    const g = l.readGradient(zeroGradient(weights));
    const first = computeGradient('bptt', weights, x.slice(0, 12), target.slice(0, 12), { window }).grad;
    const second = computeGradient('bptt', weights, x.slice(12), target.slice(12), { window }).grad;
    const rel = gradientRelativeError(g, add(first, second));
    t.true(rel <= 1e-13, `window ${window}: ${rel}`);
    const joined = computeGradient('bptt', weights, x, target, { window }).grad;
    t.true(gradientRelativeError(g, joined) > 1e-6, `window ${window}: differs from one unbroken segment`);
  }
});

test('after clearGradient the record restarts from the current state, and the gradient ignores what came before', (t) => {
  const { weights, x, target } = randomProblem({ hidden: 4, inputs: 2, outputs: 1, tau: 2, steps: 20, seed: 43 });
  const l = createBpttLearner(bpttOptions(weights), weights);
  const out = new Float64Array(1);
  for (let s = 0; s < 7; s++) l.step(x[s], target[s], out);
  l.clearGradient();
  const hMid = l.readHidden(new Float64Array(4));
  for (let s = 7; s < 20; s++) l.step(x[s], target[s], out);
  const g = l.readGradient(zeroGradient(weights));
  const w2 = cloneWeights(weights);
  w2.h0 = hMid;
  const rel = gradientRelativeError(g, computeGradient('bptt', w2, x.slice(7), target.slice(7)).grad);
  t.true(rel <= 1e-13, `${rel}`);
});

test('a trial longer than trialLength grows the record and still gets the full gradient', (t) => {
  const { weights, x, target } = randomProblem({ hidden: 4, inputs: 2, outputs: 2, tau: 2, steps: 37, seed: 44 });
  const l = createBpttLearner(bpttOptions(weights, { trialLength: 5 }), weights);
  const out = new Float64Array(2);
  for (let s = 0; s < 37; s++) l.step(x[s], target[s], out);
  const rel = gradientRelativeError(l.readGradient(zeroGradient(weights)), computeGradient('rtrl', weights, x, target).grad);
  t.true(rel <= 1e-12, `${rel}`);
});

test('endTrial applies W -= (lr/P) grad with lrRec for W_in, W_rec, b and lrOut for W_out, then clears the record', (t) => {
  const { weights, x, target } = randomProblem({ hidden: 5, inputs: 2, outputs: 2, tau: 2, steps: 20, seed: 45 });
  const lrRec = 0.01;
  const lrOut = 0.03;
  const P = 20;
  const l = createBpttLearner(bpttOptions(weights, { lrRec, lrOut, trialLength: P }), weights);
  const out = new Float64Array(2);
  for (let s = 0; s < 20; s++) l.step(x[s], target[s], out);
  const g = l.readGradient(zeroGradient(weights));
  l.endTrial();
  const after = l.getWeights();
  let worst = 0;
  for (const k of BLOCKS) {
    const s = (k === 'W_out' ? lrOut : lrRec) / P;
    for (let i = 0; i < g[k].length; i++) {
      const expected = weights[k][i] - s * g[k][i];
      worst = Math.max(worst, Math.abs(after[k][i] - expected) / Math.max(Math.abs(expected), 1e-300));
    }
  }
  t.true(worst <= 2 ** -52, `${worst}`);
  t.true(gradientMaxAbs(g) > 0);
  t.is(gradientMaxAbs(l.readGradient(zeroGradient(weights))), 0, 'the record is empty after endTrial');
});

test("the BPTT trainer refuses update 'step' and reports 'bptt' as its learner", (t) => {
  const w = initWeights({ inputs: 1, hidden: 3, outputs: 1, tau: 2, seed: 46 });
  t.throws(() => createBpttLearner(bpttOptions(w, { update: 'step' }), w), { message: /BPTT needs update: 'trial'/ });
  t.throws(() => createBpttLearner(bpttOptions(w, { window: -1 }), w), { message: /window must be/ });
  t.throws(() => createBpttLearner(bpttOptions(w, { window: 2.5 }), w), { message: /window must be/ });
  const l = createBpttLearner(bpttOptions(w, { window: 5 }), w);
  t.is(l.options.learner as string, 'bptt');
  t.true(isBpttLearner(l));
  t.is(l.engine, 'float');
});

test('the BPTT trainer copies weights, round-trips them, and resets state and record on setWeights', (t) => {
  const w = initWeights({ inputs: 2, hidden: 4, outputs: 2, tau: 2, seed: 47 });
  const l = createBpttLearner(bpttOptions(w, { lrRec: 0.1, lrOut: 0.1 }), w);
  const copy = cloneWeights(w);
  w.W_rec[0] += 1;
  t.deepEqual(Array.from(l.getWeights().W_rec), Array.from(copy.W_rec));
  l.step([1, -1], [0.5, 0.5], new Float64Array(2));
  const other = initWeights({ inputs: 2, hidden: 4, outputs: 2, tau: 2, seed: 48 });
  l.setWeights(other);
  other.W_out[0] += 1;
  t.not(l.getWeights().W_out[0], other.W_out[0]);
  t.deepEqual(Array.from(l.readHidden(new Float64Array(4))), Array.from(other.h0));
  t.is(gradientMaxAbs(l.readGradient(zeroGradient(other))), 0);
});

test('null targets add no error but keep the state going; the BPTT gradient then matches RTRL', (t) => {
  const { weights, x, target } = randomProblem({ hidden: 4, inputs: 2, outputs: 2, tau: 2, steps: 15, seed: 49 });
  const masked = target.map((v, i) => (i % 3 === 2 ? v : null));
  const y = forward(weights, x).y;
  const selfTargets = target.map((v, i) => (i % 3 === 2 ? v : y[i + 1]));
  const l = createBpttLearner(bpttOptions(weights), weights);
  const out = new Float64Array(2);
  for (let s = 0; s < 15; s++) l.step(x[s], masked[s], out);
  const rel = gradientRelativeError(l.readGradient(zeroGradient(weights)), computeGradient('rtrl', weights, x, selfTargets).grad);
  t.true(rel <= 1e-12, `${rel}`);
});

test('the BPTT trainer at least halves the loss of a small periodic task', (t) => {
  const T = 50;
  const x: Float64Array[] = [];
  const target: Float64Array[] = [];
  for (let s = 1; s <= T; s++) {
    const ph = (2 * Math.PI * s) / 25;
    x.push(Float64Array.of(Math.sin(ph)));
    target.push(Float64Array.of(0.8 * Math.sin(ph - 1) + 0.3 * Math.sin(2 * ph)));
  }
  const w = initWeights({ inputs: 1, hidden: 10, outputs: 1, tau: 4, seed: 21 });
  for (const window of [Infinity, 5]) {
    const l = createBpttLearner(bpttOptions(w, { lrRec: 0.5, lrOut: 0.5, trialLength: T, window }), w);
    const out = new Float64Array(1);
    const before = loss(w, x, target);
    for (let trial = 0; trial < 200; trial++) {
      l.resetState();
      for (let s = 0; s < T; s++) l.step(x[s], target[s], out);
      l.endTrial();
    }
    const after = loss(l.getWeights(), x, target);
    t.log(`window ${window}: loss ${before.toFixed(4)} -> ${after.toFixed(4)} (ratio ${(after / before).toFixed(3)})`);
    t.true(after < 0.5 * before);
  }
});

test('with state noise from perturbHidden, the BPTT gradient still equals RTRL on the same noisy run', (t) => {
  const { weights, x, target } = randomProblem({ hidden: 5, inputs: 2, outputs: 2, tau: 3, steps: 25, seed: 50 });
  const common = { inputs: 2, hidden: 5, outputs: 2, tau: 3, lrRec: 0, lrOut: 0, update: 'trial' as const, trialLength: 25 };
  const b = createBpttLearner({ ...common, window: Infinity }, weights);
  const r = createFloatLearner({ ...common, learner: 'rtrl' }, weights);
  const ob = new Float64Array(2);
  const or = new Float64Array(2);
  let worstY = 0;
  for (let s = 0; s < 25; s++) {
    b.step(x[s], target[s], ob);
    r.step(x[s], target[s], or);
    worstY = Math.max(worstY, Math.abs(ob[0] - or[0]), Math.abs(ob[1] - or[1]));
    const delta = [0.1 * Math.sin(s), -0.05 * Math.cos(3 * s), 0.02, 0, -0.1 * Math.sin(2 * s)];
    b.perturbHidden(delta);
    r.perturbHidden(delta);
  }
  t.is(worstY, 0, 'both engines see the same noisy trajectory');
  const gb = b.readGradient(zeroGradient(weights));
  const rel = gradientRelativeError(r.readGradient(zeroGradient(weights)), gb);
  t.true(rel <= 1e-12, `${rel}`);
  const clean = computeGradient('bptt', weights, x, target).grad;
  t.true(gradientRelativeError(gb, clean) > 1e-6, 'the noise did change the gradient');
});
