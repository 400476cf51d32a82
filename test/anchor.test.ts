/**
 * The optimized C anchor of `neurostream bench` (bench/anchor/rflo_anchor.c) computes what the runtime computes: RFLO
 * 'step' mode, every prediction and every arena byte except the Q30 gradient accumulators (acc_W_in, acc_W_rec,
 * acc_b, acc_W_out, acc_D, which 'step' mode never reads and the anchor never writes), saturation counters included.
 * Checked on the RFLO 'step' golden vectors and from random full-range arenas at N = 8, 64 and 256 against the
 * TypeScript reference kernels, on the vectorised fast path and on the general one.
 * Needs gcc: skipped with a message naming the tool when CI is unset, a failure when CI=true.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFixedLearner } from '../runtime/learner.ts';
import { initWeights } from '../runtime/init.ts';
import { saveSnapshot } from '../runtime/snapshot.ts';
import { createRng, rngNextU32 } from '../runtime/rng.ts';
import { SATURATION_NAMES } from '../runtime/layout.ts';
import type { FixedOptions } from '../runtime/plan.ts';
import { missingTool } from '../firmware-bridge/qemu.ts';
import { buildAnchor } from '../bench/anchor.ts';
import { goldenRun, randomizeArena } from './helpers/arena.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const missing = missingTool(['gcc']);
const needTools = missing !== null && process.env.CI !== 'true' ? test.skip : test;
if (missing !== null && process.env.CI !== 'true') console.log(`C anchor tests skipped: ${missing} is not installed (set CI=true to make this a failure)`);

function runAnchor(files: string[]): { lines: string[]; status: number | null; stderr: string } {
  const r = spawnSync(buildAnchor(), ['--golden', ...files], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { lines: r.stdout.split('\n').filter((l) => l !== ''), status: r.status, stderr: r.stderr };
}

needTools('the anchor replays the RFLO step-mode golden vectors: every prediction and every arena byte but acc_*', (t) => {
  const files = ['rflo-n16', 'rflo-missing', 'saturate'].map((n) => join(root, 'test', 'golden', `${n}.txt`));
  const r = runAnchor(files);
  t.is(r.status, 0, r.lines.join('\n') + r.stderr);
  t.is(r.lines.length, 3);
  for (const line of r.lines) t.regex(line, /^PASS .* bit-identical$/);
});

needTools('the anchor refuses what it does not compute (other learners, trial mode) instead of passing them', (t) => {
  const r = runAnchor(['snap1-n12', 'rflo-transpose-trial'].map((n) => join(root, 'test', 'golden', `${n}.txt`)));
  t.deepEqual(r.lines.map((l) => l.split(':')[0]), ['SKIP snap1-n12', 'SKIP rflo-transpose-trial']);
});

// [tau, lrRec, lrOut, trialLength, fixed options, feedback, direct]: the first and last take the vectorised row kernels
// (shifts >= 17, full Q7.24 weights); tau 1 makes a phi' = 2^15 (the widest trace products); the third the general path.
const CASES: [number, number, number, number, FixedOptions, 'random' | 'transpose', boolean][] = [
  [10, 0.01, 0.01, 100, {}, 'random', false],
  [1, 0.01, 0.01, 100, {}, 'transpose', false],
  [2, 0.05, 0.05, 4, { weightFracBits: 16, updateFracBits: 20 }, 'random', false],
  [10, 0.01, 0.01, 100, {}, 'random', true],
];

needTools('the anchor equals the TypeScript reference from random full-range arenas at N = 8, 64 and 256, counters included', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-anchor-test-'));
  try {
    const files: string[] = [];
    const counted = new Set<string>();
    const paths = new Set<string>();
    for (const N of [8, 64, 256]) {
      const rounds = N === 256 ? 1 : N === 64 ? 3 : 8;
      for (const [tau, lrRec, lrOut, trialLength, extra, feedback, direct] of CASES) {
        const o = { learner: 'rflo', inputs: 4, hidden: N, outputs: 4, tau, lrRec, lrOut, update: 'step', trialLength, feedback, ...(direct ? { direct } : {}) } as const;
        const l = createFixedLearner(o, initWeights({ inputs: 4, hidden: N, outputs: 4, tau, seed: 5 }), { ...extra, memoryBudget: 2 ** 31, backend: 'reference' });
        paths.add(l.plan.shifts.traceRec >= 17 && l.plan.shifts.apply >= 1 && l.plan.weightFracBits === 24 ? 'fast' : 'general');
        const rng = createRng(N * 131 + tau + files.length);
        for (let r = 0; r < rounds; r++) {
          randomizeArena(l, [], rng);
          const before = Array.from(l.state.saturation);
          const name = `rflo-n${N}-tau${tau}-${feedback}${direct ? '-direct' : ''}-${files.length}`;
          const text = goldenRun(name, l, 4, (k, x, y) => {
            for (let j = 0; j < x.length; j++) x[j] = (rngNextU32(rng) & 0xffff) - 32768;
            for (let j = 0; j < y.length; j++) y[j] = (rngNextU32(rng) & 0xffff) - 32768;
            return k !== 2;
          }, () => false, saveSnapshot);
          l.state.saturation.forEach((v, i) => {
            if (v > before[i]) counted.add(SATURATION_NAMES[i]);
          });
          const f = join(dir, `${name}.txt`);
          writeFileSync(f, text);
          files.push(f);
        }
      }
    }
    t.deepEqual([...paths].sort(), ['fast', 'general']);
    // Every counter RFLO's step can move moved in these runs. Two cannot: 'gain' (|f m / 2^15| < |f| with m < 2^15) and,
    // but for the bias trace at tau <= 2 with phi' = 1, 'trace' (a phi' <= a, so |(1 - a) P + a phi' v| < 2^30).
    for (const name of ['y', 'e', 'feedback', 'W_in', 'W_rec', 'b', 'W_out', 'weights_q12']) t.true(counted.has(name), `no '${name}' saturation in the random runs`);
    const r = runAnchor(files);
    const failures = r.lines.filter((line) => !line.startsWith('PASS'));
    t.deepEqual(failures, [], failures.slice(0, 3).join('\n'));
    t.is(r.lines.length, files.length);
    t.is(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
