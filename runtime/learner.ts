/**
 * create(plan, weights): binds one arena and returns the fixed-point learner (OnlineLearner, engine 'fixed').
 * step() and stepQ() allocate nothing; every other method is setup or inspection.
 *
 * The learner keeps one state object (runtime/state.ts: the arena's views and the plan's integer constants) and
 * runs each learning rule through a table of kernels per kind: the TypeScript live kernels ('js'), the reference
 * kernels the live ones are tested against ('reference'), or the wasm module ('wasm', runtime/wasm).
 */
import type { Gradient, LearnerKind, LearnerOptions, ModelWeights, OnlineLearner } from './types.ts';
import { plan, FRAC } from './plan.ts';
import type { FixedOptions, FixedPlan } from './plan.ts';
import { SAT, SATURATION_NAMES } from './layout.ts';
import type { SaturationName } from './layout.ts';
import { quantizeCount, roundShiftRight, roundToFixed, saturate16Count, toQ16, toWeightCount } from './fixed.ts';
import { errorQ, feedbackQ, forwardQ } from './network.ts';
import { bindState, bufferViews } from './state.ts';
import type { LearnerState } from './state.ts';
import { updateOutput } from './learners/output.ts';
import { advanceRflo, updateRflo } from './learners/rflo.ts';
import { advanceSnap1, updateSnap1 } from './learners/snap1.ts';
import { advanceRtrl, advanceRtrlFast, updateRtrl } from './learners/rtrl.ts';
import { advanceTraces, learnRflo } from './learners/optimized/rflo.ts';
import { learnSnap1 } from './learners/optimized/snap1.ts';
import { applyTrial } from './learners/apply.ts';
import { createWasmKernel, resolveBackend } from './wasm/backend.ts';
import type { Backend } from './wasm/backend.ts';

/**
 * The kernels of one learning rule. advance: an inference step's trace or sensitivity recursion (after forwardQ).
 * learn: a learning step's recursion, feedback and update of W_rec, W_in and b (after forwardQ and errorQ); the
 * readout's delta rule (updateOutput) follows for every kind.
 */
interface LearnerKernels {
  readonly advance: (s: LearnerState) => void;
  readonly learn: (s: LearnerState) => void;
}

const none = (): void => {};

/** The reference kernels (learners/*.ts, every product through runtime/fixed.ts), in the papers' order. */
const REFERENCE: Readonly<Record<LearnerKind, LearnerKernels>> = {
  rflo: {
    advance: advanceRflo,
    learn: (s) => {
      advanceRflo(s);
      feedbackQ(s, s.transpose);
      updateRflo(s);
    },
  },
  snap1: {
    advance: advanceSnap1,
    learn: (s) => {
      advanceSnap1(s);
      feedbackQ(s, true);
      updateSnap1(s);
    },
  },
  rtrl: {
    advance: advanceRtrl,
    learn: (s) => {
      advanceRtrl(s);
      feedbackQ(s, true);
      updateRtrl(s);
    },
  },
  output: { advance: none, learn: none },
};

/** The live TypeScript kernels: RFLO and SnAp-1 fused and unrolled (learners/optimized/), RTRL's sensitivity sums in float64 (learners/rtrl.ts advanceRtrlFast). */
const OPTIMIZED: Readonly<Record<LearnerKind, LearnerKernels>> = {
  rflo: {
    advance: (s) => advanceTraces(s, false),
    learn: (s) => {
      feedbackQ(s, s.transpose);
      learnRflo(s);
    },
  },
  snap1: {
    advance: (s) => advanceTraces(s, true),
    learn: (s) => {
      feedbackQ(s, true);
      learnSnap1(s);
    },
  },
  rtrl: {
    advance: advanceRtrlFast,
    learn: (s) => {
      advanceRtrlFast(s);
      feedbackQ(s, true);
      updateRtrl(s);
    },
  },
  output: REFERENCE.output,
};

/** The fixed-point learner over one arena. */
export class FixedLearner implements OnlineLearner {
  readonly engine = 'fixed' as const;
  readonly options: Readonly<LearnerOptions>;
  readonly plan: FixedPlan;
  /** The one arena: every buffer of the learner, at the plan's offsets plus arenaOffset. */
  readonly arena: ArrayBuffer;
  /** Where the arena starts in `arena`: 0 for the TypeScript backends; for 'wasm', `arena` is the instance's memory. */
  readonly arenaOffset: number;
  /**
   * Kernel backend running step(): 'js' (the live TypeScript kernels), 'reference' (the reference kernels, slower,
   * for tests) or 'wasm' (runtime/wasm); all three are bit-exact.
   */
  readonly backend: 'js' | 'wasm' | 'reference';
  private readonly wasmStep: ((learn: number) => void) | null;
  private readonly kernels: LearnerKernels;
  /** Typed views of every buffer by name (runtime/layout.ts). */
  readonly views: Readonly<Record<string, Int16Array | Int32Array | Uint32Array | Float64Array>>;
  /** The arena's views and the plan's integer constants, as every kernel reads them. */
  readonly state: LearnerState;

  constructor(p: FixedPlan, weights: ModelWeights, arena?: ArrayBuffer, backend?: Backend) {
    this.plan = p;
    this.options = p.options;
    if (arena !== undefined && arena.byteLength !== p.totalBytes) {
      throw new RangeError(`arena must have ${p.totalBytes} bytes for this plan (got ${arena.byteLength})`);
    }
    // Backend hook (runtime/wasm/backend.ts): with 'wasm' the arena lives in the wasm instance's memory.
    this.backend = resolveBackend(backend);
    this.kernels = this.backend === 'reference' ? REFERENCE[p.kind] : OPTIMIZED[p.kind];
    this.wasmStep = null;
    this.arenaOffset = 0;
    if (this.backend === 'wasm') {
      const k = createWasmKernel(p);
      if (arena !== undefined) new Uint8Array(k.buffer, k.base, p.totalBytes).set(new Uint8Array(arena));
      this.arena = k.buffer;
      this.arenaOffset = k.base;
      this.wasmStep = k.step;
    } else this.arena = arena ?? new ArrayBuffer(p.totalBytes);
    this.views = bufferViews(p, this.arena, this.arenaOffset);
    this.state = bindState(p, this.views);
    if (arena === undefined) this.setWeights(weights);
  }

  /**
   * One step on integers: xq (Q3.12, length M), targetq (Q3.12, length O) or null, writes y (Q3.12) into outq.
   * The live path from the scaler and the serial bridge (no float round trip). Allocates nothing.
   * Missing readings in integer form (the bridge's MISSING flag, firmware-bridge/PROTOCOL.md), the same policy as
   * step()'s non-finite values: xMissing[j] non-zero means input j has no reading (xq[j] is ignored; the channel
   * holds its last value, counted as 'x_invalid'); targetMissing means the target is missing (the step predicts and
   * does not learn, counted as 'target_invalid'; targetq is ignored). C: ns_step_missing.
   */
  stepQ(
    xq: ArrayLike<number>,
    targetq: ArrayLike<number> | null,
    outq: Int16Array | Int32Array,
    xMissing: ArrayLike<number> | null = null,
    targetMissing = false,
  ): Int16Array | Int32Array {
    const s = this.state;
    const M = s.M;
    const O = s.O;
    if (xq.length !== M) throw new RangeError(`x must have ${M} entries (inputs), got ${xq.length}`);
    if (outq.length < O) throw new RangeError(`out must have at least ${O} entries (outputs), got ${outq.length}`);
    if (xMissing !== null && xMissing.length !== M) throw new RangeError(`xMissing must have ${M} entries (inputs) or be null, got ${xMissing.length}`);
    const sat = s.saturation;
    for (let j = 0; j < M; j++) {
      if (xMissing !== null && xMissing[j] !== 0) sat[SAT.x_invalid]++;
      else s.x[j] = xq[j];
    }
    let learn = targetq !== null;
    if (targetMissing) {
      sat[SAT.target_invalid]++;
      learn = false;
    } else if (targetq !== null) {
      if (targetq.length !== O) throw new RangeError(`target must have ${O} entries (outputs) or be null, got ${targetq.length}`);
      for (let o = 0; o < O; o++) s.target[o] = targetq[o];
    }
    this.core(learn);
    for (let o = 0; o < O; o++) outq[o] = s.y[o];
    return outq;
  }

  /**
   * One step on floats: x and target are quantized to Q3.12 (round half up, saturated and counted as 'x' and
   * 'target'). Missing readings (runtime/ARITHMETIC.md, "Missing readings"): a non-finite input (NaN, +-Infinity)
   * holds that channel's last value (0 before the first), counted per value as 'x_invalid'; a target with any
   * non-finite entry is missing as a whole: the step predicts and does not learn, counted per step as
   * 'target_invalid'. y is returned as float.
   */
  step(x: ArrayLike<number>, target: ArrayLike<number> | null, out: Float64Array): Float64Array {
    const s = this.state;
    const M = s.M;
    const O = s.O;
    if (x.length !== M) throw new RangeError(`x must have ${M} entries (inputs), got ${x.length}`);
    if (out.length < O) throw new RangeError(`out must have at least ${O} entries (outputs), got ${out.length}`);
    const sat = s.saturation;
    for (let j = 0; j < M; j++) {
      const v = x[j];
      // v - v is 0 for every finite v, NaN for NaN and +-Infinity.
      if (v - v === 0) s.x[j] = quantizeCount(v, FRAC.X, sat, SAT.x, SAT.x_invalid);
      else sat[SAT.x_invalid]++;
    }
    let learn = target !== null;
    if (target !== null) {
      if (target.length !== O) throw new RangeError(`target must have ${O} entries (outputs) or be null, got ${target.length}`);
      for (let o = 0; o < O; o++) {
        const v = target[o];
        if (!(v - v === 0)) learn = false;
      }
      if (learn) for (let o = 0; o < O; o++) s.target[o] = quantizeCount(target[o], FRAC.Y, sat, SAT.target, SAT.target_invalid);
      else sat[SAT.target_invalid]++;
    }
    this.core(learn);
    for (let o = 0; o < O; o++) out[o] = s.y[o] / 4096;
    return out;
  }

  /** forwardQ, then the kind's kernels (inference: the recursion only; learning: error, rule, readout). */
  private core(learn: boolean): void {
    if (this.wasmStep !== null) {
      this.wasmStep(learn ? 1 : 0);
      return;
    }
    const s = this.state;
    forwardQ(s);
    s.steps[0]++;
    if (!learn) {
      this.kernels.advance(s);
      return;
    }
    errorQ(s);
    this.kernels.learn(s);
    updateOutput(s);
  }

  resetState(): void {
    const s = this.state;
    s.h.set(s.h0);
    s.h_prev.set(s.h0);
    s.P_in.fill(0);
    s.P_rec.fill(0);
    s.P_b.fill(0);
    s.S.fill(0);
    s.S_next.fill(0);
  }

  endTrial(): void {
    const s = this.state;
    if (!s.stepMode) {
      const p = this.plan;
      const sat = s.saturation;
      const mul = s.applyMul;
      applyTrial(s.W_rec, s.W_rec_q12, s.acc_W_rec, p.etaRec.m, p.shifts.trialRec, mul, sat, SAT.W_rec);
      applyTrial(s.W_in, null, s.acc_W_in, p.etaRec.m, p.shifts.trialRec, mul, sat, SAT.W_in);
      applyTrial(s.b, null, s.acc_b, p.etaRec.m, p.shifts.trialRec, mul, sat, SAT.b);
      applyTrial(s.W_out, s.W_out_q12, s.acc_W_out, p.etaOut.m, p.shifts.trialOut, mul, sat, SAT.W_out);
      if (s.direct) applyTrial(s.D, null, s.acc_D, p.etaOut.m, p.shifts.trialOut, mul, sat, SAT.W_out);
    }
    this.clearGradient();
  }

  readGradient(out: Gradient): Gradient {
    const s = this.state;
    if (!s.accumulate) {
      throw new Error(
        "readGradient() needs the gradient accumulators, which a 'step' learner keeps only when asked: create it with " +
          "accumulateGradient: true, or use update 'trial' (which always accumulates)",
      );
    }
    const q = -(2 ** -FRAC.ACC);
    const pairs: [Float64Array, Float64Array][] = [
      [out.W_in, s.acc_W_in],
      [out.W_rec, s.acc_W_rec],
      [out.b, s.acc_b],
      [out.W_out, s.acc_W_out],
    ];
    for (const [dst, src] of pairs) {
      if (dst.length !== src.length) throw new RangeError('gradient out has the wrong shape; make it with zeroGradient(options)');
      for (let i = 0; i < src.length; i++) dst[i] = src[i] * q + 0;
    }
    if (s.direct) {
      // As the float twin: a caller that made `out` before knowing about D gets one (allocates once).
      if (!out.D) out.D = new Float64Array(s.acc_D.length);
      if (out.D.length !== s.acc_D.length) throw new RangeError(`gradient out.D has ${out.D.length} entries, expected ${s.acc_D.length} (O x M)`);
      for (let i = 0; i < s.acc_D.length; i++) out.D[i] = s.acc_D[i] * q + 0;
    }
    return out;
  }

  clearGradient(): void {
    const s = this.state;
    s.acc_W_in.fill(0);
    s.acc_W_rec.fill(0);
    s.acc_b.fill(0);
    s.acc_W_out.fill(0);
    s.acc_D.fill(0);
  }

  readHidden(out: Float64Array): Float64Array {
    const s = this.state;
    if (out.length < s.N) throw new RangeError(`out must have at least ${s.N} entries (hidden), got ${out.length}`);
    for (let i = 0; i < s.N; i++) out[i] = s.h[i] / 32768;
    return out;
  }

  perturbHidden(delta: ArrayLike<number>): void {
    const s = this.state;
    if (delta.length !== s.N) throw new RangeError(`delta must have ${s.N} entries (hidden), got ${delta.length}`);
    const sat = s.saturation;
    for (let i = 0; i < s.N; i++) {
      const d = roundToFixed(delta[i], FRAC.H);
      if (d === d) s.h[i] = saturate16Count(s.h[i] + d, sat, SAT.h);
    }
  }

  getWeights(): ModelWeights {
    const s = this.state;
    const o = this.options;
    const f = (a: ArrayLike<number>, bits: number) => Float64Array.from(a, (v) => v * 2 ** -bits);
    const w: ModelWeights = {
      tau: o.tau,
      inputs: o.inputs,
      hidden: o.hidden,
      outputs: o.outputs,
      W_in: f(s.W_in, FRAC.W),
      W_rec: f(s.W_rec, FRAC.W),
      b: f(s.b, FRAC.W),
      W_out: f(s.W_out, FRAC.W),
      h0: f(s.h0, FRAC.H),
      B: f(s.B, FRAC.WQ),
    };
    if (s.direct) w.D = f(s.D, FRAC.W);
    return w;
  }

  /**
   * Quantizes w: weights to Q7.24 at the plan's weightFracBits resolution (round half up, saturated and counted),
   * the Q3.12 copies of W_rec and W_out and B to Q3.12, h0 to Q1.15; with direct, D (O x M) like W_out (counted as
   * 'W_out'; weights without D start it at zero, as the float twin does); then resetState().
   */
  setWeights(w: ModelWeights): void {
    const s = this.state;
    checkWeightsShape(w, this.options);
    const sat = s.saturation;
    const drop = FRAC.W - this.plan.weightFracBits;
    const F = this.plan.weightFracBits;
    const setW = (dst: Int32Array, dq: Int16Array | null, src: Float64Array, idx: number) => {
      for (let i = 0; i < src.length; i++) {
        const v = toWeightCount(src[i], F, drop, sat, idx);
        dst[i] = v;
        if (dq !== null) dq[i] = saturate16Count(roundShiftRight(v, 12), sat, SAT.weights_q12);
      }
    };
    setW(s.W_in, null, w.W_in, SAT.W_in);
    setW(s.W_rec, s.W_rec_q12, w.W_rec, SAT.W_rec);
    setW(s.b, null, w.b, SAT.b);
    setW(s.W_out, s.W_out_q12, w.W_out, SAT.W_out);
    if (s.direct) {
      if (w.D !== undefined) setW(s.D, null, w.D, SAT.W_out);
      else s.D.fill(0);
    }
    for (let i = 0; i < s.B.length; i++) s.B[i] = toQ16(w.B[i], FRAC.WQ);
    for (let i = 0; i < s.h0.length; i++) s.h0[i] = toQ16(w.h0[i], FRAC.H);
    this.resetState();
  }

  /** Saturation (and invalid-input) events per buffer name, counted since create() (carried by snapshots). */
  saturation(): Record<SaturationName, number> {
    const r = {} as Record<SaturationName, number>;
    SATURATION_NAMES.forEach((n, i) => (r[n] = this.state.saturation[i]));
    return r;
  }

  /** Number of steps taken (inference and learning). */
  stepCount(): number {
    return this.state.steps[0];
  }
}

function checkWeightsShape(w: ModelWeights, o: LearnerOptions): void {
  const { inputs: M, hidden: N, outputs: O } = o;
  const want: [string, ArrayLike<number>, number][] = [
    ['W_in', w.W_in, N * M],
    ['W_rec', w.W_rec, N * N],
    ['b', w.b, N],
    ['W_out', w.W_out, O * N],
    ['h0', w.h0, N],
    ['B', w.B, N * O],
  ];
  for (const [name, a, n] of want) {
    if (!a || a.length !== n) throw new RangeError(`weights.${name} must have ${n} entries for this shape (got ${a ? a.length : 'none'})`);
  }
  if (w.D !== undefined && o.direct === true && w.D.length !== O * M) {
    throw new RangeError(`weights.D must have ${O * M} entries (outputs x inputs) for this shape (got ${w.D.length})`);
  }
  if (w.D !== undefined && o.direct !== true) {
    throw new RangeError('weights carry D (the input-to-output readout) but options.direct is not set; set direct: true or drop D');
  }
  if (w.tau !== o.tau) throw new RangeError(`weights.tau must equal options.tau (got ${w.tau}, options ${o.tau})`);
}

/**
 * Binds one arena for plan p and loads the weights (quantized). backend: 'auto' (default; 'wasm' where the engine
 * has WebAssembly SIMD, else 'js'), 'js', 'wasm' (runtime/wasm) or 'reference' (the reference kernels); all bit-exact.
 */
export function create(p: FixedPlan, weights: ModelWeights, backend?: Backend): FixedLearner {
  return new FixedLearner(p, weights, undefined, backend);
}

/** create(plan({...options, ...extra}), weights). */
export function createFixedLearner(
  options: LearnerOptions,
  weights: ModelWeights,
  extra: FixedOptions & { backend?: Backend } = {},
): FixedLearner {
  const { backend, ...fixed } = extra;
  return create(plan({ ...options, ...fixed }), weights, backend);
}
