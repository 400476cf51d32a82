import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeGradient } from '../sim/reference/index.ts';
import { parseData, parseModel } from '../sim/modelio.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'neurostream.js');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'ns-cli-'));
function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

// A tiny model: N = 3, M = 2, O = 2, T = 6.
const model = {
  tau: 3,
  W_in: [[0.5, -0.2], [-0.3, 0.4], [0.1, 0.7]],
  W_rec: [[0.1, 0.2, -0.3], [0.0, 0.4, 0.1], [-0.2, 0.3, 0.2]],
  b: [0.1, 0, -0.1],
  W_out: [[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]],
  h0: [0.1, -0.1, 0.2],
  B: [[1, 0.2], [-0.5, 0.7], [0.3, -0.4]],
};
const data = {
  x: [[1, 0], [0, 1], [-1, 0.5], [0.5, -0.5], [0.2, 0.3], [0, 0]],
  target: [[0.2, 0], [0.1, -0.1], [-0.3, 0.2], [0.4, 0.1], [0, 0.3], [0.1, -0.2]],
};
const modelPath = file('model.json', model);
const dataPath = file('data.json', data);

function close(t: import('ava').ExecutionContext, got: number[][] | number[], want: ArrayLike<number>, what: string): void {
  const flat = (got as (number | number[])[]).flat();
  t.is(flat.length, want.length, what);
  for (let i = 0; i < flat.length; i++) t.true(Math.abs(flat[i] - want[i]) <= 1e-12 * (1 + Math.abs(want[i])), `${what}[${i}]: ${flat[i]} vs ${want[i]}`);
}

for (const args of [['bptt'], ['bptt', '--window', '2'], ['rtrl'], ['rflo'], ['rflo', '--feedback', 'transpose'], ['snap1']]) {
  test(`grad --learner ${args.join(' ')} prints the loss and gradient computeGradient gives, as nested arrays`, (t) => {
    const r = run('grad', '--model', modelPath, '--data', dataPath, '--learner', ...args);
    t.is(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { loss: number; grad: { W_in: number[][]; W_rec: number[][]; b: number[]; W_out: number[][] } };
    const w = parseModel(model);
    const seq = parseData(data, w);
    const window = args[1] === '--window' ? Number(args[2]) : undefined;
    const feedback = args[1] === '--feedback' ? (args[2] as 'transpose') : undefined;
    const want = computeGradient(args[0] as 'bptt', w, seq.x, seq.target, { window, feedback });
    t.true(Math.abs(out.loss - want.loss) < 1e-12);
    t.is(out.grad.W_in.length, 3);
    t.is(out.grad.W_in[0].length, 2);
    t.is(out.grad.W_out.length, 2);
    t.is(out.grad.W_out[0].length, 3);
    close(t, out.grad.W_in, want.grad.W_in, 'W_in');
    close(t, out.grad.W_rec, want.grad.W_rec, 'W_rec');
    close(t, out.grad.b, want.grad.b, 'b');
    close(t, out.grad.W_out, want.grad.W_out, 'W_out');
  });
}

test('grad accepts a model without inputs (W_in as N empty rows), with x as empty rows or left out', (t) => {
  const m = { ...model, W_in: [[], [], []] };
  const d = { x: data.x.map(() => []), target: data.target };
  const r = run('grad', '--model', file('m0.json', m), '--data', file('d0.json', d), '--learner', 'rtrl');
  t.is(r.code, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout).grad.W_in, [[], [], []]);
  const noX = run('grad', '--model', file('m0b.json', m), '--data', file('d0b.json', { target: data.target }), '--learner', 'rtrl');
  t.is(noX.code, 0, noX.stderr);
  t.is(noX.stdout, r.stdout);
});

test('grad exits 2 and names W_rec and its expected shape when W_rec is 3 x 2', (t) => {
  const bad = { ...model, W_rec: model.W_rec.map((r) => r.slice(0, 2)) };
  const r = run('grad', '--model', file('bad-rec.json', bad), '--data', dataPath, '--learner', 'bptt');
  t.is(r.code, 2);
  t.regex(r.stderr, /model\.json: W_rec must be 3 x 3 \(N x N\), got 3 x 2/);
  t.notRegex(r.stderr, /\n\s+at /); // no stack trace
  t.is(r.stdout, '');
});

test('grad exits 2 and names the cell when a target is not a number', (t) => {
  const bad = { ...data, target: data.target.map((r, i) => (i === 4 ? ['abc', 0] : r)) };
  const r = run('grad', '--model', modelPath, '--data', file('bad-target.json', bad), '--learner', 'rtrl');
  t.is(r.code, 2);
  t.regex(r.stderr, /data\.json: target\[4\]\[0\] must be a finite number, got "abc"/);
});

test('grad exits 2 when rflo has no B, and says to add it or use transpose feedback', (t) => {
  const { B: _b, ...noB } = model;
  const p = file('nob.json', noB);
  const r = run('grad', '--model', p, '--data', dataPath, '--learner', 'rflo');
  t.is(r.code, 2);
  t.regex(r.stderr, /missing field "B".*N x O = 3 x 2.*--feedback transpose/);
  t.is(run('grad', '--model', p, '--data', dataPath, '--learner', 'bptt').code, 0);
});

test('grad exits 2 for tau below 1, a missing file, bad JSON and a data shape that does not fit the model', (t) => {
  const lowTau = run('grad', '--model', file('tau.json', { ...model, tau: 0.5 }), '--data', dataPath, '--learner', 'rtrl');
  t.is(lowTau.code, 2);
  t.regex(lowTau.stderr, /tau must be >= 1 \(got 0\.5\)/);
  const missing = run('grad', '--model', join(dir, 'nope.json'), '--data', dataPath, '--learner', 'rtrl');
  t.is(missing.code, 2);
  t.regex(missing.stderr, /no such file/);
  const notJson = run('grad', '--model', file('bad.json', '{"tau": 3,'), '--data', dataPath, '--learner', 'rtrl');
  t.is(notJson.code, 2);
  t.regex(notJson.stderr, /not valid JSON/);
  const wrongX = run('grad', '--model', modelPath, '--data', file('x3.json', { ...data, x: data.x.map((r) => [...r, 0]) }), '--learner', 'rtrl');
  t.is(wrongX.code, 2);
  t.regex(wrongX.stderr, /data\.json: x\[0\] must be an array of 2 numbers/);
});

test('grad exits 2 for an unknown learner, a missing option, and bptt on the fixed engine (float64 only)', (t) => {
  const unknown = run('grad', '--model', modelPath, '--data', dataPath, '--learner', 'adam');
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /Allowed choices are bptt, rtrl, rflo, snap1, output/);
  const missing = run('grad', '--model', modelPath, '--data', dataPath);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /required option '--learner <name>' not specified/);
  const fixed = run('grad', '--model', modelPath, '--data', dataPath, '--learner', 'bptt', '--engine', 'fixed');
  t.is(fixed.code, 2);
  t.regex(fixed.stderr, /--learner bptt runs on the float64 engine only/);
  const win = run('grad', '--model', modelPath, '--data', dataPath, '--learner', 'rtrl', '--window', '3');
  t.is(win.code, 2);
  t.regex(win.stderr, /--window applies to --learner bptt only/);
});

test('--help lists the commands and the exit codes, and exits 0', (t) => {
  const r = run('--help');
  t.is(r.code, 0);
  for (const c of ['demo', 'sim', 'grad', 'plan', 'snapshot', 'board', 'run', 'bench']) t.regex(r.stdout, new RegExp(`\\n  ${c} `));
  t.regex(r.stdout, /Exit codes:\n  0  ok\n  1  runtime failure\n  2  bad usage/);
});

test('every subcommand has a --help that exits 0 and names its options', (t) => {
  const expect: Record<string, string[]> = {
    grad: ['--model', '--data', '--learner', '--window', '--feedback', '--engine'],
    sim: ['--task', '--learner', '--trials', '--steps', '--seeds', '--noise', '--lr-rec', '--lr-out', '--hidden', '--tau', '--update', '--window', '--engine', '--json', '--file', '--columns', '--target', '--horizon'],
    demo: ['--duration', '--learner', '--port', '--hidden', '--out', '--json'],
    plan: ['--learner', '--hidden', '--inputs', '--outputs'],
    'snapshot inspect': ['<file>', '--json'],
    board: ['--virtual'],
    run: ['--port', '--learner', '--duration', '--json'],
    bench: ['--quick', '--no-c', '--no-numpy', '--no-live'],
  };
  for (const [cmd, opts] of Object.entries(expect)) {
    const r = run(...cmd.split(' '), '--help');
    t.is(r.code, 0, cmd);
    for (const o of opts) t.true(r.stdout.includes(o), `${cmd} --help mentions ${o}`);
  }
});

test('an unknown command or option exits 2 with commander\'s message', (t) => {
  const a = run('frobnicate');
  t.is(a.code, 2);
  t.regex(a.stderr, /unknown command 'frobnicate'/);
  const b = run('sim', '--trails', '5');
  t.is(b.code, 2);
  t.regex(b.stderr, /unknown option '--trails'/);
  t.regex(b.stderr, /Did you mean --trials\?/);
});

test('sim --json prints one object with the task, learner, seeds, per-seed NMSE, median and curve', (t) => {
  const r = run('sim', '--task', 'periodic', '--learner', 'rflo', '--trials', '20', '--seeds', '1..3', '--hidden', '10', '--json');
  t.is(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  t.is(s.task, 'periodic');
  t.is(s.learner, 'rflo');
  t.is(s.engine, 'float');
  t.is(s.trials, 20);
  t.deepEqual(s.seeds, [1, 2, 3]);
  t.is(s.nmse.length, 3);
  t.true(s.nmse.every((v: number) => Number.isFinite(v) && v > 0));
  t.is(s.median_nmse, [...s.nmse].sort((a: number, b: number) => a - b)[1]);
  t.is(s.curve.length, 20);
  t.deepEqual(Object.keys(s.curve[0]), ['trial', 'nmse']);
  t.is(s.curve.at(-1).trial, 20);
  t.is(s.lr_rec, 0.03);
  t.false('persistence_nmse' in s);
});

for (const learner of ['rtrl', 'rflo', 'snap1', 'output']) {
  test(`grad --engine fixed --learner ${learner} is the fixed-point learner's gradient, close to the float64 one`, (t) => {
    const fixed = run('grad', '--model', modelPath, '--data', dataPath, '--learner', learner, '--engine', 'fixed');
    t.is(fixed.code, 0, fixed.stderr);
    const float = run('grad', '--model', modelPath, '--data', dataPath, '--learner', learner, '--engine', 'float');
    const a = JSON.parse(fixed.stdout);
    const b = JSON.parse(float.stdout);
    const fa = [a.grad.W_in, a.grad.W_rec, a.grad.b, a.grad.W_out].flat(2) as number[];
    const fb = [b.grad.W_in, b.grad.W_rec, b.grad.b, b.grad.W_out].flat(2) as number[];
    t.is(fa.length, fb.length);
    let diff = 0;
    let max = 0;
    for (let i = 0; i < fa.length; i++) {
      diff = Math.max(diff, Math.abs(fa[i] - fb[i]));
      max = Math.max(max, Math.abs(fb[i]));
    }
    // Q3.12 predictions and Q1.15 states over 6 steps: a few LSB of 2^-12 relative to the largest entry.
    t.true(diff <= 1e-2 * max, `max |fixed - float| = ${diff}, max |float| = ${max}`);
    t.true(Math.abs(a.loss - b.loss) <= 1e-2 * b.loss, `loss ${a.loss} vs ${b.loss}`);
    if (learner !== 'output') t.true(fa.some((v, i) => v !== fb[i]), 'the fixed engine really ran (results differ in the last bits)');
  });
}

test('sim --engine fixed trains the fixed-point learner and tracks the float64 twin on the same seed', (t) => {
  const args = ['sim', '--task', 'periodic', '--learner', 'rflo', '--trials', '100', '--seeds', '1', '--hidden', '12', '--json'];
  const fixed = run(...args, '--engine', 'fixed');
  t.is(fixed.code, 0, fixed.stderr);
  const float = run(...args, '--engine', 'float');
  const a = JSON.parse(fixed.stdout);
  const b = JSON.parse(float.stdout);
  t.is(a.engine, 'fixed');
  t.is(b.engine, 'float');
  t.not(a.median_nmse, b.median_nmse);
  t.true(Math.abs(a.median_nmse - b.median_nmse) <= 0.05 * b.median_nmse, `fixed ${a.median_nmse} vs float ${b.median_nmse}`);
});

test('sim --seeds 1,2,7 runs those seeds and the table has a row per seed and a median', (t) => {
  const r = run('sim', '--learner', 'output', '--trials', '5', '--seeds', '1,2,7', '--hidden', '8');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /\n1 +\d/);
  t.regex(r.stdout, /\n7 +\d/);
  t.regex(r.stdout, /\nmedian +\d/);
});

test('sim on the example CSV reports skipped samples and the persistence NMSE', (t) => {
  const r = run('sim', '--task', 'csv', '--file', 'examples/sensor-log.csv', '--columns', 'temperature,humidity,light', '--target', 'temperature', '--horizon', '3', '--learner', 'output', '--json');
  t.is(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  t.is(s.task, 'csv');
  t.is(s.trials, null);
  t.true(s.steps > 1000);
  t.true(s.skipped > 0);
  t.true(s.persistence_nmse > 0 && s.persistence_nmse < 1);
  t.true(Number.isFinite(s.median_nmse));
});

test('sim csv with an unknown column exits 2 and lists the available columns', (t) => {
  const r = run('sim', '--task', 'csv', '--file', 'examples/sensor-log.csv', '--columns', 'temp', '--target', 'temperature');
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown column "temp"; available columns: time_s, temperature, humidity, light/);
});

test('sim refuses options that do not fit the task or learner with exit code 2', (t) => {
  const a = run('sim', '--task', 'drift', '--trials', '10');
  t.is(a.code, 2);
  t.regex(a.stderr, /--trials applies to trial tasks/);
  const b = run('sim', '--task', 'drift', '--learner', 'bptt', '--steps', '100');
  t.is(b.code, 2);
  t.regex(b.stderr, /bptt needs a trial task/);
  const c = run('sim', '--seeds', 'one');
  t.is(c.code, 2);
  t.regex(c.stderr, /Expected seeds like 1\.\.5 or 1,2,7/);
  const d = run('sim', '--engine', 'fixed', '--learner', 'bptt', '--trials', '1');
  t.is(d.code, 2);
  t.regex(d.stderr, /--learner bptt runs on the float64 engine only/);
});


test('sim --plot DIR writes the learning curve and, for rflo, the alignment figure as SVG and PNG with an index', (t) => {
  const out = join(dir, 'plot-report');
  const r = run('sim', '--task', 'periodic', '--learner', 'rflo', '--trials', '30', '--hidden', '10', '--plot', out);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /report: .*index\.html/);
  for (const f of ['learning-curve.svg', 'learning-curve.png', 'alignment.svg', 'alignment.png', 'index.html', 'summary.json']) {
    t.true(existsSync(join(out, f)), `${f} written`);
  }
  const png = readFileSync(join(out, 'alignment.png'));
  t.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG file');
});
