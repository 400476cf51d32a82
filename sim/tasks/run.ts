/**
 * The simulation loops: train a learner on a task and measure it.
 *
 * Trial tasks (periodic): each trial resets the learner's state (h := h0) and the task, runs P steps with learning
 * on, then endTrial() (Murray 2019: end-of-trial dW = (lr / P) * sum of the terms). Test NMSE is measured on a
 * separate test trial with learning off (target null): mean over the trial of |e|^2 divided by the variance of the
 * target over the trial. State noise, when sigma > 0, adds sigma * N(0, 1) to every h_i after every step, in
 * training and test alike (through OnlineLearner.perturbHidden); test noise comes from its own RNG so evaluating
 * does not change the training run.
 *
 * Streams (drift, csv): prequential scoring. Each sample is predicted (y of step(x, target) is computed before
 * the weights change) and then learned from. NMSE = sum |e|^2 / sum |target - mean(target)|^2 over the whole
 * stream, in the task's signal units; the persistence baseline ("predict the last value") is scored the same way.
 *
 * Every buffer is allocated before the loop; the per-step path allocates nothing.
 */
import { measureRecovery } from '../../runtime/metrics.ts';
import type { Recovery } from '../../runtime/metrics.ts';
import { DIVERGED_EXPLODED, DIVERGED_SATURATED, DIVERGENCE_WINDOW, SATURATED_LEVEL, classifyWindow } from '../../runtime/divergence.ts';
import type { Engine, Feedback, LearnerKind, LearnerOptions, ModelWeights, OnlineLearner, UpdateMode } from '../../runtime/types.ts';
import { initWeights } from '../../runtime/init.ts';
import { createRng } from '../../runtime/rng.ts';
import { fillNormal } from './noise.ts';
import { createBpttLearner } from '../reference/index.ts';
import { createLearner } from '../engine.ts';
import { InputError } from '../modelio.ts';
import type { Task } from './task.ts';

export type SimLearner = LearnerKind | 'bptt';
export const SIM_LEARNERS: readonly SimLearner[] = ['rflo', 'rtrl', 'snap1', 'output', 'bptt'];

/** Murray 2019's rates for RFLO (0.03); 0.1 for the gradient learners and the output-only baseline. */
export function defaultLearningRate(learner: SimLearner): number {
  return learner === 'rflo' ? 0.03 : 0.1;
}

export interface LearnerConfig {
  learner: SimLearner;
  engine?: Engine;
  hidden: number;
  tau: number;
  lrRec: number;
  lrOut: number;
  update: UpdateMode;
  /** BPTT truncation window (0 or Infinity = full). */
  window?: number;
  feedback?: Feedback;
  /** Seed of the initial weights (runtime/init.ts). */
  seed: number;
  /** The readout reads the input too (y = W_out h + D x, D starts at 0). Float engine only for now. */
  direct?: boolean;
  /** NLMS-normalised readout steps ('step' mode). Float engine only for now. */
  normalized?: boolean;
  /** Bound on the norm of each recurrent update. Float engine only for now. */
  maxRecStep?: number;
  /** RLS readout with this forgetting factor (runtime/types.ts LearnerOptions.rlsReadout). Float engine only for now. */
  rlsReadout?: number;
  /** Gain g of the initial W_rec ~ N(0, g^2 / N) (default 1.5, Murray 2019). */
  gain?: number;
  /** Input scaling s of the initial W_in ~ U(-s, s) (default 1). */
  inScale?: number;
}

/**
 * Initial weights for a task from runtime/init.ts (Murray 2019: W_rec ~ N(0, 1.5^2/N), W_out ~ U(-0.1, 0.1)/sqrt(N),
 * h0 = 0.1) and the learner for them. Trial tasks use trialLength P; streams use 1.
 */
export function createSimLearner(c: LearnerConfig, task: Task): { learner: OnlineLearner; weights: ModelWeights } {
  const engine = c.engine ?? 'float';
  if (engine === 'fixed' && c.learner === 'bptt') {
    throw new InputError('--learner bptt runs on the float64 engine only (it is the reference gradient); use --engine float, or rflo, rtrl, snap1 or output with --engine fixed');
  }
  const weights = initWeights({ inputs: task.inputs, hidden: c.hidden, outputs: task.outputs, tau: c.tau, seed: c.seed, gain: c.gain, inScale: c.inScale });
  const common: Omit<LearnerOptions, 'learner'> = {
    inputs: task.inputs,
    hidden: c.hidden,
    outputs: task.outputs,
    tau: c.tau,
    lrRec: c.lrRec,
    lrOut: c.lrOut,
    update: c.update,
    trialLength: task.trialLength ?? 1,
    feedback: c.feedback,
  };
  // Only set when asked for, so the fixed engine (which refuses them) sees options it knows.
  if (c.direct) {
    if (task.inputs === 0) throw new InputError(`--direct needs a task with inputs; task "${task.name}" has none`);
    common.direct = true;
  }
  if (c.normalized) common.normalizedReadout = true;
  if (c.maxRecStep !== undefined) common.maxRecStep = c.maxRecStep;
  if (c.rlsReadout !== undefined) common.rlsReadout = c.rlsReadout;
  if (c.learner === 'bptt') {
    if (task.trialLength === null) throw new InputError(`--learner bptt needs a trial task (it learns at the end of each trial); task "${task.name}" is a stream: use rflo, rtrl, snap1 or output`);
    if (c.update !== 'trial') throw new InputError(`--learner bptt supports --update trial only (got ${c.update})`);
    return { learner: createBpttLearner({ ...common, window: c.window ?? Infinity }, weights), weights };
  }
  return { learner: createLearner(engine, { ...common, learner: c.learner }, weights), weights };
}

export interface CurvePoint {
  /** Trials (trial tasks) or samples (streams) done when the point was measured. */
  at: number;
  nmse: number;
}

export interface TrialRunOptions {
  trials: number;
  /** State noise sigma per step (default 0). */
  noise?: number;
  /** Seed of the state-noise RNGs (default 1). */
  noiseSeed?: number;
  /** Test trials averaged per measurement (default 1). */
  testTrials?: number;
  /** Number of points of the learning curve (default 20; the last one is at `trials`). */
  curvePoints?: number;
  /** Called after every trial with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface TrialRunResult {
  /** Test NMSE after the last trial. */
  nmse: number;
  curve: CurvePoint[];
}

/** Buffers of one run, allocated once. */
interface Buffers {
  x: Float64Array;
  target: Float64Array;
  y: Float64Array;
  delta: Float64Array;
}

function buffers(task: Task, learner: OnlineLearner): Buffers {
  return {
    x: new Float64Array(task.inputs),
    target: new Float64Array(task.outputs),
    y: new Float64Array(task.outputs),
    delta: new Float64Array(learner.options.hidden),
  };
}

function addNoise(learner: OnlineLearner, delta: Float64Array, sigma: number, rng: Uint32Array): void {
  fillNormal(delta, 0, delta.length, sigma, rng);
  learner.perturbHidden(delta);
}

/** One training trial (learning on). */
export function trainTrial(learner: OnlineLearner, task: Task, b: Buffers, sigma: number, rng: Uint32Array): void {
  const P = task.trialLength ?? 0;
  learner.resetState();
  task.startTrial();
  for (let s = 0; s < P; s++) {
    task.next(b.x, b.target);
    learner.step(b.x, b.target, b.y);
    if (sigma > 0) addNoise(learner, b.delta, sigma, rng);
  }
  learner.endTrial();
}

/** One test trial (learning off): NMSE = mean |e|^2 / variance of the target over the trial. */
export function testTrial(learner: OnlineLearner, task: Task, b: Buffers, sigma: number, rng: Uint32Array): number {
  const P = task.trialLength ?? 0;
  const O = task.outputs;
  learner.resetState();
  task.startTrial();
  let se = 0;
  let sum = 0;
  let sumSq = 0;
  for (let s = 0; s < P; s++) {
    task.next(b.x, b.target);
    learner.step(b.x, null, b.y);
    if (sigma > 0) addNoise(learner, b.delta, sigma, rng);
    for (let k = 0; k < O; k++) {
      const e = b.target[k] - b.y[k];
      se += e * e;
      sum += b.target[k];
      sumSq += b.target[k] * b.target[k];
    }
  }
  const n = P * O;
  const variance = sumSq / n - (sum / n) * (sum / n);
  return se / n / variance;
}

/** Trains a learner on a trial task for `trials` trials and measures the test NMSE along the way. */
export function runTrials(learner: OnlineLearner, task: Task, o: TrialRunOptions): TrialRunResult {
  if (task.trialLength === null) throw new InputError(`task "${task.name}" is a stream; use runStream`);
  const sigma = o.noise ?? 0;
  const seed = o.noiseSeed ?? 1;
  const trainRng = createRng((seed * 2654435761) ^ 0x6e6f6973);
  const testRng = createRng((seed * 2654435761) ^ 0x74657374);
  const testTrials = o.testTrials ?? 1;
  const points = Math.max(1, Math.min(o.curvePoints ?? 20, o.trials));
  const b = buffers(task, learner);
  const curve: CurvePoint[] = [];
  const measure = (): number => {
    let s = 0;
    for (let k = 0; k < testTrials; k++) s += testTrial(learner, task, b, sigma, testRng);
    return s / testTrials;
  };
  let nextPoint = 1;
  let nmse = NaN;
  for (let tr = 1; tr <= o.trials; tr++) {
    trainTrial(learner, task, b, sigma, trainRng);
    if (tr === Math.round((nextPoint * o.trials) / points)) {
      nmse = measure();
      curve.push({ at: tr, nmse });
      nextPoint++;
    }
    if (o.onProgress) o.onProgress(tr, o.trials);
  }
  if (o.trials === 0) nmse = measure();
  return { nmse, curve };
}

export interface StreamRunOptions {
  /** Stop after this many samples (default: the whole stream; required for endless streams). */
  steps?: number;
  noise?: number;
  noiseSeed?: number;
  curvePoints?: number;
  /** Window W (samples) of the drift recovery measure (default 100). */
  recoveryWindow?: number;
  /** Recovered when the windowed NMSE is back to <= ratio x its pre-change level (default 1.5). */
  recoveryRatio?: number;
  onProgress?: (done: number, total: number) => void;
}

export type { Recovery } from '../../runtime/metrics.ts';

/**
 * How a stream run diverged, if it did, checked over consecutive windows of DIVERGENCE_WINDOW samples (the definitions
 * are runtime/divergence.ts, shared with the live learning loop):
 *   nan        a prediction was NaN or infinite (the run stops there; its NMSE is NaN)
 *   exploded   in a window, the learner's squared error exceeded 10 x the target's variance and 10 x persistence's
 *              squared error (worse than predicting the mean tenfold, and far worse than predicting the last value)
 *   saturated  in a window, more than 90 % of the hidden-state values were pinned at |h| > 0.995: the recurrent and
 *              input weights grew until tanh saturates, and the state no longer carries the input
 * The first one found is reported, with the sample where its window ends and what to change.
 */
export interface Divergence {
  kind: 'nan' | 'exploded' | 'saturated';
  /** Sample index (1-based count) at which it was detected. */
  at: number;
  /** One sentence: what happened and which option to change. */
  message: string;
}

export { DIVERGENCE_WINDOW };

export interface StreamRunResult {
  /** Samples fed. */
  steps: number;
  nmse: number;
  persistenceNmse: number;
  skipped: number;
  /** Local NMSE of consecutive chunks (each normalised by its own target variance), at the chunk's end. */
  curve: CurvePoint[];
  recovery: Recovery[];
  /** null when the run stayed sane (see Divergence). */
  divergence: Divergence | null;
}

const ACC_SE = 0;
const ACC_PSE = 1;
const ACC_CHUNK_SE = 2;
const ACC_WIN_SE = 3;
const ACC_WIN_PSE = 4;
const ACC_WIN_SAT = 5;
const ACC_SIZE = 6;

/** Everything one stream sample touches, bound once; accumulators live in typed arrays, not boxed locals. */
interface StreamState {
  learner: OnlineLearner;
  task: Task;
  x: Float64Array;
  target: Float64Array;
  y: Float64Array;
  delta: Float64Array;
  pers: Float64Array;
  scale: Float64Array;
  offset: Float64Array;
  sigma: number;
  rng: Uint32Array;
  /** [sum |e|^2, sum |persistence error|^2, sum |e|^2 of the current chunk] */
  acc: Float64Array;
  tSum: Float64Array;
  tSq: Float64Array;
  cSum: Float64Array;
  cSq: Float64Array;
  /** Per-sample |e|^2 and targets for the recovery measure; length 0 when not tracked. */
  errAt: Float64Array;
  tgtAt: Float64Array;
  /** Divergence window: target sums per output, and the hidden state of the last sample. */
  wSum: Float64Array;
  wSq: Float64Array;
  hid: Float64Array;
}

/** Sample n of a stream: predict, learn, score in signal units (state noise is the caller's). False at the end. */
function streamSample(s: StreamState, n: number): boolean {
  const { task, x, target, y, pers, scale, offset, acc } = s;
  if (!task.next(x, target)) return false;
  task.persistence(pers);
  s.learner.step(x, target, y);
  const O = target.length;
  const tracking = s.errAt.length > 0;
  let e2 = 0;
  let pe2 = 0;
  for (let k = 0; k < O; k++) {
    const sc = scale[k];
    const off = offset[k];
    const t = target[k] * sc + off;
    const e = t - (y[k] * sc + off);
    const pe = t - (pers[k] * sc + off);
    e2 += e * e;
    pe2 += pe * pe;
    s.tSum[k] += t;
    s.tSq[k] += t * t;
    s.cSum[k] += t;
    s.cSq[k] += t * t;
    s.wSum[k] += t;
    s.wSq[k] += t * t;
    if (tracking) s.tgtAt[n * O + k] = t;
  }
  acc[ACC_SE] += e2;
  acc[ACC_PSE] += pe2;
  acc[ACC_CHUNK_SE] += e2;
  acc[ACC_WIN_SE] += e2;
  acc[ACC_WIN_PSE] += pe2;
  const hid = s.learner.readHidden(s.hid);
  let sat = 0;
  for (let i = 0; i < hid.length; i++) if (hid[i] > SATURATED_LEVEL || hid[i] < -SATURATED_LEVEL) sat++;
  acc[ACC_WIN_SAT] += sat;
  if (tracking) s.errAt[n] = e2;
  return true;
}

/** Prequential run of a learner over a stream. */
export function runStream(learner: OnlineLearner, task: Task, o: StreamRunOptions = {}): StreamRunResult {
  if (task.trialLength !== null) throw new InputError(`task "${task.name}" is trial-based; use runTrials`);
  const total = o.steps ?? task.length;
  if (total === null || total === undefined) throw new InputError(`task "${task.name}" is endless; give the number of steps (--steps N)`);
  const limit = task.length === null ? total : Math.min(total, task.length);
  const O = task.outputs;
  const sigma = o.noise ?? 0;
  const rng = createRng(((o.noiseSeed ?? 1) * 2654435761) ^ 0x6e6f6973);
  const b = buffers(task, learner);
  const pers = new Float64Array(O);
  const W = o.recoveryWindow ?? 100;
  const ratio = o.recoveryRatio ?? 1.5;
  const tracking = task.events.length > 0;
  // Per-sample squared error and target (signal units), kept only to measure recovery after events.
  const errAt = new Float64Array(tracking ? limit : 0);
  const tgtAt = new Float64Array(tracking ? limit * O : 0);
  const points = Math.max(1, Math.min(o.curvePoints ?? 20, limit));
  const curve: CurvePoint[] = [];

  const st: StreamState = {
    learner,
    task,
    x: b.x,
    target: b.target,
    y: b.y,
    delta: b.delta,
    pers,
    scale: task.scale,
    offset: task.offset,
    sigma,
    rng,
    acc: new Float64Array(ACC_SIZE),
    tSum: new Float64Array(O),
    tSq: new Float64Array(O),
    cSum: new Float64Array(O),
    cSq: new Float64Array(O),
    errAt,
    tgtAt,
    wSum: new Float64Array(O),
    wSq: new Float64Array(O),
    hid: new Float64Array(learner.options.hidden),
  };
  let divergence: Divergence | null = null;
  let wN = 0;
  const onProgress = o.onProgress;
  let nextPoint = 1;
  // Integer-only bookkeeping per sample (until the JIT optimizes this loop, a double here would be boxed).
  let nextAt = Math.round(limit / points);
  let n = 0;
  let cN = 0;
  task.reset();
  learner.resetState();
  while (n < limit && streamSample(st, n)) {
    if (sigma > 0) addNoise(learner, b.delta, sigma, rng);
    n++;
    cN++;
    wN++;
    if (!Number.isFinite(st.acc[ACC_WIN_SE])) {
      divergence = {
        kind: 'nan',
        at: n,
        message: `the prediction overflowed to NaN/Infinity at sample ${n}: lower --lr-rec and --lr-out, or add --normalized (readout) and --max-rec-step (recurrent update bound)`,
      };
      break;
    }
    if (wN === DIVERGENCE_WINDOW) {
      if (divergence === null) divergence = checkWindow(st, n, wN);
      st.acc[ACC_WIN_SE] = 0;
      st.acc[ACC_WIN_PSE] = 0;
      st.acc[ACC_WIN_SAT] = 0;
      st.wSum.fill(0);
      st.wSq.fill(0);
      wN = 0;
    }
    if (n === nextAt) {
      let v = 0;
      for (let k = 0; k < O; k++) {
        v += st.cSq[k] - (st.cSum[k] * st.cSum[k]) / cN;
        st.cSum[k] = 0;
        st.cSq[k] = 0;
      }
      curve.push({ at: n, nmse: st.acc[ACC_CHUNK_SE] / v });
      st.acc[ACC_CHUNK_SE] = 0;
      cN = 0;
      nextPoint++;
      nextAt = Math.round((nextPoint * limit) / points);
    }
    if (onProgress !== undefined && (n & 1023) === 0) onProgress(n, limit);
  }
  const { tSum, tSq } = st;
  const se = st.acc[ACC_SE];
  const pse = st.acc[ACC_PSE];
  let v = 0;
  for (let k = 0; k < O; k++) v += tSq[k] - (tSum[k] * tSum[k]) / n;
  const recovery = tracking ? measureRecovery(errAt, tgtAt, O, n, task.events, W, ratio) : [];
  const nmse = divergence !== null && divergence.kind === 'nan' ? NaN : se / v;
  return { steps: n, nmse, persistenceNmse: pse / v, skipped: task.skipped, curve, recovery, divergence };
}

/** The divergence test of one full window ending at sample n (see Divergence); null when it is sane. */
function checkWindow(st: StreamState, n: number, w: number): Divergence | null {
  let v = 0;
  for (let k = 0; k < st.wSum.length; k++) v += st.wSq[k] - (st.wSum[k] * st.wSum[k]) / w;
  const se = st.acc[ACC_WIN_SE];
  const pse = st.acc[ACC_WIN_PSE];
  const frac = st.acc[ACC_WIN_SAT] / (w * st.hid.length);
  const o = st.learner.options;
  const kind = classifyWindow(se, pse, v, frac, o.learner !== 'output' && o.lrRec !== 0);
  if (kind === DIVERGED_EXPLODED) {
    return {
      kind: 'exploded',
      at: n,
      message:
        `the error in samples ${n - w + 1}..${n} was ${fmtRatio(se / v)} x the target's variance and ${fmtRatio(se / pse)} x persistence's: ` +
        'the learning rates are too high for this stream; lower --lr-rec and --lr-out, or add --normalized (readout) and --max-rec-step',
    };
  }
  if (kind === DIVERGED_SATURATED) {
    return {
      kind: 'saturated',
      at: n,
      message:
        `${Math.round(100 * frac)} % of the hidden states were pinned at +-1 in samples ${n - w + 1}..${n}: the recurrent weights grew too large; ` +
        'lower --lr-rec, or bound each update with --max-rec-step',
    };
  }
  return null;
}

function fmtRatio(r: number): string {
  return r >= 1e5 ? r.toExponential(1) : r.toFixed(0);
}

export { measureRecovery } from '../../runtime/metrics.ts';

/** Median; NaN (a diverged run) counts as +Infinity, the worst value. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = values.map((v) => (Number.isNaN(v) ? Infinity : v)).sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
