import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatTune, runTune } from '../sim/commands/tune.ts';
import { runSim } from '../sim/commands/sim.ts';
import { createTask } from '../sim/tasks/index.ts';
import { readStreamConfig } from '../sim/stream-config.ts';
import { InputError, jsonSyntaxError } from '../sim/modelio.ts';

const dir = mkdtempSync(join(tmpdir(), 'ns-tune-'));

/** A recorded log of 5000 samples of the virtual board (heater scenario): drive, fan, ambient and the temperature. */
function boardLog(scenario: 'heater' | 'mix', seed: number): string {
  const task = createTask('board', { seed, scenario, steps: 5000 });
  const x = new Float64Array(3);
  const t = new Float64Array(1);
  const rows = ['a,b,c,y'];
  while (task.next(x, t)) rows.push([...x, t[0]].map((v) => v.toFixed(5)).join(','));
  const p = join(dir, `${scenario}-${seed}.csv`);
  writeFileSync(p, rows.join('\n') + '\n');
  return p;
}

test('tune stops trying candidates once its budget is spent (a hang check, not a speed bound)', (t) => {
  const file = boardLog('heater', 5);
  const start = Date.now();
  const r = runTune({ task: 'csv', file, columns: ['a', 'b', 'c'], target: 'y', learner: 'rflo', budget: 1 });
  const wall = (Date.now() - start) / 1000;
  t.true(r.tried >= 1 && r.tried < r.grid, `tried ${r.tried} of ${r.grid}`);
  // One candidate may start just before the budget ends, and the held-out scoring follows: generous slack.
  t.true(wall < 1 + 30, `took ${wall} s for a 1 s budget`);
});

test('on a recorded log of 5000 samples, the configuration tune chooses on the first half scores no worse than the defaults on the second', (t) => {
  for (const [scenario, seed] of [['heater', 5], ['mix', 5]] as const) {
    const file = boardLog(scenario, seed);
    const out = join(dir, `tuned-${scenario}.json`);
    const r = runTune({ task: 'csv', file, columns: ['a', 'b', 'c'], target: 'y', learner: 'rflo', candidates: 24, budget: 600, out });
    t.is(r.tried, 24);
    // 5000 rows, one step ahead: every sample the CSV reader kept is in the prefix or the held-out rest; the rest of
    // the 4999 are the ones it skipped (the outlier guard holds back the first samples after a level change).
    const probe = createTask('csv', { file, columns: ['a', 'b', 'c'], target: 'y' });
    const x = new Float64Array(3);
    const y = new Float64Array(1);
    let kept = 0;
    while (probe.next(x, y)) kept++;
    t.is(r.prefix + r.rest, kept);
    t.is(kept + probe.skipped, 4999);
    t.is(r.prefix, Math.floor(kept / 2));
    t.true(r.best.prefix_nmse <= r.defaults.prefix_nmse);
    t.true((r.best_rest_nmse as number) <= (r.defaults_rest_nmse as number), `${scenario}: held out ${r.best_rest_nmse} vs defaults ${r.defaults_rest_nmse}`);
    t.log(`${scenario}: prefix ${r.best.prefix_nmse.toPrecision(3)} vs defaults ${r.defaults.prefix_nmse.toPrecision(3)}; held out ${r.best_rest_nmse?.toPrecision(3)} vs ${r.defaults_rest_nmse?.toPrecision(3)}`);
    // The file round-trips into sim --config, which then runs the chosen configuration.
    const cfg = readStreamConfig(out);
    t.is(cfg.hidden, r.best.hidden);
    t.is(cfg.tau, r.best.tau);
    const s = runSim({ task: 'csv', file, columns: ['a', 'b', 'c'], target: 'y', learner: 'rflo', seeds: [1], config: out });
    t.is(s.hidden, r.best.hidden);
    t.is(s.lr_out, r.best.lrOut);
    t.is(s.direct, r.best.direct);
  }
});

test('sim --config refuses a file that is not a tuned configuration, naming the field', (t) => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ format: 'neurostream-stream-config', version: 1, learner: 'rflo', hidden: 0 }));
  t.throws(() => readStreamConfig(bad), { instanceOf: InputError, message: /"hidden" must be an integer >= 1 \(got 0\)/ });
  writeFileSync(bad, '{"hidden": 3');
  t.throws(() => readStreamConfig(bad), { instanceOf: InputError, message: /not valid JSON/ });
  const ok = JSON.parse(JSON.stringify({ format: 'neurostream-stream-config', version: 1, learner: 'snap1', hidden: 8, tau: 2, lr_rec: 0.01, lr_out: 0.3, direct: true, normalized: true, max_rec_step: null }));
  writeFileSync(bad, JSON.stringify(ok));
  t.throws(() => runSim({ task: 'drift', learner: 'rflo', seeds: [1], steps: 200, config: bad }), { message: /tuned for --learner snap1/ });
  t.notThrows(() => readFileSync(bad));
  // The readout fields: RLS and the normalised delta rule are two rules, and lambda must be a forgetting factor.
  writeFileSync(bad, JSON.stringify({ ...ok, learner: 'rflo', rls_readout: 0.99 }));
  t.throws(() => readStreamConfig(bad), { instanceOf: InputError, message: /"rls_readout" and "normalized" are two readout rules/ });
  writeFileSync(bad, JSON.stringify({ ...ok, learner: 'rflo', normalized: false, rls_readout: 1.5 }));
  t.throws(() => readStreamConfig(bad), { instanceOf: InputError, message: /"rls_readout" must be a forgetting factor in \(0, 1\]/ });
  writeFileSync(bad, JSON.stringify({ ...ok, learner: 'rflo', normalized: false, rls_readout: 0.995, gain: 1.1, input_scale: 0.5 }));
  const c = readStreamConfig(bad);
  t.deepEqual([c.rlsReadout, c.gain, c.inScale], [0.995, 1.1, 0.5]);
  const s = runSim({ task: 'drift', learner: 'rflo', seeds: [1], steps: 200, config: bad });
  t.deepEqual([s.rls_readout, s.gain, s.normalized, s.input_scale], [0.995, 1.1, false, 0.5]);
  writeFileSync(bad, JSON.stringify({ ...ok, learner: 'rflo', input_scale: -1 }));
  t.throws(() => readStreamConfig(bad), { instanceOf: InputError, message: /"input_scale" must be a number >= 0 \(got -1\)/ });
  // A file from before these fields (no rls_readout, no gain, no input_scale) still reads: the delta rule, Murray's
  // gain, W_in ~ U(-1, 1).
  writeFileSync(bad, JSON.stringify({ ...ok, learner: 'rflo' }));
  const old = runSim({ task: 'drift', learner: 'rflo', seeds: [1], steps: 200, config: bad });
  t.deepEqual([old.rls_readout, old.gain, old.normalized, old.input_scale], [null, 1.5, true, 1]);
});

test('tune on a log too short to search says so in rows and samples, not as a --prefix the user never gave', (t) => {
  const two = join(dir, 'two-rows.csv');
  writeFileSync(two, 'a,b\n1,2\n3,4\n');
  const err = t.throws(() => runTune({ task: 'csv', file: two, columns: ['a'], target: 'b', learner: 'rflo' }), { instanceOf: InputError });
  t.regex(err!.message, /the log .*two-rows\.csv is too short: 2 data rows give 1 sample .*at least 100 samples.*at least 101 data rows/);
  t.notRegex(err!.message, /--prefix/);
  // with --horizon 3, three rows of each log carry no target
  const short = join(dir, 'short.csv');
  writeFileSync(short, 'a,b\n' + Array.from({ length: 50 }, (_, i) => `${i},${Math.sin(i)}`).join('\n') + '\n');
  t.throws(() => runTune({ task: 'csv', file: short, columns: ['a'], target: 'b', learner: 'rflo', horizon: 3 }), { instanceOf: InputError, message: /50 data rows give 47 samples .*--horizon 3.*at least 103 data rows/ });
  // a simulated stream: said in --steps
  t.throws(() => runTune({ task: 'drift', steps: 50, learner: 'rflo' }), { instanceOf: InputError, message: /tune: --steps 50 is too short.*give --steps 100 or more/ });
  // a stream of 100..199 samples is searched on its first 100 (no held-out score) instead of refused
  const r = runTune({ task: 'drift', steps: 150, learner: 'output', candidates: 2 });
  t.is(r.prefix, 100);
  t.is(r.best_rest_nmse, null);
  // a --prefix the user did give, beyond the stream, is named as such
  t.throws(() => runTune({ task: 'drift', steps: 1000, prefix: 2000, learner: 'rflo' }), { instanceOf: InputError, message: /tune --prefix 2000 is longer than the stream \(1000 samples\); give --prefix 100 to 1000/ });
});

test('sim --config with broken JSON names the file, the line and column, and what to do', (t) => {
  const bad = join(dir, 'broken.json');
  writeFileSync(bad, '{"format": "neurostream-stream-config",\n "version": 1\n "learner": "rflo"}\n');
  const err = t.throws(() => readStreamConfig(bad), { instanceOf: InputError });
  t.true(err!.message.startsWith(`--config ${bad}: not valid JSON: `), err!.message);
  t.regex(err!.message, /at line 3, column 2/);
  t.regex(err!.message, /write it again with neurostream tune/);
  writeFileSync(bad, '');
  t.throws(() => readStreamConfig(bad), { instanceOf: InputError, message: /not valid JSON: the file is empty/ });
  writeFileSync(bad, '{"hidden": 3');
  t.throws(() => readStreamConfig(bad), { instanceOf: InputError, message: /(it ends early, at line 1, column 13|at line 1, column 13, where the file ends)/ });
  // the position as newer V8 versions report it, with the line and column already in the message
  t.is(jsonSyntaxError('{"a" 1}', new SyntaxError("Expected ':' after property name in JSON at position 5 (line 1 column 6)")), "Expected ':' after property name at line 1, column 6");
});

test('the tune table keeps its columns at rank 10, and its progress off a terminal is not one line per candidate', (t) => {
  const r = runTune({ task: 'drift', steps: 600, learner: 'output', candidates: 12 });
  const lines = formatTune(r).split('\n').filter((l) => /^\s*\d+( \(defaults\))?\s/.test(l));
  t.is(lines.length, 10);
  // every rank ends in the same column, and so does every value of the next column (N)
  const rankEnd = lines.map((l) => /^\s*\d+/.exec(l)![0].length);
  t.deepEqual(new Set(rankEnd).size, 1, lines.join('\n'));
  const nEnd = lines.map((l) => /^\s*\d+( \(defaults\))?\s+\d+/.exec(l)![0].length);
  t.deepEqual(new Set(nEnd).size, 1, lines.join('\n'));
  // the command, with stderr to a pipe (a log, not a terminal): 30 candidates do not print 30 progress lines
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const out = join(dir, 'progress.json');
  const p = spawnSync(process.execPath, [join(root, 'bin', 'neurostream.js'), 'tune', '--task', 'drift', '--steps', '600', '--learner', 'output', '--candidates', '30', '--out', out], { cwd: root, encoding: 'utf8' });
  t.is(p.status, 0, p.stderr);
  const progress = p.stderr.split('\n').filter((l) => l.startsWith('tune:'));
  t.true(progress.length < 30, `${progress.length} progress lines for 30 candidates:\n${p.stderr}`);
});

test('tune on a log whose target never varies exits 2 saying so, instead of ranking candidates whose NMSE is undefined', (t) => {
  const log = join(dir, 'constant.csv');
  const rows = ['time,temperature,rain_mm'];
  for (let i = 0; i < 400; i++) rows.push(`${i},${(20 + 3 * Math.sin(i / 10)).toFixed(2)},0.0`);
  writeFileSync(log, rows.join('\n') + '\n');
  t.throws(() => runTune({ task: 'csv', file: log, columns: ['temperature'], target: 'rain_mm', learner: 'output', budget: 3 }), {
    instanceOf: InputError,
    message: /tune: the target column rain_mm is constant over the \d+ samples tune learns on: .*nothing to rank; check --target/,
  });
});

test('a configuration with a misspelled key is refused naming the key and the one it meant, not as the right key missing', (t) => {
  const bad = join(dir, 'typo.json');
  writeFileSync(bad, JSON.stringify({ format: 'neurostream-stream-config', version: 1, learner: 'rflo', hiden: 16, tau: 2, lr_rec: 0.01, lr_out: 0.1, direct: true, normalized: true }));
  t.throws(() => readStreamConfig(bad), { instanceOf: InputError, message: /unknown key "hiden" \(did you mean "hidden"\?\)/ });
});

test('tune on a stream too short for a held-out score says there is none', (t) => {
  const r = runTune({ task: 'drift', steps: 150, learner: 'output', budget: 2 });
  t.is(r.best_rest_nmse, null);
  t.regex(formatTune(r), /held out: none \(50 samples after the 100-sample prefix, 100 needed\)/);
});
