/**
 * The learning loop of the live path: transport -> framer -> session (the link) -> this loop -> scaler -> learner
 * -> prediction. The session hands it each accepted sample as the integers that came over the wire; the loop turns
 * them into the learner's Q3.12 input (through runtime/scaler.ts when the wire carries raw counts, else by a
 * format change from the stream's Q format), steps the learner on integers (FixedLearner.stepQ: no float round trip),
 * tracks the running NMSE (runtime/metrics.ts) and writes the prediction in the stream's prediction format.
 *
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
}

export class LearningLoop {
  readonly learner: OnlineLearner | null;
  readonly nmse: RunningNmse;
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
    this.xMask = new Uint8Array(o.inputs);
    const outlier = o.outlier ?? 8;
    if (!(outlier > 0)) throw new RangeError(`outlier must be > 0 standard deviations, or Infinity for no guard (got ${o.outlier})`);
    const guard = this.scaler === null && outlier !== Infinity;
    this.xGuards = guard ? Array.from({ length: o.inputs }, () => guardFor(this.inputFrac, outlier)) : null;
    this.tGuards = guard ? Array.from({ length: o.outputs }, () => guardFor(this.targetFrac, outlier)) : null;
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
    if (this.scaler === null && !stepsOnIntegers(L)) {
      // A float learner sees the wire values at their full resolution (NaN: held, runtime/ARITHMETIC.md).
      for (let j = 0; j < M; j++) x[j] = mask[j] !== 0 ? NaN : xRaw[j] * 2 ** -this.inputFrac;
    } else for (let j = 0; j < M; j++) x[j] = mask[j] !== 0 ? NaN : xq[j] * Q12;
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
    if (tq !== null) this.nmse.add(t, y);
    if (this.onStep) this.onStep(seq, x, tq !== null ? t : null, y);
    return true;
  }
}
