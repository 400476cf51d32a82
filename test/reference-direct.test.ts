import test from 'ava';
import type { Gradient, LearnerKind, LearnerOptions, ModelWeights } from '../runtime/types.ts';
import { LEARNER_KINDS, zeroGradient } from '../runtime/types.ts';
import { cloneWeights, initWeights } from '../runtime/init.ts';
import { createRng, rngNormal } from '../runtime/rng.ts';
import { computeGradient, createFloatLearner, forward, gradientMaxAbs, gradientRelativeError, grid, loss, randomProblem } from '../sim/reference/index.ts';
import { createLearner } from '../sim/engine.ts';

// Only grid points with inputs: D is O x M.
const GRID = grid({ hidden: [1, 3, 8], inputs: [1, 3], outputs: [1, 2], tau: [1, 2, 10], steps: [1, 5, 30] });

function label(p: { hidden: number; inputs: number; outputs: number; tau: number; steps: number }): string {
  return `N=${p.hidden} M=${p.inputs} O=${p.outputs} tau=${p.tau} T=${p.steps}`;
}

/** A random problem whose weights carry a random D (O x M). */
function directProblem(p: { hidden: number; inputs: number; outputs: number; tau: number; steps: number }, seed: number) {
  const pr = randomProblem({ ...p, seed });
  const rng = createRng(seed ^ 0x1d);
  const D = new Float64Array(p.outputs * p.inputs);
  for (let i = 0; i < D.length; i++) D[i] = 0.5 * rngNormal(rng);
  pr.weights.D = D;
  return pr;
}

function finiteDifferencesD(w: ModelWeights, x: Float64Array[], target: Float64Array[], eps = 1e-6): Gradient {
  const g = zeroGradient(w);
  g.D = new Float64Array(w.outputs * w.inputs);
  const wc = cloneWeights(w);
  wc.D = Float64Array.from(w.D as Float64Array);
  for (const k of ['W_in', 'W_rec', 'b', 'W_out', 'D'] as const) {
    const arr = wc[k] as Float64Array;
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      const at = (d: number): number => {
        arr[i] = v + d;
        const l = loss(wc, x, target);
        arr[i] = v;
        return l;
      };
      (g[k] as Float64Array)[i] = (8 * (at(eps) - at(-eps)) - (at(2 * eps) - at(-2 * eps))) / (12 * eps);
    }
  }
  return g;
}

test('with a readout that reads the input, RTRL equals BPTT to 1e-10 and both equal finite differences to 1e-6, D included', (t) => {
  let worst = 0;
  for (const p of GRID) {
    const seed = p.hidden * 7919 + p.inputs * 131 + p.outputs * 17 + p.tau * 3 + p.steps;
    const { weights, x, target } = directProblem(p, seed);
    const r = computeGradient('rtrl', weights, x, target);
    const b = computeGradient('bptt', weights, x, target);
    t.truthy(r.grad.D && b.grad.D, `${label(p)}: D block present`);
    t.true(gradientMaxAbs({ W_in: new Float64Array(0), W_rec: new Float64Array(0), b: new Float64Array(0), W_out: new Float64Array(0), D: b.grad.D }) > 0, label(p));
    const rb = gradientRelativeError(r.grad, b.grad);
    t.true(rb <= 1e-10, `${label(p)}: RTRL vs BPTT ${rb}`);
    const fd = finiteDifferencesD(weights, x, target);
    const rf = gradientRelativeError(r.grad, fd);
    worst = Math.max(worst, rf);
    t.true(rf <= 1e-6, `${label(p)}: RTRL vs finite differences ${rf}`);
  }
  t.log(`worst RTRL vs five-point differences with D: ${worst.toExponential(2)} (${GRID.length} grid points)`);
});

test('every learner gives the exact D gradient -sum_t e(t) x(t)^T, and D = 0 changes nothing else', (t) => {
  const p = { hidden: 5, inputs: 3, outputs: 2, tau: 2, steps: 20 };
  const { weights, x, target } = directProblem(p, 99);
  const { y } = forward(weights, x);
  const want = new Float64Array(p.outputs * p.inputs);
  for (let s = 1; s <= p.steps; s++) {
    for (let o = 0; o < p.outputs; o++) {
      const e = target[s - 1][o] - y[s][o];
      for (let j = 0; j < p.inputs; j++) want[o * p.inputs + j] -= e * x[s - 1][j];
    }
  }
  for (const kind of [...LEARNER_KINDS, 'bptt'] as const) {
    const g = computeGradient(kind, weights, x, target, { feedback: 'transpose' }).grad;
    let d = 0;
    for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs((g.D as Float64Array)[i] - want[i]));
    t.true(d < 1e-12, `${kind}: D gradient off by ${d}`);
  }
  // D = 0 with direct on: the same loss and the same four other blocks as without D.
  const plain = cloneWeights(weights);
  delete plain.D;
  const zeroD = cloneWeights(weights);
  zeroD.D = new Float64Array(p.outputs * p.inputs);
  for (const kind of ['rtrl', 'rflo', 'snap1', 'output'] as const) {
    const a = computeGradient(kind, plain, x, target);
    const b = computeGradient(kind, zeroD, x, target);
    t.is(a.loss, b.loss, kind);
    const strip = { ...b.grad, D: undefined };
    t.is(gradientRelativeError(a.grad, strip), 0, kind);
  }
});

function stepOptions(w: ModelWeights, learner: LearnerKind, extra: Partial<LearnerOptions>): LearnerOptions {
  return { learner, inputs: w.inputs, hidden: w.hidden, outputs: w.outputs, tau: w.tau, lrRec: 0, lrOut: 0.5, update: 'step', trialLength: 1, ...extra };
}

test('a normalised readout step moves W_out and D by lrOut e [h; x] / (eps + |h|^2 + |x|^2)', (t) => {
  const w = initWeights({ inputs: 2, hidden: 4, outputs: 1, tau: 2, seed: 3 });
  const l = createFloatLearner(stepOptions(w, 'output', { direct: true, normalizedReadout: true, readoutEps: 0.01 }), w);
  const x = [0.7, -1.3];
  const y = new Float64Array(1);
  l.step(x, [2], y);
  const h = l.readHidden(new Float64Array(4));
  const after = l.getWeights();
  const n2 = 0.01 + h.reduce((s, v) => s + v * v, 0) + x[0] * x[0] + x[1] * x[1];
  const e = 2 - y[0];
  for (let i = 0; i < 4; i++) t.true(Math.abs(after.W_out[i] - w.W_out[i] - (0.5 * e * h[i]) / n2) < 1e-15, `W_out ${i}`);
  for (let j = 0; j < 2; j++) t.true(Math.abs((after.D as Float64Array)[j] - (0.5 * e * x[j]) / n2) < 1e-15, `D ${j}`);
});

test('one normalised learning rate stays stable when the input is 100 times larger; the plain delta rule does not', (t) => {
  const run = (scale: number, normalizedReadout: boolean): number => {
    const w = initWeights({ inputs: 1, hidden: 8, outputs: 1, tau: 1, seed: 2 });
    const l = createFloatLearner(stepOptions(w, 'output', { direct: true, normalizedReadout, lrOut: 0.5 }), w);
    const y = new Float64Array(1);
    let se = 0;
    for (let s = 0; s < 2000; s++) {
      const v = scale * Math.sin(0.1 * s);
      l.step([v], [Math.sin(0.1 * (s + 1))], y);
      if (s >= 1000) se += (Math.sin(0.1 * (s + 1)) - y[0]) ** 2;
    }
    return se / 1000;
  };
  for (const scale of [1, 100]) t.true(run(scale, true) < 0.01, `normalised, input scale ${scale}: ${run(scale, true)}`);
  const plain = run(100, false);
  t.true(!(plain < 1), `plain delta rule at input scale 100: ${plain}`);
});

test('the recurrent update guard bounds every per-step change of W_rec, W_in and b, and counts when it acts', (t) => {
  const w = initWeights({ inputs: 2, hidden: 6, outputs: 1, tau: 2, seed: 5 });
  for (const kind of ['rflo', 'snap1', 'rtrl'] as const) {
    const bound = 1e-3;
    const l = createFloatLearner(stepOptions(w, kind, { lrRec: 5, lrOut: 0.1, maxRecStep: bound }), w);
    const free = createFloatLearner(stepOptions(w, kind, { lrRec: 5, lrOut: 0.1 }), w);
    const y = new Float64Array(1);
    let worst = 0;
    let worstFree = 0;
    for (let s = 0; s < 100; s++) {
      const x = [Math.sin(0.2 * s), Math.cos(0.13 * s)];
      const target = [Math.sin(0.2 * (s + 3))];
      for (const [learner, isFree] of [[l, false], [free, true]] as const) {
        const before = learner.getWeights();
        learner.step(x, target, y);
        const after = learner.getWeights();
        let n2 = 0;
        for (const k of ['W_rec', 'W_in', 'b'] as const) for (let i = 0; i < after[k].length; i++) n2 += (after[k][i] - before[k][i]) ** 2;
        if (isFree) worstFree = Math.max(worstFree, Math.sqrt(n2));
        else worst = Math.max(worst, Math.sqrt(n2));
      }
    }
    t.true(worst <= bound * (1 + 1e-9), `${kind}: largest guarded step ${worst}`);
    t.true(worstFree > bound, `${kind}: the unguarded run steps ${worstFree}, so the bound was tested`);
    t.true((l as unknown as { guardedSteps: number }).guardedSteps > 0, kind);
  }
});

test('the new options are checked, and the fixed-point engine refuses by name the ones it does not have yet', (t) => {
  const w = initWeights({ inputs: 2, hidden: 4, outputs: 1, tau: 2, seed: 3 });
  t.throws(() => createFloatLearner({ ...stepOptions(w, 'rflo', { normalizedReadout: true }), update: 'trial' }, w), { message: /normalizedReadout needs update 'step'/ });
  t.throws(() => createFloatLearner(stepOptions(w, 'rflo', { maxRecStep: 0 }), w), { message: /maxRecStep must be a finite number > 0/ });
  const withD = cloneWeights(w);
  withD.D = new Float64Array(2);
  t.throws(() => createFloatLearner(stepOptions(w, 'rflo', {}), withD), { message: /options.direct is off/ });
  t.throws(() => createFloatLearner(stepOptions(w, 'rflo', { direct: true }), { ...withD, D: new Float64Array(3) }), { message: /D must have 2 entries/ });
  t.throws(() => createLearner('fixed', stepOptions(w, 'rflo', { lrOut: 0.1, maxRecStep: 0.1 }), w), { message: /not yet in the fixed-point engine/ });
  // The normalised readout step is in the fixed-point engine (runtime/ARITHMETIC.md, "Normalised readout").
  t.true(createLearner('fixed', stepOptions(w, 'rflo', { lrOut: 0.1, normalizedReadout: true }), w).options.normalizedReadout);
  t.notThrows(() => createLearner('fixed', stepOptions(w, 'rflo', { lrOut: 0.1, direct: false }), w));
  // The fixed-point engine has D since it was ported (runtime/ARITHMETIC.md); weights with D need direct there too.
  const fixedD = createLearner('fixed', stepOptions(w, 'rflo', { lrOut: 0.1, direct: true }), withD);
  t.deepEqual(Array.from(fixedD.getWeights().D ?? []), [0, 0]);
  t.throws(() => createLearner('fixed', stepOptions(w, 'rflo', { lrOut: 0.1 }), withD), { message: /carry D .* but --direct is off/ });
});
