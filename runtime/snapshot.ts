/**
 * Versioned binary snapshots of a fixed-point learner: the whole arena (weights, Q3.12 copies, state, traces or
 * sensitivities, accumulators, saturation counters, step counter) plus the configuration, with a CRC-32.
 * Loading one and stepping on is bit-identical to never having stopped.
 *
 * Layout, little-endian (version 1; version 2 is the same layout for a learner with options.direct, whose arena
 * has the D and acc_D buffers; version 3 for a learner with options.normalizedReadout, with or without direct, whose
 * config carries normalizedReadout and readoutEps; version 4 for a 'step' learner without gradient accumulators,
 * whose arena has no acc_* buffers and whose config carries "accumulateGradient": false. A config without the key
 * accumulates, as every learner before version 4 did):
 *   0   4  magic "NSNP"
 *   4   2  version (1, 2 with direct, 3 with the normalised readout, 4 without gradient accumulators)
 *   6   2  flags (0)
 *   8   4  config length C (bytes of ASCII JSON)
 *   12  4  arena length A
 *   16  C  config: JSON of the learner options plus weightFracBits, updateFracBits, memoryBudget
 *   ..     zero padding to a multiple of 8
 *   ..  A  arena bytes (typed arrays in little-endian order)
 *   ..  4  CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320) of every byte before it
 */
import { plan, SATURATION_NAMES } from './plan.ts';
import type { FixedConfig } from './plan.ts';
import { FixedLearner } from './learner.ts';
import type { Backend } from './wasm/backend.ts';

export const SNAPSHOT_MAGIC = 'NSNP';
/**
 * The newest snapshot version this runtime writes and reads. A learner without direct is written as version 1, byte
 * for byte what earlier runtimes wrote and read; one with direct (D in its arena) as version 2, so that a runtime or
 * firmware that reads only version 1 refuses it by its version instead of misreading the arena; one with the
 * normalised readout as version 3 (its arena is that of version 1 or 2, but a reader that does not know the key
 * would learn with the plain delta rule: it must refuse the file, not misread it).
 */
export const SNAPSHOT_VERSION = 4;
/**
 * The version a learner's snapshot is written in: 4 for a 'step' learner without gradient accumulators (its arena
 * lacks the acc_* buffers: an older reader must refuse it), else 3 with the normalised readout, else 2 with direct,
 * else 1.
 */
export function snapshotVersionOf(o: {
  readonly update?: string;
  readonly direct?: boolean;
  readonly normalizedReadout?: boolean;
  readonly accumulateGradient?: boolean;
}): number {
  if (o.update === 'step' && o.accumulateGradient !== true) return 4;
  return o.normalizedReadout === true ? 3 : o.direct === true ? 2 : 1;
}
const HEADER = 16;

const CRC_TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c >>> 0;
}

/** CRC-32 (the zlib/PNG one) of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkHost(): void {
  if (!LITTLE_ENDIAN) throw new Error('snapshots need a little-endian host (the arena is stored as it is in memory)');
}

function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) throw new Error('snapshot config must be ASCII');
    b[i] = c;
  }
  return b;
}

function fromAscii(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** The learner's configuration as saved (options plus the fixed-point options). */
function configOf(l: FixedLearner): FixedConfig {
  const p = l.plan;
  // A learner that accumulates is saved without the key, byte for byte as before version 4; one that does not says so.
  const { accumulateGradient, ...o } = p.options;
  const cfg: FixedConfig = { ...o, weightFracBits: p.weightFracBits, updateFracBits: p.updateFracBits, memoryBudget: p.memoryBudget };
  if (o.update === 'step' && accumulateGradient !== true) cfg.accumulateGradient = false;
  return cfg;
}

export function saveSnapshot(l: FixedLearner): Uint8Array {
  checkHost();
  const cfg = ascii(JSON.stringify(configOf(l)));
  const arena = new Uint8Array(l.arena, l.arenaOffset, l.plan.totalBytes);
  const arenaAt = Math.ceil((HEADER + cfg.length) / 8) * 8;
  const total = arenaAt + arena.length + 4;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(ascii(SNAPSHOT_MAGIC), 0);
  dv.setUint16(4, snapshotVersionOf(l.plan.options), true);
  dv.setUint16(6, 0, true);
  dv.setUint32(8, cfg.length, true);
  dv.setUint32(12, arena.length, true);
  out.set(cfg, HEADER);
  out.set(arena, arenaAt);
  dv.setUint32(total - 4, crc32(out, 0, total - 4), true);
  return out;
}

interface Parsed {
  version: number;
  config: FixedConfig;
  arenaAt: number;
  arenaLength: number;
  crc: number;
}

function parse(bytes: Uint8Array): Parsed {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('snapshot must be a Uint8Array');
  if (bytes.length < HEADER + 4) throw new Error(`snapshot too short: ${bytes.length} bytes, a header alone is ${HEADER + 4}`);
  const magic = fromAscii(bytes.subarray(0, 4));
  if (magic !== SNAPSHOT_MAGIC) throw new Error(`not a neurostream snapshot: magic is ${JSON.stringify(magic)}, expected "${SNAPSHOT_MAGIC}"`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint16(4, true);
  if (version < 1 || version > SNAPSHOT_VERSION) {
    throw new Error(`snapshot version ${version} is not supported (this runtime reads versions 1 to ${SNAPSHOT_VERSION}); ` +
      'save it again with the runtime that wrote it, or update this one');
  }
  const cfgLen = dv.getUint32(8, true);
  const arenaLength = dv.getUint32(12, true);
  const arenaAt = Math.ceil((HEADER + cfgLen) / 8) * 8;
  const want = arenaAt + arenaLength + 4;
  if (bytes.length !== want) {
    throw new Error(`snapshot size is ${bytes.length} bytes but its header says ${want} (truncated or padded file)`);
  }
  const crc = dv.getUint32(want - 4, true);
  const actual = crc32(bytes, 0, want - 4);
  if (crc !== actual) {
    throw new Error(`snapshot checksum mismatch: stored CRC-32 ${hex(crc)}, computed ${hex(actual)} (the file is corrupt)`);
  }
  let config: FixedConfig;
  try {
    config = JSON.parse(fromAscii(bytes.subarray(HEADER, HEADER + cfgLen))) as FixedConfig;
  } catch {
    throw new Error('snapshot config is not valid JSON');
  }
  return { version, config, arenaAt, arenaLength, crc };
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

/**
 * Restores a learner from saveSnapshot's bytes (on `backend`, default 'auto'); refuses wrong magic, version, size or
 * checksum with a message.
 */
export function loadSnapshot(bytes: Uint8Array, backend?: Backend): FixedLearner {
  checkHost();
  const p = parse(bytes);
  // A config without the key accumulates (every snapshot before version 4).
  const pl = plan({ ...p.config, accumulateGradient: p.config.accumulateGradient ?? true });
  if (snapshotVersionOf(pl.options) !== p.version) {
    throw new Error(
      `snapshot version ${p.version} does not match its config (direct ${pl.options.direct === true}, normalizedReadout ` +
        `${pl.options.normalizedReadout === true}, accumulateGradient ${pl.options.update === 'trial' || pl.options.accumulateGradient === true}: ` +
        `version ${snapshotVersionOf(pl.options)} expected); the file was not written by a neurostream runtime`,
    );
  }
  if (pl.totalBytes !== p.arenaLength) {
    throw new Error(`snapshot arena has ${p.arenaLength} bytes but its config plans ${pl.totalBytes} (made by another layout)`);
  }
  const arena = new ArrayBuffer(p.arenaLength);
  new Uint8Array(arena).set(bytes.subarray(p.arenaAt, p.arenaAt + p.arenaLength));
  return new FixedLearner(pl, undefined as never, arena, backend);
}

export interface SnapshotDescription {
  version: number;
  bytes: number;
  crc32: string;
  config: FixedConfig;
  arenaBytes: number;
  steps: number;
  saturation: Record<string, number>;
  buffers: { name: string; type: string; length: number; format: string; bytes: number }[];
}

/** A plain description of a snapshot (for `neurostream snapshot inspect FILE`). Validates like loadSnapshot. */
export function inspectSnapshot(bytes: Uint8Array): SnapshotDescription {
  const l = loadSnapshot(bytes);
  const p = parse(bytes);
  const sat = l.saturation();
  const nonzero: Record<string, number> = {};
  for (const n of SATURATION_NAMES) if (sat[n] !== 0) nonzero[n] = sat[n];
  return {
    version: p.version,
    bytes: bytes.length,
    crc32: hex(p.crc),
    config: p.config,
    arenaBytes: p.arenaLength,
    steps: l.stepCount(),
    saturation: nonzero,
    buffers: l.plan.buffers.map((b) => ({ name: b.name, type: b.type, length: b.length, format: b.format, bytes: b.bytes })),
  };
}
