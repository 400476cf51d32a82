import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartRows, lineChartSpec, writeFigure } from '../sim/plot/charts.ts';
import { writeReportIndex } from '../sim/plot/report.ts';
import { alignmentCurve, writeSimReport } from '../sim/plot/sim-report.ts';
import { createTask } from '../sim/tasks/index.ts';
import { runSim } from '../sim/commands/sim.ts';
import { createFloatLearner } from '../sim/reference/index.ts';
import { initWeights } from '../runtime/init.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'neurostream-plot-'));

/** Width and height from a PNG's IHDR chunk. */
function pngSize(buf: Buffer): { w: number; h: number } {
  return { w: buf.readUInt32BE(16), h: buf.readUInt32BE(20) };
}

test('chart rows are decimated to about maxPoints per series, keep the last point, and drop non-finite and (log scale) non-positive values', (t) => {
  const x = Array.from({ length: 10001 }, (_, i) => i);
  const y = x.map((i) => (i === 5 ? NaN : i === 10 ? -1 : i));
  const lin = chartRows({ series: [{ name: 'a', x, y }], maxPoints: 100 });
  t.true(lin.length <= 102 && lin.length >= 99, `${lin.length} rows`);
  t.is(lin[lin.length - 1].x, 10000, 'last point kept');
  const all = chartRows({ series: [{ name: 'a', x: x.slice(0, 20), y: y.slice(0, 20) }], logY: true });
  t.false(all.some((r) => !Number.isFinite(r.y) || r.y <= 0));
  t.is(all.length, 20 - 3, 'NaN, the negative value and y = 0 are left out on a log scale');
});

test('a figure is written as SVG with its title, series names and event labels, and as a PNG twice its size', async (t) => {
  const dir = tmp();
  const x = Array.from({ length: 500 }, (_, i) => i);
  const spec = lineChartSpec({
    title: 'Running NMSE test chart',
    xTitle: 'sample',
    yTitle: 'NMSE',
    logY: true,
    series: [
      { name: 'fixed RFLO', x, y: x.map((i) => 1 / (1 + i)) },
      { name: 'baseline', x, y: x.map(() => 0.5), dashed: true },
    ],
    rules: [{ x: 250, label: 'drift 1' }],
    width: 400,
    height: 200,
  });
  const f = await writeFigure(dir, 'chart', spec, 'a caption');
  const svg = readFileSync(join(dir, f.svg), 'utf8');
  t.true(svg.startsWith('<svg'));
  for (const s of ['Running NMSE test chart', 'fixed RFLO', 'baseline', 'drift 1']) t.true(svg.includes(s), `SVG mentions ${s}`);
  const png = readFileSync(join(dir, f.png));
  t.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const w = Number(/width="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
  t.is(pngSize(png).w, Math.round(2 * w));
  t.true(existsSync(join(dir, 'chart.vl.json')));
  rmSync(dir, { recursive: true, force: true });
});

test('the report index lists every figure and the summary table, and escapes HTML', (t) => {
  const dir = tmp();
  const html = writeReportIndex(dir, {
    title: 'Demo <report>',
    intro: ['ran & learned'],
    table: [
      ['learner', 'NMSE'],
      ['RFLO', '0.01'],
    ],
    figures: [{ name: 'nmse', title: 'Running NMSE', caption: 'c', svg: 'nmse.svg', png: 'nmse.png' }],
  });
  const h = readFileSync(html, 'utf8');
  t.true(h.includes('Demo &lt;report&gt;') && h.includes('ran &amp; learned'));
  t.true(h.includes('<img src="nmse.png"') && h.includes('href="nmse.svg"') && h.includes('<td>0.01</td>'));
  const md = readFileSync(join(dir, 'index.md'), 'utf8');
  t.true(md.includes('![Running NMSE](nmse.png)') && md.includes('| RFLO | 0.01 |'));
  rmSync(dir, { recursive: true, force: true });
});

test('alignment with BPTT is 1 for RTRL at every point (same weights, same sequence), on a trial task and on a stream', (t) => {
  const trial = alignmentCurve({ learner: 'rtrl', task: createTask('periodic', { period: 40 }), hidden: 6, tau: 4, lrRec: 0.1, lrOut: 0.1, seed: 3, trials: 20, points: 3 });
  const stream = alignmentCurve({ learner: 'rtrl', task: createTask('drift', { seed: 2, channels: 2, steps: 400 }), hidden: 6, tau: 4, lrRec: 0.1, lrOut: 0.1, seed: 3, trials: 400, window: 50, points: 3 });
  t.is(trial.length, 3);
  t.is(trial[0].at, 0, 'the first point is before any learning');
  t.is(stream.length, 3);
  for (const p of [...trial, ...stream]) {
    t.true(Math.abs(p.cos_w_rec - 1) < 1e-9, `W_rec cosine ${p.cos_w_rec} at ${p.at}`);
    t.true(Math.abs(p.cos_recurrent - 1) < 1e-9, `recurrent cosine ${p.cos_recurrent} at ${p.at}`);
  }
});

test("RFLO's W_out comes to align with its feedback matrix B during training on the periodic task (Murray 2019, Fig. 2c)", (t) => {
  const a = alignmentCurve({ task: createTask('periodic', {}), hidden: 30, tau: 10, lrRec: 0.03, lrOut: 0.03, seed: 1, trials: 150, points: 4 });
  const first = a[0];
  const last = a[a.length - 1];
  t.true(Math.abs(first.cos_wout_b) < 0.3, `before learning W_out and B are unrelated random draws: ${first.cos_wout_b}`);
  t.true(last.cos_wout_b > 0.5, `after ${last.at} trials: ${last.cos_wout_b}`);
  t.true(last.loss < first.loss, `loss of the measured trial falls: ${first.loss} -> ${last.loss}`);
});

test('the sim report draws learning curves of several learners and the alignment, with their numbers in the index', async (t) => {
  const dir = tmp();
  const a = runSim({ task: 'periodic', learner: 'rflo', seeds: [1], trials: 40, curvePoints: 4 });
  const b = runSim({ task: 'periodic', learner: 'output', seeds: [1], trials: 40, curvePoints: 4 });
  const alignment = alignmentCurve({ task: createTask('periodic', {}), hidden: 30, tau: 10, lrRec: 0.03, lrOut: 0.03, seed: 1, trials: 40, points: 3 });
  const html = await writeSimReport(dir, { runs: [a, b], alignment });
  for (const f of ['learning-curve.png', 'learning-curve.svg', 'alignment.png', 'alignment.svg', 'index.md', 'summary.json']) t.true(existsSync(join(dir, f)), f);
  const svg = readFileSync(join(dir, 'learning-curve.svg'), 'utf8');
  t.true(svg.includes('rflo (float)') && svg.includes('output (float)'));
  const h = readFileSync(html, 'utf8');
  t.true(h.includes(a.median_nmse.toPrecision(4)), 'RFLO median NMSE in the table');
  t.true(h.includes(b.median_nmse.toPrecision(4)), 'output-only median NMSE in the table');
  const drift = runSim({ task: 'drift', learner: 'rflo', seeds: [1], steps: 3000, changeEvery: 1000, curvePoints: 6 });
  const dir2 = tmp();
  await writeSimReport(dir2, drift);
  const svg2 = readFileSync(join(dir2, 'learning-curve.svg'), 'utf8');
  t.true(svg2.includes('change 1') && svg2.includes('persistence'), 'drift changes drawn as rules, persistence as a line');
  rmSync(dir, { recursive: true, force: true });
  rmSync(dir2, { recursive: true, force: true });
});

test('on a stream each alignment window starts from the learner state reached so far, not from h0', (t) => {
  // With learning rates 0 the measured loss of each window must equal the loss of the same samples in one
  // continuous run from the start.
  const T = 50;
  const a = alignmentCurve({ task: createTask('drift', { seed: 2, channels: 2, steps: 400 }), hidden: 6, tau: 4, lrRec: 0, lrOut: 0, seed: 3, trials: 400, window: T, points: 8 });
  const task = createTask('drift', { seed: 2, channels: 2, steps: 400 });
  const learner = createFloatLearner(
    { learner: 'rflo', inputs: 2, hidden: 6, outputs: 2, tau: 4, lrRec: 0, lrOut: 0, update: 'step', trialLength: 1 },
    initWeights({ inputs: 2, hidden: 6, outputs: 2, tau: 4, seed: 3 }),
  );
  const x = new Float64Array(2);
  const tg = new Float64Array(2);
  const y = new Float64Array(2);
  const loss: number[] = [];
  for (let u = 0; u < 8; u++) {
    let L = 0;
    for (let s = 0; s < T; s++) {
      task.next(x, tg);
      learner.step(x, tg, y);
      L += 0.5 * ((tg[0] - y[0]) ** 2 + (tg[1] - y[1]) ** 2);
    }
    loss.push(L);
  }
  t.is(a.length, 8);
  for (const p of a) t.true(Math.abs(p.loss - loss[p.at / T]) < 1e-9 * (1 + loss[p.at / T]), `window at ${p.at}: ${p.loss} vs ${loss[p.at / T]}`);
});
