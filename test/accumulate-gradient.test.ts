import test from 'ava';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import type { FixedLearner } from '../runtime/learner.ts';
import { plan } from '../runtime/plan.ts';
import type { FixedOptions } from '../runtime/plan.ts';
import { zeroGradient } from '../runtime/types.ts';
import type { LearnerOptions } from '../runtime/types.ts';

// Gradient accumulation is optional in 'step' mode (options.accumulateGradient): without it the acc_* buffers do not
// exist and no kernel writes them. Nothing else may change: on every backend the learner without accumulators makes
// the same predictions and leaves every other buffer (weights, copies, state, traces, counters) byte for byte as the
// learner with them.

const BACKENDS = ['reference', 'js', 'wasm'] as const;

type Case = { name: string; o: Omit<LearnerOptions, 'inputs' | 'hidden' | 'outputs' | 'tau' | 'trialLength' | 'update'> & { hidden?: number }; fixed?: FixedOptions };
const CASES: Case[] = [
  { name: 'rflo', o: { learner: 'rflo', lrRec: 0.03, lrOut: 0.1 } },
  { name: 'rflo, in-kernel shift below 17 (helper path)', o: { learner: 'rflo', lrRec: 0.2, lrOut: 0.1 } },
  { name: 'rflo, Q3.12 weights (applyShift 0)', o: { learner: 'rflo', lrRec: 0.03, lrOut: 0.1 }, fixed: { weightFracBits: 12, updateFracBits: 12 } },
  { name: 'rflo, transpose feedback, direct', o: { learner: 'rflo', lrRec: 0.03, lrOut: 0.1, feedback: 'transpose', direct: true } },
  { name: 'snap1, normalised readout', o: { learner: 'snap1', lrRec: 0.03, lrOut: 0.5, normalizedReadout: true } },
  { name: 'output, direct', o: { learner: 'output', lrRec: 0, lrOut: 0.1, direct: true } },
  { name: 'rtrl, direct', o: { learner: 'rtrl', lrRec: 0.02, lrOut: 0.1, direct: true, hidden: 6 } },
];

function buffer(l: FixedLearner, name: string): Uint8Array | undefined {
  const b = l.plan.buffers.find((x) => x.name === name);
  return b === undefined ? undefined : new Uint8Array(l.arena, l.arenaOffset + b.offset, b.bytes);
}

for (const backend of BACKENDS) {
  for (const c of CASES) {
    test(`${backend}, ${c.name}: without gradient accumulators the predictions and every other arena byte equal the learner's with them over 2000 steps`, (t) => {
      const N = c.o.hidden ?? 20;
      const w = initWeights({ inputs: 3, hidden: N, outputs: 2, tau: 4, seed: 23 });
      const o = { ...c.o, inputs: 3, hidden: N, outputs: 2, tau: 4, update: 'step', trialLength: 1 } as const;
      const off = createFixedLearner(o, w, { ...c.fixed, backend });
      const on = createFixedLearner({ ...o, accumulateGradient: true }, w, { ...c.fixed, backend });
      t.false(off.plan.buffers.some((b) => b.name.startsWith('acc_')), 'no acc_* buffer is planned');
      t.true(on.plan.buffers.some((b) => b.name === 'acc_W_rec'));
      const ya = new Float64Array(2);
      const yb = new Float64Array(2);
      let firstBad = -1;
      for (let s = 0; s < 2000 && firstBad < 0; s++) {
        const x = [Math.sin(s / 5) * 1.5, Math.cos(s / 9), s % 13 === 0 ? Number.NaN : Math.sin(s / 3)];
        const target = s % 7 === 3 ? null : [Math.sin((s + 1) / 5), 0.5 * Math.cos(s / 4)];
        off.step(x, target, ya);
        on.step(x, target, yb);
        if (ya[0] !== yb[0] || ya[1] !== yb[1]) firstBad = s;
      }
      t.is(firstBad, -1, 'first step whose prediction differs');
      for (const b of on.plan.buffers) {
        if (b.name.startsWith('acc_')) continue;
        t.deepEqual(buffer(off, b.name), buffer(on, b.name), `buffer ${b.name}`);
      }
      t.is(off.plan.totalBytes + on.plan.buffers.filter((b) => b.name.startsWith('acc_')).reduce((n, b) => n + b.bytes, 0), on.plan.totalBytes);
      // The learner that accumulates did accumulate, and only it can say so.
      t.true(on.readGradient(zeroGradient(o)).W_out.some((v) => v !== 0));
      t.throws(() => off.readGradient(zeroGradient(o)), { message: /accumulateGradient: true/ });
    });
  }
}

test("plan: 'step' mode accumulates only when asked, 'trial' mode always; false with 'trial' and a non-boolean are refused", (t) => {
  const o = { learner: 'rflo', inputs: 4, hidden: 32, outputs: 4, tau: 10, lrRec: 0.01, lrOut: 0.01, update: 'step', trialLength: 100 } as const;
  const names = (p: ReturnType<typeof plan>) => p.buffers.filter((b) => b.name.startsWith('acc_')).map((b) => b.name);
  t.deepEqual(names(plan(o)), []);
  t.deepEqual(names(plan({ ...o, accumulateGradient: true })), ['acc_W_in', 'acc_W_rec', 'acc_b', 'acc_W_out']);
  t.deepEqual(names(plan({ ...o, update: 'trial' })), ['acc_W_in', 'acc_W_rec', 'acc_b', 'acc_W_out']);
  // N = 32, 4 in, 4 out: (128 + 1024 + 32 + 128) entries of 8 bytes.
  t.is(plan({ ...o, accumulateGradient: true }).totalBytes - plan(o).totalBytes, 1312 * 8);
  t.is(plan({ ...o, accumulateGradient: true }).options.accumulateGradient, true);
  t.is(plan(o).options.accumulateGradient, undefined);
  t.throws(() => plan({ ...o, update: 'trial', accumulateGradient: false }), { message: /^accumulateGradient must be true with update 'trial' \(got false\)/ });
  t.throws(() => plan({ ...o, accumulateGradient: 'yes' as unknown as boolean }), { message: /^accumulateGradient must be true or false \(got yes\)/ });
});
