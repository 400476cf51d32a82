/**
 * The host C build as a benchmark anchor: times the C kernel on exactly the learners bench/runtime.ts times (same
 * options, initWeights seed 1, 4 inputs, 4 outputs, 'step' updates, the same 64 cycled samples), built with -O2 and
 * with -O3 -march=native. The learners travel as runtime snapshots, so both languages step identical state.
 *
 *   npx tsx firmware-bridge/device/bench.ts [--quick] [--learner rflo] [--sizes 16,32,64,128,256]   (JSON on stdout)
 *   import { runCBench } from './firmware-bridge/device/bench.ts'   (for `neurostream bench`)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFixedLearner } from '../../runtime/learner.ts';
import { initWeights } from '../../runtime/init.ts';
import { saveSnapshot } from '../../runtime/snapshot.ts';
import type { LearnerKind } from '../../runtime/types.ts';
import { buildHost } from '../qemu.ts';

export interface CBenchRecord {
  learner: LearnerKind;
  engine: 'fixed';
  /** 'c-O2' or 'c-O3-native'. */
  backend: string;
  N: number;
  inputs: number;
  outputs: number;
  steps_per_s: number;
  runs: number[];
}

export interface CBenchOptions {
  learner?: LearnerKind;
  sizes?: number[];
  /** Seconds per timed run (default 0.3, as bench/runtime.ts) and number of runs (default 5). */
  seconds?: number;
  runs?: number;
}

/** Builds bench-O2 and bench-O3-native (make) and returns their records, O2 first. Throws when gcc or make fail. */
export function runCBench(o: CBenchOptions = {}): CBenchRecord[] {
  const learner = o.learner ?? 'rflo';
  const sizes = o.sizes ?? (learner === 'rtrl' ? [8, 16, 32] : [16, 32, 64, 128, 256]);
  const dir = mkdtempSync(join(tmpdir(), 'ns-cbench-'));
  try {
    const files = sizes.map((N) => {
      const opt = { learner, inputs: 4, hidden: N, outputs: 4, tau: 10, lrRec: 0.01, lrOut: 0.01, update: 'step', trialLength: 100 } as const;
      const l = createFixedLearner(opt, initWeights({ inputs: 4, hidden: N, outputs: 4, tau: 10, seed: 1 }), { memoryBudget: 2 ** 31 });
      const f = join(dir, `${learner}-${N}.nsnp`);
      writeFileSync(f, saveSnapshot(l));
      return f;
    });
    const out: CBenchRecord[] = [];
    for (const backend of ['bench-O2', 'bench-O3-native'] as const) {
      const exe = buildHost(backend);
      const args = ['--backend', backend.replace('bench', 'c'), '--seconds', String(o.seconds ?? 0.3), '--runs', String(o.runs ?? 5), ...files];
      const r = spawnSync(exe, args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${exe} failed: ${r.stderr}`);
      out.push(...(JSON.parse(r.stdout) as { records: CBenchRecord[] }).records);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const quick = process.argv.includes('--quick');
  const sizes = arg('--sizes')?.split(',').map(Number);
  const records = runCBench({ learner: arg('--learner') as LearnerKind | undefined, sizes, seconds: quick ? 0.1 : 0.3, runs: quick ? 3 : 5 });
  process.stdout.write(JSON.stringify({ date: new Date().toISOString(), records }, null, 2) + '\n');
}
