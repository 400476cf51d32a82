import test from 'ava';
import type { Gradient, LearnerKind, LearnerOptions, ModelWeights, OnlineLearner } from '../runtime/types.ts';
import { LEARNER_KINDS, zeroGradient } from '../runtime/types.ts';
import { cloneWeights, initWeights } from '../runtime/init.ts';
import {
  computeGradient,
  createFloatLearner,
  forward,
  grid,
  gradientMaxAbs,
  gradientRelativeError,
  loss,
  randomProblem,
} from '../sim/reference/index.ts';

const FULL_GRID = grid({ hidden: [1, 3, 8, 16], inputs: [0, 2], outputs: [1, 3], tau: [1, 2, 10], steps: [1, 5, 50] });
const BLOCKS = ['W_in', 'W_rec', 'b', 'W_out'] as const;

function seedOf(p: { hidden: number; inputs: number; outputs: number; tau: number; steps: number }): number {
  return p.hidden * 1000003 + p.inputs * 10007 + p.outputs * 1009 + p.tau * 101 + p.steps;
}

function label(p: { hidden: number; inputs: number; outputs: number; tau: number; steps: number }): string {
  return `N=${p.hidden} M=${p.inputs} O=${p.outputs} tau=${p.tau} T=${p.steps}`;
}

/**
 * Finite differences of the loss for every parameter, step eps: the two-point central difference
 * (L(+eps) - L(-eps)) / 2 eps, error O(eps^2), or the five-point central stencil
 * (8 (L(+eps) - L(-eps)) - (L(+2 eps) - L(-2 eps))) / 12 eps, error O(eps^4).
 */
function finiteDifferences(w: ModelWeights, x: Float64Array[], target: Float64Array[], points: 2 | 5 = 5, eps = 1e-6): Gradient {
  const g = zeroGradient(w);
  const wc = cloneWeights(w);
  for (const k of BLOCKS) {
    const arr = wc[k];
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      const at = (d: number): number => {
        arr[i] = v + d;
        const l = loss(wc, x, target);
        arr[i] = v;
        return l;
      };
      const d1 = at(eps) - at(-eps);
      g[k][i] = points === 2 ? d1 / (2 * eps) : (8 * d1 - (at(2 * eps) - at(-2 * eps))) / (12 * eps);
    }
  }
  return g;
}

function options(w: ModelWeights, learner: LearnerKind, extra: Partial<LearnerOptions> = {}): LearnerOptions {
  return {
    learner,
    inputs: w.inputs,
    hidden: w.hidden,
    outputs: w.outputs,
    tau: w.tau,
    lrRec: 0,
    lrOut: 0,
    update: 'trial',
    trialLength: 1,
    ...extra,
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function weightsEqual(a: ModelWeights, b: ModelWeights): boolean {
  for (const k of [...BLOCKS, 'h0', 'B'] as const) if (maxAbsDiff(a[k], b[k]) !== 0 || a[k].length !== b[k].length) return false;
  return true;
}

function run(l: OnlineLearner, x: Float64Array[], target: (Float64Array | null)[]): void {
  const out = new Float64Array(l.options.outputs);
  for (let t = 0; t < x.length; t++) l.step(x[t], target[t], out);
}

test('step() returns y(t) and h(t) of the model equations for every learner', (t) => {
  const { weights, x } = randomProblem({ hidden: 5, inputs: 2, outputs: 3, tau: 3, steps: 20, seed: 1 });
  const ref = forward(weights, x);
  for (const kind of LEARNER_KINDS) {
    const l = createFloatLearner(options(weights, kind), weights);
    const out = new Float64Array(3);
    const h = new Float64Array(5);
    t.deepEqual(Array.from(l.readHidden(h)), Array.from(ref.h[0]), `${kind}: h(0) = h0`);
    let worst = 0;
    for (let s = 1; s <= x.length; s++) {
      l.step(x[s - 1], null, out);
      worst = Math.max(worst, maxAbsDiff(out, ref.y[s]), maxAbsDiff(l.readHidden(h), ref.h[s]));
    }
    t.is(worst, 0, kind);
  }
});

test('RTRL gradient equals the BPTT gradient to 1e-10 relative on every grid point', (t) => {
  let worst = 0;
  let where = '';
  for (const p of FULL_GRID) {
    const { weights, x, target } = randomProblem({ ...p, seed: seedOf(p) });
    const r = computeGradient('rtrl', weights, x, target);
    const b = computeGradient('bptt', weights, x, target);
    t.true(gradientMaxAbs(b.grad) > 0, label(p));
    t.true(Math.abs(r.loss - b.loss) <= 1e-14 * b.loss, `${label(p)}: loss ${r.loss} vs ${b.loss}`);
    const rel = gradientRelativeError(r.grad, b.grad);
    if (rel > worst) {
      worst = rel;
      where = label(p);
    }
    t.true(rel <= 1e-10, `${label(p)}: relative error ${rel}`);
  }
  t.log(`worst RTRL vs BPTT relative error ${worst.toExponential(2)} at ${where} (${FULL_GRID.length} grid points)`);
});

test('RTRL and BPTT gradients equal central finite differences (eps 1e-6) to 1e-6 relative on every grid point', (t) => {
  // The five-point stencil: on chaotic grid points (tau = 1, gain 1.5, T = 50) the two-point difference's own
  // O(eps^2) error exceeds 1e-6 (see the next test); it is logged here for the record.
  let worstR = 0;
  let worstB = 0;
  let worst2 = 0;
  let where = '';
  let where2 = '';
  for (const p of FULL_GRID) {
    const { weights, x, target } = randomProblem({ ...p, seed: seedOf(p) + 7 });
    const fd = finiteDifferences(weights, x, target, 5);
    const rg = computeGradient('rtrl', weights, x, target).grad;
    const r = gradientRelativeError(rg, fd);
    const b = gradientRelativeError(computeGradient('bptt', weights, x, target).grad, fd);
    const two = gradientRelativeError(rg, finiteDifferences(weights, x, target, 2));
    if (Math.max(r, b) > Math.max(worstR, worstB)) where = label(p);
    if (two > worst2) where2 = label(p);
    worstR = Math.max(worstR, r);
    worstB = Math.max(worstB, b);
    worst2 = Math.max(worst2, two);
    t.true(r <= 1e-6, `${label(p)}: RTRL vs finite differences ${r}`);
    t.true(b <= 1e-6, `${label(p)}: BPTT vs finite differences ${b}`);
  }
  t.log(`worst vs five-point differences: RTRL ${worstR.toExponential(2)}, BPTT ${worstB.toExponential(2)} (at ${where})`);
  t.log(`worst RTRL vs two-point differences: ${worst2.toExponential(2)} (at ${where2})`);
});

test('where the two-point difference misses, its error shrinks as eps^2 (the difference, not the gradient, is off)', (t) => {
  const p = { hidden: 8, inputs: 2, outputs: 1, tau: 1, steps: 50 };
  const { weights, x, target } = randomProblem({ ...p, seed: seedOf(p) + 7 });
  const rg = computeGradient('rtrl', weights, x, target).grad;
  const e5 = gradientRelativeError(rg, finiteDifferences(weights, x, target, 2, 1e-5));
  const e6 = gradientRelativeError(rg, finiteDifferences(weights, x, target, 2, 1e-6));
  t.log(`${label(p)}: two-point error ${e5.toExponential(2)} at eps 1e-5, ${e6.toExponential(2)} at eps 1e-6`);
  t.true(e6 > 1e-6, 'this grid point is the hard case');
  t.true(e5 / e6 > 50 && e5 / e6 < 200, `error ratio ${e5 / e6} should be about 100`);
});

test('RFLO matches RTRL to float rounding when W_rec = 0 and the feedback is W_out^T', (t) => {
  let worst = 0;
  for (const p of FULL_GRID) {
    const { weights, x, target } = randomProblem({ ...p, seed: seedOf(p) + 11 });
    weights.W_rec.fill(0);
    const rtrl = computeGradient('rtrl', weights, x, target).grad;
    const viaT = computeGradient('rflo', weights, x, target, { feedback: 'transpose' }).grad;
    // B set by hand to W_out^T, used through the 'random' path.
    const { hidden: N, outputs: O } = p;
    for (let j = 0; j < N; j++) for (let o = 0; o < O; o++) weights.B[j * O + o] = weights.W_out[o * N + j];
    const viaB = computeGradient('rflo', weights, x, target, { feedback: 'random' }).grad;
    const rel = Math.max(gradientRelativeError(viaT, rtrl), gradientRelativeError(viaB, rtrl));
    worst = Math.max(worst, rel);
    t.true(rel <= 1e-13, `${label(p)}: ${rel}`);
  }
  t.log(`worst RFLO vs RTRL relative error with W_rec = 0: ${worst.toExponential(2)}`);
});

test('SnAp-1 matches RTRL when W_rec is diagonal, and at N = 1', (t) => {
  let worst = 0;
  for (const p of FULL_GRID) {
    const { weights, x, target } = randomProblem({ ...p, seed: seedOf(p) + 13 });
    const N = p.hidden;
    for (let i = 0; i < N; i++) for (let k = 0; k < N; k++) if (i !== k) weights.W_rec[i * N + k] = 0;
    const rel = gradientRelativeError(computeGradient('snap1', weights, x, target).grad, computeGradient('rtrl', weights, x, target).grad);
    worst = Math.max(worst, rel);
    t.true(rel <= 1e-12, `diagonal ${label(p)}: ${rel}`);
  }
  for (const p of FULL_GRID.filter((q) => q.hidden === 1)) {
    const { weights, x, target } = randomProblem({ ...p, seed: seedOf(p) + 17 });
    const rel = gradientRelativeError(computeGradient('snap1', weights, x, target).grad, computeGradient('rtrl', weights, x, target).grad);
    worst = Math.max(worst, rel);
    t.true(rel <= 1e-12, `N=1 ${label(p)}: ${rel}`);
  }
  t.log(`worst SnAp-1 vs RTRL relative error (diagonal W_rec, N = 1): ${worst.toExponential(2)}`);
});

test('RFLO and SnAp-1 differ from RTRL on a full recurrent matrix (the invariants above are not vacuous)', (t) => {
  const { weights, x, target } = randomProblem({ hidden: 8, inputs: 2, outputs: 3, tau: 2, steps: 50, seed: 3 });
  const rtrl = computeGradient('rtrl', weights, x, target).grad;
  const rflo = gradientRelativeError(computeGradient('rflo', weights, x, target, { feedback: 'transpose' }).grad, rtrl);
  const snap = gradientRelativeError(computeGradient('snap1', weights, x, target).grad, rtrl);
  t.log(`RFLO (W_out^T) vs RTRL ${rflo.toExponential(2)}, SnAp-1 vs RTRL ${snap.toExponential(2)}`);
  t.true(rflo > 1e-3);
  t.true(snap > 1e-3);
});

test('output-only has a zero gradient for W_in, W_rec and b, and the exact W_out gradient', (t) => {
  const { weights, x, target } = randomProblem({ hidden: 6, inputs: 2, outputs: 2, tau: 2, steps: 30, seed: 4 });
  const g = computeGradient('output', weights, x, target).grad;
  const r = computeGradient('rtrl', weights, x, target).grad;
  t.is(gradientMaxAbs({ ...g, W_out: new Float64Array(0) }), 0);
  t.true(gradientMaxAbs(r) > 0);
  t.is(maxAbsDiff(g.W_out, r.W_out), 0);
});

test('with lr = 0 no learner changes its weights, in either update mode', (t) => {
  const { weights, x, target } = randomProblem({ hidden: 5, inputs: 2, outputs: 2, tau: 2, steps: 20, seed: 5 });
  for (const kind of LEARNER_KINDS) {
    for (const update of ['step', 'trial'] as const) {
      const l = createFloatLearner(options(weights, kind, { update, trialLength: 20 }), weights);
      for (let trial = 0; trial < 3; trial++) {
        l.resetState();
        run(l, x, target);
        l.endTrial();
      }
      t.true(weightsEqual(l.getWeights(), weights), `${kind} ${update}`);
    }
  }
});

test("one trial in 'trial' mode changes the weights by exactly -(lr/P) times the gradient it read", (t) => {
  const { weights, x, target } = randomProblem({ hidden: 5, inputs: 2, outputs: 2, tau: 2, steps: 20, seed: 6 });
  const lrRec = 1e-3;
  const lrOut = 3e-3;
  const P = 20;
  for (const kind of LEARNER_KINDS) {
    const l = createFloatLearner(options(weights, kind, { lrRec, lrOut, trialLength: P }), weights);
    run(l, x, target);
    t.true(weightsEqual(l.getWeights(), weights), `${kind}: nothing changes before endTrial`);
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
    t.true(worst <= 2 ** -52, `${kind}: ${worst}`);
    t.is(gradientMaxAbs(l.readGradient(zeroGradient(weights))), 0, `${kind}: endTrial clears the accumulator`);
  }
});

test("in 'step' mode the weights move by -(lr/P) times the accumulated gradient, which stays close to the fixed-weight gradient for a tiny lr", (t) => {
  const { weights, x, target } = randomProblem({ hidden: 5, inputs: 2, outputs: 2, tau: 2, steps: 20, seed: 7 });
  const lr = 1e-6;
  const P = 20;
  for (const kind of LEARNER_KINDS) {
    const l = createFloatLearner(options(weights, kind, { lrRec: lr, lrOut: lr, update: 'step', trialLength: P }), weights);
    run(l, x, target);
    const g = l.readGradient(zeroGradient(weights));
    const after = l.getWeights();
    const moved = zeroGradient(weights);
    const expected = zeroGradient(weights);
    for (const k of BLOCKS) {
      for (let i = 0; i < g[k].length; i++) {
        moved[k][i] = after[k][i] - weights[k][i];
        expected[k][i] = -(lr / P) * g[k][i];
      }
    }
    const relMove = gradientRelativeError(moved, expected);
    const fixed = computeGradient(kind, weights, x, target).grad;
    const relFixed = gradientRelativeError(g, fixed);
    t.log(`${kind}: weight change vs -(lr/P) grad ${relMove.toExponential(2)}; step-mode vs fixed-weight gradient ${relFixed.toExponential(2)}`);
    t.true(relMove <= 1e-8, `${kind}: ${relMove}`);
    t.true(relFixed <= 1e-5, `${kind}: ${relFixed}`);
    t.true(relFixed > 0, `${kind}: the weights did change during the trial`);
    l.endTrial();
    t.true(weightsEqual(l.getWeights(), after), `${kind}: endTrial in 'step' mode changes no weight`);
    t.is(gradientMaxAbs(l.readGradient(zeroGradient(weights))), 0, `${kind}: endTrial clears the accumulator`);
  }
});

test('step() with a null target advances the state but leaves weights and accumulators unchanged', (t) => {
  const { weights, x, target } = randomProblem({ hidden: 5, inputs: 2, outputs: 2, tau: 3, steps: 30, seed: 8 });
  for (const kind of LEARNER_KINDS) {
    for (const update of ['step', 'trial'] as const) {
      const l = createFloatLearner(options(weights, kind, { lrRec: 0.1, lrOut: 0.1, update, trialLength: 10 }), weights);
      run(l, x.slice(0, 10), target.slice(0, 10));
      const w0 = l.getWeights();
      const g0 = l.readGradient(zeroGradient(weights));
      const h0 = l.readHidden(new Float64Array(5));
      run(l, x.slice(10), x.slice(10).map(() => null));
      t.true(weightsEqual(l.getWeights(), w0), `${kind} ${update}: weights`);
      t.is(gradientRelativeError(l.readGradient(zeroGradient(weights)), g0), 0, `${kind} ${update}: accumulator`);
      t.true(maxAbsDiff(l.readHidden(new Float64Array(5)), h0) > 0, `${kind} ${update}: state advanced`);
    }
  }
});

test('traces advance during null-target steps just as during steps whose error is zero', (t) => {
  const { weights, x, target } = randomProblem({ hidden: 4, inputs: 1, outputs: 2, tau: 2, steps: 12, seed: 9 });
  const T = target.length;
  // Only the last step has a target; the earlier steps must still build the traces.
  const masked: (Float64Array | null)[] = target.map((v, i) => (i === T - 1 ? v : null));
  // The same sequence with targets equal to the model's own output before the last step (zero error there).
  const y = forward(weights, x).y;
  const selfTargets = target.map((v, i) => (i === T - 1 ? v : y[i + 1]));
  for (const kind of ['rtrl', 'rflo', 'snap1'] as const) {
    const l = createFloatLearner(options(weights, kind), weights);
    run(l, x, masked);
    const g = l.readGradient(zeroGradient(weights));
    const ls = createFloatLearner(options(weights, kind), weights);
    run(ls, x, selfTargets);
    t.is(gradientRelativeError(g, ls.readGradient(zeroGradient(weights))), 0, kind);
    t.true(gradientMaxAbs({ ...g, W_out: new Float64Array(0) }) > 0, `${kind}: recurrent gradient is non-zero`);
  }
  // And RTRL with only the last target is the exact gradient of the last step's loss.
  const l = createFloatLearner(options(weights, 'rtrl'), weights);
  run(l, x, masked);
  const selfW = cloneWeights(weights);
  const fd = finiteDifferences(selfW, x, selfTargets);
  const rel = gradientRelativeError(l.readGradient(zeroGradient(weights)), fd);
  t.true(rel <= 1e-6, `RTRL vs finite differences of the last step's loss: ${rel}`);
});

test('getWeights/setWeights round-trip and never alias the caller arrays', (t) => {
  const w = initWeights({ inputs: 2, hidden: 4, outputs: 2, tau: 2, seed: 10 });
  const l = createFloatLearner(options(w, 'rflo', { lrRec: 0.1, lrOut: 0.1, update: 'step' }), w);
  const copy = cloneWeights(w);
  w.W_rec[0] += 1;
  w.B[0] += 1;
  t.true(weightsEqual(l.getWeights(), copy), 'the constructor copied');
  const got = l.getWeights();
  got.W_out[0] += 1;
  got.h0[0] += 1;
  t.true(weightsEqual(l.getWeights(), copy), 'getWeights returns a copy');
  const other = initWeights({ inputs: 2, hidden: 4, outputs: 2, tau: 2, seed: 11 });
  const otherCopy = cloneWeights(other);
  l.step([0.5, -0.5], [1, 0], new Float64Array(2));
  l.setWeights(other);
  t.true(weightsEqual(l.getWeights(), otherCopy), 'round-trip');
  t.deepEqual(Array.from(l.readHidden(new Float64Array(4))), Array.from(other.h0), 'setWeights resets the state');
  other.W_in[0] += 1;
  other.b[0] += 1;
  t.true(weightsEqual(l.getWeights(), otherCopy), 'setWeights copied');
  t.is(l.getWeights().tau, 2);
});

test('perturbHidden adds to the hidden state and nothing else', (t) => {
  const { weights, x } = randomProblem({ hidden: 3, inputs: 2, outputs: 1, tau: 2, steps: 3, seed: 12 });
  const l = createFloatLearner(options(weights, 'rtrl'), weights);
  run(l, x, [null, null, null]);
  const before = l.readHidden(new Float64Array(3));
  l.perturbHidden([0.25, -0.5, 0]);
  const after = l.readHidden(new Float64Array(3));
  t.deepEqual(Array.from(after), [before[0] + 0.25, before[1] - 0.5, before[2]]);
  t.true(weightsEqual(l.getWeights(), weights));
});

test('bad options and mismatched weights are refused with a message saying what is wrong', (t) => {
  const w = initWeights({ inputs: 2, hidden: 4, outputs: 2, tau: 2, seed: 13 });
  t.throws(() => createFloatLearner(options(w, 'rtrl', { tau: 0.5 }), w), { message: /tau must be/ });
  t.throws(() => createFloatLearner(options(w, 'rtrl', { hidden: 5 }), w), { message: /weights are for/ });
  t.throws(() => createFloatLearner(options(w, 'rtrl', { tau: 3 }), w), { message: /differs from options.tau/ });
  t.throws(() => createFloatLearner(options(w, 'bptt' as LearnerKind), w), { message: /createBpttLearner/ });
  t.throws(() => createFloatLearner({ ...options(w, 'rflo'), feedback: 'mirror' as 'random' }, w), { message: /feedback must be/ });
  const l = createFloatLearner(options(w, 'rtrl'), w);
  t.throws(() => l.step([1], null, new Float64Array(2)), { message: /x must have 2 entries/ });
  t.throws(() => l.step([1, 2], [1], new Float64Array(2)), { message: /target must have 2 entries/ });
  t.throws(() => l.setWeights(initWeights({ inputs: 2, hidden: 3, outputs: 2, tau: 2, seed: 1 })), { message: /weights are for/ });
});

/** A small periodic task: a sine input, a phase-shifted two-harmonic target (needs memory of the input). */
function periodicTask(T: number): { x: Float64Array[]; target: Float64Array[] } {
  const x: Float64Array[] = [];
  const target: Float64Array[] = [];
  for (let t = 1; t <= T; t++) {
    const ph = (2 * Math.PI * t) / 25;
    x.push(Float64Array.of(Math.sin(ph)));
    target.push(Float64Array.of(0.8 * Math.sin(ph - 1) + 0.3 * Math.sin(2 * ph)));
  }
  return { x, target };
}

for (const kind of LEARNER_KINDS) {
  for (const update of ['trial', 'step'] as const) {
    test(`${kind} in '${update}' mode at least halves the loss of a small periodic task`, (t) => {
      const T = 50;
      const { x, target } = periodicTask(T);
      const w = initWeights({ inputs: 1, hidden: 10, outputs: 1, tau: 4, seed: 21 });
      const l = createFloatLearner(options(w, kind, { lrRec: 0.5, lrOut: 0.5, update, trialLength: T }), w);
      const before = loss(w, x, target);
      for (let trial = 0; trial < 200; trial++) {
        l.resetState();
        run(l, x, target);
        l.endTrial();
      }
      const after = loss(l.getWeights(), x, target);
      t.log(`${kind} ${update}: loss ${before.toFixed(4)} -> ${after.toFixed(4)} (ratio ${(after / before).toFixed(3)})`);
      t.true(after < 0.5 * before);
    });
  }
}
