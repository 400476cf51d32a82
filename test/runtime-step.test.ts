import test from 'ava';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
// The TypeScript kernels (backend 'js'); test/wasm.test.ts proves the wasm backend writes the same arena.
const JS = { backend: 'js' } as const;
import { zeroGradient } from '../runtime/types.ts';
import type { LearnerOptions } from '../runtime/types.ts';

const opt: LearnerOptions = { learner: 'rflo', inputs: 2, hidden: 8, outputs: 2, tau: 10, lrRec: 0.05, lrOut: 0.05, update: 'step', trialLength: 10 };
const w = initWeights({ inputs: 2, hidden: 8, outputs: 2, tau: 10, seed: 4 });

test('target null runs inference only: state and traces advance, weights and accumulators stay', (t) => {
  const l = createFixedLearner(opt, w, JS);
  const W = new Int32Array(l.state.W_rec);
  const h = new Int16Array(l.state.h);
  const out = new Float64Array(2);
  for (let s = 0; s < 20; s++) l.step([0.5, -0.5], null, out);
  t.deepEqual(new Int32Array(l.state.W_rec), W);
  t.notDeepEqual(new Int16Array(l.state.h), h);
  t.true(l.state.P_rec.some((v) => v !== 0));
  const g = l.readGradient(zeroGradient(opt));
  t.true(g.W_rec.every((v) => v === 0) && g.W_out.every((v) => v === 0));
  t.is(l.stepCount(), 20);
});

test('step is a thin wrapper of stepQ: the same Q3.12 inputs give the same arena', (t) => {
  const a = createFixedLearner(opt, w, JS);
  const b = createFixedLearner(opt, w, JS);
  const out = new Float64Array(2);
  const outq = new Int16Array(2);
  for (let s = 0; s < 50; s++) {
    const xq = [Math.round(Math.sin(s) * 4096), -1000];
    const yq = [Math.round(Math.cos(s) * 2048), 300];
    a.step(xq.map((v) => v / 4096), yq.map((v) => v / 4096), out);
    b.stepQ(Int16Array.from(xq), Int16Array.from(yq), outq);
    t.deepEqual([...out], [...outq].map((v) => v / 4096));
  }
  t.deepEqual(new Uint8Array(a.arena), new Uint8Array(b.arena));
});

test('NaN and out-of-range inputs are counted, never fed as garbage', (t) => {
  const l = createFixedLearner(opt, w, JS);
  const out = new Float64Array(2);
  l.step([NaN, 100], [0, 0], out);
  const s = l.saturation();
  t.is(s.x_invalid, 1);
  t.is(s.x, 1);
  t.deepEqual([...l.state.x], [0, 32767]);
  l.step([0, 0], [Infinity, NaN], out);
  t.is(l.saturation().target, 1);
  t.is(l.saturation().target_invalid, 1);
});

test('perturbHidden rounds to Q1.15 and counts saturation', (t) => {
  const l = createFixedLearner(opt, w, JS);
  const before = l.state.h[0];
  l.perturbHidden([0.01, 5, 0, 0, 0, 0, 0, 0]);
  t.is(l.state.h[0], before + Math.floor(0.01 * 32768 + 0.5));
  t.is(l.state.h[1], 32767);
  t.is(l.saturation().h, 1);
});

test('wrong input lengths are refused with a message naming the expected length', (t) => {
  const l = createFixedLearner(opt, w, JS);
  t.throws(() => l.step([1], null, new Float64Array(2)), { message: 'x must have 2 entries (inputs), got 1' });
  t.throws(() => l.stepQ(new Int16Array(2), new Int16Array(3), new Int16Array(2)), { message: 'target must have 2 entries (outputs) or be null, got 3' });
});

test('getWeights returns the quantized weights and setWeights round-trips them exactly', (t) => {
  const l = createFixedLearner(opt, w, JS);
  const g = l.getWeights();
  for (let i = 0; i < w.W_rec.length; i++) t.true(Math.abs(g.W_rec[i] - w.W_rec[i]) <= 2 ** -25);
  const arena = new Uint8Array(l.arena).slice();
  l.setWeights(g);
  t.deepEqual(new Uint8Array(l.arena), arena);
});
