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
  // The normalised readout (NLMS: one integer reciprocal per step), with direct.
  ['rflo', 32, 'step', true, true],
] as [LearnerKind, number, 'step' | 'trial', boolean?, boolean?][];

// Both backends: the TypeScript kernels, and the wasm kernels (arena in wasm memory: no copies between JS and wasm).
for (const backend of ['js', 'wasm'] as const) {
  const skip = backend === 'wasm' && !wasmSimdSupported();
  for (const [kind, N, update, direct, normalized] of CASES) {
    (skip ? test.serial.skip : test.serial)(`${backend} backend: ${kind} (${update} mode${direct ? ', direct' : ''}${normalized ? ', normalised readout' : ''}) runs 10^5 steps after warm-up with zero GC events and a flat heap`, async (t) => {
      const M = 4;
      const O = 4;
      const w = initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 2 });
      const l = createFixedLearner({ learner: kind, inputs: M, hidden: N, outputs: O, tau: 10, lrRec: 0.01, lrOut: 0.01, update, trialLength: 100, direct: direct === true, ...(normalized ? { normalizedReadout: true } : {}) }, w, { backend });
      t.is(l.backend, backend);
      const x = new Float64Array(M);
      const y = new Float64Array(O);
      const out = new Float64Array(O);
      const xq = new Int16Array(M);
      const outq = new Int16Array(O);
      const miss = Uint8Array.of(0, 1, 0, 0);
      const run = (steps: number) => {
        for (let s = 0; s < steps; s++) {
          const v = (s % 100) / 100 - 0.5;
          x[0] = v;
          x[1] = -v;
          y[0] = v * 0.5;
          y[3] = -v * 0.5;
          // Missing readings on the way: a NaN input (held), a NaN target (no learning), the integer mask form.
          x[2] = s % 7 === 3 ? NaN : v;
          y[1] = s % 11 === 5 ? NaN : 0.1;
          if (s % 3 === 0) l.stepQ(xq, null, outq, s % 2 === 0 ? miss : null);
          else if (s % 13 === 1) l.stepQ(xq, xq, outq, miss, true);
          else l.step(x, y, out);
          if (s % 100 === 99) l.endTrial();
        }
      };
      // Warm-up: let the optimizing compiler settle (on a loaded machine concurrent compilation can take a while;
      // until then the interpreter boxes the wide sums, and finished compilations add code and metadata to the heap).
      // Up to 40 rounds until a 5000-step window is GC-free and adds less than 1 byte per step to the heap; a step
      // that really allocates never settles, and the measurement below then fails.
      run(20000);
      let rounds = 0;
      const settled = async (): Promise<boolean> => {
        const h0 = process.memoryUsage().heapUsed;
        const ev = await gcEventsDuring(() => run(5000));
        return ev === 0 && process.memoryUsage().heapUsed - h0 < 5000;
      };
      while (rounds < 40 && !(await settled())) rounds++;
      // Three windows of 10^5 steps; one of them must have no collection and a heap change under 256 KiB. A real
      // allocation in step() shows in every window (at least 16 bytes a step, 1.6 MB); a late JIT install or a
      // deoptimisation round trip (code and metadata on the heap, more likely on a loaded machine) lands in some only.
      const events: number[] = [];
      const grew: number[] = [];
      for (let w = 0; w < 3; w++) {
        fullGc();
        await new Promise((r) => setTimeout(r, 20));
        const before = process.memoryUsage().heapUsed;
        const steps0 = l.stepCount();
        events.push(await gcEventsDuring(() => run(100000)));
        grew.push(process.memoryUsage().heapUsed - before);
        t.is(l.stepCount() - steps0, 100000);
      }
      t.log(`GC events ${events.join(', ')}, heap change ${grew.join(', ')} bytes (extra warm-up rounds ${rounds})`);
      t.true(events.some((e, w) => e === 0 && grew[w] < 256 * 1024), `GC events ${events.join(', ')}; heap grew ${grew.join(', ')} bytes`);
      t.true(l.saturation().x_invalid > 0 && l.saturation().target_invalid > 0, 'the missing readings were counted');
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
