/**
 * plan(config): validates a learner configuration, fixes every number format and shift, and lays out every buffer
 * in one arena (sizes and byte offsets). Plan-time code: float64 and allocation are fine here.
 * Formats and their reasons: runtime/ARITHMETIC.md.
 */
import { LEARNER_KINDS } from './types.ts';
import type { LearnerKind, LearnerOptions } from './types.ts';
import { toScale, bitLength } from './fixed.ts';
import { BUFFERS, TYPE_BYTES, bufferLength } from './layout.ts';
import type { BufferName, BufferType } from './layout.ts';
import type { Scale } from './fixed.ts';

/** Fractional bits of each quantity (see ARITHMETIC.md). */
export const FRAC = {
  /** Master weights W_in, W_rec, b, W_out: Q7.24 int32. */
  W: 24,
  /** Copies of W_rec and W_out for the feedback and sensitivity kernels, and B: Q3.12 int16. */
  WQ: 12,
  /** Hidden state h, h0, RFLO/SnAp-1 traces of W_rec and b: Q1.15 int16. */
  H: 15,
  /** Inputs x and the traces of W_in: Q3.12 int16. */
  X: 12,
  /** Outputs y, targets, errors e, RTRL feedback c: Q3.12 int16. */
  Y: 12,
  /** Pre-activation u: Q19.12 int32. */
  U: 12,
  /** Feedback (B e)_a or (W_out^T e)_a: Q7.24 int32. */
  FB: 24,
  /** RTRL sensitivities: Q11.20 int32. */
  S: 20,
  /** RTRL update sum D_theta after its rounding: Q11.20 int32. */
  D: 20,
  /** Accumulated unscaled terms (readGradient): Q30 exact integers in float64 (int64_t in C). */
  ACC: 30,
} as const;

export const DEFAULT_MEMORY_BUDGET = 64 * 1024 * 1024;
export const DEFAULT_UPDATE_FRAC_BITS = 30;
/** eps of the normalised readout's denominator when readoutEps is left out (the float twin's default). */
export const DEFAULT_READOUT_EPS = 1e-3;

export { SATURATION_NAMES, SAT } from './layout.ts';
export type { SaturationName, BufferType } from './layout.ts';

/** Options only the fixed-point engine has. */
export interface FixedOptions {
  /** Refuse plans whose arena exceeds this many bytes (default 64 MiB). */
  memoryBudget?: number;
  /**
   * Resolution of the stored weights in fractional bits, 8..24 (default 24: Q7.24 master weights). 12 stores them
   * at the resolution of a Q3.12 int16 weight (what plain int16 weights would keep): the negative control.
   */
  weightFracBits?: number;
  /**
   * 'step' mode: resolution at which each step's scaled update lr/trialLength * term(t) is computed before it is rounded into
   * the weights, weightFracBits..30 (default 30, i.e. 6 guard bits below Q24). Setting it to weightFracBits removes
   * the guard bits (negative control).
   */
  updateFracBits?: number;
}

export type FixedConfig = LearnerOptions & FixedOptions;


export interface BufferSpec {
  name: BufferName;
  type: BufferType;
  length: number;
  /** Q format or meaning, e.g. 'Q7.24'. */
  format: string;
  /** length * element size. */
  bytes: number;
  /** Byte offset in the arena (a multiple of 8). */
  offset: number;
  description: string;
}

/** Everything create() needs: the validated options, the layout and the precomputed integer constants. */
export interface FixedPlan {
  readonly options: Readonly<LearnerOptions>;
  readonly kind: LearnerKind;
  readonly weightFracBits: number;
  readonly updateFracBits: number;
  readonly memoryBudget: number;
  readonly buffers: readonly BufferSpec[];
  /** Arena size in bytes, including alignment padding. */
  readonly totalBytes: number;
  /** Sum of buffer bytes without padding. */
  readonly dataBytes: number;
  /** a = 1/tau in Q1.15 (int32 slot, <= 32768). */
  readonly alphaQ15: number;
  /** lrRec / trialLength and lrOut / trialLength as m * 2^-k. */
  readonly etaRec: Scale;
  readonly etaOut: Scale;
  /**
   * Normalised readout (options.normalizedReadout): eps of the step's denominator eps + |[h; x]|^2 in Q30,
   * round(readoutEps 2^30) in [1, 2^30]; 0 without it (runtime/ARITHMETIC.md, "Normalised readout").
   */
  readonly readoutEpsQ30: number;
  /** Right shifts of the update kernels (see ARITHMETIC.md, "learning"). */
  readonly shifts: {
    /** RFLO/SnAp-1: gain(Q(9+k)) x trace of W_rec, b (Q15) -> Q(updateFracBits). */
    traceRec: number;
    /** RFLO/SnAp-1: gain x trace of W_in (Q12). */
    traceIn: number;
    /** W_out: gain(Q(12+kOut)) x h(Q15). */
    out: number;
    /** D (direct): gain(Q(12+kOut)) x x(Q12). */
    outDirect: number;
    /** RTRL: D(Q20) x m(Q k). */
    rtrl: number;
    /** 'step': scaled update Q(updateFracBits) -> stored weight resolution Q(weightFracBits). */
    apply: number;
    /** 'trial': accumulator Q30 x m -> Q(weightFracBits) for the recurrent parameters and for W_out. */
    trialRec: number;
    trialOut: number;
  };
  /** Fractional bits of the traces: RFLO W_rec/b Q1.15 and W_in Q3.12; SnAp-1 all Q3.12 (its traces exceed 1). */
  readonly traceFrac: { readonly rec: number; readonly in: number };
  /** Number of recurrent parameters N*N + N*M + N (RTRL's sensitivity row length). */
  readonly thetaCount: number;
  /** Accepted but not faithful to the float model (e.g. a tau whose state updates round away); empty when none. */
  readonly warnings: readonly string[];
}

/** Largest tau whose Q1.15 hidden-state update keeps a dead band of at most 1/32: round(2^15 / tau) >= 16 (see tauWarning). */
export const MAX_FAITHFUL_TAU = Math.floor(32768 / 15.5);

/**
 * The leaky update h += a (tanh(u) - h), a = round(2^15 / tau), is rounded to Q1.15 every step: a change smaller than
 * half an LSB, |a (tanh(u) - h)| < 2^-16, vanishes, so h stops short of its drive by up to 2^-16 / (a 2^-15) = 1 / (2a),
 * about tau / 2^16. At tau 22000 (a = 1) that dead band is 0.5 of a state in [-1, 1] and the fixed-point state reaches a
 * fraction of the float twin's; at tau <= 2114 (a >= 16) it is at most 1/32. Returns the warning, or null.
 */
export function tauWarning(tau: number): string | null {
  if (!(tau >= 1 && tau <= 32768)) return null;
  const a = Math.round(32768 / tau);
  if (a >= 16) return null;
  const band = 1 / (2 * a);
  return (
    `tau = ${tau} is not faithful in fixed point: a = round(2^15/tau) = ${a} (exact ${(32768 / tau).toFixed(3)}), and a state ` +
    `change smaller than ${band.toPrecision(3)} rounds to nothing each step, so h stops short of its drive; the largest ` +
    `faithful value is tau = ${MAX_FAITHFUL_TAU} (dead band 1/32)`
  );
}

function fail(msg: string): never {
  throw new RangeError(msg);
}

/**
 * A value as an error message shows it: a string quoted and called one ("2", a string), so that `tau: '2'` does not
 * read as the number 2 being refused.
 */
export function gotValue(v: unknown): string {
  return typeof v === 'string' ? `${JSON.stringify(v)}, a string` : String(v);
}

function checkInt(name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    fail(`${name} must be an integer in [${lo}, ${hi}] (got ${gotValue(v)})`);
  }
  return v;
}

/** x with `digits` significant digits in exponent form, rounded toward +inf ('up') or -inf ('down'). */
function sigDigits(x: number, digits: number, dir: 'up' | 'down'): string {
  const e = Math.floor(Math.log10(x));
  const unit = 10 ** (e - digits + 1);
  const m = (dir === 'up' ? Math.ceil(x / unit - 1e-9) : Math.floor(x / unit + 1e-9)) * unit;
  return m.toExponential(digits - 1);
}

/**
 * Smallest and largest lr/trialLength whose shifts stay in 0..47 for a kernel with base shift c (s = c + k - U).
 * kFloor: the smallest exponent k (16, eta < 1/2; 14 for the normalised readout, eta < 2).
 */
function etaRange(c: number, U: number, kFloor = 16): [number, number] {
  // s = c + k - U in [0, 47] (mul32x16RoundShift's range)  <=>  k in [U - c, 47 + U - c];
  // with m in [2^14, 2^15): eta in [2^(14-k), 2^(15-k)). k <= 36 keeps the trial-mode shift k + 30 - F <= 52.
  const kMin = Math.max(kFloor, U - c);
  const kMax = Math.min(47 + U - c, 36);
  return [2 ** (14 - kMax), 2 ** (15 - kMin) * (32767 / 32768)];
}

function checkEta(name: string, lr: number, trialLength: number, cs: number[], U: number, kFloor = 16): Scale {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) fail(`${name} must be a finite number >= 0 (got ${gotValue(lr)})`);
  const eta = lr / trialLength;
  let lo = 0;
  let hi = Infinity;
  for (const c of cs) {
    const [l, h] = etaRange(c, U, kFloor);
    lo = Math.max(lo, l);
    hi = Math.min(hi, h);
  }
  if (eta !== 0 && (eta < lo || eta > hi)) {
    // The printed bounds lie inside the accepted range (lo rounded up, hi rounded down), so a value that prints
    // as a bound is accepted: hi = 2^-1 (32767/32768) prints as 4.999e-1, not 5.000e-1.
    const range = `0 or in [${sigDigits(lo, 4, 'up')}, ${sigDigits(hi, 4, 'down')}]`;
    if (trialLength === 1) fail(`${name} must be ${range} to be representable (got ${lr})`);
    fail(`${name} / trialLength must be ${range} to be representable (got ${name} = ${lr}, trialLength = ${trialLength}, ratio ${eta.toExponential(3)})`);
  }
  const s = toScale(eta);
  if (s.k < kFloor) s.k = kFloor; // eta at the top of the range: m shrinks below 2^14, still exact to 1/2 LSB
  s.m = Math.round(eta * 2 ** s.k);
  return s;
}

/** Base shifts c of the update kernels: s = c + k - updateFracBits (gain Q(9+k) x trace Q(T): c = 9 + T). */
const C_OUT = 27;
/** D's update: gain Q(12 + k) x x Q12 -> c = 24. */
const C_OUT_DIRECT = 24;
const C_RTRL = 20;

/**
 * Validates config and lays out the arena. Throws a RangeError naming the field, the value and the valid range,
 * or, over budget, saying how many bytes the plan needs.
 */
export function plan(config: FixedConfig): FixedPlan {
  if (config === null || typeof config !== 'object') fail(`config must be an object (got ${String(config)})`);
  const kind = config.learner;
  if (!LEARNER_KINDS.includes(kind)) fail(`learner must be one of ${LEARNER_KINDS.join(', ')} (got ${String(kind)})`);
  const M = checkInt('inputs', config.inputs, 0, 65535);
  const N = checkInt('hidden', config.hidden, 1, 65535);
  const O = checkInt('outputs', config.outputs, 1, 65535);
  const tau = config.tau;
  if (typeof tau !== 'number') fail(`tau must be a number >= 1 (got ${gotValue(tau)})`);
  if (!Number.isFinite(tau) || tau < 1) fail(`tau must be >= 1 (got ${tau})`);
  if (tau > 32768) fail(`tau must be <= 32768 so that 1/tau is representable in Q1.15 (got ${tau})`);
  if (config.update !== 'step' && config.update !== 'trial') fail(`update must be 'step' or 'trial' (got ${String(config.update)})`);
  const trialLength = checkInt('trialLength', config.trialLength, 1, 65536);
  const feedback = config.feedback ?? 'random';
  if (feedback !== 'random' && feedback !== 'transpose') fail(`feedback must be 'random' or 'transpose' (got ${String(feedback)})`);
  const F = checkInt('weightFracBits', config.weightFracBits ?? FRAC.W, 8, FRAC.W);
  const U = checkInt('updateFracBits', config.updateFracBits ?? DEFAULT_UPDATE_FRAC_BITS, F, 30);
  const direct = config.direct ?? false;
  if (direct !== true && direct !== false) fail(`direct must be true or false (got ${String(direct)})`);
  const accGiven = config.accumulateGradient;
  if (accGiven !== undefined && accGiven !== true && accGiven !== false) {
    fail(`accumulateGradient must be true or false (got ${String(accGiven)})`);
  }
  if (accGiven === false && config.update === 'trial') {
    fail("accumulateGradient must be true with update 'trial' (got false): a trial applies the accumulated terms; leave it out or set update 'step'");
  }
  // 'trial' mode always accumulates; 'step' mode only when asked (readGradient, `neurostream grad`).
  const accumulate = config.update === 'trial' || accGiven === true;
  const normalized = config.normalizedReadout ?? false;
  if (normalized !== true && normalized !== false) fail(`normalizedReadout must be true or false (got ${String(normalized)})`);
  if (config.readoutEps !== undefined && !normalized) fail('readoutEps is the normalised readout\'s eps; set normalizedReadout, or leave readoutEps out');
  if (normalized && config.update !== 'step') {
    fail(`normalizedReadout needs update 'step' (got '${config.update}'): the normalisation is per step; turn it off for trial updates`);
  }
  const readoutEps = normalized ? (config.readoutEps ?? DEFAULT_READOUT_EPS) : 0;
  if (normalized && (typeof readoutEps !== 'number' || !Number.isFinite(readoutEps) || readoutEps < 2 ** -30 || readoutEps > 1)) {
    fail(`readoutEps must be a number in [2^-30, 1] (about [9.32e-10, 1]) so that it is representable in Q30 (got ${gotValue(readoutEps)}); ${DEFAULT_READOUT_EPS} is the default`);
  }
  // Options of the float twin the fixed-point runtime does not have yet: refused, never silently ignored.
  if (config.maxRecStep !== undefined) {
    fail('maxRecStep (the recurrent update bound) is not in the fixed-point runtime yet; leave it out or use the float twin');
  }
  const budget = config.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
  if (typeof budget !== 'number' || !(budget > 0)) fail(`memoryBudget must be a number of bytes > 0 (got ${gotValue(budget)})`);

  const traceFrac = kind === 'snap1' ? { rec: 12, in: 12 } : { rec: 15, in: 12 };
  const C_TRACE_REC = 9 + traceFrac.rec;
  const C_TRACE_IN = 9 + traceFrac.in;
  const recKernels = kind === 'rtrl' ? [C_RTRL] : kind === 'output' ? [] : [C_TRACE_REC, C_TRACE_IN];
  const etaRec = checkEta('lrRec', config.lrRec, trialLength, recKernels, U);
  if (normalized && typeof config.lrOut === 'number' && config.lrOut / trialLength >= 2) {
    // Haykin, Adaptive Filter Theory (NLMS): the normalised step mu = lrOut / trialLength is mean-square stable for
    // 0 < mu < 2 whatever the scale of [h; x]; at mu >= 2 each step overshoots the error it corrects.
    const mu = trialLength === 1 ? 'lrOut' : 'lrOut / trialLength';
    fail(
      `${mu} must be below 2 with normalizedReadout: the normalised (NLMS) readout step is mean-square stable only for ` +
        `0 < ${mu} < 2 (Haykin, Adaptive Filter Theory); 0.1-1 is usual (got lrOut = ${config.lrOut}` +
        (trialLength === 1 ? ')' : `, trialLength = ${trialLength})`),
    );
  }
  const etaOut = checkEta('lrOut', config.lrOut, trialLength, direct ? [C_OUT, C_OUT_DIRECT] : [C_OUT], U, normalized ? 14 : 16);
  const readoutEpsQ30 = normalized ? Math.round(readoutEps * 2 ** FRAC.ACC) : 0;
  if (normalized && etaOut.m !== 0) {
    // The normalised update is d = round(g1 z_j 2^-s), s = shift + p - 31 with p = bitLength(n2) >= bitLength(eps);
    // s >= -17 + max(0, 24 - U) keeps |d| < 2^62 and its step d 2^(24 - U) into the Q24 weight below 2^62 (int64 in C).
    const minShift = Math.min(C_OUT + etaOut.k - U, direct ? C_OUT_DIRECT + etaOut.k - U : Infinity);
    const pMin = 14 - minShift + Math.max(0, FRAC.W - U);
    if (bitLength(readoutEpsQ30) < pMin) {
      fail(`readoutEps must be >= ${(2 ** (pMin - 1 - FRAC.ACC)).toExponential(3)} with lrOut = ${config.lrOut} (got ${readoutEps}); raise readoutEps`);
    }
  }
  const alphaQ15 = Math.round(32768 / tau);

  const options: LearnerOptions = {
    learner: kind,
    inputs: M,
    hidden: N,
    outputs: O,
    tau,
    lrRec: config.lrRec,
    lrOut: config.lrOut,
    update: config.update,
    trialLength,
    feedback,
  };
  // Only a learner with D carries the key, so the options (and a snapshot's config) without it are unchanged.
  if (direct) options.direct = true;
  // Likewise the normalised readout: both keys (eps resolved) or neither.
  if (normalized) {
    options.normalizedReadout = true;
    options.readoutEps = readoutEps;
  }
  // 'step' mode carries the key only when it accumulates ('trial' always does, without the key).
  if (accumulate && config.update === 'step') options.accumulateGradient = true;
  const theta = N * N + N * M + N;

  // The arena: the manifest's buffers this kind has (runtime/layout.ts), in its order.
  const specs: Omit<BufferSpec, 'offset' | 'bytes'>[] = [];
  for (const b of BUFFERS) {
    if (!(b.kinds as readonly string[]).includes(kind)) continue;
    const format = kind === 'snap1' && 'snap1Format' in b ? b.snap1Format : b.format;
    if ('direct' in b && b.direct === true && !direct) continue;
    if ('acc' in b && b.acc === true && !accumulate) continue;
    specs.push({ name: b.name, type: b.type, length: bufferLength(b, kind, N, M, O, direct, accumulate), format, description: b.description });
  }
  const buffers: BufferSpec[] = [];
  let offset = 0;
  let dataBytes = 0;
  for (const s of specs) {
    const bytes = s.length * TYPE_BYTES[s.type];
    buffers.push({ ...s, bytes, offset });
    dataBytes += bytes;
    offset += Math.ceil(bytes / 8) * 8;
  }
  const totalBytes = offset;
  if (totalBytes > budget) {
    const big = buffers.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    fail(
      `${kind} with hidden = ${N}, inputs = ${M}, outputs = ${O} needs ${totalBytes} bytes ` +
        `(${(totalBytes / 1048576).toFixed(2)} MiB; largest buffer ${big.name}: ${big.bytes} bytes), ` +
        `over memoryBudget = ${budget} bytes; raise memoryBudget or reduce hidden`,
    );
  }
  return Object.freeze({
    options: Object.freeze(options),
    kind,
    weightFracBits: F,
    updateFracBits: U,
    memoryBudget: budget,
    buffers: Object.freeze(buffers),
    totalBytes,
    dataBytes,
    alphaQ15,
    etaRec,
    etaOut,
    readoutEpsQ30,
    shifts: Object.freeze({
      traceRec: C_TRACE_REC + etaRec.k - U,
      traceIn: C_TRACE_IN + etaRec.k - U,
      out: C_OUT + etaOut.k - U,
      outDirect: C_OUT_DIRECT + etaOut.k - U,
      rtrl: C_RTRL + etaRec.k - U,
      apply: U - F,
      trialRec: etaRec.k + FRAC.ACC - F,
      trialOut: etaOut.k + FRAC.ACC - F,
    }),
    traceFrac: Object.freeze(traceFrac),
    thetaCount: theta,
    warnings: Object.freeze([tauWarning(tau)].filter((w): w is string => w !== null)),
  });
}

/** The memory report as a plain-text table (for `neurostream plan`). */
export function formatMemoryTable(p: FixedPlan): string {
  const rows = p.buffers.map((b) => [b.name, b.type, String(b.length), b.format, String(b.bytes), String(b.offset)]);
  const head = ['buffer', 'type', 'length', 'format', 'bytes', 'offset'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 2 && i !== 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const o = p.options;
  const out = [
    `${o.learner}: inputs ${o.inputs}, hidden ${o.hidden}, outputs ${o.outputs}, tau ${o.tau}, update ${o.update}` +
      (o.direct === true ? ', direct (y = W_out h + D x)' : '') +
      (o.normalizedReadout === true ? `, normalised readout (eps ${o.readoutEps})` : '') +
      (o.update === 'step' ? (o.accumulateGradient === true ? ', accumulates the gradient' : ', no gradient accumulators') : ''),
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    `total ${p.totalBytes} bytes (${p.dataBytes} data + ${p.totalBytes - p.dataBytes} alignment padding), ` +
      `budget ${p.memoryBudget} bytes`,
  ];
  return out.join('\n');
}
