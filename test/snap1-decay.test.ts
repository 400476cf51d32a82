/**
 * SnAp-1's decay above 1 (runtime/ARITHMETIC.md, "Traces" and "SnAp-1's decay above 1"). A unit sitting on its
 * unstable fixed point h = 0 with self-weight W_aa = 2 has phi' = 1 and decay d = (1 - a) + a W_aa = 1.1 (tau 10):
 * the float recursion P_b(t) = d P_b(t-1) + a grows as a (d^t - 1) / (d - 1). The fixed-point decay used to be
 * clamped to 1, which turned that into a t (2.0 instead of 5.7 after 20 steps); on Murray's periodic task at lr 0.3
 * learning reaches such units and the clamp biased the traces and the gradient.
 */
import test from 'ava';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import type { LearnerOptions } from '../runtime/types.ts';

const N = 4;
const STEPS = 20;
const options: LearnerOptions = { learner: 'snap1', inputs: 0, hidden: N, outputs: 1, tau: 10, lrRec: 0.03, lrOut: 0.03, update: 'trial', trialLength: 200 };

function selfExcited() {
  const w = initWeights({ inputs: 0, hidden: N, outputs: 1, tau: 10, seed: 3, h0: 0 });
  w.W_rec.fill(0);
  for (let a = 0; a < N; a++) w.W_rec[a * N + a] = 2;
  w.b.fill(0);
  return w;
}

for (const backend of ['reference', 'js', 'wasm'] as const) {
  test(`${backend}: a self-excited unit's SnAp-1 decay exceeds 1 unclamped and its bias trace follows the float recursion`, (t) => {
    const l = createFixedLearner(options, selfExcited(), { backend });
    const out = new Float64Array(1);
    const x = new Float64Array(0);
    for (let k = 0; k < STEPS; k++) l.step(x, null, out);
    const s = l.state;
    const sat = l.saturation();
    // The fixed learner's own constants: c = a phi'(0), d = 2^15 - a + round(c W_aa / 2^12), both Q1.15.
    const c = s.aphi[0] / 32768;
    const d = s.decay[0] / 32768;
    const expected = (c * (d ** STEPS - 1)) / (d - 1);
    t.log(`decay ${s.decay[0]} (${d.toFixed(5)}), P_b ${s.P_b[0] / 4096} vs float recursion ${expected.toFixed(4)} (clamped at 1: ${(c * STEPS).toFixed(4)})`);
    t.true(Math.abs(d - 1.1) < 1e-3, `decay ${d}`);
    t.is(sat.decay, 0);
    t.is(sat.trace, 0);
    for (let a = 0; a < N; a++) {
      // Rounding: at most half an LSB per step, grown by sum d^k (~57): 0.007 in Q3.12.
      t.true(Math.abs(s.P_b[a] / 4096 - expected) < 0.01, `unit ${a}: P_b ${s.P_b[a] / 4096} vs ${expected}`);
      // h stays 0, so the W_rec traces (which follow h_b) stay 0.
      for (let b = 0; b < N; b++) t.is(s.P_rec[a * N + b], 0);
    }
  });
}

test('a decay beyond 2 is clamped to 2 and counted', (t) => {
  const w = { ...selfExcited(), tau: 2 };
  for (let a = 0; a < N; a++) w.W_rec[a * N + a] = 7.5;
  const l = createFixedLearner({ ...options, tau: 2 }, w, { backend: 'js' });
  l.step(new Float64Array(0), null, new Float64Array(1));
  // d = (1 - 1/2) + (1/2) 7.5 = 4.25 -> 2 for each unit
  t.is(l.state.decay[0], 65536);
  t.is(l.saturation().decay, N);
});
