/**
 * create(plan, weights): binds one arena and returns the fixed-point learner (OnlineLearner, engine 'fixed').
 * step() and stepQ() allocate nothing; every other method is setup or inspection.
 */
import type { Gradient, LearnerOptions, ModelWeights, OnlineLearner } from './types.ts';
import { plan, FRAC, SAT, SATURATION_NAMES } from './plan.ts';
import type { BufferSpec, FixedOptions, FixedPlan, SaturationName } from './plan.ts';
import { roundShiftRight, saturate16Count, toQ16 } from './fixed.ts';
import { errorQ, feedbackQ, forwardQ } from './network.ts';
import { updateOutput } from './learners/output.ts';
import { advanceAndUpdateTraces, advanceTraces } from './learners/rflo.ts';
import { advanceSnap1 } from './learners/snap1.ts';
import { advanceRtrl, updateRtrl } from './learners/rtrl.ts';
import type { SensState } from './learners/rtrl.ts';
import type { TraceState } from './learners/rflo.ts';
import { applyTrial } from './learners/apply.ts';
import { LEARNER_KIND_CODES } from './layout.ts';
import { createWasmKernel, resolveBackend } from './wasm/backend.ts';
import type { Backend } from './wasm/backend.ts';

const KIND_RTRL = LEARNER_KIND_CODES.rtrl;
const KIND_RFLO = LEARNER_KIND_CODES.rflo;
const KIND_SNAP1 = LEARNER_KIND_CODES.snap1;

type View = Int16Array | Int32Array | Uint32Array | Float64Array;

function makeView(buf: ArrayBuffer, s: BufferSpec, base: number): View {
  switch (s.type) {
    case 'i16':
      return new Int16Array(buf, base + s.offset, s.length);
    case 'i32':
      return new Int32Array(buf, base + s.offset, s.length);
    case 'u32':
      return new Uint32Array(buf, base + s.offset, s.length);
    default:
      return new Float64Array(buf, base + s.offset, s.length);
  }
}

const EMPTY_I16 = new Int16Array(0);
const EMPTY_I32 = new Int32Array(0);
const EMPTY_F64 = new Float64Array(0);

/** The fixed-point learner. Fields are the arena's views (see FixedState) so the kernels read them directly. */
export class FixedLearner implements OnlineLearner, TraceState, SensState {
  readonly engine = 'fixed' as const;
  readonly options: Readonly<LearnerOptions>;
  readonly plan: FixedPlan;
  /** The one arena: every buffer of the learner, at the plan's offsets plus arenaOffset. */
  readonly arena: ArrayBuffer;
  /** Where the arena starts in `arena`: 0 for the 'js' backend; for 'wasm', `arena` is the instance's memory. */
  readonly arenaOffset: number;
  /** Kernel backend running step(): 'js' (the TypeScript kernels) or 'wasm' (runtime/wasm, bit-exact with them). */
  readonly backend: 'js' | 'wasm';
  private readonly wasmStep: ((learn: number) => void) | null;
  readonly views: Readonly<Record<string, View>>;

  readonly N: number;
  readonly M: number;
  readonly O: number;
  readonly theta: number;
  readonly stepMode: boolean;
  readonly alpha: number;
  readonly oneMinusAlpha: number;
  readonly etaRecM: number;
  readonly etaOutM: number;
  readonly shiftTraceRec: number;
  readonly shiftTraceIn: number;
  readonly shiftOut: number;
  readonly shiftRtrl: number;
  readonly shiftApply: number;
  readonly traceFracRec: number;
  readonly traceFracIn: number;
  readonly applyMul: number;
  readonly transpose: boolean;
  private readonly kindCode: number;

  readonly W_in: Int32Array;
  readonly W_rec: Int32Array;
  readonly b: Int32Array;
  readonly W_out: Int32Array;
  readonly W_rec_q12: Int16Array;
  readonly W_out_q12: Int16Array;
  readonly B: Int16Array;
  readonly h0: Int16Array;
  readonly h: Int16Array;
  readonly h_prev: Int16Array;
  readonly x: Int16Array;
  readonly target: Int16Array;
  readonly y: Int16Array;
  readonly e: Int16Array;
  readonly u: Int32Array;
  readonly dphi: Int32Array;
  readonly aphi: Int32Array;
  readonly fb: Int32Array;
  readonly acc_W_in: Float64Array;
  readonly acc_W_rec: Float64Array;
  readonly acc_b: Float64Array;
  readonly acc_W_out: Float64Array;
  readonly sat: Uint32Array;
  readonly steps: Float64Array;
  readonly P_in: Int16Array;
  readonly P_rec: Int16Array;
  readonly P_b: Int16Array;
  readonly decay: Int32Array;
  readonly S: Int32Array;
  readonly S_next: Int32Array;
  readonly sumHi: Float64Array;
  readonly sumLo: Float64Array;

  constructor(p: FixedPlan, weights: ModelWeights, arena?: ArrayBuffer, backend?: Backend) {
    this.plan = p;
    this.options = p.options;
    const o = p.options;
    this.N = o.hidden;
    this.M = o.inputs;
    this.O = o.outputs;
    this.theta = p.thetaCount;
    this.stepMode = o.update === 'step';
    this.alpha = p.alphaQ15;
    this.oneMinusAlpha = 32768 - p.alphaQ15;
    this.etaRecM = p.etaRec.m;
    this.etaOutM = p.etaOut.m;
    this.shiftTraceRec = p.shifts.traceRec;
    this.shiftTraceIn = p.shifts.traceIn;
    this.shiftOut = p.shifts.out;
    this.shiftRtrl = p.shifts.rtrl;
    this.shiftApply = p.shifts.apply;
    this.traceFracRec = p.traceFrac.rec;
    this.traceFracIn = p.traceFrac.in;
    this.applyMul = 2 ** (FRAC.W - p.weightFracBits);
    this.kindCode = LEARNER_KIND_CODES[p.kind];
    this.transpose = this.kindCode !== KIND_RFLO || o.feedback === 'transpose';
    if (arena !== undefined && arena.byteLength !== p.totalBytes) {
      throw new RangeError(`arena must have ${p.totalBytes} bytes for this plan (got ${arena.byteLength})`);
    }
    // Backend hook (runtime/wasm/backend.ts): with 'wasm' the arena lives in the wasm instance's memory.
    this.backend = resolveBackend(backend);
    this.wasmStep = null;
    this.arenaOffset = 0;
    if (this.backend === 'wasm') {
      const k = createWasmKernel(p, { transpose: this.transpose, applyMul: this.applyMul });
      if (arena !== undefined) new Uint8Array(k.buffer, k.base, p.totalBytes).set(new Uint8Array(arena));
      this.arena = k.buffer;
      this.arenaOffset = k.base;
      this.wasmStep = k.step;
    } else this.arena = arena ?? new ArrayBuffer(p.totalBytes);
    const v: Record<string, View> = {};
    for (const s of p.buffers) v[s.name] = makeView(this.arena, s, this.arenaOffset);
    this.views = Object.freeze(v);
    this.W_in = v.W_in as Int32Array;
    this.W_rec = v.W_rec as Int32Array;
    this.b = v.b as Int32Array;
    this.W_out = v.W_out as Int32Array;
    this.W_rec_q12 = v.W_rec_q12 as Int16Array;
    this.W_out_q12 = v.W_out_q12 as Int16Array;
    this.B = v.B as Int16Array;
    this.h0 = v.h0 as Int16Array;
    this.h = v.h as Int16Array;
    this.h_prev = v.h_prev as Int16Array;
    this.x = v.x as Int16Array;
    this.target = v.target as Int16Array;
    this.y = v.y as Int16Array;
    this.e = v.e as Int16Array;
    this.u = v.u as Int32Array;
    this.dphi = v.dphi as Int32Array;
    this.aphi = v.aphi as Int32Array;
    this.fb = v.fb as Int32Array;
    this.acc_W_in = v.acc_W_in as Float64Array;
    this.acc_W_rec = v.acc_W_rec as Float64Array;
    this.acc_b = v.acc_b as Float64Array;
    this.acc_W_out = v.acc_W_out as Float64Array;
    this.sat = v.saturation as Uint32Array;
    this.steps = v.steps as Float64Array;
    this.P_in = (v.P_in as Int16Array) ?? EMPTY_I16;
    this.P_rec = (v.P_rec as Int16Array) ?? EMPTY_I16;
    this.P_b = (v.P_b as Int16Array) ?? EMPTY_I16;
    this.decay = (v.decay as Int32Array) ?? EMPTY_I32;
    this.S = (v.S as Int32Array) ?? EMPTY_I32;
    this.S_next = (v.S_next as Int32Array) ?? EMPTY_I32;
    this.sumHi = (v.sum_hi as Float64Array) ?? EMPTY_F64;
    this.sumLo = (v.sum_lo as Float64Array) ?? EMPTY_F64;
    if (arena === undefined) this.setWeights(weights);
  }

  /**
   * One step on integers: xq (Q3.12, length M), targetq (Q3.12, length O) or null, writes y (Q3.12) into outq.
   * For the serial bridge and firmware. Allocates nothing.
   */
  stepQ(xq: ArrayLike<number>, targetq: ArrayLike<number> | null, outq: Int16Array | Int32Array): Int16Array | Int32Array {
    const M = this.M;
    const O = this.O;
    if (xq.length !== M) throw new RangeError(`x must have ${M} entries (inputs), got ${xq.length}`);
    if (outq.length < O) throw new RangeError(`out must have at least ${O} entries (outputs), got ${outq.length}`);
    for (let j = 0; j < M; j++) this.x[j] = xq[j];
    if (targetq !== null) {
      if (targetq.length !== O) throw new RangeError(`target must have ${O} entries (outputs) or be null, got ${targetq.length}`);
      for (let o = 0; o < O; o++) this.target[o] = targetq[o];
    }
    this.core(targetq !== null);
    for (let o = 0; o < O; o++) outq[o] = this.y[o];
    return outq;
  }

  step(x: ArrayLike<number>, target: ArrayLike<number> | null, out: Float64Array): Float64Array {
    const M = this.M;
    const O = this.O;
    if (x.length !== M) throw new RangeError(`x must have ${M} entries (inputs), got ${x.length}`);
    if (out.length < O) throw new RangeError(`out must have at least ${O} entries (outputs), got ${out.length}`);
    const sat = this.sat;
    for (let j = 0; j < M; j++) {
      const v = Math.floor(x[j] * 4096 + 0.5);
      if (v !== v) {
        sat[SAT.x_invalid]++;
        this.x[j] = 0;
      } else this.x[j] = saturate16Count(v, sat, SAT.x);
    }
    if (target !== null) {
      if (target.length !== O) throw new RangeError(`target must have ${O} entries (outputs) or be null, got ${target.length}`);
      for (let o = 0; o < O; o++) {
        const v = Math.floor(target[o] * 4096 + 0.5);
        if (v !== v) {
          sat[SAT.target_invalid]++;
          this.target[o] = 0;
        } else this.target[o] = saturate16Count(v, sat, SAT.target);
      }
    }
    this.core(target !== null);
    for (let o = 0; o < O; o++) out[o] = this.y[o] / 4096;
    return out;
  }

  private core(learn: boolean): void {
    if (this.wasmStep !== null) {
      this.wasmStep(learn ? 1 : 0);
      return;
    }
    forwardQ(this);
    const kind = this.kindCode;
    if (learn && (kind === KIND_RFLO || kind === KIND_SNAP1)) {
      // Traces and their learning update fused per unit (same arithmetic as the separate passes below).
      this.steps[0]++;
      errorQ(this);
      feedbackQ(this, this.transpose);
      advanceAndUpdateTraces(this, kind === KIND_SNAP1);
      updateOutput(this);
      return;
    }
    if (kind === KIND_RFLO) advanceTraces(this, false);
    else if (kind === KIND_SNAP1) advanceSnap1(this);
    else if (kind === KIND_RTRL) advanceRtrl(this);
    this.steps[0]++;
    if (!learn) return;
    errorQ(this);
    if (kind === KIND_RTRL) {
      feedbackQ(this, this.transpose);
      updateRtrl(this);
    }
    updateOutput(this);
  }

  resetState(): void {
    this.h.set(this.h0);
    this.h_prev.set(this.h0);
    this.P_in.fill(0);
    this.P_rec.fill(0);
    this.P_b.fill(0);
    this.S.fill(0);
    this.S_next.fill(0);
  }

  endTrial(): void {
    if (!this.stepMode) {
      const p = this.plan;
      const sat = this.sat;
      const mul = this.applyMul;
      applyTrial(this.W_rec, this.W_rec_q12, this.acc_W_rec, p.etaRec.m, p.shifts.trialRec, mul, sat, SAT.W_rec);
      applyTrial(this.W_in, null, this.acc_W_in, p.etaRec.m, p.shifts.trialRec, mul, sat, SAT.W_in);
      applyTrial(this.b, null, this.acc_b, p.etaRec.m, p.shifts.trialRec, mul, sat, SAT.b);
      applyTrial(this.W_out, this.W_out_q12, this.acc_W_out, p.etaOut.m, p.shifts.trialOut, mul, sat, SAT.W_out);
    }
    this.clearGradient();
  }

  readGradient(out: Gradient): Gradient {
    const q = -(2 ** -FRAC.ACC);
    const pairs: [Float64Array, Float64Array][] = [
      [out.W_in, this.acc_W_in],
      [out.W_rec, this.acc_W_rec],
      [out.b, this.acc_b],
      [out.W_out, this.acc_W_out],
    ];
    for (const [dst, src] of pairs) {
      if (dst.length !== src.length) throw new RangeError('gradient out has the wrong shape; make it with zeroGradient(options)');
      for (let i = 0; i < src.length; i++) dst[i] = src[i] * q + 0;
    }
    return out;
  }

  clearGradient(): void {
    this.acc_W_in.fill(0);
    this.acc_W_rec.fill(0);
    this.acc_b.fill(0);
    this.acc_W_out.fill(0);
  }

  readHidden(out: Float64Array): Float64Array {
    if (out.length < this.N) throw new RangeError(`out must have at least ${this.N} entries (hidden), got ${out.length}`);
    for (let i = 0; i < this.N; i++) out[i] = this.h[i] / 32768;
    return out;
  }

  perturbHidden(delta: ArrayLike<number>): void {
    if (delta.length !== this.N) throw new RangeError(`delta must have ${this.N} entries (hidden), got ${delta.length}`);
    const sat = this.sat;
    for (let i = 0; i < this.N; i++) {
      const d = Math.floor(delta[i] * 32768 + 0.5);
      if (d === d) this.h[i] = saturate16Count(this.h[i] + d, sat, SAT.h);
    }
  }

  getWeights(): ModelWeights {
    const o = this.options;
    const f = (a: ArrayLike<number>, bits: number) => Float64Array.from(a, (v) => v * 2 ** -bits);
    return {
      tau: o.tau,
      inputs: o.inputs,
      hidden: o.hidden,
      outputs: o.outputs,
      W_in: f(this.W_in, FRAC.W),
      W_rec: f(this.W_rec, FRAC.W),
      b: f(this.b, FRAC.W),
      W_out: f(this.W_out, FRAC.W),
      h0: f(this.h0, FRAC.H),
      B: f(this.B, FRAC.WQ),
    };
  }

  /**
   * Quantizes w: weights to Q7.24 at the plan's weightFracBits resolution (round half up, saturated and counted),
   * the Q3.12 copies of W_rec and W_out and B to Q3.12, h0 to Q1.15; then resetState().
   */
  setWeights(w: ModelWeights): void {
    checkWeightsShape(w, this.options);
    const sat = this.sat;
    const drop = FRAC.W - this.plan.weightFracBits;
    const F = this.plan.weightFracBits;
    const lim = 2 ** (31 - drop);
    const setW = (dst: Int32Array, dq: Int16Array | null, src: Float64Array, idx: number) => {
      for (let i = 0; i < src.length; i++) {
        let q = Math.floor(src[i] * 2 ** F + 0.5);
        if (q !== q) q = 0;
        if (q >= lim || q < -lim) {
          sat[idx]++;
          q = q > 0 ? lim - 1 : -lim;
        }
        const v = q * 2 ** drop;
        dst[i] = v;
        if (dq !== null) dq[i] = saturate16Count(roundShiftRight(v, 12), sat, SAT.weights_q12);
      }
    };
    setW(this.W_in, null, w.W_in, SAT.W_in);
    setW(this.W_rec, this.W_rec_q12, w.W_rec, SAT.W_rec);
    setW(this.b, null, w.b, SAT.b);
    setW(this.W_out, this.W_out_q12, w.W_out, SAT.W_out);
    for (let i = 0; i < this.B.length; i++) this.B[i] = toQ16(w.B[i], FRAC.WQ);
    for (let i = 0; i < this.h0.length; i++) this.h0[i] = toQ16(w.h0[i], FRAC.H);
    this.resetState();
  }

  /** Saturation (and invalid-input) events per buffer name, counted since create() (carried by snapshots). */
  saturation(): Record<SaturationName, number> {
    const r = {} as Record<SaturationName, number>;
    SATURATION_NAMES.forEach((n, i) => (r[n] = this.sat[i]));
    return r;
  }

  /** Number of steps taken (inference and learning). */
  stepCount(): number {
    return this.steps[0];
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
  if (w.tau !== o.tau) throw new RangeError(`weights.tau must equal options.tau (got ${w.tau}, options ${o.tau})`);
}

/** Binds one arena for plan p and loads the weights (quantized). backend: 'auto' (default; 'wasm' where the engine has
 * WebAssembly SIMD, else 'js'), 'js' or 'wasm' (runtime/wasm, bit-exact with the TypeScript kernels). */
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
