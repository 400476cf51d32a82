/**
 * The wasm SIMD backend against the TypeScript kernels, the firmware's portable host C build (-O2, -O3 -march=native)
 * and, for RFLO, the optimized C anchor (bench/anchor/rflo_anchor.c: the same arithmetic, vectorised, bit-exact but for
 * the Q30 accumulators 'step' mode never reads), RFLO at N = 16..256 and RTRL at N = 8..64, 4 inputs, 4 outputs, 'step' updates, tau 10 (the options of
 * bench/runtime.ts and firmware-bridge/device/bench.ts, so the three step identical learners). Measured side by
 * side: every round times js, wasm and C for every size once, so a change of machine load hits all of them; the
 * figures are medians over the rounds. Writes bench-results/wasm.json and prints a table with ratios.
 *
 *   npx tsx bench/wasm.ts [--quick] [--no-c] [--rounds 5] [--seconds 0.3]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import type { LearnerKind } from '../runtime/types.ts';
import { runCBench } from '../firmware-bridge/device/bench.ts';
import { runAnchorBench } from './anchor.ts';
import { M, O, benchOptions, median, stepper } from './timing.ts';

const argv = process.argv;
const arg = (name: string) => {
  const i = argv.indexOf(name);
  return i > 0 ? argv[i + 1] : undefined;
};
const quick = argv.includes('--quick');
const withC = !argv.includes('--no-c');
const ROUNDS = Number(arg('--rounds') ?? (quick ? 3 : 5));
const SECONDS = Number(arg('--seconds') ?? (quick ? 0.1 : 0.3));
const SIZES: [LearnerKind, number[]][] = [
  ['rflo', [16, 32, 64, 128, 256]],
  ['rtrl', [8, 16, 32, 64]],
];
const BACKENDS = ['js', 'wasm', 'c-O2', 'c-O3-native', 'c-anchor'] as const;
type BackendName = (typeof BACKENDS)[number];

interface Row {
  learner: LearnerKind;
  N: number;
  runs: Record<BackendName, number[]>;
}

const rows: Row[] = [];
const steppers = new Map<string, (s: number) => number>();
for (const [kind, sizes] of SIZES) {
  for (const N of sizes) {
    const w = initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 1 });
    for (const b of ['js', 'wasm'] as const) {
      const l = createFixedLearner(benchOptions(kind, N), w, { memoryBudget: 2 ** 31, backend: b });
      if (l.backend !== b) throw new Error(`backend ${b} unavailable`);
      const run = stepper(l, 4);
      run(SECONDS / 2); // warm-up
      steppers.set(`${kind}/${N}/${b}`, run);
    }
    rows.push({ learner: kind, N, runs: { js: [], wasm: [], 'c-O2': [], 'c-O3-native': [], 'c-anchor': [] } });
  }
}

let cError: string | null = null;
let anchorError: string | null = null;
for (let r = 0; r < ROUNDS; r++) {
  for (const row of rows) {
    for (const b of ['js', 'wasm'] as const) row.runs[b].push(steppers.get(`${row.learner}/${row.N}/${b}`)!(SECONDS));
  }
  if (withC && cError === null) {
    for (const [kind, sizes] of SIZES) {
      try {
        for (const rec of runCBench({ learner: kind, sizes, seconds: SECONDS, runs: 1 })) {
          const row = rows.find((x) => x.learner === kind && x.N === rec.N)!;
          row.runs[rec.backend as BackendName].push(rec.steps_per_s);
        }
      } catch (e) {
        cError = (e as Error).message;
      }
    }
  }
  if (withC && anchorError === null) {
    try {
      for (const rec of runAnchorBench(SIZES.find(([k]) => k === 'rflo')![1], SECONDS, 1)) {
        rows.find((x) => x.learner === 'rflo' && x.N === rec.N)!.runs['c-anchor'].push(rec.steps_per_s);
      }
    } catch (e) {
      anchorError = (e as Error).message;
    }
  }
  process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
}

const records = rows.map((row) => {
  const med = {} as Record<BackendName, number | null>;
  for (const b of BACKENDS) med[b] = row.runs[b].length ? Math.round(median(row.runs[b])) : null;
  return { learner: row.learner, N: row.N, steps_per_s: med, runs: row.runs };
});

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(
  join(root, 'bench-results', 'wasm.json'),
  JSON.stringify(
    { node: process.version, date: new Date().toISOString(), inputs: M, outputs: O, update: 'step', tau: 10, rounds: ROUNDS, seconds: SECONDS, cError, anchorError, records },
    null,
    2,
  ) + '\n',
);

const f = (v: number | null) => (v === null ? '-' : String(v)).padStart(11);
const ratio = (a: number | null, b: number | null) => (a === null || b === null ? '-' : (a / b).toFixed(2)).padStart(9);
const lines = ['learner  N    js steps/s  wasm steps/s   C -O2 st/s  C -O3n st/s  C anchor/s  wasm/js  wasm/O2  wasm/O3n wasm/anc  js/anc'];
for (const r of records) {
  const s = r.steps_per_s;
  lines.push(
    `${r.learner.padEnd(7)}  ${String(r.N).padEnd(4)} ${f(s.js)}  ${f(s.wasm)}  ${f(s['c-O2'])}  ${f(s['c-O3-native'])} ${f(s['c-anchor'])}${ratio(s.wasm, s.js)}${ratio(s.wasm, s['c-O2'])}${ratio(s.wasm, s['c-O3-native'])}${ratio(s.wasm, s['c-anchor'])}${ratio(s.js, s['c-anchor'])}`,
  );
}
if (cError) lines.push(`C benchmark unavailable: ${cError}`);
if (anchorError) lines.push(`C anchor unavailable: ${anchorError}`);
process.stdout.write(lines.join('\n') + '\n');
