import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createTask, createCsvTask, createDriftTask, createPeriodicTask, periodicTarget, type Task } from '../sim/tasks/index.ts';
import { createSimLearner, measureRecovery, median, runStream, runTrials } from '../sim/tasks/run.ts';
import { InputError } from '../sim/modelio.ts';

function collect(task: Task, n: number): { x: number[][]; t: number[][] } {
  const x = new Float64Array(task.inputs);
  const t = new Float64Array(task.outputs);
  const xs: number[][] = [];
  const ts: number[][] = [];
  for (let i = 0; i < n && task.next(x, t); i++) {
    xs.push(Array.from(x));
    ts.push(Array.from(t));
  }
  return { x: xs, t: ts };
}

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ns-tasks-'));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('periodic writes Murray 2019 target sin(2 pi t/P) + 0.5 sin(4 pi t/P) + 0.25 sin(8 pi t/P) for t = 1..P', (t) => {
  const task = createPeriodicTask({ period: 200 });
  t.is(task.inputs, 0);
  t.is(task.outputs, 1);
  t.is(task.trialLength, 200);
  task.startTrial();
  const { t: ts } = collect(task, 200);
  for (const s of [1, 50, 77, 200]) {
    const w = (2 * Math.PI * s) / 200;
    t.true(Math.abs(ts[s - 1][0] - (Math.sin(w) + 0.5 * Math.sin(2 * w) + 0.25 * Math.sin(4 * w))) < 1e-12);
  }
  t.true(Math.abs(ts[199][0]) < 1e-12); // t = P closes the period
  t.is(periodicTarget(25, 200), ts[24][0]);
});

test('periodic restarts the period at every startTrial', (t) => {
  const task = createPeriodicTask({ period: 50 });
  task.startTrial();
  const a = collect(task, 30).t;
  task.startTrial();
  const b = collect(task, 30).t;
  t.deepEqual(a, b);
});

test('periodic persistence is the previous step target, 0 at a trial start', (t) => {
  const task = createPeriodicTask({ period: 20 });
  const x = new Float64Array(0);
  const y = new Float64Array(1);
  const p = new Float64Array(1);
  task.startTrial();
  task.next(x, y);
  t.is(task.persistence(p)[0], 0);
  const first = y[0];
  task.next(x, y);
  t.is(task.persistence(p)[0], first);
});

test('drift gives the same samples for the same seed and different ones for another seed', (t) => {
  const a = collect(createDriftTask({ seed: 7, steps: 500 }), 500);
  const b = collect(createDriftTask({ seed: 7, steps: 500 }), 500);
  const c = collect(createDriftTask({ seed: 8, steps: 500 }), 500);
  t.deepEqual(a, b);
  t.notDeepEqual(a.x, c.x);
});

test('drift target is the next input of every channel and reset replays the stream', (t) => {
  const task = createDriftTask({ seed: 3, channels: 4, steps: 300, changeEvery: 100 });
  t.is(task.inputs, 4);
  t.is(task.outputs, 4);
  const first = collect(task, 1000);
  t.is(first.x.length, 300);
  for (let i = 0; i + 1 < first.x.length; i++) t.deepEqual(first.t[i], first.x[i + 1]);
  task.reset();
  t.deepEqual(collect(task, 1000), first);
});

test('drift lists an event per change at the first sample whose target follows the new regime', (t) => {
  const task = createDriftTask({ seed: 1, steps: 1000, changeEvery: 250, noise: 0 });
  t.deepEqual(task.events, [249, 499, 749]);
});

test('drift ends after its steps and is endless with steps null', (t) => {
  const task = createDriftTask({ seed: 1, steps: 10 });
  const x = new Float64Array(3);
  const y = new Float64Array(3);
  let n = 0;
  while (task.next(x, y)) n++;
  t.is(n, 10);
  const endless = createDriftTask({ seed: 1, steps: null });
  t.is(endless.length, null);
  t.is(collect(endless, 5000).x.length, 5000);
});

const CSV = [
  'time,a,b,c',
  '0,1,10,100',
  '1,2,20,200',
  '2,,30,300', // empty a
  '3,4,abc,400', // non-numeric b
  '4,5,50,inf', // non-finite c
  '5,6,60,600',
  '6,7,70,700',
  '7,8,80,NaN',
  '8,9,90,900',
].join('\n');

test('csv skips and counts samples with an empty, non-numeric or non-finite cell and never feeds them', (t) => {
  const file = tmpFile('log.csv', CSV);
  const task = createCsvTask({ file, columns: ['a', 'b'], target: 'c', horizon: 1, normalize: false });
  const { x, t: ts } = collect(task, 100);
  // Rows 0..7 have a target row. Skipped: row 2 (a empty), row 3 (b non-numeric; its target, row 4, is inf too),
  // row 6 (target row 7 is NaN). Row 4 is kept: its own c is inf but only its inputs and row 5's c are used.
  t.deepEqual(x, [[1, 10], [2, 20], [5, 50], [6, 60], [8, 80]]);
  t.deepEqual(ts, [[200], [300], [600], [700], [900]]);
  t.is(task.skipped, 3);
  t.is(task.length, 5);
  for (const r of x) t.true(r.every(Number.isFinite));
});

test('csv horizon K pairs the inputs of row r with the target column of row r + K', (t) => {
  const file = tmpFile('h.csv', 'x,y\n' + Array.from({ length: 10 }, (_, i) => `${i},${i * i}`).join('\n'));
  const task = createCsvTask({ file, columns: ['x'], target: 'y', horizon: 3, normalize: false });
  const { x, t: ts } = collect(task, 100);
  t.is(x.length, 7);
  for (let i = 0; i < x.length; i++) t.is(ts[i][0], (x[i][0] + 3) ** 2);
  t.is(task.skipped, 0);
});

test('csv normalises with running statistics and scale/offset map the target back to the sensor value', (t) => {
  const file = tmpFile('n.csv', 'x,y\n' + Array.from({ length: 50 }, (_, i) => `${100 + 3 * Math.sin(i)},${20 + i}`).join('\n'));
  const task = createCsvTask({ file, columns: ['x'], target: 'y', horizon: 2 });
  const x = new Float64Array(1);
  const y = new Float64Array(1);
  const p = new Float64Array(1);
  let i = 0;
  while (task.next(x, y)) {
    t.true(Math.abs(y[0] * task.scale[0] + task.offset[0] - (20 + i + 2)) < 1e-9);
    t.true(Math.abs(task.persistence(p)[0] * task.scale[0] + task.offset[0] - (20 + i)) < 1e-9);
    if (i > 5) t.true(Math.abs(x[0]) < 5); // z-scored, not ~100
    i++;
  }
  t.is(i, 48);
});

test('csv names the unknown column and lists the available ones', (t) => {
  const file = tmpFile('u.csv', CSV);
  const err = t.throws(() => createCsvTask({ file, columns: ['a', 'temp'], target: 'c' }), { instanceOf: InputError });
  t.regex(err.message, /unknown column "temp"/);
  t.regex(err.message, /available columns: time, a, b, c/);
  const err2 = t.throws(() => createCsvTask({ file, columns: ['a'], target: 'zz' }), { instanceOf: InputError });
  t.regex(err2.message, /--target names unknown column "zz"/);
});

test('csv refuses a missing file, a header-only file and a bad horizon with a message', (t) => {
  t.throws(() => createCsvTask({ file: '/nonexistent/x.csv', columns: ['a'], target: 'b' }), { message: /cannot read .*no such file/ });
  const empty = tmpFile('e.csv', 'a,b\n');
  t.throws(() => createCsvTask({ file: empty, columns: ['a'], target: 'b' }), { message: /header row and at least one data row/ });
  const file = tmpFile('k.csv', CSV);
  t.throws(() => createCsvTask({ file, columns: ['a'], target: 'b', horizon: 0 }), { message: /horizon must be an integer >= 1/ });
});

test('createTask knows periodic, drift and csv and names them when the name is unknown', (t) => {
  t.is(createTask('periodic', {}).name, 'periodic');
  t.is(createTask('drift', { steps: 10 }).name, 'drift');
  t.throws(() => createTask('sine', {}), { message: /unknown task "sine"; expected one of: periodic, drift, csv/ });
});

test('recovery counts the samples after a change until the windowed NMSE is back near its pre-change level', (t) => {
  const n = 1000;
  const err = new Float64Array(n).fill(0.01);
  const tgt = new Float64Array(n);
  for (let i = 0; i < n; i++) tgt[i] = Math.sin(i); // variance ~0.5 in both segments
  for (let i = 500; i < 650; i++) err[i] = 1; // 150 bad samples after the change at 500
  const [r] = measureRecovery(err, tgt, 1, n, [500], 50, 1.5);
  t.is(r.event, 500);
  t.true(r.postNmse > 10 * r.preNmse);
  t.is(r.steps, 200); // the first window [t - 49, t] without a bad sample ends at t = 699 = 500 + 200 - 1
  const never = measureRecovery(new Float64Array(n).fill(0.01).map((v, i) => (i >= 500 ? 1 : v)), tgt, 1, n, [500], 50, 1.5);
  t.is(never[0].steps, null);
  t.true(never[0].runEnded, 'the last change runs to the end of the run');
  t.is(never[0].segment, 500);
  const two = measureRecovery(err, tgt, 1, n, [300, 500], 50, 1.5);
  t.deepEqual(two.map((x) => [x.segment, x.runEnded]), [[200, false], [500, true]], 'a segment cut by the next change is not cut by the run');
});

test('median of an odd and an even number of values', (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
});

test('a stream run scores prequentially and reports persistence and skipped samples', (t) => {
  const task = createDriftTask({ seed: 2, steps: 2000, changeEvery: 1000 });
  const { learner } = createSimLearner({ learner: 'output', hidden: 10, tau: 2, lrRec: 0.03, lrOut: 0.03, update: 'step', seed: 1 }, task);
  const r = runStream(learner, task);
  t.is(r.steps, 2000);
  t.true(Number.isFinite(r.nmse) && r.nmse > 0);
  t.true(Number.isFinite(r.persistenceNmse) && r.persistenceNmse > 0);
  t.is(r.skipped, 0);
  t.is(r.recovery.length, 1);
  t.is(r.curve.at(-1)?.at, 2000);
});

/**
 * Garbage collections that start while fn runs. A full collection first empties the young generation;
 * collections outside fn's time window (idle-time memory reduction, the observer's own delivery) are not counted.
 */
async function collectionsDuring(fn: () => void): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const starts: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) starts.push(e.startTime);
  });
  obs.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  fn();
  const t1 = performance.now();
  await new Promise((r) => setTimeout(r, 50)); // gc entries are delivered asynchronously
  obs.disconnect();
  return starts.filter((s) => s >= t0 && s <= t1).length;
}

/*
 * "No allocation per step" is checked as "a run 10x longer collects no more often": each call pays a constant
 * (its setup, a few iterations before the JIT's optimized loop takes over), while garbage made per step (even one
 * boxed double, 16 bytes) over 10x the steps fills the young generation several more times.
 */

test.serial('the trial loop allocates nothing per step: 10x the trials with state noise cause no more collections', async (t) => {
  const task = createPeriodicTask();
  const { learner } = createSimLearner({ learner: 'rflo', hidden: 16, tau: 10, lrRec: 0.03, lrOut: 0.03, update: 'trial', seed: 1 }, task);
  runTrials(learner, task, { trials: 200, noise: 0.01, curvePoints: 4 }); // warm up, let the JIT settle
  const short = await collectionsDuring(() => runTrials(learner, task, { trials: 100, noise: 0.01, curvePoints: 4 }));
  const long = await collectionsDuring(() => runTrials(learner, task, { trials: 1000, noise: 0.01, curvePoints: 4 })); // 200,000 steps
  t.log(`collections: ${short} in 100 trials, ${long} in 1000 trials`);
  t.true(long <= short + 2);
});

test.serial('the stream loop allocates nothing per step: 10x the samples with state noise cause no more collections', async (t) => {
  const make = (steps: number) => createDriftTask({ seed: 4, steps, changeEvery: 1e9 });
  const { learner } = createSimLearner({ learner: 'output', hidden: 16, tau: 3, lrRec: 0.01, lrOut: 0.01, update: 'step', seed: 1 }, make(1));
  const opts = { noise: 0.01, onProgress: () => {} };
  runStream(learner, make(60000), opts); // warm up, let the JIT settle
  const shortTask = make(60000);
  const longTask = make(600000);
  let steps = 0;
  const short = await collectionsDuring(() => runStream(learner, shortTask, opts));
  const long = await collectionsDuring(() => {
    steps = runStream(learner, longTask, opts).steps;
  });
  t.log(`collections: ${short} in 60,000 samples, ${long} in 600,000 samples`);
  t.is(steps, 600000);
  t.true(long <= short + 2);
});

test.serial('with the fixed-point engine the trial loop allocates nothing per step either (sim --engine fixed)', async (t) => {
  const task = createPeriodicTask();
  const { learner } = createSimLearner({ learner: 'rflo', engine: 'fixed', hidden: 16, tau: 10, lrRec: 0.03, lrOut: 0.03, update: 'trial', seed: 1 }, task);
  t.is(learner.engine, 'fixed');
  runTrials(learner, task, { trials: 200, noise: 0.01, curvePoints: 4 }); // warm up, let the JIT settle
  const short = await collectionsDuring(() => runTrials(learner, task, { trials: 100, noise: 0.01, curvePoints: 4 }));
  const long = await collectionsDuring(() => runTrials(learner, task, { trials: 1000, noise: 0.01, curvePoints: 4 })); // 200,000 steps
  t.log(`collections: ${short} in 100 trials, ${long} in 1000 trials`);
  t.true(long <= short + 2);
});
