/**
 * `neurostream bench` (= `npm run bench`): speed, measured, never asserted in tests. Runs, in one invocation:
 *   1. bench/runtime.ts  every learner, fixed point (TypeScript kernels and the wasm backend) against the float64 twin;
 *   2. bench/wasm.ts     RFLO and RTRL side by side per round: TypeScript kernels, wasm SIMD, the firmware's portable host
 *                        C build at -O2 and -O3 -march=native, and for RFLO the optimized C anchor (bench/anchor: the
 *                        same arithmetic vectorised by gcc -O3 -march=native) (C skipped with a note when gcc is missing);
 *   3. bench/numpy_steps.py  the float64 numpy baseline, when python3 with numpy is present;
 *   4. bench/live.ts     the live path: frame in -> prediction out latency through the virtual board over a local
 *                        socket, RFLO N = 64, 10^5 samples, and the garbage collections meanwhile.
 * Each writes its own JSON in bench-results/; this command merges them into bench-results/bench.json and prints the
 * tables and the ratios the README quotes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const results = join(root, 'bench-results');

interface BenchArgs {
  quick?: boolean;
  c?: boolean;
  numpy?: boolean;
  live?: boolean;
}

function runTsx(script: string, args: string[]): void {
  process.stderr.write(`\n== ${script} ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, ['--import=tsx', join(root, script), ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${script} failed (exit ${r.status ?? r.signal}); its output above says why`);
}

interface NumpyRecord {
  learner: string;
  N: number;
  steps_per_s: number;
}

/** The environment numpy is measured in (bench/numpy_steps.py here and in bench/rtrl.ts). */
export function numpyEnv(): NodeJS.ProcessEnv {
  // OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE work around old OpenBLAS bugs and slow a current numpy down: unset them here only.
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  // One BLAS thread: like for like with the single-threaded runtime, and stable on a shared machine (with OpenBLAS's
  // default threads, RTRL at N = 32 measured 20 steps/s under load against 1717 with one thread).
  env.OPENBLAS_NUM_THREADS ??= '1';
  env.OMP_NUM_THREADS ??= '1';
  env.MKL_NUM_THREADS ??= '1';
  // glibc hands a freed block above its mmap threshold back to the kernel, so each step's N x N temporaries were
  // page-faulted in again: numpy's RFLO step at N = 256 took 1.8 ms, 143 us with these two (no effect elsewhere).
  env.MALLOC_MMAP_THRESHOLD_ ??= String(32 << 20);
  env.MALLOC_TRIM_THRESHOLD_ ??= String(256 << 20);
  return env;
}

/** numpy's figures, or null with the reason when python3 or numpy is missing. */
function runNumpy(quick: boolean): { version: string; records: NumpyRecord[] } | { skipped: string } {
  process.stderr.write('\n== bench/numpy_steps.py\n');
  const env = numpyEnv();
  const r = spawnSync('python3', [join(root, 'bench', 'numpy_steps.py'), ...(quick ? ['--quick'] : [])], { cwd: root, encoding: 'utf8', env });
  if (r.error) return { skipped: 'python3 not found' };
  if (r.status !== 0) return { skipped: /No module named .?numpy/.test(r.stderr) ? 'numpy is not installed for python3' : `numpy bench failed: ${r.stderr.trim().split('\n').at(-1)}` };
  const j = JSON.parse(r.stdout) as { numpy: string; records: NumpyRecord[] };
  return { version: j.numpy, records: j.records };
}

function readJson(name: string): any {
  const p = join(results, name);
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null;
}

const num = (v: number | null | undefined, w = 10): string => (v == null ? '-' : String(Math.round(v))).padStart(w);
const ratio = (a: number | null | undefined, b: number | null | undefined, w = 8): string => (a == null || b == null ? '-' : (a / b).toFixed(2)).padStart(w);

export function runBench(a: BenchArgs): string {
  mkdirSync(results, { recursive: true });
  const quick = a.quick ?? false;
  runTsx('bench/runtime.ts', quick ? ['--quick'] : []);
  runTsx('bench/wasm.ts', [...(quick ? ['--quick'] : []), ...(a.c === false ? ['--no-c'] : [])]);
  const numpy = a.numpy === false ? { skipped: '--no-numpy' } : runNumpy(quick);
  let liveError: string | null = null;
  if (a.live !== false) {
    rmSync(join(results, 'live.json'), { force: true });
    try {
      runTsx('bench/live.ts', quick ? ['--samples', '10000'] : []);
    } catch (e) {
      liveError = (e as Error).message;
    }
  }
  const runtime = readJson('runtime.json');
  const wasm = readJson('wasm.json');
  const live = a.live === false ? { skipped: '--no-live' } : liveError !== null ? { skipped: liveError } : readJson('live.json');
  const merged = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    runtime,
    wasm,
    numpy,
    live,
  };
  const out = join(results, 'bench.json');
  writeFileSync(out, JSON.stringify(merged, null, 2) + '\n');

  const lines: string[] = [];
  lines.push('', `Side by side (bench/wasm.ts, medians of ${wasm?.rounds ?? '?'} interleaved rounds), steps/s (C anchor: bench/anchor, RFLO only):`);
  lines.push(
    `learner  N    ${'TS'.padStart(10)} ${'wasm'.padStart(10)} ${'C -O2'.padStart(10)} ${'C -O3n'.padStart(10)} ${'C anchor'.padStart(10)} ${'numpy'.padStart(10)}  wasm/TS wasm/O3n wasm/anc   js/anc wasm/numpy js/numpy`,
  );
  const np = 'records' in numpy ? numpy.records : [];
  for (const r of wasm?.records ?? []) {
    const s = r.steps_per_s;
    const n = np.find((x) => x.learner === r.learner && x.N === r.N)?.steps_per_s ?? null;
    lines.push(
      `${r.learner.padEnd(7)}  ${String(r.N).padEnd(4)} ${num(s.js)} ${num(s.wasm)} ${num(s['c-O2'])} ${num(s['c-O3-native'])} ${num(s['c-anchor'])} ${num(n)} ${ratio(s.wasm, s.js)} ${ratio(s.wasm, s['c-O3-native'])} ${ratio(s.wasm, s['c-anchor'])} ${ratio(s.js, s['c-anchor'])} ${ratio(s.wasm, n, 10)} ${ratio(s.js, n)}`,
    );
  }
  if ('skipped' in numpy) lines.push(`numpy: skipped (${numpy.skipped})`);
  if (wasm?.cError) lines.push(`C: skipped (${wasm.cError})`);
  if (wasm?.anchorError) lines.push(`C anchor: skipped (${wasm.anchorError})`);
  if (live && 'latency_us' in live) {
    const l = live.latency_us;
    lines.push(
      '',
      `Live path (bench/live.ts: virtual board over a ${live.link === 'pty' ? 'pty' : 'local socket'}, RFLO N = ${live.N} on ${live.backend}, ${live.rateHz} samples/s, ${live.samples} samples measured):`,
      `  frame in -> prediction out: p50 ${l.p50} us, p90 ${l.p90} us, p99 ${l.p99} us, p99.9 ${l.p999} us, max ${l.max} us, mean ${l.mean} us`,
      `  GC events in the host process: ${live.gc.events} (minor ${live.gc.minor}, major ${live.gc.major}; ${live.gc.ms} ms in all); heap ${Math.round(live.heapGrowth / 1024)} KB; load average ${live.loadavg1}`,
    );
    if (live.allocated) {
      lines.push(
        `  allocated per sample (sampling heap profiler): ${live.allocated.project} bytes by the project's code, ${live.allocated.other} by the rest`,
        `  largest: ${live.allocated.top}`,
      );
    }
  } else if (live && 'skipped' in live) lines.push(`live path: skipped (${live.skipped})`);
  lines.push('', `results: ${out} (and runtime.json, wasm.json beside it)`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('bench')
    .summary('steps per second of every learner: TypeScript, wasm SIMD, C and numpy side by side')
    .description(
      'Measures steps/s of every learner (fixed point on the TypeScript kernels and on wasm SIMD, the float64 twin), ' +
        'RFLO and RTRL side by side with the firmware kernel built for this machine by gcc -O2 and -O3 -march=native and, ' +
        'for RFLO, an optimized C anchor of the same arithmetic (bench/anchor), the live path\'s frame-in to prediction-out latency, ' +
        'and a numpy float64 baseline when python3 has numpy. 4 inputs, 4 outputs, per-step updates, medians of several ' +
        'runs. Writes bench-results/{runtime,wasm,live,bench}.json and prints tables. Takes a few minutes (--quick: about one). ' +
        'Benchmarks are measurements, not tests: quote ratios from one run, the machine may be shared.',
    )
    .option('--quick', 'fewer and shorter runs')
    .option('--no-c', 'leave out the C builds (no gcc or make needed)')
    .option('--no-numpy', 'leave out the numpy baseline')
    .option('--no-live', 'leave out the live-path latency run (virtual board over a local socket, about a minute)')
    .action((o: BenchArgs) => {
      process.stdout.write(runBench(o) + '\n');
    });
}
