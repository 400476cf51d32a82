/**
 * The saturated-copy case: RFLO in 'step' mode, N = 8, W_rec[0] = 9.5 and W_rec[1] = -9.5, so the Q3.12 copies of
 * those weights clip (Q3.12 holds [-8, 8)), 200 steps. The reference kernels, the live TypeScript kernels, wasm and
 * C must end with identical arenas and identical saturation counters; and 'weights_q12' must follow the counting
 * rule of runtime/learners/apply.ts (a clipped copy is counted when its weight changes, not on every step).
 * C needs gcc, wasm needs WebAssembly SIMD: skipped with a message when missing and CI is unset.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFixedLearner } from '../runtime/learner.ts';
import type { FixedLearner } from '../runtime/learner.ts';
import { initWeights } from '../runtime/init.ts';
import { saveSnapshot } from '../runtime/snapshot.ts';
import { wasmSimdSupported } from '../runtime/wasm/backend.ts';
import { buildHost, missingTool } from '../firmware-bridge/qemu.ts';
import { arenaBytes, firstDiff, goldenRun } from './helpers/arena.ts';

const OPTIONS = { learner: 'rflo', inputs: 3, hidden: 8, outputs: 2, tau: 10, lrRec: 0.003, lrOut: 0.05, update: 'step', trialLength: 1 } as const;
/** Weights kept at Q3.12 resolution (the negative control's format), so many of a step's changes round to zero. */
const FIXED = { weightFracBits: 12, updateFracBits: 20 } as const;
const STEPS = 200;

function learner(backend: 'reference' | 'js' | 'wasm'): FixedLearner {
  const w = initWeights({ inputs: 3, hidden: 8, outputs: 2, tau: 10, seed: 21 });
  w.W_rec[0] = 9.5;
  w.W_rec[1] = -9.5;
  return createFixedLearner(OPTIONS, w, { ...FIXED, backend });
}

/** Step k's Q3.12 input and target (targets far from the outputs, so every step learns). */
function sample(k: number, x: Int16Array, t: Int16Array): boolean {
  for (let j = 0; j < x.length; j++) x[j] = Math.round(4096 * Math.sin(0.37 * k + j));
  for (let j = 0; j < t.length; j++) t[j] = Math.round(4096 * 3 * Math.cos(0.23 * k + 2 * j));
  return true;
}

function run(l: FixedLearner, onStep?: (k: number) => void): string {
  return goldenRun('saturated-copy', l, STEPS, (k, x, t) => {
    if (k > 0) onStep?.(k - 1);
    return sample(k, x, t);
  }, () => false, saveSnapshot);
}

const clips = (w: number) => {
  const q = (w >> 12) + ((w >> 11) & 1);
  return q > 32767 || q < -32768;
};

test('reference and live TypeScript kernels: identical arenas and counters; weights_q12 counts clipped copies of changed weights', (t) => {
  const ref = learner('reference');
  const js = learner('js');
  // setWeights counts the two clipped copies once.
  t.is(ref.saturation().weights_q12, 2);
  // Expected count under the rule: +1 for every (step, weight of W_rec or W_out) whose weight changed and clips.
  let expected = 2;
  let prevRec = new Int32Array(ref.state.W_rec);
  let prevOut = new Int32Array(ref.state.W_out);
  const tally = () => {
    for (const [prev, now] of [[prevRec, ref.state.W_rec], [prevOut, ref.state.W_out]] as const) {
      for (let i = 0; i < now.length; i++) if (now[i] !== prev[i] && clips(now[i])) expected++;
    }
    prevRec = new Int32Array(ref.state.W_rec);
    prevOut = new Int32Array(ref.state.W_out);
  };
  run(ref, tally);
  tally();
  run(js);
  t.is(firstDiff(ref, arenaBytes(ref), arenaBytes(js)), null);
  t.deepEqual(js.saturation(), ref.saturation());
  const counted = ref.saturation().weights_q12;
  t.log(`weights_q12 after ${STEPS} steps: ${counted}; W_rec[0..1] = ${ref.state.W_rec[0] / 2 ** 24}, ${ref.state.W_rec[1] / 2 ** 24}`);
  t.true(clips(ref.state.W_rec[0]) && clips(ref.state.W_rec[1]), 'the copies stayed clipped');
  t.true(counted > 2, 'the clipped weights changed and were counted');
  t.is(counted, expected);
  // Counting on every refresh would give 2 + 2 * STEPS here (the two clipped copies refreshed on every step).
  t.true(counted < 2 + 2 * STEPS, 'not counted on every refresh');
});

(wasmSimdSupported() ? test : test.skip)('wasm: identical arena and counters to the reference', (t) => {
  const ref = learner('reference');
  const wasm = learner('wasm');
  t.is(wasm.backend, 'wasm');
  run(ref);
  run(wasm);
  t.is(firstDiff(ref, arenaBytes(ref), arenaBytes(wasm)), null);
  t.deepEqual(wasm.saturation(), ref.saturation());
});

const missing = missingTool(['gcc']);
const needGcc = missing !== null && process.env.CI !== 'true' ? test.skip : test;
if (missing !== null && process.env.CI !== 'true') console.log(`saturated-copy C test skipped: ${missing} is not installed (set CI=true to make this a failure)`);

needGcc('C (host build): every prediction and the final arena, counters included, equal the reference', (t) => {
  const text = run(learner('reference'));
  const f = join(mkdtempSync(join(tmpdir(), 'ns-satcopy-')), 'saturated-copy.txt');
  writeFileSync(f, text);
  const r = spawnSync(buildHost('golden'), [f], { encoding: 'utf8' });
  t.is(r.status, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /^PASS saturated-copy: 200 steps/);
});
