import test from 'ava';
import { allocationSites, allocationWindows, gcEventsDuring, oneCleanWindow } from './helpers/gc.ts';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import type { LearnerKind } from '../runtime/types.ts';
import { wasmSimdSupported } from '../runtime/wasm/backend.ts';

// One file, run serially: the GC observer sees the whole process.


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
      const r = await allocationWindows(run, () => l.stepCount());
      const { rounds, events, grew } = r;
      for (const c of r.counted) t.is(c, 100000);
      const sites = await allocationSites(run, 20000);
      t.log(`GC events ${events.join(', ')}, heap change ${grew.join(', ')} bytes (extra warm-up rounds ${rounds}); sampled: ${sites.project.toFixed(3)} bytes a step by the project's code`);
      t.true(oneCleanWindow(r), `GC events ${events.join(', ')}; heap grew ${grew.join(', ')} bytes; allocated by ${sites.top}`);
      t.true(sites.project < 1, `the project's code allocates ${sites.project.toFixed(2)} bytes a step: ${sites.top}`);
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

test.serial('the sampling heap profiler names a function that allocates one small array a step, at its size', async (t) => {
  let keep: number[] = [];
  function allocatesOneArray(steps: number): void {
    for (let i = 0; i < steps; i++) keep = [i, i + 1, i + 2];
  }
  const sites = await allocationSites(allocatesOneArray, 50000);
  t.true(keep.length === 3);
  t.log(sites.top);
  // Node's V8 (8-byte pointers): a JSArray (map, properties, elements, length: 32 bytes) and its 3-element backing
  // store (map and length, 16 bytes, and 3 * 8): 72 bytes a step; the profiler samples every 256 bytes on average
  // (about 14,000 samples here, so within a few per cent)
  const m = new RegExp(`^allocatesOneArray \\S+ ([0-9.]+) B/step`).exec(sites.top);
  t.truthy(m, sites.top);
  t.true(Number(m![1]) >= 60 && Number(m![1]) <= 85, sites.top);
  t.is(sites.project, 0, 'a test file is not the project\'s code');
});
