import test from 'ava';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { initWeights } from '../runtime/init.ts';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createFloatLearner } from '../sim/reference/index.ts';

const execFileP = promisify(execFile);

/**
 * Counts garbage collections that start while fn runs. The observer reports asynchronously, so it waits a little
 * afterwards, and it keeps only entries whose start time falls inside fn's run (collections of the test
 * harness before or after are not fn's). When no collection ran, heapGrowth is what was allocated on the JS heap
 * meanwhile: fn's objects, but also code the JIT installs (optimising compilations run on background threads).
 */
async function gcEventsDuring(fn: () => void): Promise<{ inside: number; outside: number; heapGrowth: number }> {
  let inside = 0;
  let outside = 0;
  let t0 = Infinity;
  let t1 = Infinity;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.startTime >= t0 && e.startTime <= t1) inside++;
      else outside++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const before = process.memoryUsage().heapUsed;
  t0 = performance.now();
  fn();
  t1 = performance.now();
  const heapGrowth = process.memoryUsage().heapUsed - before;
  await new Promise((resolve) => setTimeout(resolve, 100));
  obs.disconnect();
  return { inside, outside, heapGrowth };
}

/**
 * Measures `rounds` runs of `steps` steps: GC events in each, and the smallest heap growth per step. A real
 * allocation in step() costs at least 16 bytes per allocating step in every round; JIT code installs land in some
 * rounds only, so the minimum over rounds separates the two.
 */
async function measure(run: () => void, steps: number, rounds: number): Promise<{ gcEvents: number[]; minBytesPerStep: number }> {
  const gcEvents: number[] = [];
  let minBytesPerStep = Infinity;
  for (let r = 0; r < rounds; r++) {
    const m = await gcEventsDuring(run);
    gcEvents.push(m.inside);
    minBytesPerStep = Math.min(minBytesPerStep, m.heapGrowth / steps);
  }
  return { gcEvents, minBytesPerStep };
}

test.serial('the GC observer sees collections when a loop does allocate (so the tests below can fail)', async (t) => {
  const sink: Float64Array[] = new Array(8);
  const events = await gcEventsDuring(() => {
    for (let i = 0; i < 1e5; i++) sink[i & 7] = new Float64Array(64);
  });
  t.log(`${events.inside} GC events during 1e5 allocations of a 512-byte array`);
  t.true(events.inside > 0);
});

test.serial('rflo step() at N = 30 runs 1e5 steps without a single garbage collection', async (t) => {
  const M = 2;
  const N = 30;
  const O = 2;
  const w = initWeights({ inputs: M, hidden: N, outputs: O, tau: 5, seed: 3 });
  const l = createFloatLearner(
    { learner: 'rflo', inputs: M, hidden: N, outputs: O, tau: 5, lrRec: 1e-3, lrOut: 1e-3, update: 'step', trialLength: 1 },
    w,
  );
  const x = new Float64Array(M);
  const target = new Float64Array(O);
  const out = new Float64Array(O);
  const run = (steps: number): void => {
    for (let i = 0; i < steps; i++) {
      x[0] = Math.sin(i * 0.1);
      x[1] = Math.cos(i * 0.037);
      target[0] = Math.sin(i * 0.1 - 1);
      target[1] = 0.5 * x[1];
      l.step(x, (i & 3) === 3 ? null : target, out);
    }
  };
  // Warm-up of at least 2e4 steps and 0.5 s, so that the JIT's background compilations of step() have landed.
  const warmStart = performance.now();
  do run(20000);
  while (performance.now() - warmStart < 500);
  const m = await measure(() => run(1e5), 1e5, 2);
  t.log(`GC events per 1e5 steps: ${m.gcEvents.join(', ')}; heap growth ${m.minBytesPerStep.toFixed(3)} bytes/step (min over rounds)`);
  t.deepEqual(m.gcEvents, [0, 0]);
  t.true(m.minBytesPerStep < 1);
  t.true(Number.isFinite(out[0]));
});

/**
 * The other learners, each in a fresh Node process (as in use: one learner kind per process). Running several kinds
 * in one process makes their shared step() code polymorphic, and V8 then spends a while re-optimising it, which
 * shows as ~1.5 bytes/step of heap growth for a few 1e4 steps (no collection); a fresh process measures step()
 * itself. The child prints one JSON line: GC events and heap growth per round.
 */
const CHILD = `
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { initWeights } from './runtime/init.ts';
import { createBpttLearner, createFloatLearner } from './sim/reference/index.ts';
const [kind, update, windowArg] = process.argv.slice(-3);
const M = 2, N = 8, O = 2, T = 200;
const w = initWeights({ inputs: M, hidden: N, outputs: O, tau: 3, seed: 4 });
const common = { inputs: M, hidden: N, outputs: O, tau: 3, lrRec: 1e-3, lrOut: 1e-3, trialLength: T, update };
// windowArg 'rls': the stream defaults' readout (reads the input, learns by RLS with lambda 0.99).
const readout = windowArg === 'rls' ? { direct: true, rlsReadout: 0.99 } : {};
const l = kind === 'bptt' ? createBpttLearner({ ...common, window: Number(windowArg) }, w) : createFloatLearner({ ...common, ...readout, learner: kind }, w);
const x = new Float64Array(M), target = new Float64Array(O), out = new Float64Array(O);
const run = (trials) => {
  for (let k = 0; k < trials; k++) {
    l.resetState();
    for (let i = 0; i < T; i++) {
      x[0] = Math.sin(i * 0.1); x[1] = Math.cos(i * 0.037); target[0] = Math.sin(i * 0.1 - 1); target[1] = 0.5 * x[1];
      l.step(x, (i & 3) === 3 ? null : target, out);
    }
    l.endTrial();
  }
};
// Warm-up until a round of 100 trials adds less than 1 byte per step to the heap (at most 40 rounds): optimising
// compilations finish on background threads, later on a loaded machine, and their code and metadata land on the
// heap. A step() that really allocates never settles, and the rounds below then fail.
run(100);
for (let w = 0; w < 40; w++) {
  const h0 = process.memoryUsage().heapUsed;
  run(100);
  const g = process.memoryUsage().heapUsed - h0;
  if (g >= 0 && g < 100 * T) break;
}
const rounds = [];
for (let r = 0; r < 3; r++) {
  let events = 0, t0 = Infinity, t1 = Infinity;
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.startTime >= t0 && e.startTime <= t1) events++; });
  obs.observe({ entryTypes: ['gc'] });
  const before = process.memoryUsage().heapUsed;
  t0 = performance.now(); run(100); t1 = performance.now();
  const growth = process.memoryUsage().heapUsed - before;
  await new Promise((resolve) => setTimeout(resolve, 100));
  obs.disconnect();
  rounds.push({ events, bytesPerStep: growth / (100 * T) });
}
console.log(JSON.stringify(rounds));
`;

const cases: [string, string[]][] = [
  ["rtrl ('step' mode)", ['rtrl', 'step', '0']],
  ["snap1 ('trial' mode)", ['snap1', 'trial', '0']],
  ["output ('step' mode)", ['output', 'step', '0']],
  ["rflo ('trial' mode)", ['rflo', 'trial', '0']],
  ["rflo with the RLS readout over [h; x] ('step' mode)", ['rflo', 'step', 'rls']],
  ['truncated BPTT (window 10)', ['bptt', 'trial', '10']],
  ['full BPTT', ['bptt', 'trial', 'Infinity']],
];

for (const [name, args] of cases) {
  test.serial(`${name} at N = 8 runs 3 x 100 trials of step() and endTrial() without garbage collection`, async (t) => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const { stdout } = await execFileP(process.execPath, ['--import=tsx', '--input-type=module', '-e', CHILD, '--', ...args], { cwd: root });
    const rounds = JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as { events: number; bytesPerStep: number }[];
    t.log(`${name}: GC events ${rounds.map((r) => r.events).join(', ')}; heap growth ${rounds.map((r) => r.bytesPerStep.toFixed(3)).join(', ')} bytes/step`);
    t.is(rounds.length, 3);
    t.deepEqual(rounds.map((r) => r.events), [0, 0, 0]);
    t.true(Math.min(...rounds.map((r) => r.bytesPerStep)) < 1);
  });
}
