/**
 * Report of `neurostream sim --plot DIR`: learning curves of one or more runs (any task, any learners), drift
 * events as rules, persistence as a reference line on streams, and, for RFLO, its alignment with the true gradient
 * over training (Murray 2019, Fig. 2c): the cosine between RFLO's update and the BPTT gradient of the same trial
 * (same weights), and the cosine between W_out and the feedback matrix B.
 */
import type { Engine, Feedback, LearnerKind, LearnerOptions, OnlineLearner } from '../../runtime/types.ts';
import { initWeights } from '../../runtime/init.ts';
import { createLearner } from '../engine.ts';
import { computeGradient } from '../reference/index.ts';
import type { Task } from '../tasks/task.ts';
import type { SimSummary } from '../sim-summary.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt } from '../report.ts';
import { lineChartSpec, writeFigure, type Figure, type Series } from './charts.ts';
import { writeReportIndex } from './report.ts';

export interface AlignmentOptions {
  /** The learner whose update is compared with BPTT (default 'rflo'; 'rtrl' must give cosine 1, a check of the set-up). */
  learner?: LearnerKind;
  /** A trial task (alignment per trial, from h0) or a stream (per window of `window` samples, from the current state). */
  task: Task;
  hidden: number;
  tau: number;
  lrRec: number;
  lrOut: number;
  /** Seed of the initial weights (runtime/init.ts, as createSimLearner draws them). */
  seed: number;
  /** Training trials (trial tasks) or samples (streams). */
  trials: number;
  /** Default 'trial' for trial tasks, 'step' for streams. */
  update?: 'trial' | 'step';
  feedback?: Feedback;
  /** Engine of the trained RFLO learner (default 'float'); the gradients are always computed in float64. */
  engine?: Engine;
  /** Measurements along training, the first before any learning (default 20). */
  points?: number;
  /** Streams: samples per gradient window (default 200). */
  window?: number;
}

export interface AlignmentPoint {
  /** Trials (or samples) learned before this measurement. */
  at: number;
  /** cos(the learner's update, the BPTT gradient-descent direction) over W_rec. */
  cos_w_rec: number;
  /** The same over all recurrent parameters (W_in, W_rec, b). */
  cos_recurrent: number;
  /** cos(W_out, B^T) (flattened). */
  cos_wout_b: number;
  /** Loss 1/2 sum |e|^2 of the measured trial or window (weights fixed). */
  loss: number;
}

function cosine(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k];
    const y = b[k];
    for (let i = 0; i < x.length; i++) {
      ab += x[i] * y[i];
      aa += x[i] * x[i];
      bb += y[i] * y[i];
    }
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : NaN;
}

/**
 * Trains RFLO on the task from the seed's initial weights and, at `points` moments (the first before learning),
 * takes the next trial (or window) and computes, with the weights of that moment, RFLO's accumulated term and the
 * exact BPTT gradient of the same sequence (sim/reference computeGradient): their cosine over W_rec and over all
 * recurrent parameters, and the cosine between W_out and B^T. The learner then trains on that sequence as usual.
 * Deterministic in its options.
 */
export function alignmentCurve(o: AlignmentOptions): AlignmentPoint[] {
  const task = o.task;
  const stream = task.trialLength === null;
  const T = stream ? (o.window ?? 200) : (task.trialLength as number);
  const update = o.update ?? (stream ? 'step' : 'trial');
  const weights = initWeights({ inputs: task.inputs, hidden: o.hidden, outputs: task.outputs, tau: o.tau, seed: o.seed });
  const opts: LearnerOptions = {
    learner: o.learner ?? 'rflo',
    inputs: task.inputs,
    hidden: o.hidden,
    outputs: task.outputs,
    tau: o.tau,
    lrRec: o.lrRec,
    lrOut: o.lrOut,
    update,
    trialLength: stream ? 1 : T,
    feedback: o.feedback,
  };
  const learner: OnlineLearner = createLearner(o.engine ?? 'float', opts, weights);
  const units = stream ? Math.floor(o.trials / T) : o.trials;
  const points = Math.max(1, Math.min(o.points ?? 20, units + 1));
  const measureAt = new Set<number>();
  for (let p = 0; p < points; p++) measureAt.add(points === 1 ? 0 : Math.round((p * Math.max(0, units - 1)) / (points - 1)));
  const xs = Array.from({ length: T }, () => new Float64Array(task.inputs));
  const ts = Array.from({ length: T }, () => new Float64Array(task.outputs));
  const y = new Float64Array(task.outputs);
  const h = new Float64Array(o.hidden);
  const out: AlignmentPoint[] = [];
  const transpose = o.feedback === 'transpose';
  for (let u = 0; u < units; u++) {
    if (!stream) task.startTrial();
    let n = 0;
    while (n < T && task.next(xs[n], ts[n])) n++;
    if (n < T) break; // a finite stream ended
    if (measureAt.has(u)) {
      const w = learner.getWeights();
      if (stream) w.h0.set(learner.readHidden(h));
      const r = computeGradient(o.learner ?? 'rflo', w, xs, ts, { feedback: o.feedback });
      const g = computeGradient('bptt', w, xs, ts);
      const O = task.outputs;
      const N = o.hidden;
      const bt = new Float64Array(O * N);
      for (let i = 0; i < N; i++) for (let k = 0; k < O; k++) bt[k * N + i] = transpose ? w.W_out[k * N + i] : w.B[i * O + k];
      out.push({
        at: stream ? u * T : u,
        cos_w_rec: cosine([r.grad.W_rec], [g.grad.W_rec]),
        cos_recurrent: cosine([r.grad.W_in, r.grad.W_rec, r.grad.b], [g.grad.W_in, g.grad.W_rec, g.grad.b]),
        cos_wout_b: cosine([w.W_out], [bt]),
        loss: g.loss,
      });
    }
    if (!stream) learner.resetState();
    for (let s = 0; s < T; s++) learner.step(xs[s], ts[s], y);
    if (!stream) learner.endTrial();
  }
  return out;
}

/** What writeSimReport draws: one or more sim runs (e.g. several learners on one task), and RFLO's alignment. */
export interface SimReportInput {
  runs: SimSummary[];
  alignment?: AlignmentPoint[];
  title?: string;
}

const COLORS = { rflo: '#d62728', output: '#1f77b4', rtrl: '#9467bd', snap1: '#ff7f0e', bptt: '#2ca02c' } as const;

/**
 * Writes learning-curve figures (SVG + PNG), the alignment figure when given, index.md, index.html and summary.json
 * into dir. Accepts a single SimSummary, a list of them, or {runs, alignment}. Returns the path of index.html.
 */
export async function writeSimReport(dir: string, result: SimSummary | SimSummary[] | SimReportInput): Promise<string> {
  const input: SimReportInput = Array.isArray(result) ? { runs: result } : 'runs' in result ? result : { runs: [result] };
  const runs = input.runs;
  if (runs.length === 0) throw new Error('writeSimReport: no runs to report');
  const stream = runs[0].trials === null;
  const unit = stream ? 'sample' : 'trial';
  const figures: Figure[] = [];
  const series: Series[] = runs.map((r) => ({
    name: `${r.learner} (${r.engine})`,
    x: r.curve.map((p) => (stream ? (p.step ?? 0) : (p.trial ?? 0))),
    y: r.curve.map((p) => p.nmse),
    color: (COLORS as Record<string, string>)[r.learner],
  }));
  if (stream) {
    for (const r of runs) {
      if (r.persistence_nmse !== undefined && series.length > 0 && !series.some((s) => s.name === 'persistence')) {
        const xs = series[0].x;
        series.push({ name: 'persistence', x: [xs[0], xs[xs.length - 1]], y: [r.persistence_nmse, r.persistence_nmse], dashed: true, color: '#888888' });
      }
    }
  }
  const events = runs[0].recovery?.[0]?.map((r) => r.event) ?? [];
  figures.push(
    await writeFigure(
      dir,
      'learning-curve',
      lineChartSpec({
        title: `${runs[0].task}: NMSE along training (median over seeds, log scale)`,
        xTitle: stream ? 'samples learned' : 'trials learned',
        yTitle: stream ? 'NMSE of each chunk (prequential)' : 'test NMSE',
        logY: true,
        series,
        rules: events.map((e, k) => ({ x: e, label: `change ${k + 1}` })),
      }),
      stream
        ? 'NMSE of consecutive chunks of the stream, each predicted before learning from it and normalised by its own target variance; grey rules: abrupt changes; dashed: predict-the-last-value baseline over the whole run.'
        : 'Test NMSE (learning off) after each number of training trials; 1 = no better than predicting the mean.',
    ),
  );
  if (input.alignment && input.alignment.length > 0) {
    const a = input.alignment;
    const at = a.map((p) => p.at);
    figures.push(
      await writeFigure(
        dir,
        'alignment',
        lineChartSpec({
          title: 'RFLO alignment over training (Murray 2019, Fig. 2c)',
          xTitle: `${unit}s learned`,
          yTitle: 'cosine',
          series: [
            { name: 'cos(RFLO update, BPTT gradient), W_rec', x: at, y: a.map((p) => p.cos_w_rec), color: '#d62728' },
            { name: 'same, W_in + W_rec + b', x: at, y: a.map((p) => p.cos_recurrent), color: '#ff7f0e', dashed: true },
            { name: 'cos(W_out, B^T)', x: at, y: a.map((p) => p.cos_wout_b), color: '#1f77b4' },
          ],
          yDomain: [-1, 1],
        }),
        'For the weights at each point: the cosine between RFLO\'s update and the exact (BPTT) gradient-descent direction of the same sequence, and between the readout W_out and the fixed random feedback B. ' +
          'Murray 2019 reports both rising above zero as W_out comes to align with B.',
      ),
    );
  }
  const table: string[][] = [['run', 'seeds', 'median NMSE', ...(stream ? ['persistence NMSE'] : []), 'lr_rec', 'lr_out', 'N', 'tau']];
  for (const r of runs) {
    table.push([`${r.learner} (${r.engine})`, r.seeds.join(','), fmt(r.median_nmse), ...(stream ? [fmt(r.persistence_nmse)] : []), String(r.lr_rec), String(r.lr_out), String(r.hidden), String(r.tau)]);
  }
  const notes: string[] = [];
  if (input.alignment && input.alignment.length > 0) {
    const first = input.alignment[0];
    const last = input.alignment[input.alignment.length - 1];
    notes.push(
      `Alignment: cos(RFLO, BPTT) over W_rec ${fmt(first.cos_w_rec)} before learning, ${fmt(last.cos_w_rec)} after ${last.at} ${unit}s; ` +
        `cos(W_out, B^T) ${fmt(first.cos_wout_b)} -> ${fmt(last.cos_wout_b)}.`,
    );
  }
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ runs, alignment: input.alignment ?? null }, null, 2) + '\n');
  return writeReportIndex(dir, {
    title: input.title ?? `neurostream sim: ${runs.map((r) => r.learner).join(', ')} on ${runs[0].task}`,
    intro: [runs[0].description],
    table,
    figures,
    notes,
  });
}
