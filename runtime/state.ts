/**
 * The one state object of a fixed-point learner: typed views of every arena buffer (runtime/layout.ts names them;
 * plan() places them) and the integer constants every kernel reads. Built once per learner by bindState(); the
 * kernels (runtime/network.ts, runtime/learners/*) read and write only through it and allocate nothing.
 */
import { FRAC } from './plan.ts';
import type { BufferSpec, FixedPlan } from './plan.ts';

export interface LearnerState {
  readonly N: number;
  readonly M: number;
  readonly O: number;
  /** Number of recurrent parameters N*N + N*M + N, laid out [W_rec | W_in | b] (the float twin's layout). */
  readonly theta: number;
  readonly stepMode: boolean;
  /** The acc_* accumulators exist and are written ('trial' mode, or options.accumulateGradient). */
  readonly accumulate: boolean;
  /** a = 1/tau in Q1.15 and 1 - a, both in [0, 32768]. */
  readonly alpha: number;
  readonly oneMinusAlpha: number;
  /** Mantissas m of lrRec / trialLength and lrOut / trialLength (m 2^-k, runtime/plan.ts). */
  readonly etaRecM: number;
  readonly etaOutM: number;
  readonly shiftTraceRec: number;
  readonly shiftTraceIn: number;
  readonly shiftOut: number;
  /** Shift of D's step update (gain x x, Q(12 + k) x Q12); 0 without direct. */
  readonly shiftOutDirect: number;
  readonly shiftRtrl: number;
  readonly shiftApply: number;
  /** Trace formats (fractional bits) of W_rec and b, and of W_in. */
  readonly traceFracRec: number;
  readonly traceFracIn: number;
  /** 2^(24 - weightFracBits): a step's rounded update in units of the master weight's LSB. */
  readonly applyMul: number;
  /** Feedback through W_out^T instead of B (RFLO with feedback 'transpose', SnAp-1 and RTRL). */
  readonly transpose: boolean;
  /** The readout reads the input too (options.direct): y = W_out h + D x. */
  readonly direct: boolean;
  /** Normalised readout steps (options.normalizedReadout): the step is divided by eps + |[h; x]|^2. */
  readonly normalized: boolean;
  /** eps of the normalised readout in Q30 (plan readoutEpsQ30; 0 without it). */
  readonly readoutEpsQ30: number;

  readonly W_in: Int32Array;
  readonly W_rec: Int32Array;
  readonly b: Int32Array;
  readonly W_out: Int32Array;
  /** Input-to-output readout weights (O x M, Q7.24; empty without direct). */
  readonly D: Int32Array;
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
  /** RFLO / SnAp-1 eligibility traces (empty for the other kinds). */
  readonly P_in: Int16Array;
  readonly P_rec: Int16Array;
  readonly P_b: Int16Array;
  /** SnAp-1's per-unit decay (empty for the other kinds). */
  readonly decay: Int32Array;
  /** RTRL sensitivities and the exact partial sums' scratch (empty for the other kinds). */
  readonly S: Int32Array;
  readonly S_next: Int32Array;
  readonly sum_hi: Float64Array;
  readonly sum_lo: Float64Array;
  readonly acc_W_in: Float64Array;
  readonly acc_W_rec: Float64Array;
  readonly acc_b: Float64Array;
  readonly acc_W_out: Float64Array;
  /** D's accumulated terms (O x M, Q30; empty without direct). */
  readonly acc_D: Float64Array;
  /** The saturation counters (runtime/layout.ts SATURATION_NAMES order). */
  readonly saturation: Uint32Array;
  readonly steps: Float64Array;
}

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

/** Views of every buffer of plan p in `arena` (starting at byte `base`), by buffer name. */
export function bufferViews(p: FixedPlan, arena: ArrayBuffer, base: number): Readonly<Record<string, View>> {
  const v: Record<string, View> = {};
  for (const s of p.buffers) v[s.name] = makeView(arena, s, base);
  return Object.freeze(v);
}

/** The state object for plan p over `views` (bufferViews); buffers the kind lacks are empty arrays. */
export function bindState(p: FixedPlan, views: Readonly<Record<string, View>>): LearnerState {
  const o = p.options;
  const v = views as Record<string, View | undefined>;
  const i16 = (n: string) => (v[n] as Int16Array | undefined) ?? new Int16Array(0);
  const i32 = (n: string) => (v[n] as Int32Array | undefined) ?? new Int32Array(0);
  const f64 = (n: string) => (v[n] as Float64Array | undefined) ?? new Float64Array(0);
  return {
    N: o.hidden,
    M: o.inputs,
    O: o.outputs,
    theta: p.thetaCount,
    stepMode: o.update === 'step',
    accumulate: o.update === 'trial' || o.accumulateGradient === true,
    alpha: p.alphaQ15,
    oneMinusAlpha: 32768 - p.alphaQ15,
    etaRecM: p.etaRec.m,
    etaOutM: p.etaOut.m,
    shiftTraceRec: p.shifts.traceRec,
    shiftTraceIn: p.shifts.traceIn,
    shiftOut: p.shifts.out,
    shiftOutDirect: p.shifts.outDirect,
    shiftRtrl: p.shifts.rtrl,
    shiftApply: p.shifts.apply,
    traceFracRec: p.traceFrac.rec,
    traceFracIn: p.traceFrac.in,
    applyMul: 2 ** (FRAC.W - p.weightFracBits),
    transpose: p.kind !== 'rflo' || o.feedback === 'transpose',
    direct: o.direct === true,
    normalized: o.normalizedReadout === true,
    readoutEpsQ30: p.readoutEpsQ30,
    W_in: i32('W_in'),
    W_rec: i32('W_rec'),
    b: i32('b'),
    W_out: i32('W_out'),
    D: i32('D'),
    W_rec_q12: i16('W_rec_q12'),
    W_out_q12: i16('W_out_q12'),
    B: i16('B'),
    h0: i16('h0'),
    h: i16('h'),
    h_prev: i16('h_prev'),
    x: i16('x'),
    target: i16('target'),
    y: i16('y'),
    e: i16('e'),
    u: i32('u'),
    dphi: i32('dphi'),
    aphi: i32('aphi'),
    fb: i32('fb'),
    P_in: i16('P_in'),
    P_rec: i16('P_rec'),
    P_b: i16('P_b'),
    decay: i32('decay'),
    S: i32('S'),
    S_next: i32('S_next'),
    sum_hi: f64('sum_hi'),
    sum_lo: f64('sum_lo'),
    acc_W_in: f64('acc_W_in'),
    acc_W_rec: f64('acc_W_rec'),
    acc_b: f64('acc_b'),
    acc_W_out: f64('acc_W_out'),
    acc_D: f64('acc_D'),
    saturation: v.saturation as Uint32Array,
    steps: f64('steps'),
  };
}
