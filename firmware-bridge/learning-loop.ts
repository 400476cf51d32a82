/**
 * The learning loop of the live path: transport -> framer -> session (the link) -> this loop -> scaler -> learner
 * -> prediction. The session hands it each accepted sample as the integers that came over the wire; the loop turns
 * them into the learner's Q3.12 input (through runtime/scaler.ts when the wire carries raw counts, else by a
 * format change from the stream's Q format), steps the learner on integers (FixedLearner.stepQ: no float round trip),
 * tracks the running NMSE (runtime/metrics.ts) and writes the prediction in the stream's prediction format.
 *
 * Beside the learner it scores, on the same samples the learner sees (its input x and target in real units), the
 * persistence baseline ("the next target is the last one", the yardstick of one-step-ahead prediction) and any
 * yardstick predictors it is given (the commands pass the NLMS-AR baseline of sim/baselines.ts: a float64
 * yardstick lives on the simulator's side, and this module sees it only through the `Yardstick` signature).
 *
 * With a `guard`, it watches the learner for divergence by the definitions of runtime/divergence.ts (NaN, an error
 * exploded past the target's variance and persistence's error, a saturated hidden state, persistently saturated
 * weights), keeps a last good state (guard.checkpoint, saved at the end of every healthy window) and, when the learner
 * diverges, swaps in that state with both learning rates halved and reports it (guard.onDivergence); the stream goes
 * on. Nothing here allocates per sample (a restore allocates the new learner, once per divergence).
 * Bad readings, one policy with the CSV replay and the Firmata pins (runtime/scaler.ts's StreamScaler judges):
 * - a channel the board marked missing (SAMPLE with the MISSING flag, value -32768; PROTOCOL.md "Missing readings")
 *   is held at its last value (runtime/ARITHMETIC.md, "Missing readings"), counted in `inputsMissing` and in the
 *   learner's x_invalid; a TARGET marked missing is predicted, not learned from, counted in `targetsMissing` and in
 *   the learner's target_invalid;
 * - the outlier guard: each wire channel and each target value has a StreamScaler in 'running' mode on the wire's
 *   integers (exponentially weighted mean and variance, rate 1/1024, bias-corrected). A reading more than `outlier`
 *   standard deviations from its channel's mean (a full-scale glitch, a 1e200 the board saturated) is treated as a
 *   missing reading: an input is held (counted in `inputOutliers`), a target is not learned from (counted in
 *   `targetOutliers`); it never enters the statistics, so it cannot widen the guard. The guard judges from a
 *   channel's 257th reading on; after 16 rejected readings in a row the channel's statistics restart at the new
 *   level (a real step, not a glitch).
 * Neither is scored in the running NMSE, and onStep reports a held input as NaN and a target not learned from as null.
 * Nothing here allocates per sample.
 */
import type { OnlineLearner } from '../runtime/types.ts';
import { StreamScaler } from '../runtime/scaler.ts';
import { RunningNmse } from '../runtime/metrics.ts';
import { requantize16Count, toQ16 } from '../runtime/fixed.ts';
import { FixedLearner } from '../runtime/learner.ts';
import { SAT } from '../runtime/layout.ts';
import {
  DIVERGED_EXPLODED,
  DIVERGED_NAN,
  DIVERGED_NONE,
  DIVERGED_SATURATED,
  DIVERGED_WEIGHTS,
  DIVERGENCE_KINDS,
  DIVERGENCE_WINDOW,
  SATURATED_LEVEL,
  WEIGHT_SATURATION_WINDOWS,
  classifyWindow,
  type DivergenceKind,
  type LearnerCheckpoint,
} from '../runtime/divergence.ts';
import { MISSING_VALUE } from './protocol.ts';

/** The input and output format of the learner (Q3.12). */
const LEARNER_FRAC = 12;
const Q12 = 1 / 4096;

/** A learner that steps on integers (the fixed-point learner), with the missing-reading marks of runtime/learner.ts. */
interface IntegerStepper {
  stepQ(
    xq: ArrayLike<number>,
    targetq: ArrayLike<number> | null,
    outq: Int16Array | Int32Array,
    xMissing?: ArrayLike<number> | null,
    targetMissing?: boolean,
  ): Int16Array | Int32Array;
}

function stepsOnIntegers(l: OnlineLearner | null): l is OnlineLearner & IntegerStepper {
  return l !== null && typeof (l as Partial<IntegerStepper>).stepQ === 'function';
}

/** A predictor scored beside the learner: predicts y(t) from x(t) into out, then learns from target (null: do not). */
export interface Yardstick {
  readonly name: string;
  step(x: ArrayLike<number>, target: ArrayLike<number> | null, out: Float64Array): Float64Array;
}

export type { LearnerCheckpoint } from '../runtime/divergence.ts';

/** One divergence the guard repaired. */
export interface LiveDivergence {
  kind: DivergenceKind;
  /** Samples scored when it was found, and the seq of that sample. */
  at: number;
  seq: number;
  /** What was measured, in one clause (e.g. "the error in the last 1000 samples was 40 x the target's variance ..."). */
  detail: string;
  /** Samples scored when the restored state was saved (0: the initial state). */
  restoredFrom: number;
  /** The rates before, and after the restore. */
  fromLrRec: number;
  fromLrOut: number;
  lrRec: number;
  lrOut: number;
  /** Divergences so far, this one included. */
  count: number;
}

export interface DivergenceGuard {
  checkpoint: LearnerCheckpoint;
  /** Called after each restore (the loop's learner is the restored one by then). */
  onDivergence?: (d: LiveDivergence) => void;
}

/** The whole-run prequential NMSE of the learner and the yardsticks (null until two samples vary). */
export interface LoopScores {
  samples: number;
  learner: number | null;
  persistence: number | null;
  yardsticks: (number | null)[];
}
/**
 * One channel's guard. Variance floor (2^frac / 64)^2 wire counts squared (sd >= 1/64 of a real unit); it judges
 * from a channel's 257th reading on (GUARD_WARMUP), so that a signal that holds levels for a while (a heater drive,
 * a setpoint) has shown its spread before its first step could be taken for a glitch.
 */
function guardFor(frac: number, outlier: number): StreamScaler {
  return new StreamScaler({ channels: 1, mode: 'running', outlier, warmup: GUARD_WARMUP, eps: (2 ** frac / 64) ** 2 });
}

/** Readings of a channel before its outlier guard judges (a quarter of the 1024-sample averaging window). */
export const GUARD_WARMUP = 256;

export interface LearningLoopOptions {
  /** null: samples are only reported through onStep with y = 0 and predictions of 0; nothing learns. */
  learner: OnlineLearner | null;
  inputs: number;
  outputs: number;
  /** Q formats of the wire's inputs, targets and predictions: real = raw / 2^frac (default 12 each). */
  inputFrac?: number;
  targetFrac?: number;
  predictionFrac?: number;
  /**
   * Raw counts to the learner's input format (runtime/scaler.ts). When given, the wire's input values are taken as
   * raw counts (inputFrac is ignored) and a sample the scaler rejects is not learned from (counted in `rejected`).
   */
  scaler?: StreamScaler;
  /**
   * Outlier guard on the wire's inputs and targets, in standard deviations (default 8; Infinity turns it off). Not
   * used with `scaler`, whose own policy judges raw counts.
   */
  outlier?: number;
  /** Time constant, in samples, of the running NMSE (default 1000). */
  nmseWindow?: number;
  /** Called after every learner step (x, target and y are reused buffers, in real units: copy what you keep). */
  onStep?: (seq: number, x: Float64Array, target: Float64Array | null, y: Float64Array) => void;
  /** Predictors scored beside the learner on the same x and target (e.g. sim/baselines.ts createNlmsAr, p 8). */
  yardsticks?: readonly Yardstick[];
  /** Watch for divergence; restore the last good state with halved rates when it happens. */
  guard?: DivergenceGuard;
}

/** Whole-run accumulators: [scored samples, learner |e|^2, persistence |e|^2, yardstick k |e|^2 ...]. */
const T_N = 0;
const T_SE = 1;
const T_PSE = 2;
const T_YSE = 3;
/** Divergence window accumulators. */
const W_N = 0;
const W_SE = 1;
const W_PSE = 2;
const W_SAT = 3;
const W_SIZE = 4;

export class LearningLoop {
  /** The learner stepped; the divergence guard replaces it with a restored one. */
  learner: OnlineLearner | null;
  /** The learner's running NMSE; a restore starts a fresh one, so that it measures the restored learner. */
  nmse: RunningNmse;
  /** Running NMSE (same window as nmse) of persistence and of each yardstick, on the samples the learner is scored on. */
  readonly persistenceNmse: RunningNmse;
  readonly yardstickNmse: readonly RunningNmse[];
  readonly yardsticks: readonly Yardstick[];
  /** This sample's persistence prediction and each yardstick's (reused buffers; read them in onStep). */
  readonly persistenceY: Float64Array;
  readonly yardstickY: readonly Float64Array[];
  /** Divergences the guard repaired, and the last one. */
  divergences = 0;
  lastDivergence: LiveDivergence | null = null;
  /** Samples the scaler rejected (not learned from, prediction 0). */
  rejected = 0;
  /** Input readings the outlier guard rejected (held at the channel's last value). */
  inputOutliers = 0;
  /** Samples whose target the outlier guard rejected (predicted, not learned from). */
  targetOutliers = 0;
  /** Input readings the board marked missing (held), and samples whose target it marked missing (not learned from). */
  inputsMissing = 0;
  targetsMissing = 0;
  /** Clamps when a wire value did not fit the learner's Q3.12 input or the prediction's format: [inputs+targets, predictions]. */
  readonly saturated = new Uint32Array(2);
  private readonly M: number;
  private readonly O: number;
  private readonly inputFrac: number;
  private readonly targetFrac: number;
  private readonly predictionFrac: number;
  private readonly scaler: StreamScaler | null;
  private readonly onStep: LearningLoopOptions['onStep'];
  private readonly xq: Int16Array;
  private readonly tq: Int16Array;
  private readonly yq: Int16Array;
  private readonly x: Float64Array;
  private readonly t: Float64Array;
  private readonly y: Float64Array;
  private readonly raw: Float64Array;
  private readonly nmseWindow: number;
  private readonly lastT: Float64Array;
  private hasLastT = false;
  private readonly totals: Float64Array;
  private readonly tSum: Float64Array;
  private readonly tSq: Float64Array;
  private readonly guard: DivergenceGuard | null;
  private readonly win: Float64Array;
  private readonly wSum: Float64Array;
  private readonly wSq: Float64Array;
  private readonly hid: Float64Array;
  /** Consecutive windows in which a master weight saturated, and the counters' sum at the last window's end. */
  private weightSatWindows = 0;
  private weightSatLast = 0;
  /** Samples scored when the checkpoint's two states were saved (the older one is restored). */
  private goodAt = 0;
  private pendingAt = 0;
  /** Channels held this step (marked missing or rejected by the guard): stepQ's xMissing. */
  private readonly xMask: Uint8Array;
  private readonly xGuards: StreamScaler[] | null;
  private readonly tGuards: StreamScaler[] | null;
  private readonly one = new Float64Array(1);
  private readonly scratch = new Float64Array(1);

  constructor(o: LearningLoopOptions) {
    const L = o.learner;
    if (L && (L.options.inputs !== o.inputs || L.options.outputs !== o.outputs)) {
      throw new RangeError(
        `learner has ${L.options.inputs} inputs and ${L.options.outputs} outputs but the stream has ${o.inputs} and ${o.outputs}; make them equal`,
      );
    }
    if (o.scaler && o.scaler.channels !== o.inputs) {
      throw new RangeError(`scaler has ${o.scaler.channels} channels but the stream has ${o.inputs} inputs; make them equal`);
    }
    this.learner = L;
    this.M = o.inputs;
    this.O = o.outputs;
    this.inputFrac = o.inputFrac ?? LEARNER_FRAC;
    this.targetFrac = o.targetFrac ?? LEARNER_FRAC;
    this.predictionFrac = o.predictionFrac ?? LEARNER_FRAC;
    this.scaler = o.scaler ?? null;
    this.onStep = o.onStep;
    this.nmse = new RunningNmse(o.outputs, o.nmseWindow ?? 1000);
    const O1 = Math.max(1, o.outputs);
    this.xq = new Int16Array(o.inputs);
    this.tq = new Int16Array(O1);
    this.yq = new Int16Array(O1);
    this.x = new Float64Array(o.inputs);
    this.t = new Float64Array(O1);
    this.y = new Float64Array(O1);
    this.raw = new Float64Array(o.inputs);
    const win = o.nmseWindow ?? 1000;
    this.nmseWindow = win;
    this.yardsticks = o.yardsticks ?? [];
    this.persistenceNmse = new RunningNmse(o.outputs, win);
    this.yardstickNmse = this.yardsticks.map(() => new RunningNmse(o.outputs, win));
    this.persistenceY = new Float64Array(O1);
    this.yardstickY = this.yardsticks.map(() => new Float64Array(O1));
    this.lastT = new Float64Array(O1);
    this.totals = new Float64Array(T_YSE + this.yardsticks.length);
    this.tSum = new Float64Array(O1);
    this.tSq = new Float64Array(O1);
    this.guard = o.guard ?? null;
    if (this.guard !== null && L === null) throw new RangeError('a divergence guard needs a learner');
    this.win = new Float64Array(W_SIZE);
    this.wSum = new Float64Array(O1);
    this.wSq = new Float64Array(O1);
    this.hid = new Float64Array(L !== null ? L.options.hidden : 0);
    if (this.guard !== null) this.weightSatLast = weightSaturations(L);
    this.xMask = new Uint8Array(o.inputs);
    const outlier = o.outlier ?? 8;
    if (!(outlier > 0)) throw new RangeError(`outlier must be > 0 standard deviations, or Infinity for no guard (got ${o.outlier})`);
    const guard = this.scaler === null && outlier !== Infinity;
    this.xGuards = guard ? Array.from({ length: o.inputs }, () => guardFor(this.inputFrac, outlier)) : null;
    this.tGuards = guard ? Array.from({ length: o.outputs }, () => guardFor(this.targetFrac, outlier)) : null;
  }

  /** Whole-run prequential NMSE of the learner, persistence and each yardstick (allocates: call it at the end). */
  scores(): LoopScores {
    const n = this.totals[T_N];
    let v = 0;
    for (let o = 0; o < this.O; o++) v += this.tSq[o] - (this.tSum[o] * this.tSum[o]) / Math.max(1, n);
    const r = (se: number): number | null => (n >= 2 && v > 0 ? se / v : null);
    return { samples: n, learner: r(this.totals[T_SE]), persistence: r(this.totals[T_PSE]), yardsticks: this.yardsticks.map((_, k) => r(this.totals[T_YSE + k])) };
  }

  /** Feeds one reading to a guard; true when it is an outlier (then it did not enter the statistics). */
  private rejects(g: StreamScaler, v: number): boolean {
    this.one[0] = v;
    const before = g.outliers;
    g.scale(this.one, this.scratch);
    return g.outliers !== before;
  }

  /**
   * One accepted sample: xRaw (inputs, wire integers), tRaw (outputs, wire integers) or null for an inference-only
   * sample; xMarked: the SAMPLE had the MISSING flag (a value of -32768 is a channel without a reading); targetMarked:
   * the TARGET had it (missing as a whole). Writes the prediction, in the stream's prediction format, into pred
   * (length >= outputs) and returns true; returns false (pred zeroed, nothing learned) when the scaler rejected the
   * sample.
   */
  step(seq: number, xRaw: ArrayLike<number>, tRaw: ArrayLike<number> | null, pred: Int16Array, xMarked = false, targetMarked = false): boolean {
    const M = this.M;
    const O = this.O;
    const sat = this.saturated;
    const xq = this.xq;
    const mask = this.xMask;
    let held = 0;
    if (this.scaler !== null) {
      // raw counts: the scaler judges the sample as a whole; one without a reading in some channel is rejected
      let marked = false;
      for (let j = 0; j < M; j++) {
        this.raw[j] = xRaw[j];
        if (xMarked && xRaw[j] === MISSING_VALUE) {
          this.inputsMissing++;
          marked = true;
        }
      }
      if (marked || !this.scaler.scaleQ(this.raw, xq)) {
        this.rejected++;
        pred.fill(0, 0, O);
        return false;
      }
      mask.fill(0);
    } else {
      const guards = this.xGuards;
      for (let j = 0; j < M; j++) {
        const v = xRaw[j];
        if (xMarked && v === MISSING_VALUE) {
          this.inputsMissing++;
          mask[j] = 1;
          held++;
        } else if (guards !== null && this.rejects(guards[j], v)) {
          this.inputOutliers++;
          mask[j] = 1;
          held++;
        } else {
          mask[j] = 0;
          xq[j] = requantize16Count(v, this.inputFrac, LEARNER_FRAC, sat, 0);
        }
      }
    }
    let targetHeld = false;
    if (tRaw !== null) {
      if (targetMarked) {
        this.targetsMissing++;
        targetHeld = true;
      } else if (this.tGuards !== null) {
        for (let o = 0; o < O; o++) if (this.rejects(this.tGuards[o], tRaw[o])) targetHeld = true;
        if (targetHeld) this.targetOutliers++;
      }
    }
    const tq = tRaw === null || targetHeld ? null : this.tq;
    if (tq !== null && tRaw !== null) for (let o = 0; o < O; o++) tq[o] = requantize16Count(tRaw[o], this.targetFrac, LEARNER_FRAC, sat, 0);
    const L = this.learner;
    const x = this.x;
    const t = this.t;
    const y = this.y;
    // if/else, not `mask[j] !== 0 ? NaN : ...`: that phi of the NaN constant and a product made the optimizing
    // compiler box the product, one heap number per input per sample (64 bytes a sample at 4 inputs)
    if (this.scaler === null && !stepsOnIntegers(L)) {
      // A float learner sees the wire values at their full resolution (NaN: held, runtime/ARITHMETIC.md).
      const s = 2 ** -this.inputFrac;
      for (let j = 0; j < M; j++) {
        if (mask[j] !== 0) x[j] = NaN;
        else x[j] = xRaw[j] * s;
      }
    } else {
      for (let j = 0; j < M; j++) {
        if (mask[j] !== 0) x[j] = NaN;
        else x[j] = xq[j] * Q12;
      }
    }
    if (tq !== null && tRaw !== null) {
      if (stepsOnIntegers(L)) for (let o = 0; o < O; o++) t[o] = tq[o] * Q12;
      else for (let o = 0; o < O; o++) t[o] = tRaw[o] * 2 ** -this.targetFrac;
    } else if (targetHeld) for (let o = 0; o < O; o++) t[o] = NaN;
    if (stepsOnIntegers(L)) {
      L.stepQ(xq, tq, this.yq, held > 0 ? mask : null, targetHeld);
      for (let o = 0; o < O; o++) {
        y[o] = this.yq[o] * Q12;
        pred[o] = requantize16Count(this.yq[o], LEARNER_FRAC, this.predictionFrac, sat, 1);
      }
    } else if (L !== null) {
      // the float twin's policy is the same: a NaN input is held, a NaN target is not learned from, both counted
      L.step(x, tq !== null || targetHeld ? t : null, y);
      for (let o = 0; o < O; o++) pred[o] = toQ16(y[o], this.predictionFrac);
    } else {
      for (let o = 0; o < O; o++) {
        y[o] = 0;
        pred[o] = 0;
      }
    }
    const scored = tq !== null;
    // Yardsticks see every sample (their regressor moves on); they learn and are scored when the learner is.
    const ys = this.yardsticks;
    for (let k = 0; k < ys.length; k++) ys[k].step(x, scored ? t : null, this.yardstickY[k]);
    if (scored) {
      const pers = this.persistenceY;
      if (this.hasLastT) for (let o = 0; o < O; o++) pers[o] = this.lastT[o];
      this.nmse.add(t, y);
      this.persistenceNmse.add(t, pers);
      for (let k = 0; k < ys.length; k++) this.yardstickNmse[k].add(t, this.yardstickY[k]);
      this.score(t, y);
      for (let o = 0; o < O; o++) this.lastT[o] = t[o];
      this.hasLastT = true;
    }
    if (this.onStep) this.onStep(seq, x, scored ? t : null, y);
    if (scored && this.guard !== null) this.watch(seq, y);
    return true;
  }

  /** Whole-run and divergence-window sums of one scored sample. */
  private score(t: Float64Array, y: Float64Array): void {
    const O = this.O;
    const tot = this.totals;
    const win = this.win;
    const pers = this.persistenceY;
    let e2 = 0;
    let pe2 = 0;
    for (let o = 0; o < O; o++) {
      const e = t[o] - y[o];
      const pe = t[o] - pers[o];
      e2 += e * e;
      pe2 += pe * pe;
      this.tSum[o] += t[o];
      this.tSq[o] += t[o] * t[o];
      this.wSum[o] += t[o];
      this.wSq[o] += t[o] * t[o];
    }
    tot[T_N]++;
    tot[T_SE] += e2;
    tot[T_PSE] += pe2;
    for (let k = 0; k < this.yardsticks.length; k++) {
      const yk = this.yardstickY[k];
      let s = 0;
      for (let o = 0; o < O; o++) {
        const e = t[o] - yk[o];
        s += e * e;
      }
      tot[T_YSE + k] += s;
    }
    win[W_N]++;
    win[W_SE] += e2;
    win[W_PSE] += pe2;
  }

  /** The divergence guard, after a scored sample: NaN at once; the window tests at the end of each window. */
  private watch(seq: number, y: Float64Array): void {
    const L = this.learner as OnlineLearner;
    const win = this.win;
    let finite = true;
    for (let o = 0; o < this.O; o++) if (!(y[o] - y[o] === 0)) finite = false;
    if (!finite) {
      this.diverged(DIVERGED_NAN, seq);
      return;
    }
    const hid = L.readHidden(this.hid);
    let sat = 0;
    for (let i = 0; i < hid.length; i++) if (hid[i] > SATURATED_LEVEL || hid[i] < -SATURATED_LEVEL) sat++;
    win[W_SAT] += sat;
    if (win[W_N] < DIVERGENCE_WINDOW) return;
    const n = win[W_N];
    let v = 0;
    for (let o = 0; o < this.O; o++) v += this.wSq[o] - (this.wSum[o] * this.wSum[o]) / n;
    const o = L.options;
    let kind = classifyWindow(win[W_SE], win[W_PSE], v, win[W_SAT] / (n * Math.max(1, hid.length)), o.learner !== 'output' && o.lrRec !== 0);
    const ws = weightSaturations(L);
    if (ws > this.weightSatLast) this.weightSatWindows++;
    else this.weightSatWindows = 0;
    this.weightSatLast = ws;
    if (kind === DIVERGED_NONE && this.weightSatWindows >= WEIGHT_SATURATION_WINDOWS) kind = DIVERGED_WEIGHTS;
    if (kind !== DIVERGED_NONE) {
      this.detailOf(kind, win[W_SE], win[W_PSE], v, win[W_SAT] / (n * Math.max(1, hid.length)), n);
      this.diverged(kind, seq);
      return;
    }
    this.guard!.checkpoint.save(L);
    this.goodAt = this.pendingAt;
    this.pendingAt = this.totals[T_N];
    this.clearWindow();
  }

  private detail = '';

  /** The measured clause of a divergence (allocates a string: only on divergence). */
  private detailOf(kind: number, se: number, pse: number, v: number, satFrac: number, n: number): void {
    const r = (x: number): string => (x >= 1e5 ? x.toExponential(1) : x.toFixed(0));
    if (kind === DIVERGED_EXPLODED) this.detail = `the error over the last ${n} samples was ${r(se / v)} x the target's variance and ${r(se / pse)} x persistence's`;
    else if (kind === DIVERGED_SATURATED) this.detail = `${Math.round(100 * satFrac)} % of the hidden states were pinned at +-1 over the last ${n} samples`;
    else this.detail = `a weight hit its saturation bound (+-128) in each of the last ${this.weightSatWindows} windows of ${n} samples`;
  }

  private clearWindow(): void {
    this.win.fill(0);
    this.wSum.fill(0);
    this.wSq.fill(0);
  }

  /** Restores the last good state with halved rates, reports it, and starts a fresh window. */
  private diverged(kind: number, seq: number): void {
    const g = this.guard!;
    const old = this.learner as OnlineLearner;
    if (kind === DIVERGED_NAN) this.detail = 'a prediction was NaN or infinite';
    const fromRec = old.options.lrRec;
    const fromOut = old.options.lrOut;
    const next = g.checkpoint.restore(fromRec / 2, fromOut / 2);
    if (next.options.inputs !== this.M || next.options.outputs !== this.O) throw new RangeError('the checkpoint restored a learner of another shape');
    this.learner = next;
    this.nmse = new RunningNmse(this.O, this.nmseWindow);
    this.divergences++;
    this.lastDivergence = {
      kind: DIVERGENCE_KINDS[kind] as DivergenceKind,
      at: this.totals[T_N],
      seq,
      detail: this.detail,
      restoredFrom: this.goodAt,
      fromLrRec: fromRec,
      fromLrOut: fromOut,
      lrRec: next.options.lrRec,
      lrOut: next.options.lrOut,
      count: this.divergences,
    };
    this.pendingAt = this.goodAt;
    this.clearWindow();
    this.weightSatWindows = 0;
    this.weightSatLast = weightSaturations(next);
    g.onDivergence?.(this.lastDivergence);
  }
}

/** Sum of the master weights' saturation counters of a fixed-point learner (0 for others). */
function weightSaturations(l: OnlineLearner | null): number {
  if (!(l instanceof FixedLearner)) return 0;
  const c = l.state.saturation;
  return c[SAT.W_in] + c[SAT.W_rec] + c[SAT.b] + c[SAT.W_out];
}
