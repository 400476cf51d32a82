import test from 'ava';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import { wasmSimdSupported } from '../runtime/wasm/backend.ts';
import { createRng, rngNextU32 } from '../runtime/rng.ts';
import { SAT } from '../runtime/layout.ts';
import type { LearnerOptions } from '../runtime/types.ts';
import { arenaBytes, firstDiff, randomizeArena } from './helpers/arena.ts';

// The wasm kernels' 'step' updates test int32 overflow of a weight for several lanes at once and count it on a rare
// path (runtime/wasm/assembly/kernels.as update8, update1). Random full-range arenas (test/wasm.test.ts) almost never
// put a weight within one update of the int32 limits, so here every master weight sits a few units from a limit:
// about half of the non-zero updates overflow. The arena, saturation counters included, must stay byte-identical to
// the TypeScript kernels', and the run must have hit the overflow of every weight buffer it updates.

const O = 2;

// lr / trialLength sets the update shifts: 0.01 / 100 (the bench's) gives every row the kernels' quick path; 0.05 / 50
// puts W_in's shift (traceIn 16) outside it, so W_in takes applyStep beside the quick W_rec rows.
// M = 5: the kernels take W_in 4 inputs at a time, plus a scalar one.
function options(learner: 'rflo' | 'output', M: number, N: number, direct: boolean, lr: number, trialLength: number): LearnerOptions {
  return { learner, inputs: M, hidden: N, outputs: O, tau: 10, lrRec: lr, lrOut: lr, update: 'step', trialLength, ...(direct ? { direct: true } : {}) };
}

const CASES: { learner: 'rflo' | 'output'; M: number; N: number; direct: boolean; lr: number; trialLength: number }[] = [
  { learner: 'rflo', M: 3, N: 37, direct: false, lr: 0.01, trialLength: 100 },
  { learner: 'rflo', M: 5, N: 64, direct: true, lr: 0.01, trialLength: 100 },
  { learner: 'rflo', M: 4, N: 21, direct: false, lr: 0.05, trialLength: 50 },
  { learner: 'output', M: 3, N: 21, direct: false, lr: 0.01, trialLength: 100 },
];

for (const c of CASES) {
  (wasmSimdSupported() ? test : test.skip)(`wasm equals js with every master weight next to an int32 limit (${c.learner} M=${c.M} N=${c.N}${c.direct ? ' direct' : ''} lr ${c.lr}/${c.trialLength})`, (t) => {
    const M = c.M;
    const w = initWeights({ inputs: M, hidden: c.N, outputs: O, tau: 10, seed: 7, gain: 1.5, inScale: 2, outScale: 1 });
    const js = createFixedLearner(options(c.learner, M, c.N, c.direct, c.lr, c.trialLength), w, { backend: 'js' });
    const wasm = createFixedLearner(options(c.learner, M, c.N, c.direct, c.lr, c.trialLength), w, { backend: 'wasm' });
    t.is(wasm.backend, 'wasm');
    const rng = createRng(c.N * 17 + 5);
    const x = new Int16Array(M);
    const y = new Int16Array(O);
    const out = new Int16Array(O);
    const names = c.learner === 'rflo' ? ['W_rec', 'W_in', 'b', 'W_out'] : ['W_out'];
    if (c.direct) names.push('D');
    const counted = new Map<string, number>([['weights_q12', 0]]);
    const sats = c.learner === 'rflo' ? ['W_rec', 'W_in', 'b', 'W_out', 'weights_q12'] : ['W_out', 'weights_q12'];
    for (const n of sats) counted.set(n, 0);
    for (let it = 0; it < 100; it++) {
      randomizeArena(js, [wasm], rng);
      const s = js.state as unknown as Record<string, Int32Array>;
      for (const n of names) {
        const buf = s[n];
        for (let i = 0; i < buf.length; i++) {
          const r = rngNextU32(rng);
          buf[i] = r & 1 ? 2147483647 - ((r >>> 1) & 255) : -2147483648 + ((r >>> 1) & 255);
        }
      }
      arenaBytes(wasm).set(arenaBytes(js));
      const before = sats.map((n) => js.state.saturation[SAT[n as keyof typeof SAT]]);
      for (let j = 0; j < M; j++) x[j] = (rngNextU32(rng) & 0xffff) - 32768;
      for (let o = 0; o < O; o++) y[o] = (rngNextU32(rng) & 0xffff) - 32768;
      js.stepQ(x, y, out);
      wasm.stepQ(x, y, out);
      sats.forEach((n, k) => counted.set(n, counted.get(n)! + js.state.saturation[SAT[n as keyof typeof SAT]] - before[k]));
      const d = firstDiff(js, arenaBytes(js), arenaBytes(wasm));
      if (d !== null) {
        t.fail(`iteration ${it}: ${d}`);
        return;
      }
    }
    t.log(`saturations counted: ${JSON.stringify(Object.fromEntries(counted))}`);
    for (const [n, v] of counted) t.true(v > 0, `no ${n} saturation was reached, so its counting path went untested`);
  });
}

(wasmSimdSupported() ? test : test.skip)('wasm equals js over 3000 ordinary steps with 5 inputs (W_in 4 at a time plus one)', (t) => {
  const M = 5;
  const N = 24;
  const w = initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 3, gain: 1.5, inScale: 2, outScale: 1 });
  const js = createFixedLearner(options('rflo', M, N, false, 0.01, 100), w, { backend: 'js' });
  const wasm = createFixedLearner(options('rflo', M, N, false, 0.01, 100), w, { backend: 'wasm' });
  const x = new Float64Array(M);
  const y = new Float64Array(O);
  const out = new Float64Array(O);
  for (let k = 0; k < 3000; k++) {
    for (let j = 0; j < M; j++) x[j] = Math.sin(k / (3 + j)) * 1.5;
    for (let o = 0; o < O; o++) y[o] = Math.cos(k / (5 + o));
    js.step(x, k % 7 === 3 ? null : y, out);
    wasm.step(x, k % 7 === 3 ? null : y, out);
    if (k % 100 === 99) {
      const d = firstDiff(js, arenaBytes(js), arenaBytes(wasm));
      if (d !== null) {
        t.fail(`after step ${k + 1}: ${d}`);
        return;
      }
    }
  }
  t.notDeepEqual(Array.from(js.state.W_in), Array.from(createFixedLearner(options('rflo', M, N, false, 0.01, 100), w, { backend: 'js' }).state.W_in), 'W_in learned');
});

// The quick loop of the wasm kernels takes 16 weights per iteration and leaves it for a block of 8 that needs the
// exact tests (a weight near an int32 limit, a Q3.12 copy at the edge of int16), which update8Rare finishes before
// the loop resumes. Here such weights are few and at random places, so rare blocks fall in either half of an
// iteration, in the 8-weight remainder of a row (N = 24, 40, 56) and before the scalar tail (N = 37), among ordinary
// ones; every step the arenas must stay byte-identical.
for (const N of [24, 37, 40, 56]) {
  (wasmSimdSupported() ? test : test.skip)(`wasm equals js with a few weights next to an int32 limit or the Q3.12 copy's edge at random places (N=${N})`, (t) => {
    const M = 4;
    const w = initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 11, gain: 1.5, inScale: 2, outScale: 1 });
    const js = createFixedLearner(options('rflo', M, N, false, 0.01, 100), w, { backend: 'js' });
    const wasm = createFixedLearner(options('rflo', M, N, false, 0.01, 100), w, { backend: 'wasm' });
    const rng = createRng(N * 31 + 1);
    const x = new Int16Array(M);
    const y = new Int16Array(O);
    const out = new Int16Array(O);
    const edge = (1 << 27) - (1 << 11); // round(W / 2^12) = 2^15 from here up
    const sat = js.state.saturation;
    const before = { W_rec: sat[SAT.W_rec], W_out: sat[SAT.W_out], q12: sat[SAT.weights_q12] };
    const start = arenaBytes(js).slice();
    for (let it = 0; it < 400; it++) {
      // back to the initial weights now and then, so that the weights put at an edge stay few (and counters add up)
      if (it % 20 === 0) {
        const counters = Uint32Array.from(sat);
        arenaBytes(js).set(start);
        sat.set(counters);
      }
      for (const name of ['W_rec', 'W_out'] as const) {
        const buf = js.state[name];
        for (let k = 0; k < 3; k++) {
          const i = rngNextU32(rng) % buf.length;
          const r = rngNextU32(rng);
          const near = (r >>> 2) & 4095;
          buf[i] = r & 1 ? (r & 2 ? 2147483647 - (near & 255) : -2147483648 + (near & 255)) : r & 2 ? edge - 1 - near : -edge - near;
        }
      }
      arenaBytes(wasm).set(arenaBytes(js));
      for (let j = 0; j < M; j++) x[j] = (rngNextU32(rng) & 0x3fff) - 8192;
      for (let o = 0; o < O; o++) y[o] = (rngNextU32(rng) & 0xffff) - 32768;
      js.stepQ(x, y, out);
      wasm.stepQ(x, y, out);
      const d = firstDiff(js, arenaBytes(js), arenaBytes(wasm));
      if (d !== null) {
        t.fail(`iteration ${it}: ${d}`);
        return;
      }
    }
    const counted = { W_rec: sat[SAT.W_rec] - before.W_rec, W_out: sat[SAT.W_out] - before.W_out, q12: sat[SAT.weights_q12] - before.q12 };
    t.log(`saturations counted: ${JSON.stringify(counted)}`);
    for (const [n, v] of Object.entries(counted)) t.true(v > 0, `no ${n} saturation was reached, so its rare path went untested`);
  });
}

// learnRowQuick shifts its update by the constant 16 when the final shift sh = ds + shiftApply is at most 16, with
// the gain scaled by 2^(16 - sh) when it still fits int32, and by sh itself otherwise. The learning rate sets sh
// (0.0003: above 16, every row on the variable shift; 0.001-0.3: the constant, the gain scaled by up to 2^10);
// large targets make large gains, so some rows do not fit once scaled. Arenas equal every 250 steps.
for (const lr of [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3]) {
  (wasmSimdSupported() ? test : test.skip)(`wasm equals js over 1500 steps at learning rate ${lr} (the update's constant and variable final shifts)`, (t) => {
    const M = 4;
    const N = 40;
    const w = initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 5, gain: 1.5, inScale: 2, outScale: 1 });
    const js = createFixedLearner(options('rflo', M, N, false, lr, 100), w, { backend: 'js' });
    const wasm = createFixedLearner(options('rflo', M, N, false, lr, 100), w, { backend: 'wasm' });
    const s = js.state;
    t.log(`final shift sh = ${s.shiftTraceRec - 16 + s.shiftApply}`);
    const x = new Float64Array(M);
    const y = new Float64Array(O);
    const out = new Float64Array(O);
    for (let k = 0; k < 1500; k++) {
      for (let j = 0; j < M; j++) x[j] = Math.sin(k / (3 + j)) * 2;
      for (let o = 0; o < O; o++) y[o] = Math.cos(k / (5 + o)) * (k % 300 < 150 ? 7 : 0.5);
      js.step(x, y, out);
      wasm.step(x, y, out);
      if (k % 250 === 249) {
        const d = firstDiff(js, arenaBytes(js), arenaBytes(wasm));
        if (d !== null) {
          t.fail(`after step ${k + 1}: ${d}`);
          return;
        }
      }
    }
    t.notDeepEqual(Array.from(s.W_rec), Array.from(createFixedLearner(options('rflo', M, N, false, lr, 100), w, { backend: 'js' }).state.W_rec), 'W_rec learned');
  });
}

// With every row bounded, the wasm kernels take the W_in and bias parts of all rows after the W_rec rows
// (kernels.as learnInBiasRows): W_in per row 4 inputs at a time plus a scalar rest (M = 5), the biases 4 rows at a
// time plus a scalar rest (N = 37), gains of zero for units whose feedback is 0. The bias trace is the one that can
// leave int16 there: for a unit with u = 0 (its W_rec row, W_in row and bias zeroed), c = a phi' = a, so c + d = 2^15,
// and P_b = 32767 gives (d 32767 + c 2^15 + 2^14) >> 15 = 2^15 when a >= 1/2 (tau = 2): saturated to 32767 and
// counted, and the update must use the saturated trace. tau = 1 makes such rows unbounded (c = 2^15, d = 0), so the
// kernels keep the per-row path for every row of that step; both must equal the TypeScript kernels.
for (const tau of [2, 1]) {
  (wasmSimdSupported() ? test : test.skip)(`wasm equals js where the bias trace saturates in the rows' W_in and bias pass (tau ${tau}, M=5 N=37)`, (t) => {
    const M = 5;
    const N = 37;
    const opts: LearnerOptions = { learner: 'rflo', inputs: M, hidden: N, outputs: O, tau, lrRec: 0.01, lrOut: 0.01, update: 'step', trialLength: 100 };
    const w = initWeights({ inputs: M, hidden: N, outputs: O, tau, seed: 13, gain: 1.5, inScale: 2, outScale: 1 });
    const js = createFixedLearner(opts, w, { backend: 'js' });
    const wasm = createFixedLearner(opts, w, { backend: 'wasm' });
    const rng = createRng(tau * 101 + 3);
    const x = new Int16Array(M);
    const y = new Int16Array(O);
    const out = new Int16Array(O);
    const sat = js.state.saturation;
    const before = { trace: sat[SAT.trace], b: sat[SAT.b], W_in: sat[SAT.W_in] };
    let zeroFeedback = 0;
    for (let it = 0; it < 200; it++) {
      randomizeArena(js, [wasm], rng);
      const s = js.state;
      for (let a = 0; a < N; a++) {
        const r = rngNextU32(rng);
        if (r & 1) {
          s.W_rec.fill(0, a * N, (a + 1) * N);
          s.W_in.fill(0, a * M, (a + 1) * M);
          s.b[a] = 0;
        }
        if (r & 2) s.P_b[a] = 32767;
        // weights a few units from an int32 limit: the rows' W_in and bias updates overflow too
        if ((r & 12) === 4) s.b[a] = r & 16 ? 2147483647 - ((r >>> 8) & 255) : -2147483648 + ((r >>> 8) & 255);
        if ((r & 96) === 32) for (let j = 0; j < M; j++) s.W_in[a * M + j] = r & 128 ? 2147483647 - j : -2147483648 + j;
      }
      for (let j = 0; j < M; j++) x[j] = (rngNextU32(rng) & 0xffff) - 32768;
      for (let o = 0; o < O; o++) y[o] = (rngNextU32(rng) & 0xffff) - 32768;
      arenaBytes(wasm).set(arenaBytes(js));
      js.stepQ(x, y, out);
      wasm.stepQ(x, y, out);
      for (let a = 0; a < N; a++) if (js.state.fb[a] === 0) zeroFeedback++;
      const d = firstDiff(js, arenaBytes(js), arenaBytes(wasm));
      if (d !== null) {
        t.fail(`iteration ${it}: ${d}`);
        return;
      }
    }
    const counted = { trace: sat[SAT.trace] - before.trace, b: sat[SAT.b] - before.b, W_in: sat[SAT.W_in] - before.W_in };
    t.log(`saturations counted: ${JSON.stringify(counted)}, units with feedback 0: ${zeroFeedback}`);
    for (const [n, v] of Object.entries(counted)) t.true(v > 0, `no ${n} saturation was reached, so its path went untested`);
  });
}

// With 4 outputs and feedback B e, the wasm kernels compute the feedback 4 units at a time (kernels.as feedback: pair
// sums of i32x4.dot_i16x8_s, added in int32 with the overflow test); an error of -2^15 sends the step to the scalar
// loop, as do the units after the last block of 4 (N = 37). Here B's entries sit at the int16 limits for half the
// units, so their sums leave int32 and are saturated and counted, and every third step's targets of -2^15 make
// errors of -2^15.
(wasmSimdSupported() ? test : test.skip)('wasm equals js for the feedback B e with 4 outputs, sums beyond int32 and errors of -2^15 (N=37)', (t) => {
  const M = 4;
  const N = 37;
  const O4 = 4;
  const opts: LearnerOptions = { learner: 'rflo', inputs: M, hidden: N, outputs: O4, tau: 10, lrRec: 0.01, lrOut: 0.01, update: 'step', trialLength: 100 };
  const w = initWeights({ inputs: M, hidden: N, outputs: O4, tau: 10, seed: 17, gain: 1.5, inScale: 2, outScale: 1 });
  const js = createFixedLearner(opts, w, { backend: 'js' });
  const wasm = createFixedLearner(opts, w, { backend: 'wasm' });
  const rng = createRng(977);
  const x = new Int16Array(M);
  const y = new Int16Array(O4);
  const out = new Int16Array(O4);
  const sat = js.state.saturation;
  const before = sat[SAT.feedback];
  let minError = 0;
  for (let it = 0; it < 300; it++) {
    randomizeArena(js, [wasm], rng);
    const B = js.state.B;
    for (let a = 0; a < N; a++) {
      const r = rngNextU32(rng);
      if (r & 1) for (let o = 0; o < O4; o++) B[a * O4 + o] = (r >>> (o + 1)) & 1 ? 32767 : -32768;
    }
    arenaBytes(wasm).set(arenaBytes(js));
    for (let j = 0; j < M; j++) x[j] = (rngNextU32(rng) & 0xffff) - 32768;
    for (let o = 0; o < O4; o++) y[o] = it % 3 === 0 ? -32768 : (rngNextU32(rng) & 0xffff) - 32768;
    js.stepQ(x, y, out);
    wasm.stepQ(x, y, out);
    for (let o = 0; o < O4; o++) minError = Math.min(minError, js.state.e[o]);
    const d = firstDiff(js, arenaBytes(js), arenaBytes(wasm));
    if (d !== null) {
      t.fail(`iteration ${it}: ${d}`);
      return;
    }
  }
  t.log(`feedback saturations counted: ${sat[SAT.feedback] - before}, smallest error ${minError}`);
  t.true(sat[SAT.feedback] - before > 0, 'no feedback sum left int32, so the overflow path went untested');
  t.is(minError, -32768, 'no error of -2^15, so the scalar fallback went untested');
});
