/**
 * The learning loop of the live path: transport -> framer -> session (the link) -> this loop -> scaler -> learner
 * -> prediction. The session hands it each accepted sample as the integers that came over the wire; the loop turns
 * them into the learner's Q3.12 input (through runtime/scaler.ts when the wire carries raw counts, else by a
 * format change from the stream's Q format), steps the learner on integers (FixedLearner.stepQ: no float round trip),
 * tracks the running NMSE (runtime/metrics.ts) and writes the prediction in the stream's prediction format.
 * Nothing here allocates per sample.
 */
import type { OnlineLearner } from '../runtime/types.ts';
import type { StreamScaler } from '../runtime/scaler.ts';
import { RunningNmse } from '../runtime/metrics.ts';
import { requantize16Count, toQ16 } from '../runtime/fixed.ts';

/** The input and output format of the learner (Q3.12). */
const LEARNER_FRAC = 12;
const Q12 = 1 / 4096;

/** A learner that steps on integers (the fixed-point learner). */
interface IntegerStepper {
  stepQ(xq: ArrayLike<number>, targetq: ArrayLike<number> | null, outq: Int16Array | Int32Array): Int16Array | Int32Array;
}

function stepsOnIntegers(l: OnlineLearner | null): l is OnlineLearner & IntegerStepper {
  return l !== null && typeof (l as Partial<IntegerStepper>).stepQ === 'function';
}

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
  }

  /**
   * One accepted sample: xRaw (inputs, wire integers), tRaw (outputs, wire integers) or null for an inference-only
   * sample. Writes the prediction, in the stream's prediction format, into pred (length >= outputs) and returns
   * true; returns false (pred zeroed, nothing learned) when the scaler rejected the sample.
   */
  step(seq: number, xRaw: ArrayLike<number>, tRaw: ArrayLike<number> | null, pred: Int16Array): boolean {
    const M = this.M;
    const O = this.O;
    const sat = this.saturated;
    const xq = this.xq;
    if (this.scaler !== null) {
      for (let j = 0; j < M; j++) this.raw[j] = xRaw[j];
      if (!this.scaler.scaleQ(this.raw, xq)) {
        this.rejected++;
        pred.fill(0, 0, O);
        return false;
      }
    } else for (let j = 0; j < M; j++) xq[j] = requantize16Count(xRaw[j], this.inputFrac, LEARNER_FRAC, sat, 0);
    const tq = tRaw === null ? null : this.tq;
    if (tq !== null && tRaw !== null) for (let o = 0; o < O; o++) tq[o] = requantize16Count(tRaw[o], this.targetFrac, LEARNER_FRAC, sat, 0);
    const L = this.learner;
    const x = this.x;
    const t = this.t;
    const y = this.y;
    if (this.scaler === null && !stepsOnIntegers(L)) {
      // A float learner sees the wire values at their full resolution.
      for (let j = 0; j < M; j++) x[j] = xRaw[j] * 2 ** -this.inputFrac;
    } else for (let j = 0; j < M; j++) x[j] = xq[j] * Q12;
    if (tq !== null && tRaw !== null) {
      if (stepsOnIntegers(L)) for (let o = 0; o < O; o++) t[o] = tq[o] * Q12;
      else for (let o = 0; o < O; o++) t[o] = tRaw[o] * 2 ** -this.targetFrac;
    }
    if (stepsOnIntegers(L)) {
      L.stepQ(xq, tq, this.yq);
      for (let o = 0; o < O; o++) {
        y[o] = this.yq[o] * Q12;
        pred[o] = requantize16Count(this.yq[o], LEARNER_FRAC, this.predictionFrac, sat, 1);
      }
    } else if (L !== null) {
      L.step(x, tq !== null ? t : null, y);
      for (let o = 0; o < O; o++) pred[o] = toQ16(y[o], this.predictionFrac);
    } else {
      y.fill(0);
      pred.fill(0, 0, O);
    }
    if (tq !== null) this.nmse.add(t, y);
    if (this.onStep) this.onStep(seq, x, tq !== null ? t : null, y);
    return true;
  }
}
