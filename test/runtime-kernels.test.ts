import test from 'ava';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import { updateTracesReference } from '../runtime/learners/rflo.ts';
import type { LearnerKind } from '../runtime/types.ts';
import type { FixedOptions } from '../runtime/plan.ts';

// The optimized RFLO/SnAp-1 update kernel must be bit-exact with the reference form (every product through the
// named helpers of runtime/fixed.ts): run both on identical learners and compare the whole arena.

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const CASES: [LearnerKind, 'step' | 'trial', number, FixedOptions][] = [
  ['rflo', 'step', 0.03, {}], // inline shifts (rec 21, in 18)
  ['rflo', 'step', 0.2, {}], // in-kernel shift below 17: helper path
  ['rflo', 'step', 0.03, { weightFracBits: 12, updateFracBits: 12 }], // applyShift 0: helper path
  ['rflo', 'step', 0.03, { weightFracBits: 16, updateFracBits: 20 }], // coarser weights: helper path
  ['rflo', 'trial', 0.2, {}],
  ['snap1', 'step', 0.03, {}],
  ['snap1', 'step', 0.2, {}],
  ['snap1', 'trial', 0.03, {}],
];

for (const [kind, update, lr, extra] of CASES) {
  {
    test(`${kind} (${update}, lr ${lr}, ${JSON.stringify(extra)}): the optimized update kernel is bit-exact with the reference over 3025 steps (ending mid-trial)`, (t) => {
      const N = 24;
      const w = initWeights({ inputs: 3, hidden: N, outputs: 2, tau: 7, seed: 17 });
      const o = { learner: kind, inputs: 3, hidden: N, outputs: 2, tau: 7, lrRec: lr, lrOut: 0.1, update, trialLength: 50 } as const;
      const fast = createFixedLearner(o, w, { ...extra, backend: 'js' });
      const ref = createFixedLearner(o, w, { ...extra, backend: 'js' });
      let changed = 0;
      const w0 = new Int32Array(fast.W_rec);
      // Route the reference learner's update through the reference kernel.
      (ref as unknown as { core: (learn: boolean) => void }).core = function (this: typeof ref, learn: boolean) {
        coreWith(this, learn);
      };
      const out = new Float64Array(2);
      for (let s = 0; s < 3025; s++) {
        const x = [Math.sin(s / 3), Math.cos(s / 7) * 2, ((s * 7919) % 17) / 8 - 1];
        const y = [Math.sin(s / 5) * 1.5, ((s * 104729) % 13) / 6 - 1];
        fast.step(x, y, out);
        ref.step(x, y, out);
        if (s % 50 === 49) {
          fast.endTrial();
          ref.endTrial();
        }
      }
      for (let i = 0; i < w0.length; i++) if (w0[i] !== fast.W_rec[i]) changed++;
      t.true(changed > 0, 'W_rec learned');
      const d = firstDiff(new Uint8Array(fast.arena), new Uint8Array(ref.arena));
      const name = d < 0 ? '' : fast.plan.buffers.find((b) => d >= b.offset && d < b.offset + b.bytes)?.name;
      t.is(d, -1, `first differing byte ${d} in buffer ${name}`);
      t.true(fast.stepCount() === 3025);
    });
  }
}

import { errorQ, feedbackQ, forwardQ } from '../runtime/network.ts';
import { advanceTraces } from '../runtime/learners/rflo.ts';
import { updateOutput } from '../runtime/learners/output.ts';
import type { FixedLearner } from '../runtime/learner.ts';

function coreWith(l: FixedLearner, learn: boolean): void {
  forwardQ(l);
  advanceTraces(l, l.options.learner === 'snap1');
  l.steps[0]++;
  if (!learn) return;
  errorQ(l);
  feedbackQ(l, l.transpose);
  updateTracesReference(l);
  updateOutput(l);
}
