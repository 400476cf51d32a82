/**
 * The bridge protocol codec (see PROTOCOL.md, the normative description; keep the two in step).
 *
 * A frame on the wire is COBS(header | body | crc16 LE) followed by one 0x00 delimiter.
 * Header: type u8, flags u8, fseq u16 LE. CRC-16/CCITT-FALSE over header | body.
 * All multi-byte fields are little-endian.
 *
 * Nothing here allocates per frame: messages are decoded into and encoded from one reusable `Message`
 * (created once with `createMessage()`), frames are written into caller-owned buffers, and the only scratch
 * buffer is preallocated at module load. Not re-entrant (one thread, no nesting of encodeFrame calls).
 */
import { LEARNER_KIND_CODES } from '../runtime/layout.ts';
import type { LearnerKindName } from '../runtime/layout.ts';

export const PROTOCOL_VERSION = 1;
export const MIN_PROTOCOL_VERSION = 1;

/** Header (4) + body + CRC (2): the largest decoded frame any peer must accept. */
export const MAX_PAYLOAD = 256;
export const HEADER_BYTES = 4;
export const CRC_BYTES = 2;
export const MAX_BODY = MAX_PAYLOAD - HEADER_BYTES - CRC_BYTES; // 250
/** COBS adds one code byte at the start and one after every run of 254 non-zero bytes: 256 -> 258. Delimiter not included. */
export const MAX_ENCODED = MAX_PAYLOAD + 1 + Math.floor(MAX_PAYLOAD / 254);
/** Encoded frame plus its 0x00 delimiter: the size of a buffer that always holds one frame. */
export const MAX_WIRE = MAX_ENCODED + 1;

/** Largest int16 count in SAMPLE (body 9 + 2n <= 250). */
export const MAX_CHANNELS = 120;
/** Largest int16 count in TARGET / PREDICTION (body 5 + 2n <= 250). */
export const MAX_VALUES = 122;
/** Largest data chunk in SNAPSHOT_DATA (body 13 + n <= 250). */
export const MAX_SNAPSHOT_CHUNK = 237;
/** Largest text in ERROR (body 9 + n <= 250). */
export const MAX_ERROR_TEXT = 241;
export const STATS_WORDS = 12;

/** "No resume": HELLO.resumeSeq value that asks the device to start at its next new sample. */
export const NO_RESUME = 0xffffffff;

export const MsgType = {
  HELLO: 0x01,
  CAPABILITIES: 0x02,
  CONFIGURE: 0x03,
  SAMPLE: 0x10,
  TARGET: 0x11,
  PREDICTION: 0x12,
  ACK: 0x20,
  NACK: 0x21,
  HEARTBEAT: 0x30,
  ERROR: 0x31,
  STATS_REQUEST: 0x32,
  STATS: 0x33,
  SNAPSHOT_REQUEST: 0x40,
  SNAPSHOT_DATA: 0x41,
} as const;
export type MsgTypeCode = (typeof MsgType)[keyof typeof MsgType];
export const MSG_TYPES: readonly number[] = Object.values(MsgType);

export const MSG_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(MsgType).map(([k, v]) => [v, k.toLowerCase()]),
);

/** Header flags. */
export const FLAG_RETRANSMIT = 0x01;
/**
 * SAMPLE / TARGET carry missing readings (PROTOCOL.md "Missing readings"): in a SAMPLE a value MISSING_VALUE is a
 * channel without a reading (the learner holds its last value); a TARGET with this flag is missing as a whole (the
 * learner predicts and does not learn). Without the flag every value is a reading, -32768 included.
 */
export const FLAG_MISSING = 0x02;
/** The value of a channel without a reading in a SAMPLE that has FLAG_MISSING (int16 minimum, 0x8000). */
export const MISSING_VALUE = -32768;

/** CONFIGURE.flags bits. */
export const CONFIG_START = 0x01;
export const CONFIG_TARGETS = 0x02;
/**
 * On-device learner: its readout reads the input too (options.direct, y = W_out h + D x). A device refuses a
 * CONFIGURE whose bit differs from the learner its snapshot loaded, so host and device agree on the model.
 */
export const CONFIG_DIRECT = 0x04;
/**
 * On-device learner: its readout takes normalised (NLMS) steps (options.normalizedReadout). Refused like DIRECT when
 * it differs from the loaded snapshot's learner.
 */
export const CONFIG_NORMALIZED = 0x08;

/** ACK / NACK subject. */
export const SUBJECT_FRAME = 0;
export const SUBJECT_SAMPLES = 1;

/** NACK / ERROR codes. */
export const ErrorCode = {
  NONE: 0,
  VERSION_UNSUPPORTED: 1,
  BAD_CONFIG: 2,
  SAMPLES_LOST: 3,
  OVERFLOW: 4,
  SNAPSHOT_UNAVAILABLE: 5,
  BUSY: 6,
  NOT_CONFIGURED: 7,
} as const;

/**
 * CONFIGURE.learner codes: 0 none (the device only streams; the host learns), else the learner's kind code
 * (runtime/layout.ts LEARNER_KIND_CODES) + 1. HELLO.learnerMask has bit (kind code) set per learner the device runs.
 */
export const LEARNER_CODES = {
  none: 0,
  rtrl: LEARNER_KIND_CODES.rtrl + 1,
  rflo: LEARNER_KIND_CODES.rflo + 1,
  snap1: LEARNER_KIND_CODES.snap1 + 1,
  output: LEARNER_KIND_CODES.output + 1,
} as const;

/** HELLO.learnerMask bit of a learner kind. */
export function learnerMaskBit(kind: LearnerKindName): number {
  return 1 << LEARNER_KIND_CODES[kind];
}

/** STATS word order. */
export const STATS_FIELDS = [
  'framesRx',
  'framesTx',
  'badCrc',
  'badLength',
  'unknownType',
  'overflow',
  'outOfSequence',
  'samplesGenerated',
  'samplesSent',
  'samplesRetransmitted',
  'samplesOverwritten',
  'uptimeMs',
] as const;

/**
 * One reusable message: a flat union of every message's fields. The decoder writes only the fields of the
 * decoded type; the encoder reads only the fields of `type`. Arrays are preallocated at their maximum size;
 * `count` says how many entries are valid.
 */
export interface Message {
  type: number;
  flags: number;
  /** Frame sequence number (per direction, mod 2^16). */
  fseq: number;
  // HELLO
  version: number;
  minVersion: number;
  maxPayload: number;
  resumeSeq: number;
  // CAPABILITIES (also version, maxPayload)
  channels: number;
  maxTargets: number;
  learnerMask: number;
  bufferCapacity: number;
  maxRateHz: number;
  deviceId: number;
  nextSeq: number;
  oldestSeq: number;
  // CONFIGURE
  learner: number;
  inputs: number;
  outputs: number;
  configFlags: number;
  hidden: number;
  inputFrac: number;
  targetFrac: number;
  predictionFrac: number;
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  rateHz: number;
  // SAMPLE / TARGET / PREDICTION
  seq: number;
  timestampUs: number;
  count: number;
  values: Int16Array;
  // ACK / NACK
  subject: number;
  code: number;
  ref: number;
  value: number;
  // HEARTBEAT (also nextSeq)
  uptimeMs: number;
  // ERROR (also code; text in bytes[0..count))
  detail: number;
  // STATS
  stats: Uint32Array;
  // SNAPSHOT_REQUEST / SNAPSHOT_DATA (also count, bytes)
  transferId: number;
  snapshotFlags: number;
  offset: number;
  totalLength: number;
  maxChunk: number;
  bytes: Uint8Array;
}

export function createMessage(): Message {
  return {
    type: 0,
    flags: 0,
    fseq: 0,
    version: 0,
    minVersion: 0,
    maxPayload: 0,
    resumeSeq: 0,
    channels: 0,
    maxTargets: 0,
    learnerMask: 0,
    bufferCapacity: 0,
    maxRateHz: 0,
    deviceId: 0,
    nextSeq: 0,
    oldestSeq: 0,
    learner: 0,
    inputs: 0,
    outputs: 0,
    configFlags: 0,
    hidden: 0,
    inputFrac: 0,
    targetFrac: 0,
    predictionFrac: 0,
    heartbeatMs: 0,
    heartbeatTimeoutMs: 0,
    rateHz: 0,
    seq: 0,
    timestampUs: 0,
    count: 0,
    values: new Int16Array(MAX_CHANNELS > MAX_VALUES ? MAX_CHANNELS : MAX_VALUES),
    subject: 0,
    code: 0,
    ref: 0,
    value: 0,
    uptimeMs: 0,
    detail: 0,
    stats: new Uint32Array(STATS_WORDS),
    transferId: 0,
    snapshotFlags: 0,
    offset: 0,
    totalLength: 0,
    maxChunk: 0,
    bytes: new Uint8Array(MAX_ERROR_TEXT > MAX_SNAPSHOT_CHUNK ? MAX_ERROR_TEXT : MAX_SNAPSHOT_CHUNK),
  };
}

// ---------------------------------------------------------------------------------------------------------
// CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, xorout 0. check("123456789") = 0x29B1.

const CRC_TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  CRC_TABLE[i] = c;
}

/** CRC-16/CCITT-FALSE of buf[start, end). */
export function crc16(buf: Uint8Array, start: number, end: number): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >>> 8) ^ buf[i]) & 0xff];
  return crc;
}

// ---------------------------------------------------------------------------------------------------------
// COBS (Cheshire & Baker 1999): removes every 0x00 from the data so 0x00 can delimit frames.

/** Encodes src[0, len) into out at offset (no delimiter). Returns the encoded length. out must not alias src. */
export function cobsEncode(src: Uint8Array, len: number, out: Uint8Array, offset: number): number {
  let codeAt = offset;
  let w = offset + 1;
  let code = 1;
  for (let i = 0; i < len; i++) {
    const b = src[i];
    if (b === 0) {
      out[codeAt] = code;
      codeAt = w++;
      code = 1;
    } else {
      out[w++] = b;
      code++;
      if (code === 0xff) {
        out[codeAt] = code;
        codeAt = w++;
        code = 1;
      }
    }
  }
  out[codeAt] = code;
  return w - offset;
}

/**
 * Decodes buf[0, len) in place (the decoded data is never longer than the encoded data, so writing behind
 * the read position is safe). Returns the decoded length, or -1 when a code byte is 0 or runs past the end.
 */
export function cobsDecodeInPlace(buf: Uint8Array, len: number): number {
  let r = 0;
  let w = 0;
  while (r < len) {
    const code = buf[r];
    if (code === 0 || r + code > len) return -1;
    r++;
    for (let k = 1; k < code; k++) buf[w++] = buf[r++];
    if (code !== 0xff && r < len) buf[w++] = 0;
  }
  return w;
}

// ---------------------------------------------------------------------------------------------------------
// Body layouts

/** Fixed body length for fixed-size types, -1 for types whose length depends on a count, -2 when unknown. */
export function fixedBodyLength(type: number): number {
  switch (type) {
    case MsgType.HELLO:
      return 8;
    case MsgType.CAPABILITIES:
      return 24;
    case MsgType.CONFIGURE:
      return 20;
    case MsgType.ACK:
    case MsgType.NACK:
      return 8;
    case MsgType.HEARTBEAT:
      return 8;
    case MsgType.STATS_REQUEST:
      return 0;
    case MsgType.STATS:
      return 4 * STATS_WORDS;
    case MsgType.SNAPSHOT_REQUEST:
      return 9;
    case MsgType.SAMPLE:
    case MsgType.TARGET:
    case MsgType.PREDICTION:
    case MsgType.ERROR:
    case MsgType.SNAPSHOT_DATA:
      return -1;
    default:
      return -2;
  }
}

/** Result codes of decodePayload (the framer maps them to drop counters). */
export const DECODE_OK = 0;
export const DECODE_BAD_CRC = 1;
export const DECODE_BAD_LENGTH = 2;
export const DECODE_UNKNOWN_TYPE = 3;

const u16 = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const i16 = (b: Uint8Array, o: number): number => ((b[o] | (b[o + 1] << 8)) << 16) >> 16;
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/**
 * Checks and decodes one COBS-decoded payload p[0, len) into msg. Returns DECODE_OK or the reason it was
 * rejected. Checks run in this order: length bounds, CRC, type, body length. On rejection msg may be
 * partly written (header fields) but no caller state is touched.
 */
export function decodePayload(p: Uint8Array, len: number, msg: Message): number {
  if (len < HEADER_BYTES + CRC_BYTES || len > MAX_PAYLOAD) return DECODE_BAD_LENGTH;
  const end = len - CRC_BYTES;
  if (crc16(p, 0, end) !== u16(p, end)) return DECODE_BAD_CRC;
  const type = p[0];
  const fixed = fixedBodyLength(type);
  if (fixed === -2) return DECODE_UNKNOWN_TYPE;
  const n = end - HEADER_BYTES;
  const b = HEADER_BYTES;
  if (fixed >= 0 && n !== fixed) return DECODE_BAD_LENGTH;
  switch (type) {
    case MsgType.HELLO:
      msg.version = p[b];
      msg.minVersion = p[b + 1];
      msg.maxPayload = u16(p, b + 2);
      msg.resumeSeq = u32(p, b + 4);
      break;
    case MsgType.CAPABILITIES:
      msg.version = p[b];
      msg.channels = p[b + 1];
      msg.maxPayload = u16(p, b + 2);
      msg.maxTargets = p[b + 4];
      msg.learnerMask = p[b + 5];
      msg.bufferCapacity = u16(p, b + 6);
      msg.maxRateHz = u32(p, b + 8);
      msg.deviceId = u32(p, b + 12);
      msg.nextSeq = u32(p, b + 16);
      msg.oldestSeq = u32(p, b + 20);
      break;
    case MsgType.CONFIGURE:
      msg.learner = p[b];
      msg.inputs = p[b + 1];
      msg.outputs = p[b + 2];
      msg.configFlags = p[b + 3];
      msg.hidden = u16(p, b + 4);
      msg.inputFrac = p[b + 6];
      msg.targetFrac = p[b + 7];
      msg.predictionFrac = p[b + 8];
      msg.heartbeatMs = u16(p, b + 10);
      msg.rateHz = u32(p, b + 12);
      msg.heartbeatTimeoutMs = u16(p, b + 16);
      break;
    case MsgType.SAMPLE: {
      if (n < 9) return DECODE_BAD_LENGTH;
      const c = p[b + 8];
      if (c > MAX_CHANNELS || n !== 9 + 2 * c) return DECODE_BAD_LENGTH;
      msg.seq = u32(p, b);
      msg.timestampUs = u32(p, b + 4);
      msg.count = c;
      for (let i = 0; i < c; i++) msg.values[i] = i16(p, b + 9 + 2 * i);
      break;
    }
    case MsgType.TARGET:
    case MsgType.PREDICTION: {
      if (n < 5) return DECODE_BAD_LENGTH;
      const c = p[b + 4];
      if (c > MAX_VALUES || n !== 5 + 2 * c) return DECODE_BAD_LENGTH;
      msg.seq = u32(p, b);
      msg.count = c;
      for (let i = 0; i < c; i++) msg.values[i] = i16(p, b + 5 + 2 * i);
      break;
    }
    case MsgType.ACK:
    case MsgType.NACK:
      msg.subject = p[b];
      msg.code = p[b + 1];
      msg.ref = u16(p, b + 2);
      msg.value = u32(p, b + 4);
      break;
    case MsgType.HEARTBEAT:
      msg.uptimeMs = u32(p, b);
      msg.nextSeq = u32(p, b + 4);
      break;
    case MsgType.ERROR: {
      if (n < 9) return DECODE_BAD_LENGTH;
      const c = p[b + 8];
      if (c > MAX_ERROR_TEXT || n !== 9 + c) return DECODE_BAD_LENGTH;
      msg.code = u16(p, b);
      msg.detail = u32(p, b + 4);
      msg.count = c;
      for (let i = 0; i < c; i++) msg.bytes[i] = p[b + 9 + i];
      break;
    }
    case MsgType.STATS_REQUEST:
      break;
    case MsgType.STATS:
      for (let i = 0; i < STATS_WORDS; i++) msg.stats[i] = u32(p, b + 4 * i);
      break;
    case MsgType.SNAPSHOT_REQUEST:
      msg.transferId = u16(p, b);
      msg.offset = u32(p, b + 4);
      msg.maxChunk = p[b + 8];
      break;
    case MsgType.SNAPSHOT_DATA: {
      if (n < 13) return DECODE_BAD_LENGTH;
      const c = p[b + 12];
      if (c > MAX_SNAPSHOT_CHUNK || n !== 13 + c) return DECODE_BAD_LENGTH;
      msg.transferId = u16(p, b);
      msg.snapshotFlags = u16(p, b + 2);
      msg.offset = u32(p, b + 4);
      msg.totalLength = u32(p, b + 8);
      msg.count = c;
      for (let i = 0; i < c; i++) msg.bytes[i] = p[b + 13 + i];
      break;
    }
  }
  msg.type = type;
  msg.flags = p[1];
  msg.fseq = u16(p, 2);
  return DECODE_OK;
}

/**
 * Writes header | body | crc of msg into p (length >= MAX_PAYLOAD) and returns the payload length.
 * Throws (a programming error, not a line error) when a count is out of range or the type is unknown.
 */
export function encodePayload(msg: Message, p: Uint8Array): number {
  const b = HEADER_BYTES;
  p[0] = msg.type;
  p[1] = msg.flags;
  put16(p, 2, msg.fseq);
  let n: number;
  switch (msg.type) {
    case MsgType.HELLO:
      p[b] = msg.version;
      p[b + 1] = msg.minVersion;
      put16(p, b + 2, msg.maxPayload);
      put32(p, b + 4, msg.resumeSeq);
      n = 8;
      break;
    case MsgType.CAPABILITIES:
      p[b] = msg.version;
      p[b + 1] = msg.channels;
      put16(p, b + 2, msg.maxPayload);
      p[b + 4] = msg.maxTargets;
      p[b + 5] = msg.learnerMask;
      put16(p, b + 6, msg.bufferCapacity);
      put32(p, b + 8, msg.maxRateHz);
      put32(p, b + 12, msg.deviceId);
      put32(p, b + 16, msg.nextSeq);
      put32(p, b + 20, msg.oldestSeq);
      n = 24;
      break;
    case MsgType.CONFIGURE:
      p[b] = msg.learner;
      p[b + 1] = msg.inputs;
      p[b + 2] = msg.outputs;
      p[b + 3] = msg.configFlags;
      put16(p, b + 4, msg.hidden);
      p[b + 6] = msg.inputFrac;
      p[b + 7] = msg.targetFrac;
      p[b + 8] = msg.predictionFrac;
      p[b + 9] = 0;
      put16(p, b + 10, msg.heartbeatMs);
      put32(p, b + 12, msg.rateHz);
      put16(p, b + 16, msg.heartbeatTimeoutMs);
      put16(p, b + 18, 0);
      n = 20;
      break;
    case MsgType.SAMPLE: {
      const c = msg.count;
      if (c < 0 || c > MAX_CHANNELS) throw new RangeError(`SAMPLE count must be 0..${MAX_CHANNELS} (got ${c})`);
      put32(p, b, msg.seq);
      put32(p, b + 4, msg.timestampUs);
      p[b + 8] = c;
      for (let i = 0; i < c; i++) put16(p, b + 9 + 2 * i, msg.values[i]);
      n = 9 + 2 * c;
      break;
    }
    case MsgType.TARGET:
    case MsgType.PREDICTION: {
      const c = msg.count;
      if (c < 0 || c > MAX_VALUES) throw new RangeError(`TARGET/PREDICTION count must be 0..${MAX_VALUES} (got ${c})`);
      put32(p, b, msg.seq);
      p[b + 4] = c;
      for (let i = 0; i < c; i++) put16(p, b + 5 + 2 * i, msg.values[i]);
      n = 5 + 2 * c;
      break;
    }
    case MsgType.ACK:
    case MsgType.NACK:
      p[b] = msg.subject;
      p[b + 1] = msg.code;
      put16(p, b + 2, msg.ref);
      put32(p, b + 4, msg.value);
      n = 8;
      break;
    case MsgType.HEARTBEAT:
      put32(p, b, msg.uptimeMs);
      put32(p, b + 4, msg.nextSeq);
      n = 8;
      break;
    case MsgType.ERROR: {
      const c = msg.count;
      if (c < 0 || c > MAX_ERROR_TEXT) throw new RangeError(`ERROR text must be 0..${MAX_ERROR_TEXT} bytes (got ${c})`);
      put16(p, b, msg.code);
      put16(p, b + 2, 0);
      put32(p, b + 4, msg.detail);
      p[b + 8] = c;
      for (let i = 0; i < c; i++) p[b + 9 + i] = msg.bytes[i];
      n = 9 + c;
      break;
    }
    case MsgType.STATS_REQUEST:
      n = 0;
      break;
    case MsgType.STATS:
      for (let i = 0; i < STATS_WORDS; i++) put32(p, b + 4 * i, msg.stats[i]);
      n = 4 * STATS_WORDS;
      break;
    case MsgType.SNAPSHOT_REQUEST:
      put16(p, b, msg.transferId);
      put16(p, b + 2, 0);
      put32(p, b + 4, msg.offset);
      p[b + 8] = msg.maxChunk;
      n = 9;
      break;
    case MsgType.SNAPSHOT_DATA: {
      const c = msg.count;
      if (c < 0 || c > MAX_SNAPSHOT_CHUNK) throw new RangeError(`SNAPSHOT_DATA chunk must be 0..${MAX_SNAPSHOT_CHUNK} bytes (got ${c})`);
      put16(p, b, msg.transferId);
      put16(p, b + 2, msg.snapshotFlags);
      put32(p, b + 4, msg.offset);
      put32(p, b + 8, msg.totalLength);
      p[b + 12] = c;
      for (let i = 0; i < c; i++) p[b + 13 + i] = msg.bytes[i];
      n = 13 + c;
      break;
    }
    default:
      throw new RangeError(`unknown message type 0x${msg.type.toString(16)}; expected one of ${MSG_TYPES.map((t) => '0x' + t.toString(16)).join(', ')}`);
  }
  const end = b + n;
  put16(p, end, crc16(p, 0, end));
  return end + CRC_BYTES;
}

const scratch = new Uint8Array(MAX_PAYLOAD);

/**
 * Encodes msg as one wire frame (COBS bytes then 0x00) into out at offset; returns the bytes written
 * (at most MAX_WIRE). Allocates nothing.
 */
export function encodeFrame(msg: Message, out: Uint8Array, offset = 0): number {
  const len = encodePayload(msg, scratch);
  const enc = cobsEncode(scratch, len, out, offset);
  out[offset + enc] = 0;
  return enc + 1;
}

/** Copies every field of src into dst (arrays element-wise); for queues of messages. */
export function copyMessage(dst: Message, src: Message): Message {
  dst.type = src.type;
  dst.flags = src.flags;
  dst.fseq = src.fseq;
  dst.version = src.version;
  dst.minVersion = src.minVersion;
  dst.maxPayload = src.maxPayload;
  dst.resumeSeq = src.resumeSeq;
  dst.channels = src.channels;
  dst.maxTargets = src.maxTargets;
  dst.learnerMask = src.learnerMask;
  dst.bufferCapacity = src.bufferCapacity;
  dst.maxRateHz = src.maxRateHz;
  dst.deviceId = src.deviceId;
  dst.nextSeq = src.nextSeq;
  dst.oldestSeq = src.oldestSeq;
  dst.learner = src.learner;
  dst.inputs = src.inputs;
  dst.outputs = src.outputs;
  dst.configFlags = src.configFlags;
  dst.hidden = src.hidden;
  dst.inputFrac = src.inputFrac;
  dst.targetFrac = src.targetFrac;
  dst.predictionFrac = src.predictionFrac;
  dst.heartbeatMs = src.heartbeatMs;
  dst.heartbeatTimeoutMs = src.heartbeatTimeoutMs;
  dst.rateHz = src.rateHz;
  dst.seq = src.seq;
  dst.timestampUs = src.timestampUs;
  dst.count = src.count;
  dst.values.set(src.values);
  dst.subject = src.subject;
  dst.code = src.code;
  dst.ref = src.ref;
  dst.value = src.value;
  dst.uptimeMs = src.uptimeMs;
  dst.detail = src.detail;
  dst.stats.set(src.stats);
  dst.transferId = src.transferId;
  dst.snapshotFlags = src.snapshotFlags;
  dst.offset = src.offset;
  dst.totalLength = src.totalLength;
  dst.maxChunk = src.maxChunk;
  dst.bytes.set(src.bytes);
  return dst;
}

/** ERROR text as a string (allocates; for logs and error messages, not the streaming path). */
export function errorText(msg: Message): string {
  let s = '';
  for (let i = 0; i < msg.count; i++) s += String.fromCharCode(msg.bytes[i]);
  return s;
}

/** Sets ERROR text from an ASCII string (truncated to MAX_ERROR_TEXT). */
export function setErrorText(msg: Message, text: string): void {
  const n = Math.min(text.length, MAX_ERROR_TEXT);
  for (let i = 0; i < n; i++) msg.bytes[i] = text.charCodeAt(i) & 0x7f;
  msg.count = n;
}

/** Sequence comparison mod 2^32: positive when a is after b (RFC 1982 style, window 2^31). */
export function seqDiff(a: number, b: number): number {
  return ((a - b) | 0);
}
