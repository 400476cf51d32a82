/**
 * The layout manifest: the one definition of the learner kinds' codes, the saturation counters, every buffer of
 * the arena (element type, Q format, length in terms of N, M, O and theta, which learner kinds have it) and the
 * wasm config block. plan() lays out the arena from it; scripts/gen-layout.ts generates the C header
 * (firmware-bridge/firmware/ns_layout.h) and the AssemblyScript constants (runtime/wasm/assembly/kernels.as, the
 * region between the GENERATED LAYOUT markers) from it, and test/layout.test.ts fails when they are stale.
 * The bridge protocol numbers its learner field and mask from the same codes (firmware-bridge/protocol.ts).
 * Pure data; no imports.
 */

/** Learner kinds and their codes (arena, wasm KIND, C enum ns_kind; the wire's CONFIGURE.learner is code + 1). */
export const LEARNER_KIND_CODES = { rtrl: 0, rflo: 1, snap1: 2, output: 3 } as const;
export type LearnerKindName = keyof typeof LEARNER_KIND_CODES;
/** The kinds in code order. */
export const LEARNER_KIND_ORDER: readonly LearnerKindName[] = ['rtrl', 'rflo', 'snap1', 'output'];

/**
 * Saturation counters, one per buffer or kernel result, in this order in the arena's `saturation` buffer.
 * `x_invalid` and `target_invalid` count missing readings instead (runtime/ARITHMETIC.md "Missing readings"):
 * non-finite input values held at the channel's last value, and steps whose target was missing (inference only).
 */
export const SATURATION_NAMES = [
  'x',
  'x_invalid',
  'target',
  'target_invalid',
  'y',
  'e',
  'feedback',
  'gain',
  'W_in',
  'W_rec',
  'b',
  'W_out',
  'weights_q12',
  'h',
  'trace',
  'decay',
  'sens',
  'grad',
] as const;
export type SaturationName = (typeof SATURATION_NAMES)[number];
/** Index of each saturation counter. */
export const SAT: { readonly [K in SaturationName]: number } = Object.fromEntries(SATURATION_NAMES.map((n, i) => [n, i])) as {
  [K in SaturationName]: number;
};

export type BufferType = 'i16' | 'i32' | 'u32' | 'f64';
export const TYPE_BYTES: Readonly<Record<BufferType, number>> = { i16: 2, i32: 4, u32: 4, f64: 8 };

/** A length factor: N hidden, M inputs, O outputs, T = theta = N*N + N*M + N, S = number of saturation counters. */
export type LengthFactor = 'N' | 'M' | 'O' | 'T' | 'S';

export interface BufferLayout {
  readonly name: string;
  readonly type: BufferType;
  /** Length as a product of factors ([] is 1). */
  readonly length: readonly LengthFactor[];
  /** Q format or meaning; `snap1Format` overrides it for SnAp-1 (its W_rec/b traces are Q3.12). */
  readonly format: string;
  readonly snap1Format?: string;
  /** Learner kinds that have the buffer; the others get length 0 (C) or no buffer at all (TypeScript, wasm). */
  readonly kinds: readonly LearnerKindName[];
  /**
   * Present only with options.direct (the readout that reads the input, y = W_out h + D x); without it the buffer
   * has length 0 (C) or does not exist (TypeScript, wasm), so the arena of a learner without D is unchanged.
   */
  readonly direct?: boolean;
  /**
   * A gradient accumulator: present only when the learner accumulates (options.accumulateGradient, always in
   * 'trial' mode); without it the buffer has length 0 (C) or does not exist (TypeScript, wasm).
   */
  readonly acc?: boolean;
  readonly description: string;
}

const ALL: readonly LearnerKindName[] = LEARNER_KIND_ORDER;
const TRACES: readonly LearnerKindName[] = ['rflo', 'snap1'];

/**
 * Every buffer, in arena order (each starts at a multiple of 8 bytes). The float64 buffers hold exact integers
 * (int64_t in C). W_rec_q12 and W_out_q12 are the Q3.12 copies the feedback, SnAp-1 decay and RTRL sensitivity
 * kernels read; B is RFLO's random feedback matrix; D and acc_D exist only with options.direct, the acc_* accumulators only
 * with gradient accumulation (options.accumulateGradient; runtime/ARITHMETIC.md).
 */
export const BUFFERS = [
  { name: 'W_in', type: 'i32', length: ['N', 'M'], format: 'Q7.24', kinds: ALL, description: 'master input weights' },
  { name: 'W_rec', type: 'i32', length: ['N', 'N'], format: 'Q7.24', kinds: ALL, description: 'master recurrent weights' },
  { name: 'b', type: 'i32', length: ['N'], format: 'Q7.24', kinds: ALL, description: 'master biases' },
  { name: 'W_out', type: 'i32', length: ['O', 'N'], format: 'Q7.24', kinds: ALL, description: 'master output weights' },
  { name: 'D', type: 'i32', length: ['O', 'M'], format: 'Q7.24', kinds: ALL, direct: true, description: 'master input-to-output weights (direct)' },
  { name: 'W_rec_q12', type: 'i16', length: ['N', 'N'], format: 'Q3.12', kinds: ALL, description: 'copy of W_rec for SnAp-1 / RTRL' },
  { name: 'W_out_q12', type: 'i16', length: ['O', 'N'], format: 'Q3.12', kinds: ALL, description: 'copy of W_out for W_out^T e' },
  { name: 'B', type: 'i16', length: ['N', 'O'], format: 'Q3.12', kinds: ALL, description: 'RFLO random feedback matrix' },
  { name: 'h0', type: 'i16', length: ['N'], format: 'Q1.15', kinds: ALL, description: 'state at a trial start' },
  { name: 'h', type: 'i16', length: ['N'], format: 'Q1.15', kinds: ALL, description: 'hidden state h(t)' },
  { name: 'h_prev', type: 'i16', length: ['N'], format: 'Q1.15', kinds: ALL, description: 'hidden state h(t-1)' },
  { name: 'x', type: 'i16', length: ['M'], format: 'Q3.12', kinds: ALL, description: 'input of this step' },
  { name: 'target', type: 'i16', length: ['O'], format: 'Q3.12', kinds: ALL, description: 'target of this step' },
  { name: 'y', type: 'i16', length: ['O'], format: 'Q3.12', kinds: ALL, description: 'output of this step' },
  { name: 'e', type: 'i16', length: ['O'], format: 'Q3.12', kinds: ALL, description: 'error target - y' },
  { name: 'u', type: 'i32', length: ['N'], format: 'Q19.12', kinds: ALL, description: 'pre-activation' },
  { name: 'dphi', type: 'i32', length: ['N'], format: 'Q1.15', kinds: ALL, description: "phi'(u) in [0, 32768]" },
  { name: 'aphi', type: 'i32', length: ['N'], format: 'Q1.15', kinds: ALL, description: "a phi'(u)" },
  { name: 'fb', type: 'i32', length: ['N'], format: 'Q7.24', kinds: ALL, description: 'error fed back to each unit' },
  { name: 'P_in', type: 'i16', length: ['N', 'M'], format: 'Q3.12', kinds: TRACES, description: 'eligibility traces of W_in' },
  { name: 'P_rec', type: 'i16', length: ['N', 'N'], format: 'Q1.15', snap1Format: 'Q3.12', kinds: TRACES, description: 'eligibility traces of W_rec' },
  { name: 'P_b', type: 'i16', length: ['N'], format: 'Q1.15', snap1Format: 'Q3.12', kinds: TRACES, description: 'eligibility traces of b' },
  { name: 'decay', type: 'i32', length: ['N'], format: 'Q1.15', kinds: ['snap1'], description: "(1-a) + a phi' W_aa, clamped to [0, 2]" },
  { name: 'S', type: 'i32', length: ['N', 'T'], format: 'Q11.20', kinds: ['rtrl'], description: 'sensitivities dh_j/dtheta' },
  { name: 'S_next', type: 'i32', length: ['N', 'T'], format: 'Q11.20', kinds: ['rtrl'], description: 'sensitivities being computed' },
  { name: 'sum_hi', type: 'f64', length: ['T'], format: 'int64', kinds: ['rtrl'], description: 'scratch: high partial sums' },
  { name: 'sum_lo', type: 'f64', length: ['T'], format: 'int64', kinds: ['rtrl'], description: 'scratch: low partial sums' },
  { name: 'acc_W_in', acc: true, type: 'f64', length: ['N', 'M'], format: 'Q30 (int64)', kinds: ALL, description: 'accumulated scaled terms' },
  { name: 'acc_W_rec', acc: true, type: 'f64', length: ['N', 'N'], format: 'Q30 (int64)', kinds: ALL, description: 'accumulated scaled terms' },
  { name: 'acc_b', acc: true, type: 'f64', length: ['N'], format: 'Q30 (int64)', kinds: ALL, description: 'accumulated scaled terms' },
  { name: 'acc_W_out', acc: true, type: 'f64', length: ['O', 'N'], format: 'Q30 (int64)', kinds: ALL, description: 'accumulated scaled terms' },
  { name: 'acc_D', acc: true, type: 'f64', length: ['O', 'M'], format: 'Q30 (int64)', kinds: ALL, direct: true, description: 'accumulated scaled terms' },
  { name: 'saturation', type: 'u32', length: ['S'], format: 'count', kinds: ALL, description: 'saturation events per buffer' },
  { name: 'steps', type: 'f64', length: [], format: 'count', kinds: ALL, description: 'steps taken' },
] as const satisfies readonly BufferLayout[];

/** The name of an arena buffer. */
export type BufferName = (typeof BUFFERS)[number]['name'];

/**
 * Length of a buffer for a shape (0 when the kind does not have it, a direct-only buffer without direct, or a
 * gradient accumulator of a learner that does not accumulate).
 */
export function bufferLength(b: BufferLayout, kind: LearnerKindName, N: number, M: number, O: number, direct = false, accumulate = true): number {
  if (!b.kinds.includes(kind)) return 0;
  if (b.direct === true && !direct) return 0;
  if (b.acc === true && !accumulate) return 0;
  const f: Record<LengthFactor, number> = { N, M, O, T: N * N + N * M + N, S: SATURATION_NAMES.length };
  let n = 1;
  for (const k of b.length) n *= f[k];
  return n;
}

/**
 * The wasm config block (runtime/wasm/backend.ts writes it, kernels.as configure() reads it): one int32 per field,
 * in this order, then one arena address per buffer of BUFFERS (a buffer the kind lacks points at the scratch).
 */
/** Addresses in a wasm instance's memory: the config block, the Q1.15 tanh table, the arena. */
export const WASM_CONFIG_ADDRESS = 16384;
export const WASM_TANH_ADDRESS = 20480;
export const WASM_ARENA_BASE = 65536;

export const CONFIG_FIELDS = [
  ['N', 'hidden units'],
  ['M', 'inputs'],
  ['O', 'outputs'],
  ['THETA', 'recurrent parameters N*N + N*M + N'],
  ['KIND', 'learner kind code (LEARNER_KIND_CODES)'],
  ['STEP', "1 for update 'step', 0 for 'trial'"],
  ['ALPHA', 'a = 1/tau, Q1.15'],
  ['KEEP', '1 - a, Q1.15'],
  ['ETA_REC', 'mantissa of lrRec / trialLength'],
  ['ETA_OUT', 'mantissa of lrOut / trialLength'],
  ['SH_TRACE_REC', 'plan shifts.traceRec'],
  ['SH_TRACE_IN', 'plan shifts.traceIn'],
  ['SH_OUT', 'plan shifts.out'],
  ['SH_RTRL', 'plan shifts.rtrl'],
  ['SH_APPLY', 'plan shifts.apply'],
  ['FR_REC', 'fractional bits of the W_rec and b traces'],
  ['FR_IN', 'fractional bits of the W_in traces'],
  ['APPLY_LOG2', 'log2 of applyMul = 2^(24 - weightFracBits)'],
  ['TRANSPOSE', "1 when the feedback is W_out^T e (not B e)"],
  ['DIRECT', '1 when the readout reads the input too (y = W_out h + D x)'],
  ['SH_OUT_DIRECT', 'plan shifts.outDirect'],
  ['NORMALIZED', '1 for the normalised (NLMS) readout step'],
  ['EPS_Q30', 'eps of the normalised readout, Q30 (plan readoutEpsQ30)'],
  ['ACCUMULATE', '1 when the gradient accumulators acc_* are written (options.accumulateGradient)'],
  ['SCRATCH', 'address of the private scratch after the arena'],
] as const;
export type ConfigField = (typeof CONFIG_FIELDS)[number][0];
