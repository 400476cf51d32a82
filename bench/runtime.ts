/**
 * Steps per second of every learner, fixed-point runtime (TypeScript kernels, backend 'js', and the wasm backend)
 * vs float64 twin, 4 inputs, 4 outputs, 'step' updates
 * (the per-sample learning case). Medians of several timed runs after warm-up; inputs are allocated outside the
 * timed loop. Writes bench-results/runtime.json and prints a table.
 *
 *   npx tsx bench/runtime.ts [--quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initWeights } from '../runtime/init.ts';
import type { Engine, LearnerKind } from '../runtime/types.ts';
import { createLearner } from '../sim/engine.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import { wasmSimdSupported } from '../runtime/wasm/backend.ts';
import { M, O, benchOptions, median, stepper } from './timing.ts';

type Backend = 'js' | 'wasm';
/** Fixed point on the TypeScript kernels and (where WebAssembly SIMD exists) the wasm backend; float64 twin in JS. */
const CONFIGS: [Engine, Backend][] = [['fixed', 'js'], ...(wasmSimdSupported() ? ([['fixed', 'wasm']] as [Engine, Backend][]) : []), ['float', 'js']];

const quick = process.argv.includes('--quick');
const SIZES: Record<LearnerKind, number[]> = {
  rflo: [16, 32, 64, 128, 256],
  snap1: [16, 32, 64, 128, 256],
  output: [16, 32, 64, 128, 256],
  rtrl: [8, 16, 32],
};
const RUNS = quick ? 3 : 5;
const RUN_SECONDS = quick ? 0.1 : 0.3;

interface Record_ {
  learner: LearnerKind;
  engine: Engine;
  backend: string;
  N: number;
  steps_per_s: number;
  runs: number[];
}

function bench(kind: LearnerKind, engine: Engine, backend: Backend, N: number): Record_ {
  const opt = benchOptions(kind, N);
  const w = initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 1 });
  const l = engine === 'fixed' ? createFixedLearner(opt, w, { memoryBudget: 2 ** 31, backend }) : createLearner('float', opt, w);
  const runFor = stepper(l);
  runFor(RUN_SECONDS); // warm-up
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(runFor(RUN_SECONDS));
  return { learner: kind, engine, backend, N, steps_per_s: Math.round(median(runs)), runs: runs.map(Math.round) };
}

const records: Record_[] = [];
for (const kind of ['rflo', 'snap1', 'output', 'rtrl'] as LearnerKind[]) {
  for (const N of SIZES[kind]) {
    for (const [engine, backend] of CONFIGS) {
      const r = bench(kind, engine, backend, N);
      records.push(r);
      process.stderr.write(`${kind} ${engine}/${backend} N=${N}: ${r.steps_per_s} steps/s\n`);
    }
  }
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(
  join(root, 'bench-results', 'runtime.json'),
  JSON.stringify({ node: process.version, date: new Date().toISOString(), inputs: M, outputs: O, update: 'step', runs: RUNS, records }, null, 2) + '\n',
);

const lines = ['learner  N     fixed/js steps/s  fixed/wasm steps/s  float steps/s  fixed-js/float'];
for (const kind of ['rflo', 'snap1', 'output', 'rtrl'] as LearnerKind[]) {
  for (const N of SIZES[kind]) {
    const get = (e: Engine, b: Backend) => records.find((r) => r.learner === kind && r.N === N && r.engine === e && r.backend === b);
    const f = get('fixed', 'js')!;
    const w = get('fixed', 'wasm');
    const d = get('float', 'js')!;
    lines.push(
      `${kind.padEnd(7)}  ${String(N).padEnd(4)}  ${String(f.steps_per_s).padStart(16)}  ${String(w ? w.steps_per_s : '-').padStart(18)}  ${String(d.steps_per_s).padStart(13)}  ${(f.steps_per_s / d.steps_per_s).toFixed(2).padStart(14)}`,
    );
  }
}
process.stdout.write(lines.join('\n') + '\n');
