/**
 * `neurostream sim`: train a learner online on a task over several seeds and report the test NMSE.
 * Trial tasks (periodic): test NMSE on a test trial with learning off after --trials trials.
 * Streams (drift, csv): prequential NMSE over --steps samples, with the persistence baseline beside it.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Engine, Feedback, UpdateMode } from '../../runtime/types.ts';
import { InputError, checkOutputPath, namedWriteError } from '../modelio.ts';
import { tauWarning } from '../../runtime/plan.ts';
import { alignmentCurve, writeSimReport, type AlignmentPoint } from '../plot/sim-report.ts';
import type { SimSummary } from '../sim-summary.ts';
import { TASK_NAMES, createTask, type Task, type TaskName } from '../tasks/index.ts';
import {
  SIM_LEARNERS,
  createSimLearner,
  defaultLearningRate,
  median,
  runStream,
  runTrials,
  type CurvePoint,
  type Recovery,
  type SimLearner,
} from '../tasks/run.ts';
import { createProgress, fmt, table } from '../report.ts';
import { scoreLinearBaselines } from '../baselines.ts';
import { FIXED_STREAM_DEFAULTS, STREAM_DEFAULTS, type StreamConfig } from '../defaults.ts';
import { readStreamConfig } from '../stream-config.ts';
import { LEARNER_FLAGS, choiceOption, flagMessage, intOption, numberOption, parseSeeds, pathOption, windowOption } from './options.ts';

export interface SimArgs {
  task: TaskName;
  learner: SimLearner;
  engine?: Engine;
  /** Trial tasks (default 5000). */
  trials?: number;
  /** Streams (default: drift 10000, csv the whole file). */
  steps?: number;
  seeds: number[];
  noise?: number;
  lrRec?: number;
  lrOut?: number;
  hidden?: number;
  tau?: number;
  update?: UpdateMode;
  window?: number;
  feedback?: Feedback;
  testTrials?: number;
  curvePoints?: number;
  /** The readout reads the input too: y = W_out h + D x. */
  direct?: boolean;
  /** NLMS-normalised readout steps. */
  normalized?: boolean;
  /** Bound on the norm of each per-step recurrent update (0: none). */
  maxRecStep?: number;
  /** RLS readout with this forgetting factor (0: the delta rule). */
  rlsReadout?: number;
  /** Gain g of the initial W_rec ~ N(0, g^2 / N). */
  gain?: number;
  /** Input scaling s of the initial W_in ~ U(-s, s). */
  inputScale?: number;
  /** A configuration file written by `neurostream tune`: its values replace the stream defaults (flags still win). */
  config?: string;
  // periodic
  period?: number;
  // drift
  channels?: number;
  changeEvery?: number;
  sensorNoise?: number;
  // board
  scenario?: 'mix' | 'heater';
  // mackey-glass
  sampleStep?: number;
  // csv
  file?: string;
  columns?: string[];
  target?: string;
  horizon?: number;
  normalize?: boolean;
  delimiter?: string;
  decimal?: string;
  missing?: string[];
  outlier?: number;
  /** Progress on stderr (default false here; the command turns it on). */
  progress?: boolean;
}

export type { SimSummary } from '../sim-summary.ts';

export function makeTask(a: SimArgs, seed: number): Task {
  switch (a.task) {
    case 'periodic':
      return createTask('periodic', { period: a.period });
    case 'drift':
      return createTask('drift', { seed, channels: a.channels, changeEvery: a.changeEvery, noise: a.sensorNoise, steps: a.steps ?? 10000 });
    case 'csv':
      if (!a.file) throw new InputError('--task csv needs --file PATH (a CSV with a header row), --columns a,b and --target COL');
      if (!a.columns || a.columns.length === 0) throw new InputError('--task csv needs --columns a,b (the input columns, by header name)');
      if (!a.target) throw new InputError('--task csv needs --target COL (the column to predict)');
      return createTask('csv', {
        file: a.file,
        columns: a.columns,
        target: a.target,
        horizon: a.horizon,
        normalize: a.normalize,
        delimiter: a.delimiter,
        decimal: a.decimal,
        missing: a.missing,
        outlier: a.outlier,
      });
    case 'board':
      return createTask('board', { seed, scenario: a.scenario, channels: a.channels, driftEvery: a.changeEvery, steps: a.steps });
    case 'narma10':
      return createTask('narma10', { seed, steps: a.steps });
    case 'mackey-glass':
      return createTask('mackey-glass', { seed, steps: a.steps, sampleStep: a.sampleStep, horizon: a.horizon });
  }
}

function checkArgs(a: SimArgs, stream: boolean): void {
  const given = (v: unknown): boolean => v !== undefined;
  if (stream && given(a.trials)) throw new InputError(`--trials applies to trial tasks (periodic); task ${a.task} is a stream: use --steps N`);
  if (!stream && given(a.steps)) throw new InputError('--steps applies to streams (drift, csv); the periodic task counts --trials');
  if (stream && a.update === 'trial') throw new InputError(`--update trial needs trials; task ${a.task} is a stream and learns with --update step`);
  if (a.window !== undefined && a.learner !== 'bptt') throw new InputError(`--window applies to --learner bptt only (got --learner ${a.learner})`);
  if (a.feedback !== undefined && a.learner !== 'rflo') throw new InputError(`--feedback applies to --learner rflo only (got --learner ${a.learner})`);
  if (a.task !== 'periodic' && a.period !== undefined) throw new InputError('--period applies to --task periodic only');
  if (a.task !== 'drift' && a.task !== 'board' && (a.channels !== undefined || a.changeEvery !== undefined)) {
    throw new InputError('--channels and --change-every apply to --task drift and board only');
  }
  if (a.task !== 'drift' && a.sensorNoise !== undefined) throw new InputError('--sensor-noise applies to --task drift only');
  if (a.task !== 'board' && a.scenario !== undefined) throw new InputError('--scenario applies to --task board only');
  if (a.task !== 'mackey-glass' && a.sampleStep !== undefined) throw new InputError('--sample-step applies to --task mackey-glass only');
  if (a.task !== 'csv' && a.task !== 'mackey-glass' && a.horizon !== undefined) throw new InputError('--horizon applies to --task csv and mackey-glass only');
  const csvOnly = [a.file, a.columns, a.target, a.delimiter, a.decimal, a.missing, a.outlier];
  if (a.task !== 'csv' && csvOnly.some((v) => v !== undefined)) {
    throw new InputError('--file, --columns, --target, --delimiter, --decimal, --missing and --outlier apply to --task csv only');
  }
  if (a.seeds.length === 0) throw new InputError('--seeds must list at least one seed, e.g. 1..5');
}

/** `sim` sets the learner through these flags; the trial length is --period (periodic) or 1 (streams). */
const SIM_FLAGS = { ...LEARNER_FLAGS, memoryBudget: null, trialLength: null };

/** createSimLearner with a refused configuration reported as bad input in the flags of `sim`. */
function simLearner(...args: Parameters<typeof createSimLearner>): ReturnType<typeof createSimLearner> {
  try {
    return createSimLearner(...args);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    if (/typed array length|allocation failed/i.test(err.message)) {
      throw new InputError(`sim: --hidden ${args[0].hidden} does not fit in memory (${err.message}); use a smaller --hidden`);
    }
    throw new InputError(`sim: ${flagMessage(err.message, SIM_FLAGS)}`);
  }
}

/** Runs every seed and summarises; the object is what `--json` prints. */
export function runSim(a: SimArgs): SimSummary {
  const engine = a.engine ?? 'float';
  const probe = makeTask(a, a.seeds[0]);
  const stream = probe.trialLength === null;
  checkArgs(a, stream);
  // Streams start from the measured stream defaults (sim/defaults.ts: the float engine's use the RLS readout and the
  // recurrent step bound, which the fixed-point runtime does not have; the fixed engine's are the live defaults of
  // run and demo, with the normalised readout), or from a tuned --config; the periodic task keeps Murray 2019's N 30,
  // tau 10 and rates.
  let sd: Partial<StreamConfig> = {};
  if (stream && a.learner !== 'bptt') sd = engine === 'float' ? STREAM_DEFAULTS[a.learner] : FIXED_STREAM_DEFAULTS[a.learner];
  if (a.config !== undefined) {
    const cfg = readStreamConfig(a.config);
    if (!stream) throw new InputError(`--config applies to stream tasks; task ${a.task} keeps its own defaults`);
    if (cfg.learner !== a.learner) throw new InputError(`${a.config} was tuned for --learner ${cfg.learner}; run sim with --learner ${cfg.learner}, or tune again for ${a.learner}`);
    sd = cfg;
  }
  const lrRec = a.lrRec ?? sd.lrRec ?? defaultLearningRate(a.learner);
  const lrOut = a.lrOut ?? sd.lrOut ?? defaultLearningRate(a.learner);
  const hidden = a.hidden ?? sd.hidden ?? 30;
  const tau = a.tau ?? sd.tau ?? 10;
  const direct = a.direct ?? sd.direct ?? false;
  let normalized = a.normalized ?? sd.normalized ?? false;
  const maxRecStep = a.maxRecStep === 0 ? undefined : (a.maxRecStep ?? sd.maxRecStep);
  const rlsReadout = a.rlsReadout === 0 ? undefined : (a.rlsReadout ?? sd.rlsReadout);
  const gain = a.gain ?? sd.gain ?? 1.5;
  const inScale = a.inputScale ?? sd.inScale ?? 1;
  // An explicit --normalized asks for the delta rule's normalised step, which replaces a default RLS readout.
  const normalizedWins = a.normalized === true && a.rlsReadout === undefined;
  const update: UpdateMode = a.update ?? (stream ? 'step' : 'trial');
  const readout = normalizedWins ? undefined : rlsReadout;
  if (readout !== undefined && !(readout > 0 && readout <= 1)) throw new InputError(`--rls-readout must be a forgetting factor in (0, 1] (got ${readout}); 0.99 to 0.999 is usual, 0 turns it off`);
  if (readout !== undefined) normalized = false;
  const noise = a.noise ?? 0;
  const trials = stream ? null : (a.trials ?? 5000);
  const nmse: number[] = [];
  const curves: CurvePoint[][] = [];
  const persistence: number[] = [];
  const recovery: Recovery[][] = [];
  const nlms: number[] = [];
  const rls: number[] = [];
  const diverged: ({ kind: string; at: number; message: string } | false)[] = [];
  let skipped = 0;
  let steps: number | null = null;
  const progress = createProgress(`sim ${a.task} ${a.learner}`, { enabled: a.progress ?? false });
  const total = a.seeds.length;
  for (let i = 0; i < a.seeds.length; i++) {
    const seed = a.seeds[i];
    const task = i === 0 ? probe : makeTask(a, seed);
    const { learner } = simLearner(
      { learner: a.learner, engine, hidden, tau, lrRec, lrOut, update, window: a.window, feedback: a.feedback, seed, direct, normalized, maxRecStep, rlsReadout: readout, gain, inScale },
      task,
    );
    if (!stream) {
      const r = runTrials(learner, task, {
        trials: trials as number,
        noise,
        noiseSeed: seed,
        testTrials: a.testTrials,
        curvePoints: a.curvePoints,
        onProgress: (d, t) => progress.update(i * t + d, total * t),
      });
      nmse.push(r.nmse);
      curves.push(r.curve);
      diverged.push(weightsFinite(learner) ? false : overflowed(trials as number));
    } else {
      const r = runStream(learner, task, {
        steps: a.steps,
        noise,
        noiseSeed: seed,
        curvePoints: a.curvePoints,
        onProgress: (d, t) => progress.update(i * t + d, total * t),
      });
      nmse.push(r.nmse);
      curves.push(r.curve);
      persistence.push(r.persistenceNmse);
      recovery.push(r.recovery);
      diverged.push(r.divergence ?? (weightsFinite(learner) ? false : overflowed(r.steps)));
      skipped = r.skipped;
      steps = r.steps;
      if (task.inputs > 0) {
        const lin = scoreLinearBaselines(task, r.steps);
        nlms.push(lin.nlms);
        rls.push(lin.rls);
      }
    }
  }
  progress.done();
  const key = stream ? 'step' : 'trial';
  const curve = curves[0].map((p, j) => ({ [key]: p.at, nmse: median(curves.map((c) => c[j]?.nmse ?? NaN)) }));
  const summary: SimSummary = {
    task: a.task,
    learner: a.learner,
    engine,
    trials,
    steps,
    seeds: a.seeds,
    nmse,
    median_nmse: median(nmse),
    curve,
    lr_rec: lrRec,
    lr_out: lrOut,
    hidden,
    tau,
    update,
    window: a.learner === 'bptt' && a.window !== undefined && Number.isFinite(a.window) ? a.window : null,
    noise,
    direct,
    normalized,
    max_rec_step: maxRecStep ?? null,
    rls_readout: readout ?? null,
    gain,
    input_scale: inScale,
    description: probe.describe(),
    diverged,
  };
  if (probe.notes && probe.notes.length > 0) summary.notes = [...probe.notes];
  const tauNote = engine === 'fixed' ? tauWarning(tau) : null;
  if (tauNote) summary.notes = [...(summary.notes ?? []), flagMessage(tauNote, SIM_FLAGS)];
  // An NMSE that is not finite while the weights are: the target's variance is 0 (a constant target), not a
  // divergence. Said as such, with the NMSE undefined (null in JSON).
  if (nmse.some((v, i) => !Number.isFinite(v) && diverged[i] === false)) {
    summary.nmse_undefined = 'the target is constant (its variance is 0), so the NMSE (squared error / variance of the target) is undefined; check the --target column';
  }
  if (stream) {
    summary.rejected = probe.rejected ?? 0;
    summary.skipped = skipped;
    summary.persistence_nmse = median(persistence);
    summary.persistence = persistence;
    summary.diverged = diverged;
    if (nlms.length > 0) {
      const mn = median(nlms);
      const mr = median(rls);
      summary.linear_variant = mr < mn ? 'rls' : 'nlms';
      summary.linear_nmse = Math.min(mn, mr);
      summary.nlms_nmse = mn;
      summary.rls_nmse = mr;
      summary.nlms = nlms;
      summary.rls = rls;
    }
    if (a.task === 'drift') {
      summary.recovery = recovery.map((rs) => rs.map((r) => ({ event: r.event, pre_nmse: r.preNmse, post_nmse: r.postNmse, steps: r.steps })));
    }
  }
  return summary;
}

/** The divergence record of a run whose weights ended non-finite. */
function overflowed(at: number): { kind: string; at: number; message: string } {
  return { kind: 'nan', at, message: 'the weights overflowed to NaN/Infinity; try smaller --lr-rec / --lr-out' };
}

/** Whether every parameter of the learner is a finite number. */
function weightsFinite(l: { getWeights(): { W_in: ArrayLike<number>; W_rec: ArrayLike<number>; b: ArrayLike<number>; W_out: ArrayLike<number> } }): boolean {
  const w = l.getWeights();
  for (const a of [w.W_in, w.W_rec, w.b, w.W_out]) for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** An NMSE cell: the number, 'diverged' (weights overflowed) or 'undefined' (constant target). */
function nmseCell(v: number | undefined, diverged: boolean): string {
  if (v !== undefined && Number.isFinite(v)) return fmt(v);
  return diverged ? 'diverged' : 'undefined';
}

/** The readable report of a summary. */
export function formatSim(s: SimSummary): string {
  const lines: string[] = [];
  lines.push(s.description);
  const length = s.trials !== null ? `${s.trials} trials` : `${s.steps} samples`;
  lines.push(
    `learner ${s.learner}, engine ${s.engine}, ${length} per seed, lr_rec ${s.lr_rec}, lr_out ${s.lr_out}, ` +
      `N ${s.hidden}, tau ${s.tau}, update ${s.update}, state noise ${s.noise}` +
      (s.learner === 'bptt' ? `, ${s.window === null ? 'full BPTT' : `truncated to ${s.window} steps`}` : '') +
      (s.direct ? ', readout reads the input (D)' : '') +
      (s.normalized ? ', normalised readout steps' : '') +
      (s.rls_readout !== null ? `, RLS readout (lambda ${s.rls_readout})` : '') +
      (s.gain !== 1.5 ? `, W_rec gain ${s.gain}` : '') +
      (s.input_scale !== 1 ? `, W_in scale ${s.input_scale}` : '') +
      (s.max_rec_step !== null ? `, recurrent step bound ${s.max_rec_step}` : ''),
  );
  lines.push('');
  const stream = s.trials === null;
  const head = stream ? ['seed', 'NMSE (prequential)', 'persistence NMSE'] : ['seed', 'test NMSE'];
  const linear = stream && s.nlms !== undefined;
  if (linear) head.push('NLMS-AR p8', 'RLS-AR p8');
  if (s.recovery) head.push('recovery steps per change');
  const rows: string[][] = [head];
  s.seeds.forEach((seed, i) => {
    const dv = s.diverged?.[i];
    const r = [String(seed), dv ? `diverged (${dv.kind})` : nmseCell(s.nmse[i], false)];
    if (stream) r.push(nmseCell(s.persistence?.[i], false));
    if (linear) r.push(nmseCell(s.nlms?.[i], false), nmseCell(s.rls?.[i], false));
    if (s.recovery) r.push(s.recovery[i].map((x) => (x.steps === null ? 'never' : String(x.steps))).join(' '));
    rows.push(r);
  });
  const med = ['median', s.diverged?.some((d) => d !== false) && !Number.isFinite(s.median_nmse) ? 'diverged' : nmseCell(s.median_nmse, false)];
  if (stream) med.push(nmseCell(s.persistence_nmse, false));
  if (linear) med.push(nmseCell(s.nlms_nmse, false), nmseCell(s.rls_nmse, false));
  if (s.recovery) med.push('');
  rows.push(med);
  lines.push(table(rows));
  s.diverged?.forEach((d, i) => {
    if (d) lines.push(`seed ${s.seeds[i]} diverged (${d.kind}): ${d.message}`);
  });
  if (s.nmse_undefined) lines.push(`NMSE undefined: ${s.nmse_undefined}`);
  if (stream) {
    lines.push(`skipped samples: ${s.skipped} (missing, non-numeric or outlier cells; never fed)` + (s.rejected ? `, of which ${s.rejected} rejected by the outlier guard` : ''));
  }
  for (const note of s.notes ?? []) lines.push(`data: ${note}`);
  if (s.recovery) {
    lines.push('recovery: samples after a change until the 100-sample NMSE is back to <= 1.5 x its level before the change');
  }
  if (s.curve.length > 1) {
    const pts = s.curve.filter((_, j) => j % Math.ceil(s.curve.length / 8) === 0 || j === s.curve.length - 1);
    const unit = stream ? 'step' : 'trial';
    lines.push(`learning curve (median NMSE): ` + pts.map((p) => `${unit} ${p.trial ?? p.step}: ${nmseCell(p.nmse, s.diverged?.some((d) => d !== false) ?? false)}`).join(', '));
  }
  return lines.join('\n');
}

interface SimCliOptions extends Omit<SimArgs, 'progress'> {
  json?: boolean;
  plot?: string;
}

/** RFLO's alignment with BPTT along the same training as the run's first seed (Murray 2019, Fig. 2c). */
export function alignmentFor(a: SimArgs, s: SimSummary): AlignmentPoint[] {
  return alignmentCurve({
    task: makeTask(a, s.seeds[0]),
    hidden: s.hidden,
    tau: s.tau,
    lrRec: s.lr_rec,
    lrOut: s.lr_out,
    seed: s.seeds[0],
    trials: s.trials ?? s.steps ?? 0,
    update: s.update,
    feedback: a.feedback,
    engine: s.engine,
    points: 20,
  });
}

/** The CSV dialect and bad-value options, shared by sim and tune (both read a log through sim/tasks/csv.ts). */
export function addCsvDialectOptions(cmd: Command): Command {
  return cmd
    .option('--delimiter <sep>', "csv: field separator , ; tab or | (default: detected from the first lines)")
    .addOption(new Option('--decimal <mark>', "csv: decimal mark (default: detected; ',' needs another separator than ',')").choices(['.', ',']))
    .option('--missing <markers>', 'csv: values that mean a missing reading, e.g. -9999,NA (empty, NA, N/A, NaN and null always do)', (v: string) => v.split(',').map((c) => c.trim()).filter((c) => c !== ''))
    .option('--outlier <k>', 'csv: reject a value more than k standard deviations from its column so far (default 8; inf: off)', (v: string) => {
      const k = v === 'inf' ? Infinity : Number(v);
      if (!(k > 0)) throw new InvalidArgumentError('Expected a number of standard deviations > 0, or inf.');
      return k;
    });
}

export function register(program: Command): void {
  const cmd = program
    .command('sim')
    .summary('train a learner on a task over several seeds and report the NMSE')
    .description(
      'Train a learner online on a task, over several seeds, and report the test NMSE ' +
        '(mean squared error / variance of the target). periodic: Murray 2019\'s task, NMSE on a test trial with ' +
        'learning off after --trials trials. drift, csv: streams scored prequentially (predict, then learn), with ' +
        'the persistence baseline (predict the last value).',
    )
    .addOption(new Option('--task <name>', 'task').choices(TASK_NAMES).default('periodic'))
    .addOption(new Option('--learner <name>', 'learner').choices(SIM_LEARNERS).default('rflo'))
    .addOption(new Option('--engine <engine>', 'numeric engine').choices(['float', 'fixed']).default('float'))
    .option('--trials <n>', 'periodic: training trials per seed (default 5000)', intOption(0))
    .option('--steps <n>', 'streams: samples per seed (default: csv the whole file, other streams 10000)', intOption(1))
    .addOption(new Option('--seeds <list>', 'seeds of the initial weights (and noise): 1..5 or 1,2,7').argParser(parseSeeds).default([1], '1'))
    .option('--noise <sigma>', 'state noise: sigma * N(0,1) added to every h_i after every step, in training and test', numberOption(0), 0)
    .option('--lr-rec <lr>', 'learning rate of W_in, W_rec, b (periodic: 0.03 for rflo, 0.1 otherwise; streams: sim/defaults.ts)', numberOption(0))
    .option('--lr-out <lr>', 'learning rate of W_out (periodic: 0.03 for rflo, 0.1 otherwise; streams: sim/defaults.ts)', numberOption(0))
    .option('--hidden <N>', 'hidden units (default 30 for periodic; streams: sim/defaults.ts)', intOption(1))
    .option('--tau <steps>', 'time constant in steps, >= 1 (default 10 for periodic; streams: sim/defaults.ts)', numberOption(1))
    .addOption(new Option('--update <mode>', 'trial: sum the terms, apply (lr/P) * sum at the end of each trial; step: apply (lr/P) * term every step (default: trial for periodic, step for streams)').choices(['trial', 'step']))
    .option('--window <K>', 'bptt only: truncation window in steps (0 or inf = full BPTT, the default)', windowOption)
    .addOption(new Option('--feedback <kind>', 'rflo only: error feedback through a fixed random B (random) or W_out^T (transpose)').argParser(choiceOption(['random', 'transpose'] as const)))
    .option('--test-trials <n>', 'periodic: test trials averaged per measurement', intOption(1), 1)
    .option('--curve-points <n>', 'points of the learning curve', intOption(1), 20)
    .option('--period <P>', 'periodic: period = trial length in steps', intOption(2))
    .option('--channels <C>', 'drift: sensor channels (inputs = outputs = C)', intOption(1))
    .option('--change-every <n>', 'drift, board: steps between abrupt changes of the signal (default drift 2000, board 4000)', intOption(1))
    .option('--sensor-noise <sigma>', 'drift: sensor noise standard deviation (default 0.05)', numberOption(0))
    .addOption(new Option('--scenario <name>', 'board: mix (target = a same-time mix of the channels) or heater (a heated body: the target follows the inputs through a lag and a square law)').argParser(choiceOption(['mix', 'heater'] as const)))
    .option('--sample-step <dt>', 'mackey-glass: time units between samples (default 1)', numberOption(0.1))
    .option('--file <path>', 'csv: the recorded log, with a header row', pathOption)
    .option('--columns <a,b>', 'csv: input columns by header name', (v: string) => v.split(',').map((c) => c.trim()).filter((c) => c !== ''))
    .option('--target <col>', 'csv: the column to predict')
    .option('--horizon <K>', 'csv, mackey-glass: predict the target K rows ahead (default 1)', intOption(1))
    .option('--no-normalize', 'csv: feed raw values instead of a running z-score')
    .option('--direct', 'the readout also reads the input: y = W_out h + D x (both engines; default on streams with the float engine)')
    .option('--no-direct', 'the readout reads h only (y = W_out h)')
    .option('--normalized', 'normalised readout steps: lr_out / (eps + |h|^2 + |x|^2), NLMS-style, stable for 0 < lr_out < 2 (both engines)')
    .option('--no-normalized', 'plain delta-rule readout steps (lr_out per step)')
    .option('--rls-readout <lambda>', 'the readout learns by recursive least squares with forgetting factor lambda in (0, 1]; 0 = the delta rule (float engine; default on streams: sim/defaults.ts)', numberOption(0))
    .option('--gain <g>', 'gain of the initial recurrent weights, W_rec ~ N(0, g^2/N) (default 1.5, Murray 2019; streams: sim/defaults.ts)', numberOption(0))
    .option('--input-scale <s>', 'scale of the initial input weights, W_in ~ U(-s, s) (default 1; streams: sim/defaults.ts)', numberOption(0))
    .option('--max-rec-step <bound>', 'bound on the norm of each per-step recurrent update, a divergence guard; 0 = none (float engine)', numberOption(0))
    .option('--config <file>', 'streams: start from a configuration written by `neurostream tune` (flags still win)', pathOption);
  addCsvDialectOptions(cmd);
  cmd
    .option('--json', 'print one JSON object instead of the table')
    .option('--plot <dir>', 'also write a report into DIR: learning curves as SVG + PNG and index.html; for rflo its alignment with BPTT (trains a second time)', pathOption)
    .addHelpText(
      'after',
      '\nJSON (--json): {"task","learner","engine","trials","seeds":[...],"nmse":[per seed],"median_nmse","curve":[...],...}\n' +
        'plus "steps", "skipped", "rejected" and "persistence_nmse" for streams and "recovery" for drift; "diverged" per seed\n' +
        '(false, or {"kind","at","message"} saying how and what to change);\n' +
        'an NMSE that is undefined (constant target) is null, with the reason in "nmse_undefined"; "notes" on the data.\n' +
        '\nExamples:\n' +
        '  neurostream sim --task periodic --learner rflo --trials 5000 --seeds 1..5\n' +
        '  neurostream sim --task periodic --learner output --noise 0.01 --json\n' +
        '  neurostream sim --task drift --learner rflo --steps 20000\n' +
        '  neurostream sim --task csv --file examples/sensor-log.csv --columns temperature,humidity --target temperature --horizon 3',
    )
    .action(async (o: SimCliOptions) => {
      const { json, plot, ...rest } = o;
      // the report folder is checked before the seeds run, not found unwritable after them
      if (plot) checkOutputPath(plot, 'dir', 'sim --plot');
      const summary = runSim({ ...rest, progress: true });
      process.stdout.write((json ? JSON.stringify(summary) : formatSim(summary)) + '\n');
      if (plot) {
        const alignment = summary.learner === 'rflo' ? alignmentFor(rest, summary) : undefined;
        const html = await writeSimReport(plot, { runs: [summary], alignment }).catch((err: unknown) => {
          throw namedWriteError(err, 'sim --plot', plot);
        });
        process.stderr.write(`report: ${html}\n`);
      }
    });
}
