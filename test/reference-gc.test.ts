import test from 'ava';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { initWeights } from '../runtime/init.ts';
import type { OnlineLearner } from '../runtime/types.ts';
import { createBpttLearner, createFloatLearner } from '../sim/reference/index.ts';

/**
 * Counts garbage collections that start while fn runs. The observer reports asynchronously, so it waits a little
 * afterwards, and it keeps only entries whose start time falls inside fn's run (collections of the test
 * harness before or after are not fn's). When no collection ran, heapGrowth is what fn allocated on the JS heap.
 */
async function gcEventsDuring(fn: () => void): Promise<{ inside: number; outside: number; heapGrowth: number }> {
  let inside = 0;
  let outside = 0;
  let t0 = Infinity;
  let t1 = Infinity;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.startTime >= t0 && e.startTime <= t1) inside++;
      else outside++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const before = process.memoryUsage().heapUsed;
  t0 = performance.now();
  fn();
  t1 = performance.now();
  const heapGrowth = process.memoryUsage().heapUsed - before;
  await new Promise((resolve) => setTimeout(resolve, 100));
  obs.disconnect();
  return { inside, outside, heapGrowth };
}

test.serial('the GC observer sees collections when a loop does allocate (so the next test can fail)', async (t) => {
  const sink: Float64Array[] = new Array(8);
  const events = await gcEventsDuring(() => {
    for (let i = 0; i < 1e5; i++) sink[i & 7] = new Float64Array(64);
  });
  t.log(`${events.inside} GC events during 1e5 allocations of 512 bytes`);
  t.true(events.inside > 0);
});

test.serial('rflo step() at N = 30 runs 1e5 steps without a single garbage collection', async (t) => {
  const M = 2;
  const N = 30;
  const O = 2;
  const w = initWeights({ inputs: M, hidden: N, outputs: O, tau: 5, seed: 3 });
  const l = createFloatLearner(
    { learner: 'rflo', inputs: M, hidden: N, outputs: O, tau: 5, lrRec: 1e-3, lrOut: 1e-3, update: 'step', trialLength: 1 },
    w,
  );
  const x = new Float64Array(M);
  const target = new Float64Array(O);
  const out = new Float64Array(O);
  const run = (steps: number): void => {
    for (let i = 0; i < steps; i++) {
      x[0] = Math.sin(i * 0.1);
      x[1] = Math.cos(i * 0.037);
      target[0] = Math.sin(i * 0.1 - 1);
      target[1] = 0.5 * x[1];
      l.step(x, (i & 3) === 3 ? null : target, out);
    }
  };
  run(20000); // warm-up: let the JIT optimise step() and the loop
  const events = await gcEventsDuring(() => run(1e5));
  const perStep = events.heapGrowth / 1e5;
  t.log(`GC events: ${events.inside} during the 1e5 steps, ${events.outside} around them; heap growth ${perStep.toFixed(3)} bytes/step`);
  t.is(events.inside, 0);
  // Without a collection, heap growth counts what was allocated. Any per-step allocation costs at least 16 bytes
  // per step; optimised code being installed by the JIT shows up as 0-2 bytes/step, hence the bound of 8.
  t.true(perStep < 8);
  t.true(Number.isFinite(out[0]));
});

/** Runs `trials` trials of T steps (every 4th step without a target), each followed by endTrial(). */
function trialLoop(l: OnlineLearner, T: number): (trials: number) => void {
  const x = new Float64Array(l.options.inputs);
  const target = new Float64Array(l.options.outputs);
  const out = new Float64Array(l.options.outputs);
  return (trials: number): void => {
    for (let k = 0; k < trials; k++) {
      l.resetState();
      for (let i = 0; i < T; i++) {
        x[0] = Math.sin(i * 0.1);
        x[1] = Math.cos(i * 0.037);
        target[0] = Math.sin(i * 0.1 - 1);
        target[1] = 0.5 * x[1];
        l.step(x, (i & 3) === 3 ? null : target, out);
      }
      l.endTrial();
    }
  };
}

const M = 2;
const N = 8;
const O = 2;
const T = 200;
const w8 = initWeights({ inputs: M, hidden: N, outputs: O, tau: 3, seed: 4 });
const common = { inputs: M, hidden: N, outputs: O, tau: 3, lrRec: 1e-3, lrOut: 1e-3, trialLength: T };
const cases: [string, () => OnlineLearner][] = [
  ["rtrl ('step' mode)", () => createFloatLearner({ ...common, learner: 'rtrl', update: 'step' }, w8)],
  ["snap1 ('trial' mode)", () => createFloatLearner({ ...common, learner: 'snap1', update: 'trial' }, w8)],
  ["output ('step' mode)", () => createFloatLearner({ ...common, learner: 'output', update: 'step' }, w8)],
  ['truncated BPTT (window 10)', () => createBpttLearner({ ...common, update: 'trial', window: 10 }, w8)],
  ['full BPTT', () => createBpttLearner({ ...common, update: 'trial', window: Infinity }, w8)],
];

for (const [name, make] of cases) {
  test.serial(`${name} at N = 8 runs 150 trials of step() and endTrial() without garbage collection`, async (t) => {
    const run = trialLoop(make(), T);
    // Warm-up until the JIT settles: the first long runs still install optimised code, which shows on the heap
    // (about 1 byte/step over 150 trials); a real per-step allocation would never settle and fails below anyway.
    let rounds = 0;
    for (; rounds < 6; rounds++) {
      const before = process.memoryUsage().heapUsed;
      run(100);
      if (process.memoryUsage().heapUsed - before < 0.05 * 100 * T) break;
    }
    const events = await gcEventsDuring(() => run(150));
    const perStep = events.heapGrowth / (150 * T);
    t.log(`${name}: ${rounds + 1} warm-up rounds; ${events.inside} GC events, heap growth ${perStep.toFixed(3)} bytes/step`);
    t.is(events.inside, 0);
    t.true(perStep < 8, 'heap growth: see the rflo test for the bound');
  });
}
