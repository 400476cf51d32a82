/**
 * The C kernel (firmware-bridge/firmware/, host gcc build) against the TypeScript reference kernels from random
 * full-range arenas that saturate every buffer: each case loads a random arena through a runtime snapshot, takes a
 * few steps (learning and inference, endTrial in 'trial' mode), and the C build must reproduce every prediction and
 * the final snapshot, saturation counters included, bit for bit.
 * Needs gcc: skipped with a message naming the tool when CI is unset, a failure when CI=true.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFixedLearner } from '../runtime/learner.ts';
import { initWeights } from '../runtime/init.ts';
import { saveSnapshot } from '../runtime/snapshot.ts';
import { createRng, rngNextU32 } from '../runtime/rng.ts';
import type { LearnerKind } from '../runtime/types.ts';
import type { FixedOptions } from '../runtime/plan.ts';
import { buildHost, missingTool } from '../firmware-bridge/qemu.ts';
import { goldenRun, randomizeArena, shrinkArena } from './helpers/arena.ts';

const missing = missingTool(['gcc']);
const needTools = missing !== null && process.env.CI !== 'true' ? test.skip : test;
if (missing !== null && process.env.CI !== 'true') console.log(`C kernel tests skipped: ${missing} is not installed (set CI=true to make this a failure)`);

// The last element: the readout reads the input too (options.direct, y = W_out h + D x).
const CASES: [LearnerKind, 'step' | 'trial', number, FixedOptions, ('random' | 'transpose')?, boolean?][] = [
  ['rflo', 'step', 10, {}],
  ['rflo', 'step', 1, {}, 'transpose'],
  ['rflo', 'step', 1, { weightFracBits: 16, updateFracBits: 20 }],
  ['rflo', 'trial', 2, {}],
  ['snap1', 'step', 10, {}],
  ['snap1', 'trial', 1, {}],
  ['rtrl', 'step', 10, {}],
  ['rtrl', 'trial', 3, {}],
  ['output', 'step', 2, {}],
  ['output', 'trial', 2, {}],
  ['rflo', 'step', 10, {}, undefined, true],
  ['snap1', 'trial', 1, {}, undefined, true],
  ['rtrl', 'step', 10, {}, undefined, true],
  ['output', 'step', 2, { weightFracBits: 16, updateFracBits: 20 }, undefined, true],
  ['output', 'trial', 2, {}, undefined, true],
];
/** Normalised readout (NLMS) cases: [kind, tau, extra, direct, lrOut]; every other arena shrunk (|[h; x]|^2 down to eps). */
const NORMALIZED: [LearnerKind, number, FixedOptions, boolean, number][] = [
  ['rflo', 2, {}, true, 1.5 * 4],
  ['output', 1, {}, false, 1.995 * 4],
  ['snap1', 2, { weightFracBits: 16, updateFracBits: 20 }, true, 0.5 * 4],
  ['rtrl', 2, {}, true, 0.1 * 4],
];

/**
 * Learning rates small enough for the one-shift 'step' update of the C kernel's fast rows (dShift >= 17; the
 * cases above use lr 0.05 / 4, which takes the general 64-bit form): [kind, tau, lrRec = lrOut, extra, direct].
 * tau 1 makes c = a phi' reach 2^15, the edge of the RFLO row's no-clamp bound.
 */
const FAST_ROWS: [LearnerKind, number, number, FixedOptions, boolean][] = [
  ['rflo', 10, 0.01, {}, false],
  ['rflo', 1, 0.01, {}, false],
  ['rflo', 2, 4e-4, {}, true],
  ['rflo', 10, 4e-4, { weightFracBits: 16, updateFracBits: 20 }, false],
  ['snap1', 10, 0.01, {}, false],
  ['snap1', 1, 4e-4, {}, true],
  ['output', 10, 0.01, {}, true],
  ['output', 1, 4e-4, {}, false],
];

needTools('the C kernel equals the TypeScript reference, counters included, from random full-range arenas of every kind', (t) => {
  const golden = buildHost('golden');
  const dir = mkdtempSync(join(tmpdir(), 'ns-random-arena-'));
  const files: string[] = [];
  let saturations = 0;
  const all: [LearnerKind, 'step' | 'trial', number, FixedOptions, ('random' | 'transpose')?, boolean?, number?, number?][] = [
    ...CASES,
    ...FAST_ROWS.map(([k, tau, lr, extra, direct]) => [k, 'step', tau, extra, undefined, direct, undefined, lr] as [LearnerKind, 'step', number, FixedOptions, undefined, boolean, undefined, number]),
    ...NORMALIZED.map(([k, tau, extra, direct, lrOut]) => [k, 'step', tau, extra, undefined, direct, lrOut] as [LearnerKind, 'step', number, FixedOptions, undefined, boolean, number]),
  ];
  for (const [kind, update, tau, extra, feedback, direct, normalized, lr] of all) {
    const N = kind === 'rtrl' ? 5 : 11;
    const o = {
      learner: kind, inputs: 3, hidden: N, outputs: 2, tau, lrRec: lr ?? 0.05, lrOut: normalized ?? lr ?? 0.05, update, trialLength: 4, feedback: feedback ?? 'random',
      ...(direct ? { direct } : {}),
      ...(normalized !== undefined ? { normalizedReadout: true, readoutEps: 2 ** -20 } : {}),
    } as const;
    const l = createFixedLearner(o, initWeights({ inputs: 3, hidden: N, outputs: 2, tau, seed: 3 }), { ...extra, backend: 'reference' });
    const rng = createRng(N * 97 + tau + files.length);
    for (let r = 0; r < 12; r++) {
      randomizeArena(l, [], rng);
      const xShift = normalized !== undefined && r % 2 === 1 ? shrinkArena(l, [], rng) : 0;
      const before = l.state.saturation.reduce((a, v) => a + v, 0);
      const name = `${kind}-${update}-tau${tau}${lr !== undefined ? `-lr${lr}` : ''}${direct ? '-direct' : ''}${normalized !== undefined ? '-normalized' : ''}-${files.length}`;
      const text = goldenRun(
        name,
        l,
        4,
        (k, x, y) => {
          for (let j = 0; j < x.length; j++) x[j] = ((rngNextU32(rng) & 0xffff) - 32768) >> xShift;
          for (let j = 0; j < y.length; j++) y[j] = (rngNextU32(rng) & 0xffff) - 32768;
          return k !== 2;
        },
        (k) => update === 'trial' && k === 1,
        saveSnapshot,
      );
      saturations += l.state.saturation.reduce((a, v) => a + v, 0) - before;
      const f = join(dir, `${name}.txt`);
      writeFileSync(f, text);
      files.push(f);
    }
  }
  const r = spawnSync(golden, files, { encoding: 'utf8' });
  const failures = r.stdout.split('\n').filter((line) => line.startsWith('FAIL'));
  t.deepEqual(failures, [], failures.slice(0, 3).join('\n'));
  t.is(r.status, 0, r.stderr);
  t.log(`${files.length} random arenas, ${files.length * 4} steps, ${saturations} saturation events`);
  t.true(saturations > files.length * 4, 'random states should saturate often');
});
