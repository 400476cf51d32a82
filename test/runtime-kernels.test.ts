import test from 'ava';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import type { FixedLearner } from '../runtime/learner.ts';
import { createRng, rngNextU32 } from '../runtime/rng.ts';
import type { LearnerKind } from '../runtime/types.ts';
import type { FixedOptions } from '../runtime/plan.ts';
import { arenaBytes, firstDiff, randomizeArena } from './helpers/arena.ts';

// The live TypeScript kernels (backend 'js': runtime/learners/optimized/) must be bit-exact with the reference
// kernels (backend 'reference': runtime/learners/*.ts, every product through runtime/fixed.ts), saturation counters
// included: identical learners, identical streams, the whole arena compared byte for byte.

// Then: the readout reads the input too (options.direct, y = W_out h + D x); normalised readout steps with this lrOut.
const CASES: [LearnerKind, 'step' | 'trial', number, FixedOptions, boolean?, number?][] = [
  ['rflo', 'step', 0.03, {}], // inline shifts (rec 21, in 18)
  ['rflo', 'step', 0.2, {}], // in-kernel shift below 17: helper path
  ['rflo', 'step', 0.03, { weightFracBits: 12, updateFracBits: 12 }], // applyShift 0: helper path
  ['rflo', 'step', 0.03, { weightFracBits: 16, updateFracBits: 20 }], // coarser weights: helper path
  ['rflo', 'trial', 0.2, {}],
  ['snap1', 'step', 0.03, {}],
  ['snap1', 'step', 0.2, {}],
  ['snap1', 'trial', 0.03, {}],
  ['rflo', 'step', 0.03, {}, true],
  ['snap1', 'trial', 0.03, {}, true],
  ['rflo', 'step', 0.03, {}, true, 40],
  ['snap1', 'step', 0.03, {}, false, 20],
  ['rtrl', 'step', 0.03, {}],
  ['rtrl', 'trial', 0.2, {}, true],
];

for (const [kind, update, lr, extra, direct, normalized] of CASES) {
  test(`${kind} (${update}, lr ${lr}, ${JSON.stringify(extra)}${direct ? ', direct' : ''}${normalized !== undefined ? `, normalized lrOut ${normalized}` : ''}): the optimized kernels are bit-exact with the reference over 3025 steps (ending mid-trial)`, (t) => {
    // RTRL (O(N^4) per step) at a smaller N, so the reference's 3025 steps stay quick
    const N = kind === 'rtrl' ? 11 : 24;
    const w = initWeights({ inputs: 3, hidden: N, outputs: 2, tau: 7, seed: 17 });
    const o = {
      learner: kind, inputs: 3, hidden: N, outputs: 2, tau: 7, lrRec: lr, lrOut: normalized ?? 0.1, update, trialLength: 50,
      ...(direct ? { direct } : {}),
      ...(normalized !== undefined ? { normalizedReadout: true } : {}),
    } as const;
    const fast = createFixedLearner(o, w, { ...extra, backend: 'js' });
    const ref = createFixedLearner(o, w, { ...extra, backend: 'reference' });
    t.is(ref.backend, 'reference');
    const w0 = new Int32Array(fast.state.W_rec);
    const out = new Float64Array(2);
    for (let s = 0; s < 3025; s++) {
      const x = [Math.sin(s / 3), Math.cos(s / 7) * 2, ((s * 7919) % 17) / 8 - 1];
      const y = [Math.sin(s / 5) * 1.5, ((s * 104729) % 13) / 6 - 1];
      const learn = s % 9 !== 4;
      fast.step(x, learn ? y : null, out);
      ref.step(x, learn ? y : null, out);
      if (s % 50 === 49) {
        fast.endTrial();
        ref.endTrial();
      }
    }
    let changed = 0;
    for (let i = 0; i < w0.length; i++) if (w0[i] !== fast.state.W_rec[i]) changed++;
    t.true(changed > 0, 'W_rec learned');
    if (direct) t.true(fast.state.D.some((v) => v !== 0), 'D learned');
    t.is(firstDiff(fast, arenaBytes(fast), arenaBytes(ref)), null);
    t.is(fast.stepCount(), 3025);
  });
}

/** Every kind, both modes, the general and the fast update paths. */
const RANDOM_CASES: [LearnerKind, 'step' | 'trial', number, FixedOptions, string?, boolean?][] = [
  ['rflo', 'step', 10, {}],
  ['rflo', 'step', 1, {}, 'transpose'],
  ['rflo', 'step', 1, { weightFracBits: 16, updateFracBits: 20 }],
  ['rflo', 'trial', 2, {}],
  ['snap1', 'step', 10, {}],
  ['snap1', 'trial', 1, {}],
  ['rtrl', 'step', 10, {}],
  ['rtrl', 'trial', 3, {}],
  ['output', 'step', 2, {}],
  ['rflo', 'step', 10, {}, undefined, true],
  ['snap1', 'step', 1, {}, undefined, true],
  ['rtrl', 'trial', 3, {}, undefined, true],
  ['output', 'step', 2, { weightFracBits: 16, updateFracBits: 20 }, undefined, true],
  ['output', 'trial', 2, {}, undefined, true],
];

for (const [kind, update, tau, extra, feedback, direct] of RANDOM_CASES) {
  test(`${kind} ${update} tau ${tau}${feedback ? ` ${feedback}` : ''} ${JSON.stringify(extra)}${direct ? ' direct' : ''}: one optimized step equals one reference step from random full-range arenas, saturating everywhere`, (t) => {
    const N = kind === 'rtrl' ? 6 : 13;
    const o = { learner: kind, inputs: 3, hidden: N, outputs: 2, tau, lrRec: 0.05, lrOut: 0.05, update, trialLength: 50, feedback: (feedback ?? 'random') as 'random' | 'transpose', ...(direct ? { direct } : {}) } as const;
    const w = initWeights({ inputs: 3, hidden: N, outputs: 2, tau, seed: 5 });
    const fast = createFixedLearner(o, w, { ...extra, backend: 'js' });
    const ref = createFixedLearner(o, w, { ...extra, backend: 'reference' });
    const rng = createRng(N * 31 + tau);
    const x = new Int16Array(3);
    const y = new Int16Array(2);
    const out = new Int16Array(2);
    let saturations = 0;
    for (let it = 0; it < 200; it++) {
      randomizeArena(ref, [fast], rng);
      const before = ref.state.saturation.reduce((a, v) => a + v, 0);
      for (let j = 0; j < 3; j++) x[j] = (rngNextU32(rng) & 0xffff) - 32768;
      for (let k = 0; k < 2; k++) y[k] = (rngNextU32(rng) & 0xffff) - 32768;
      const learn = it % 5 !== 4;
      for (const l of [fast, ref] as FixedLearner[]) {
        l.stepQ(x, learn ? y : null, out);
        if (it % 7 === 6) l.endTrial();
      }
      saturations += ref.state.saturation.reduce((a, v) => a + v, 0) - before;
      const d = firstDiff(ref, arenaBytes(ref), arenaBytes(fast));
      if (d !== null) {
        t.fail(`iteration ${it} (learn ${learn}): ${d}`);
        return;
      }
    }
    t.log(`saturation events counted in 200 random steps: ${saturations}`);
    t.true(saturations > 200, 'random states should saturate often');
  });
}
