// Real-world CSV logs: dialects, absurd values and constant columns. The files in test/fixtures/bad-input/ are the
// examples of each kind (see its README); every other test here is another instance of the same kind.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCsvTask, type CsvOptions } from '../sim/tasks/csv.ts';
import type { Task } from '../sim/tasks/task.ts';
import { InputError } from '../sim/modelio.ts';
import { runSim } from '../sim/commands/sim.ts';
import { createScaler } from '../runtime/scaler.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test', 'fixtures', 'bad-input');
const dir = mkdtempSync(join(tmpdir(), 'ns-csv-'));
function tmp(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Every sample the task feeds, in sensor units (targets mapped back with scale/offset). */
function fed(task: Task): { x: number[][]; t: number[] } {
  const x = new Float64Array(task.inputs);
  const y = new Float64Array(1);
  const xs: number[][] = [];
  const ts: number[] = [];
  task.reset();
  while (task.next(x, y)) {
    xs.push([...x]);
    ts.push(y[0] * task.scale[0] + task.offset[0]);
  }
  return { x: xs, t: ts };
}

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'neurostream.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TH = { columns: ['temperature', 'humidity'], target: 'temperature' };

// ---- kind 1: CSV dialects

test('quoted-comma/minimal.csv: "Lake, North" is one cell, and temperature is read from its own column', (t) => {
  const task = createCsvTask({ file: join(fixtures, 'quoted-comma', 'minimal.csv'), ...TH, normalize: false });
  const r = fed(task);
  t.deepEqual(r.x, [[18.0, 56.3], [18.2, 55.6]]);
  t.deepEqual(r.t, [18.2, 18.4]);
  t.is(task.skipped, 0);
});

test('quoted-comma/log.csv: every sample equals the columns of its line, none skipped (sim --json, exit 0)', (t) => {
  const file = join(fixtures, 'quoted-comma', 'log.csv');
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  const r = fed(createCsvTask({ file, ...TH, normalize: false }));
  t.is(r.x.length, lines.length - 1);
  for (let i = 0; i < r.x.length; i++) {
    const cells = lines[i].split(',');
    // "Lake, North" takes two comma-split pieces: temperature is the 4th piece, humidity the 5th
    t.deepEqual(r.x[i], [Number(cells[3]), Number(cells[4])], `line ${i + 2}`);
  }
  const out = cli('sim', '--task', 'csv', '--file', file, '--columns', 'temperature,humidity', '--target', 'temperature', '--json');
  t.is(out.code, 0, out.stderr);
  const s = JSON.parse(out.stdout) as { steps: number; skipped: number; nmse: number[]; persistence_nmse: number };
  t.is(s.steps, 399);
  t.is(s.skipped, 0);
  t.true(s.nmse[0] < s.persistence_nmse, `RFLO ${s.nmse[0]} vs persistence ${s.persistence_nmse}`);
});

test('semicolons, decimal commas, CRLF, a BOM, a quoted header and a units row are read as the numbers they are', (t) => {
  const text = '\ufeff"time";"temperature";"humidity"\r\ns;°C;%\r\n0;18,5;56,3\r\n60;18,7;55,6\r\n120;19,1;55,2\r\n';
  const task = createCsvTask({ file: tmp('eu.csv', text), ...TH, normalize: false });
  t.deepEqual(fed(task), { x: [[18.5, 56.3], [18.7, 55.6]], t: [18.7, 19.1] });
  t.regex(task.describe(), /separator ';', decimal ','/);
  t.regex(task.notes!.join('\n'), /units row \(line 2\) left out: °C, %, °C/);
});

test('tabs, "" escapes, line breaks inside quotes, CR-only line ends and missing markers (--missing -9999)', (t) => {
  const text = ['site\tnote\ttemperature\thumidity', 'a\t"said ""hi""\tthere"\t18.5\t56', 'a\t"two\nlines"\t-9999\t55', 'a\tx\t19\tNA', 'a\ty\t19.5\t54', 'a\tz\t20\t53'].join('\r');
  const task = createCsvTask({ file: tmp('tab.csv', text), ...TH, normalize: false, missing: ['-9999'] });
  const r = fed(task);
  // row 1 (temperature -9999: missing) and row 2 (humidity NA) are skipped; row 0's target is row 1's -9999: skipped
  t.deepEqual(r, { x: [[19.5, 54]], t: [20] });
  t.is(task.skipped, 3);
  t.regex(task.notes!.join('\n'), /column temperature: 1 missing reading[\s\S]*column humidity: 1 missing reading/);
  // -9999 is a number like any other without --missing: a reading, not a gap (the guard needs 8 values to judge)
  t.is(createCsvTask({ file: tmp('tab2.csv', text), ...TH, normalize: false }).skipped, 1);
});

test('--delimiter and --decimal given explicitly override the detection; a wrong pair says what the cells look like', (t) => {
  const text = 'temperature;humidity\n18,5;56,3\n18,7;55,6\n19,1;55,2\n';
  const file = tmp('semi.csv', text);
  t.deepEqual(fed(createCsvTask({ file, ...TH, normalize: false, delimiter: ';', decimal: ',' })).x, [[18.5, 56.3], [18.7, 55.6]]);
  const err = t.throws(() => createCsvTask({ file, ...TH, delimiter: ';', decimal: '.' }), { instanceOf: InputError });
  t.regex(err.message, /no usable sample: column temperature \(--columns\) has 0 numeric, 0 missing and 3 non-numeric cell\(s\); line 2 has "18,5" \(a decimal comma\? try --decimal ,/);
  const err2 = t.throws(() => createCsvTask({ file, ...TH, delimiter: ',' }), { instanceOf: InputError });
  t.regex(err2.message, /unknown column "temperature".*read as one column with separator ',': try --delimiter/);
});

test('a repeated column name is refused as ambiguous, naming both positions', (t) => {
  const file = tmp('dup.csv', 'time,temperature,humidity,temperature\n0,18,56,19\n1,18.5,55,19.5\n');
  const err = t.throws(() => createCsvTask({ file, ...TH }), { instanceOf: InputError });
  t.regex(err.message, /"temperature", which appears 2 times in the header .*\(columns 2 and 4\); the name is ambiguous/);
  // a repeated name that is not used is no ambiguity
  t.notThrows(() => createCsvTask({ file: tmp('dup2.csv', 'x,x,a,b\n1,2,3,4\n5,6,7,8\n'), columns: ['a'], target: 'b' }));
});

test('when nothing is usable the error names the column, the line and what the cell looked like', (t) => {
  const file = tmp('none.csv', 'time,temperature,humidity\n0,n/a,56\n1,--,55\n2,--,54\n');
  const err = t.throws(() => createCsvTask({ file, ...TH }), { instanceOf: InputError });
  t.regex(err.message, /column temperature \(--columns\) has 0 numeric, 1 missing and 2 non-numeric cell\(s\); line 3 has "--"/);
  const bad = tmp('quote.csv', 'temperature,humidity\n"18,5\n');
  t.throws(() => createCsvTask({ file: bad, ...TH }), { message: /is not valid CSV with separator ',': .*Quote Not Closed/i });
});

test('sim --task csv takes --delimiter, --decimal and --missing', (t) => {
  const file = tmp('cli.csv', 'temperature;humidity\n' + Array.from({ length: 40 }, (_, i) => `${(18 + Math.sin(i / 5)).toFixed(2).replace('.', ',')};${i % 9 === 0 ? '-9999' : (50 + i / 10).toFixed(1).replace('.', ',')}`).join('\n'));
  const r = cli('sim', '--task', 'csv', '--file', file, '--columns', 'temperature,humidity', '--target', 'temperature', '--delimiter', ';', '--decimal', ',', '--missing', '-9999', '--json');
  t.is(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { steps: number; skipped: number };
  t.is(s.steps + s.skipped, 39);
  t.is(s.skipped, 5); // rows 0, 9, 18, 27, 36 have a -9999 humidity
  const bad = cli('sim', '--task', 'csv', '--file', file, '--columns', 'temperature', '--target', 'humidity', '--delimiter', 'x');
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--delimiter must be one of , ; tab \|/);
});

// ---- kind 2: one absurd value must not poison the stream

function blanked(file: string, line: number, col: number): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  const cells = lines[line - 1].split(',');
  cells[col] = '';
  lines[line - 1] = cells.join(',');
  return tmp(`blank-${line}-${col}.csv`, lines.join('\n'));
}

for (const [name, col, what] of [['log-1e200.csv', 2, 'humidity'], ['log-target-1e200.csv', 1, 'temperature']] as const) {
  test(`glitch/${name}: the 1e200 ${what} cell costs its samples, counted, and every other sample is fed as if it were missing`, (t) => {
    const file = join(fixtures, 'glitch', name);
    const task = createCsvTask({ file, ...TH });
    const clean = createCsvTask({ file: blanked(file, 102, col), ...TH });
    t.deepEqual(fed(task), fed(clean));
    t.true(task.rejected! >= 1);
    t.is(task.skipped, clean.skipped);
    t.regex(task.notes!.join('\n'), new RegExp(`column ${what}: 1 outlier\\(s\\) rejected .* line 102: 1e\\+200`));
    // the later rows of the glitched column still vary after scaling (they were flattened to 0 before)
    const r = fed(task);
    const later = r.x.slice(150).map((v) => v[col - 1]);
    const sd = Math.sqrt(later.reduce((a, v) => a + v * v, 0) / later.length);
    t.true(sd > 0.3, `scaled ${what} after the glitch has rms ${sd}`);
  });
}

test('sim on the glitched logs says what was rejected and prints no learning-rate hint', (t) => {
  for (const name of ['log-1e200.csv', 'log-target-1e200.csv']) {
    const r = cli('sim', '--task', 'csv', '--file', join(fixtures, 'glitch', name), '--columns', 'temperature,humidity', '--target', 'temperature');
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /rejected by the outlier guard/);
    t.regex(r.stdout, /data: column (humidity|temperature): 1 outlier/);
    t.notRegex(r.stdout, /diverged|--lr-rec/);
  }
});

test('another absurd value: a -1e300 in a three-channel log and a 65535 spike are rejected; a real level shift is not', (t) => {
  const rows = ['a,b,c,d'];
  for (let i = 0; i < 300; i++) {
    const a = i === 120 ? '-1e300' : (Math.sin(i / 7) * 3).toFixed(3);
    const b = i === 200 ? '65535' : (512 + Math.cos(i / 11) * 20).toFixed(0);
    const c = 10 + Math.sin(i / 3);
    const d = (i < 150 ? 10 : 40) + Math.sin(i / 3); // a level shift of 40 sd at row 150: real, kept
    rows.push(`${a},${b},${c.toFixed(3)},${d.toFixed(3)}`);
  }
  const task = createCsvTask({ file: tmp('spikes.csv', rows.join('\n')), columns: ['a', 'b'], target: 'c' });
  t.is(task.rejected, 2);
  t.is(task.skipped, 2);
  t.regex(task.notes!.join('\n'), /column a: 1 outlier.* line 122: -1e\+300[\s\S]*column b: 1 outlier.* line 202: 65535/);
  const shifted = createCsvTask({ file: tmp('shift.csv', rows.join('\n')), columns: ['c'], target: 'd' });
  // the shift costs the guard's run (16 samples) once, then the new level is learned
  t.true(shifted.rejected! <= 17, `level shift rejected ${shifted.rejected} samples`);
});

test('an absurd value in the first rows is rejected too, and does not widen the spread that judges later rows', (t) => {
  // an unflagged -9999 marker in row 7 and every 41 rows after it, and a 65535 spike in row 3 of another column
  const rows = ['temperature,humidity,adc'];
  const bad: number[] = [];
  for (let i = 0; i < 400; i++) {
    const h = i % 41 === 6 ? '-9999' : (45 + Math.sin(i / 9) * 2).toFixed(2);
    if (h === '-9999') bad.push(i + 2);
    const adc = i === 2 ? '65535' : (500 + ((i * 7) % 13) - 6).toString(); // an ADC whose readings differ from the start
    rows.push(`${(20 + Math.sin(i / 13)).toFixed(3)},${h},${adc}`);
  }
  const task = createCsvTask({ file: tmp('early-marker.csv', rows.join('\n')), columns: ['humidity', 'adc'], target: 'temperature' });
  t.is(task.rejected, bad.length + 1, `${bad.length} -9999 markers and one spike: ${task.notes?.join(' | ')}`);
  const { x } = fed(task);
  t.true(x.every((r) => r[0] > -50 && r[1] < 1000), 'no marker or spike reached the learner');
  t.regex(task.notes!.join('\n'), /column adc: 1 outlier.*line 4: 65535/);
  // a signal that holds one value for its first rows and then steps is not judged before it has shown a spread
  const steps = ['a,b'];
  for (let i = 0; i < 200; i++) steps.push(`${i < 40 ? 1 : 3},${Math.sin(i / 5).toFixed(3)}`);
  const held = createCsvTask({ file: tmp('held.csv', steps.join('\n')), columns: ['a'], target: 'b' });
  t.is(held.rejected, 0);
});

test('StreamScaler: an outlier is rejected, counted and leaves the statistics untouched; a new level restarts them', (t) => {
  for (const mode of ['running', 'cumulative'] as const) {
    const s = createScaler({ channels: 2, mode, warmup: 16, outlier: 8, outlierRun: 4 });
    const out = new Float64Array(2);
    for (let i = 0; i < 100; i++) s.scale([100 + (i % 5), 7 * (i % 3)], out);
    const mean = [...s.mean];
    const variance = [...s.variance];
    t.false(s.scale([1e6, 7], out), mode);
    t.is(s.outliers, 1);
    t.false(s.scale([1e200, 7], out), mode); // beyond the declared raw range (default +-2^31): rejected before the guard
    t.is(s.rejected, 2);
    t.deepEqual([...s.outliersPerChannel], [1, 0]);
    t.deepEqual([...s.mean], mean);
    t.deepEqual([...s.variance], variance);
    t.true(s.scale([102, 7], out));
    // four readings in a row far away: the fourth restarts channel 0 at the new level, then it is accepted
    for (let i = 0; i < 4; i++) t.false(s.scale([5000, 7], out));
    t.is(s.restarts, 1);
    s.scale([5000, 7], out);
    t.true(Math.abs(s.mean[0] - 5000) < 1e-9, `${mode}: mean ${s.mean[0]}`);
  }
});

// ---- kind 3: say what went wrong

test('constant/rain-all-zero.csv: a constant target makes the NMSE undefined, said as such; nothing "overflowed"', (t) => {
  const file = join(fixtures, 'constant', 'rain-all-zero.csv');
  const json = cli('sim', '--task', 'csv', '--file', file, '--columns', 'temperature', '--target', 'rain_mm', '--json');
  t.is(json.code, 0, json.stderr);
  const s = JSON.parse(json.stdout) as { nmse: (number | null)[]; median_nmse: number | null; diverged: unknown[]; nmse_undefined: string; persistence_nmse: number | null };
  t.deepEqual(s.nmse, [null]);
  t.is(s.median_nmse, null);
  t.is(s.persistence_nmse, null);
  t.deepEqual(s.diverged, [false], "no seed diverged: false per seed, not null");
  t.regex(s.nmse_undefined, /target is constant/);
  const text = cli('sim', '--task', 'csv', '--file', file, '--columns', 'temperature', '--target', 'rain_mm');
  t.regex(text.stdout, /median\s+undefined\s+undefined/);
  t.regex(text.stdout, /target column rain_mm is constant \(every target is 0\)/);
  t.notRegex(text.stdout, /overflowed|Infinity|NaN|diverged/);
});

test('a stuck input channel (an analog pin at 1023) is named as constant; a constant target on the fixed engine is not a divergence', (t) => {
  const rows = ['pin,temp'];
  for (let i = 0; i < 100; i++) rows.push(`1023,${(20 + Math.sin(i / 4)).toFixed(3)}`);
  const task = createCsvTask({ file: tmp('stuck.csv', rows.join('\n')), columns: ['pin'], target: 'temp' });
  t.regex(task.notes!.join('\n'), /input column pin is constant \(every value fed is 1023\).*stuck pin/);
  const flat = ['x,y', ...Array.from({ length: 60 }, (_, i) => `${Math.sin(i)},5`)].join('\n');
  const o: CsvOptions = { file: tmp('flat.csv', flat), columns: ['x'], target: 'y' };
  const s = runSim({ task: 'csv', learner: 'rflo', engine: 'fixed', seeds: [1, 2], file: o.file, columns: o.columns, target: o.target });
  t.deepEqual(s.diverged, [false, false]);
  t.regex(s.nmse_undefined ?? '', /constant/);
});
