/**
 * The optimized C anchor (bench/anchor/rflo_anchor.c): its build (gcc -O3 -march=native) and its steps/s on exactly
 * the learners the other columns time (bench/timing.ts benchOptions, initWeights seed 1, 4 inputs, 4 outputs,
 * 'step' updates, the same 64 cycled samples), passed as runtime snapshots as firmware-bridge/device/bench.ts does.
 *
 *   npx tsx bench/anchor.ts [--sizes 16,64,256] [--seconds 0.3] [--runs 5]   (JSON on stdout)
 *   import { buildAnchor, runAnchorBench } from './anchor.ts'
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFixedLearner } from '../runtime/learner.ts';
import { initWeights } from '../runtime/init.ts';
import { saveSnapshot } from '../runtime/snapshot.ts';
import { FIRMWARE_DIR } from '../firmware-bridge/qemu.ts';
import { M, O, benchOptions } from './timing.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ANCHOR_DIR = join(here, 'anchor');
const SOURCES = ['anchor_main.c', 'rflo_anchor.c'].map((f) => join(ANCHOR_DIR, f));
const FIRMWARE = ['ns_activation.c', 'ns_plan.c', 'ns_snapshot.c'].map((f) => join(FIRMWARE_DIR, f));
const HEADERS = [join(ANCHOR_DIR, 'rflo_anchor.h'), ...['ns.h', 'ns_layout.h', 'ns_fixed.h'].map((f) => join(FIRMWARE_DIR, f))];

/** The gcc line of the anchor (also printed by the bench, so a reader can rebuild it). */
export const ANCHOR_FLAGS = ['-O3', '-march=native', '-std=c99', '-Wall', '-Wextra'];

/** Builds bench/anchor/build/anchor with gcc -O3 -march=native (only when a source is newer) and returns its path. */
export function buildAnchor(): string {
  const cc = process.env.CC ?? 'gcc';
  const out = join(ANCHOR_DIR, 'build', 'anchor');
  const newest = Math.max(...[...SOURCES, ...FIRMWARE, ...HEADERS].map((f) => statSync(f).mtimeMs));
  if (existsSync(out) && statSync(out).mtimeMs >= newest) return out;
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(cc, ['-o', tmp, ...ANCHOR_FLAGS, ...SOURCES, ...FIRMWARE, '-lm'], { encoding: 'utf8' });
  if (r.status !== 0) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw new Error(`${cc} failed building the C anchor: ${r.error ? r.error.message : r.stderr}`);
  }
  renameSync(tmp, out);
  return out;
}

export interface AnchorRecord {
  learner: 'rflo';
  engine: 'fixed';
  backend: 'c-anchor';
  N: number;
  steps_per_s: number;
  runs: number[];
}

/** Steps/s of the anchor for RFLO at each N (bench options of bench/timing.ts). Throws when gcc fails. */
export function runAnchorBench(sizes: readonly number[], seconds = 0.3, runs = 5): AnchorRecord[] {
  const exe = buildAnchor();
  const dir = mkdtempSync(join(tmpdir(), 'ns-anchor-'));
  try {
    const files = sizes.map((N) => {
      const l = createFixedLearner(benchOptions('rflo', N), initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 1 }), { memoryBudget: 2 ** 31 });
      const f = join(dir, `rflo-${N}.nsnp`);
      writeFileSync(f, saveSnapshot(l));
      return f;
    });
    const r = spawnSync(exe, ['--seconds', String(seconds), '--runs', String(runs), ...files], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${exe} failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { records: AnchorRecord[] }).records;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const sizes = (arg('--sizes') ?? '16,64,256').split(',').map(Number);
  const records = runAnchorBench(sizes, Number(arg('--seconds') ?? 0.3), Number(arg('--runs') ?? 5));
  process.stdout.write(JSON.stringify({ date: new Date().toISOString(), flags: ANCHOR_FLAGS.join(' '), records }, null, 2) + '\n');
}
