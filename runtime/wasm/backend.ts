/**
 * The WebAssembly SIMD backend of the fixed-point learner (issue 7): loads runtime/wasm/kernels.wasm (embedded in
 * base64, so no Node API is needed: WebAssembly.Module/Instance and atob only), places the learner's arena in the
 * instance's memory and runs FixedLearner.core() there, bit-exact with the TypeScript kernels.
 *
 * Memory of one instance (one per learner; it never grows, so the arena's typed-array views stay valid; the
 * addresses and the config block's fields are defined in runtime/layout.ts):
 *   [0, 16384)        unused (AssemblyScript's stub runtime keeps no data here: the module has no data segments)
 *   CONFIG = 16384    config block: CONFIG_FIELDS, then one arena address per buffer (int32), read by configure()
 *   TANH = 20480      the Q1.15 tanh table (runtime/activation.ts)
 *   ARENA_BASE        the plan's arena, byte for byte as in the TypeScript backend
 *   after the arena   private scratch (RTRL: exact i64 partial sums, theta x 8 bytes, c_j, N x 4 bytes, then the
 *                     dot path's work area for one chunk of parameters, rtrlWorkBytes; RFLO: the learning step's
 *                     gain per unit, N x 4 bytes, written and read within one step)
 */
import { FRAC } from '../plan.ts';
import type { FixedPlan } from '../plan.ts';
import { BUFFERS, CONFIG_FIELDS, LEARNER_KIND_CODES, WASM_ARENA_BASE, WASM_CONFIG_ADDRESS, WASM_TANH_ADDRESS } from '../layout.ts';
import type { ConfigField } from '../layout.ts';
import { TANH_TABLE } from '../activation.ts';
import { KERNELS_WASM_BASE64 } from './kernels-wasm.ts';

/**
 * Kernel backend of the fixed-point learner: 'auto' picks 'wasm' when the engine supports WebAssembly SIMD, else
 * 'js' (the live TypeScript kernels); 'reference' runs the reference kernels (runtime/learners/*.ts), for tests.
 */
export type Backend = 'auto' | 'js' | 'wasm' | 'reference';

const CONFIG = WASM_CONFIG_ADDRESS;
const TANH = WASM_TANH_ADDRESS;
/** Byte offset of the arena in the instance's memory. */
export const ARENA_BASE = WASM_ARENA_BASE;
const PAGE = 65536;

/** (module (func (result v128) v128.const i32x4 0 0 0 0)): validates only where SIMD is supported. */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
]);

/** The part of the WebAssembly JS API used here (the project's lib has no DOM/WebAssembly typings). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
}
const WA: WasmApi | undefined = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let simd: boolean | undefined;
/** True when this engine has WebAssembly with the SIMD proposal (checked once with WebAssembly.validate). */
export function wasmSimdSupported(): boolean {
  if (simd === undefined) {
    try {
      simd = WA !== undefined && WA.validate(SIMD_PROBE);
    } catch {
      simd = false;
    }
  }
  return simd === true;
}

let compiled: object | undefined;
function kernelsModule(api: WasmApi): object {
  if (compiled === undefined) {
    const s = atob(KERNELS_WASM_BASE64);
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    compiled = new api.Module(bytes);
  }
  return compiled;
}

/** One learner's wasm instance: its memory (holding the arena at `base`) and the step entry point. */
export interface WasmKernel {
  readonly memory: WasmMemory;
  /** memory.buffer; valid for the learner's life (the memory never grows). */
  readonly buffer: ArrayBuffer;
  /** Byte offset of the arena in buffer. */
  readonly base: number;
  /** core(learn): learn 1 runs the learning update after the forward step, 0 only the forward step and traces. */
  readonly step: (learn: number) => void;
}

/**
 * Bytes of the RTRL dot path's work area (kernels.as advanceRtrlDot, the same formula as its rtrlChunk): a chunk of CH
 * parameters, CH = 2048 / ceil(N / 2) rounded down to a multiple of 8 within [8, 256] (so the chunk's i16 pieces,
 * at most 12 bytes per k pair and parameter, stay within 24 KiB, inside a level-1 data cache), holds the pieces
 * (12 ceil(N/2) CH), i32 inner sums (8 CH), one row of i64 sums (8 CH), the direct terms zero-padded
 * (4 (N + M + 49)) and per block of 8 parameters a list of k pairs (4 (CH / 8) (2 ceil(N/2) + 1)); plus alignment.
 */
function rtrlWorkBytes(N: number, M: number): number {
  const KP = (N + 1) >> 1;
  const CH = Math.max(8, Math.min(256, Math.floor(2048 / KP)) & ~7);
  return 12 * KP * CH + 16 * CH + 4 * (N + M + 49) + 16 + 4 * (CH / 8) * (2 * KP + 1) + 16;
}

/** Instantiates the kernels for plan p with a zeroed arena; throws when WebAssembly SIMD is unavailable. */
export function createWasmKernel(p: FixedPlan): WasmKernel {
  const o = p.options;
  const N = o.hidden;
  const M = o.inputs;
  const O = o.outputs;
  const scratchAt = ARENA_BASE + Math.ceil(p.totalBytes / 16) * 16;
  const scratchBytes = p.kind === 'rtrl' ? p.thetaCount * 8 + N * 4 + rtrlWorkBytes(N, M) : p.kind === 'rflo' ? N * 4 : 0;
  const pages = Math.ceil((scratchAt + scratchBytes + 16) / PAGE);
  if (WA === undefined) throw new Error('this engine has no WebAssembly');
  const memory = new WA.Memory({ initial: pages, maximum: pages });
  const inst = new WA.Instance(kernelsModule(WA), { env: { memory } });
  const buffer = memory.buffer;
  new Int16Array(buffer, TANH, TANH_TABLE.length).set(TANH_TABLE);
  const at: Record<string, number> = {};
  for (const b of p.buffers) at[b.name] = ARENA_BASE + b.offset;
  const applyLog2 = FRAC.W - p.weightFracBits;
  const field: Record<ConfigField, number> = {
    N,
    M,
    O,
    THETA: p.thetaCount,
    KIND: LEARNER_KIND_CODES[p.kind],
    STEP: o.update === 'step' ? 1 : 0,
    ALPHA: p.alphaQ15,
    KEEP: 32768 - p.alphaQ15,
    ETA_REC: p.etaRec.m,
    ETA_OUT: p.etaOut.m,
    SH_TRACE_REC: p.shifts.traceRec,
    SH_TRACE_IN: p.shifts.traceIn,
    SH_OUT: p.shifts.out,
    SH_RTRL: p.shifts.rtrl,
    SH_APPLY: p.shifts.apply,
    FR_REC: p.traceFrac.rec,
    FR_IN: p.traceFrac.in,
    APPLY_LOG2: applyLog2,
    TRANSPOSE: p.kind !== 'rflo' || o.feedback === 'transpose' ? 1 : 0,
    DIRECT: o.direct === true ? 1 : 0,
    SH_OUT_DIRECT: p.shifts.outDirect,
    NORMALIZED: o.normalizedReadout === true ? 1 : 0,
    EPS_Q30: p.readoutEpsQ30,
    ACCUMULATE: o.update === 'trial' || o.accumulateGradient === true ? 1 : 0,
    SCRATCH: scratchAt,
  };
  // Buffers a kind does not have point at a harmless address (never read for that kind).
  const cfg = [...CONFIG_FIELDS.map(([name]) => field[name]), ...BUFFERS.map((b) => at[b.name] ?? scratchAt)];
  new Int32Array(buffer, CONFIG, cfg.length).set(cfg);
  const ex = inst.exports as { configure: () => void; step: (learn: number) => void };
  ex.configure();
  return { memory, buffer, base: ARENA_BASE, step: ex.step };
}

/** The backend a learner gets for `requested`: 'js' or 'wasm' ('auto' is 'wasm' where SIMD is supported and the module compiles). */
export function resolveBackend(requested: Backend | undefined): 'js' | 'wasm' | 'reference' {
  const r = requested ?? 'auto';
  if (r === 'js' || r === 'reference') return r;
  if (r === 'wasm') {
    if (!wasmSimdSupported()) throw new Error("backend 'wasm' needs WebAssembly SIMD, which this engine does not support");
    return 'wasm';
  }
  if (r !== 'auto') throw new RangeError(`backend must be 'auto', 'js', 'wasm' or 'reference' (got ${String(r)})`);
  if (!wasmSimdSupported() || WA === undefined) return 'js';
  // An engine may refuse to compile (e.g. a content security policy without 'wasm-unsafe-eval', or a limit on
  // synchronous compilation on a browser's main thread): then 'auto' falls back to the TypeScript kernels.
  try {
    kernelsModule(WA);
  } catch {
    return 'js';
  }
  return 'wasm';
}
