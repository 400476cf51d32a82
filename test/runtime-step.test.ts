import test from 'ava';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
// The TypeScript kernels (backend 'js'); test/wasm.test.ts proves the wasm backend writes the same arena.
const JS = { backend: 'js' } as const;
import { zeroGradient } from '../runtime/types.ts';
import type { LearnerOptions } from '../runtime/types.ts';

const opt: LearnerOptions = { learner: 'rflo', inputs: 2, hidden: 8, outputs: 2, tau: 10, lrRec: 0.05, lrOut: 0.05, update: 'step', trialLength: 10, accumulateGradient: true };
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

test('NaN and out-of-range inputs are counted, never fed as garbage: a missing input holds its last value', (t) => {
  const l = createFixedLearner(opt, w, JS);
  const out = new Float64Array(2);
  l.step([NaN, 100], [0, 0], out);
  const s = l.saturation();
  t.is(s.x_invalid, 1);
  t.is(s.x, 1);
  t.deepEqual([...l.state.x], [0, 32767]);
  l.step([0.5, -Infinity], [0, 0], out);
  t.deepEqual([...l.state.x], [2048, 32767], 'the non-finite channel holds 8 - 2^-12, the other takes 0.5');
  t.is(l.saturation().x_invalid, 2);
});

test('a target with a non-finite entry is missing as a whole: the step predicts and does not learn, counted once', (t) => {
  const a = createFixedLearner(opt, w, JS);
  const b = createFixedLearner(opt, w, JS);
  const out = new Float64Array(2);
  const outB = new Float64Array(2);
  a.step([0.2, 0.1], [0.3, -0.3], out);
  b.step([0.2, 0.1], [0.3, -0.3], outB);
  a.step([0.1, 0.4], [Infinity, 0.5], out);
  b.step([0.1, 0.4], null, outB);
  t.deepEqual([...out], [...outB], 'the prediction is made as usual');
  t.is(a.saturation().target_invalid, 1);
  t.is(a.saturation().target, 0, 'Infinity is missing, not saturated');
  t.deepEqual(new Int32Array(a.state.W_rec), new Int32Array(b.state.W_rec), 'no weight moved');
  t.deepEqual(new Int32Array(a.state.W_out), new Int32Array(b.state.W_out));
  t.deepEqual([...a.state.target], [1229, -1229], 'the last valid target stays in the arena');
});

test('stepQ with xMissing and targetMissing is step() with non-finite values, byte for byte', (t) => {
  const a = createFixedLearner(opt, w, JS);
  const b = createFixedLearner(opt, w, JS);
  const out = new Float64Array(2);
  const outq = new Int16Array(2);
  const miss = new Uint8Array(2);
  for (let s = 0; s < 60; s++) {
    const xq = [Math.round(Math.sin(s) * 4096), -1000 + s];
    const yq = [Math.round(Math.cos(s) * 2048), 300];
    miss[0] = s % 5 === 1 ? 1 : 0;
    miss[1] = s % 7 === 2 ? 1 : 0;
    const tMiss = s % 4 === 3;
    a.step(xq.map((v, j) => (miss[j] ? NaN : v / 4096)), tMiss ? [0, NaN] : yq.map((v) => v / 4096), out);
    b.stepQ(Int16Array.from(xq), Int16Array.from(yq), outq, miss, tMiss);
    t.deepEqual([...out], [...outq].map((v) => v / 4096));
  }
  t.deepEqual(new Uint8Array(a.arena), new Uint8Array(b.arena));
  t.is(a.saturation().x_invalid, 12 + 9);
  t.is(a.saturation().target_invalid, 15);
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
