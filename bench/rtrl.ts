/**
 * RTRL side by side with numpy float64, interleaved: every round times the wasm backend, the TypeScript kernels ('js')
 * and numpy (bench/numpy_steps.py --serve: one persistent python3 process, one BLAS thread) at each N for the same
 * number of seconds, so a change of machine load hits all three alike; the figures are medians over the rounds.
 * RTRL at N = 8..64, 4 inputs, 4 outputs, 'step' updates, tau 10 (bench/timing.ts, as in bench/wasm.ts). numpy's step
 * carries the sensitivities of W_rec only (N^2 parameters; the runtime's theta = N (N + 5) also has W_in and b).
 * Writes bench-results/rtrl.json and prints a table with the ratios.
 *
 *   npx tsx bench/rtrl.ts [--rounds 7] [--seconds 0.3] [--no-js]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import { M, O, benchOptions, median, stepper } from './timing.ts';
import { numpyEnv } from '../sim/commands/bench.ts';

const argv = process.argv;
const arg = (name: string) => {
  const i = argv.indexOf(name);
  return i > 0 ? argv[i + 1] : undefined;
};
const ROUNDS = Number(arg('--rounds') ?? 7);
const SECONDS = Number(arg('--seconds') ?? 0.3);
const withJs = !argv.includes('--no-js');
const SIZES = [8, 16, 32, 64];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// numpy in the environment `neurostream bench` measures it in (numpyEnv)
const env = numpyEnv();
const py = spawn('python3', [join(root, 'bench', 'numpy_steps.py'), '--serve'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
let pyError: string | null = null;
py.on('error', (e) => {
  pyError = `python3 not started: ${e.message}`;
});
const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
async function numpyRate(N: number, seconds: number): Promise<number | null> {
  if (pyError !== null) return null;
  py.stdin.write(`rtrl ${N} ${seconds}\n`);
  const r = await lines.next();
  if (r.done) {
    pyError = 'numpy bench exited (is numpy installed for python3?)';
    return null;
  }
  return (JSON.parse(r.value) as { steps_per_s: number }).steps_per_s;
}

const backends = withJs ? (['wasm', 'js'] as const) : (['wasm'] as const);
const steppers = new Map<string, (s: number) => number>();
for (const N of SIZES) {
  for (const b of backends) {
    const w = initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 1 });
    const l = createFixedLearner(benchOptions('rtrl', N), w, { memoryBudget: 2 ** 31, backend: b });
    if (l.backend !== b) throw new Error(`backend ${b} unavailable`);
    const run = stepper(l, 4);
    run(SECONDS / 2); // warm-up
    steppers.set(`${N}/${b}`, run);
  }
}
const runs: Record<string, number[]> = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const N of SIZES) {
    for (const b of backends) (runs[`${N}/${b}`] ??= []).push(steppers.get(`${N}/${b}`)!(SECONDS));
    const np = await numpyRate(N, SECONDS);
    if (np !== null) (runs[`${N}/numpy`] ??= []).push(np);
  }
  process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
}
py.stdin.end();

const med = (k: string) => (runs[k]?.length ? Math.round(median(runs[k])) : null);
const records = SIZES.map((N) => ({ learner: 'rtrl', N, steps_per_s: { wasm: med(`${N}/wasm`), js: med(`${N}/js`), numpy: med(`${N}/numpy`) }, runs: Object.fromEntries(Object.entries(runs).filter(([k]) => k.startsWith(`${N}/`)).map(([k, v]) => [k.split('/')[1], v])) }));
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(
  join(root, 'bench-results', 'rtrl.json'),
  JSON.stringify({ node: process.version, date: new Date().toISOString(), inputs: M, outputs: O, update: 'step', tau: 10, rounds: ROUNDS, seconds: SECONDS, numpyError: pyError, records }, null, 2) + '\n',
);
const f = (v: number | null) => (v === null ? '-' : String(v)).padStart(10);
const ratio = (a: number | null, b: number | null) => (a === null || b === null ? '-' : (a / b).toFixed(2)).padStart(11);
const out = [`RTRL, interleaved rounds (${ROUNDS} x ${SECONDS} s, medians), steps/s:`, 'N         wasm        js     numpy  wasm/numpy    js/numpy'];
for (const r of records) {
  const s = r.steps_per_s;
  out.push(`${String(r.N).padEnd(4)}${f(s.wasm)}${f(s.js)}${f(s.numpy)}${ratio(s.wasm, s.numpy)}${ratio(s.js, s.numpy)}`);
}
if (pyError !== null) out.push(`numpy: skipped (${pyError})`);
process.stdout.write(out.join('\n') + '\n');
