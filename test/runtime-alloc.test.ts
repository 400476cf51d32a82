import test from 'ava';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import type { LearnerKind } from '../runtime/types.ts';
import { wasmSimdSupported } from '../runtime/wasm/backend.ts';

// One file, run serially: the GC observer sees the whole process.

// A full collection before each measurement, so garbage left by earlier tests or the warm-up (and V8's memory
// reducer acting on it) cannot land in the measured window.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

async function gcEventsDuring(fn: () => void): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    n += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  fn();
  // Observer callbacks are delivered asynchronously.
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return n;
}

const CASES = [
  ['output', 32, 'step'],
  ['rflo', 32, 'step'],
  ['rflo', 32, 'trial'],
  ['snap1', 32, 'step'],
  ['rtrl', 4, 'step'],
  ['rtrl', 4, 'trial'],
  // The readout that reads the input (direct: y = W_out h + D x).
  ['output', 32, 'step', true],
  ['rflo', 32, 'trial', true],
] as [LearnerKind, number, 'step' | 'trial', boolean?][];

// Both backends: the TypeScript kernels, and the wasm kernels (arena in wasm memory: no copies between JS and wasm).
for (const backend of ['js', 'wasm'] as const) {
  const skip = backend === 'wasm' && !wasmSimdSupported();
  for (const [kind, N, update, direct] of CASES) {
    (skip ? test.serial.skip : test.serial)(`${backend} backend: ${kind} (${update} mode${direct ? ', direct' : ''}) runs 10^5 steps after warm-up with zero GC events and a flat heap`, async (t) => {
      const M = 4;
      const O = 4;
      const w = initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 2 });
      const l = createFixedLearner({ learner: kind, inputs: M, hidden: N, outputs: O, tau: 10, lrRec: 0.01, lrOut: 0.01, update, trialLength: 100, direct: direct === true }, w, { backend });
      t.is(l.backend, backend);
      const x = new Float64Array(M);
      const y = new Float64Array(O);
      const out = new Float64Array(O);
      const xq = new Int16Array(M);
      const outq = new Int16Array(O);
      const run = (steps: number) => {
        for (let s = 0; s < steps; s++) {
          const v = (s % 100) / 100 - 0.5;
          x[0] = v;
          x[1] = -v;
          y[0] = v * 0.5;
          y[3] = -v * 0.5;
          if (s % 3 === 0) l.stepQ(xq, null, outq);
          else l.step(x, y, out);
          if (s % 100 === 99) l.endTrial();
        }
      };
      // Warm-up: let the optimizing compiler settle (on a loaded machine concurrent compilation can take a while;
      // until then the interpreter boxes the wide sums). Up to 40 rounds until a 5000-step window is GC-free.
      run(20000);
      let rounds = 0;
      while (rounds < 40 && (await gcEventsDuring(() => run(5000))) > 0) rounds++;
      fullGc();
      await new Promise((r) => setTimeout(r, 20));
      const before = process.memoryUsage().heapUsed;
      const steps0 = l.stepCount();
      const events = await gcEventsDuring(() => run(100000));
      const grew = process.memoryUsage().heapUsed - before;
      t.log(`GC events ${events}, heap change ${grew} bytes (extra warm-up rounds ${rounds})`);
      t.is(l.stepCount() - steps0, 100000);
      t.is(events, 0);
      t.true(grew < 256 * 1024, `heap grew ${grew} bytes`);
    });
  }
}

test.serial('the GC detector itself sees a loop that allocates', async (t) => {
  let keep: number[] = [];
  const events = await gcEventsDuring(() => {
    for (let i = 0; i < 200000; i++) {
      keep = [i, i + 1, i + 2];
    }
  });
  t.true(keep.length === 3);
  t.true(events > 0, 'detector saw no GC for an allocating loop');
});
