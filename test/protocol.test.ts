import test from 'ava';
import {
  MAX_CHANNELS,
  MAX_ENCODED,
  MAX_ERROR_TEXT,
  MAX_PAYLOAD,
  MAX_SNAPSHOT_CHUNK,
  MAX_VALUES,
  MAX_WIRE,
  MSG_TYPES,
  MsgType,
  STATS_WORDS,
  cobsDecodeInPlace,
  cobsEncode,
  createMessage,
  crc16,
  decodePayload,
  encodeFrame,
  encodePayload,
  DECODE_OK,
  DECODE_BAD_LENGTH,
  type Message,
} from '../firmware-bridge/protocol.ts';
import { createRng, rngNextU32 } from '../runtime/rng.ts';

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** The fields each type carries (what a round trip must preserve). */
const FIELDS: Record<number, (keyof Message)[]> = {
  [MsgType.HELLO]: ['version', 'minVersion', 'maxPayload', 'resumeSeq'],
  [MsgType.CAPABILITIES]: ['version', 'channels', 'maxPayload', 'maxTargets', 'learnerMask', 'bufferCapacity', 'maxRateHz', 'deviceId', 'nextSeq', 'oldestSeq'],
  [MsgType.CONFIGURE]: ['learner', 'inputs', 'outputs', 'configFlags', 'hidden', 'inputFrac', 'targetFrac', 'predictionFrac', 'heartbeatMs', 'heartbeatTimeoutMs', 'rateHz'],
  [MsgType.SAMPLE]: ['seq', 'timestampUs', 'count'],
  [MsgType.TARGET]: ['seq', 'count'],
  [MsgType.PREDICTION]: ['seq', 'count'],
  [MsgType.ACK]: ['subject', 'code', 'ref', 'value'],
  [MsgType.NACK]: ['subject', 'code', 'ref', 'value'],
  [MsgType.HEARTBEAT]: ['uptimeMs', 'nextSeq'],
  [MsgType.ERROR]: ['code', 'detail', 'count'],
  [MsgType.STATS_REQUEST]: [],
  [MsgType.STATS]: [],
  [MsgType.SNAPSHOT_REQUEST]: ['transferId', 'offset', 'maxChunk'],
  [MsgType.SNAPSHOT_DATA]: ['transferId', 'snapshotFlags', 'offset', 'totalLength', 'count'],
};
const U8 = new Set(['version', 'minVersion', 'channels', 'maxTargets', 'learnerMask', 'learner', 'inputs', 'outputs', 'configFlags', 'inputFrac', 'targetFrac', 'predictionFrac', 'subject', 'code', 'maxChunk']);
const U16 = new Set(['maxPayload', 'bufferCapacity', 'hidden', 'heartbeatMs', 'heartbeatTimeoutMs', 'ref', 'transferId', 'snapshotFlags']);

function randomMessage(type: number, rng: Uint32Array, m: Message, countMode: 'random' | 'max' | 'zero'): Message {
  m.type = type;
  m.flags = rngNextU32(rng) & 1;
  m.fseq = rngNextU32(rng) & 0xffff;
  for (const f of FIELDS[type]) {
    const r = rngNextU32(rng);
    (m as unknown as Record<string, number>)[f] = U8.has(f) ? r & 0xff : U16.has(f) ? r & 0xffff : r;
  }
  if (type === MsgType.ERROR) m.code = rngNextU32(rng) & 0xffff;
  const max =
    type === MsgType.SAMPLE ? MAX_CHANNELS : type === MsgType.TARGET || type === MsgType.PREDICTION ? MAX_VALUES : type === MsgType.ERROR ? MAX_ERROR_TEXT : MAX_SNAPSHOT_CHUNK;
  if ('count' in m && FIELDS[type].includes('count')) m.count = countMode === 'max' ? max : countMode === 'zero' ? 0 : rngNextU32(rng) % (max + 1);
  for (let i = 0; i < m.values.length; i++) m.values[i] = (rngNextU32(rng) & 0xffff) - 0x8000;
  for (let i = 0; i < m.bytes.length; i++) m.bytes[i] = rngNextU32(rng) & 0xff;
  for (let i = 0; i < STATS_WORDS; i++) m.stats[i] = rngNextU32(rng);
  return m;
}

function sameMessage(a: Message, b: Message): string | null {
  if (a.type !== b.type || a.flags !== b.flags || a.fseq !== b.fseq) return `header differs`;
  for (const f of FIELDS[a.type]) if (a[f] !== b[f]) return `${String(f)}: ${String(a[f])} != ${String(b[f])}`;
  if (a.type === MsgType.SAMPLE || a.type === MsgType.TARGET || a.type === MsgType.PREDICTION) {
    for (let i = 0; i < a.count; i++) if (a.values[i] !== b.values[i]) return `values[${i}]`;
  }
  if (a.type === MsgType.ERROR || a.type === MsgType.SNAPSHOT_DATA) {
    for (let i = 0; i < a.count; i++) if (a.bytes[i] !== b.bytes[i]) return `bytes[${i}]`;
  }
  if (a.type === MsgType.STATS) for (let i = 0; i < STATS_WORDS; i++) if (a.stats[i] !== b.stats[i]) return `stats[${i}]`;
  return null;
}

test('CRC-16/CCITT-FALSE of "123456789" is the check value 0x29B1', (t) => {
  t.is(crc16(new TextEncoder().encode('123456789'), 0, 9), 0x29b1);
});

test('the worked SAMPLE example in PROTOCOL.md encodes to the documented bytes', (t) => {
  const m = createMessage();
  m.type = MsgType.SAMPLE;
  m.fseq = 7;
  m.seq = 42;
  m.timestampUs = 1000;
  m.count = 2;
  m.values[0] = 256;
  m.values[1] = -2;
  const out = new Uint8Array(MAX_WIRE);
  const n = encodeFrame(m, out);
  t.is(hex(out.subarray(0, n)), '02 10 02 07 02 2a 01 01 03 e8 03 01 02 02 06 01 fe ff 1e f6 00');
});

test('the worked HELLO example in PROTOCOL.md encodes to the documented bytes', (t) => {
  const m = createMessage();
  m.type = MsgType.HELLO;
  m.version = 1;
  m.minVersion = 1;
  m.maxPayload = 256;
  m.resumeSeq = 0xffffffff;
  const out = new Uint8Array(MAX_WIRE);
  const n = encodeFrame(m, out);
  t.is(hex(out.subarray(0, n)), '02 01 01 01 03 01 01 08 01 ff ff ff ff a0 4b 00');
});

test('every message type survives encode then decode with random fields, empty and full counts', (t) => {
  const rng = createRng(7);
  const a = createMessage();
  const b = createMessage();
  const wire = new Uint8Array(MAX_WIRE);
  let checked = 0;
  for (const type of MSG_TYPES) {
    for (const mode of ['zero', 'max', 'random', 'random', 'random'] as const) {
      randomMessage(type, rng, a, mode);
      const n = encodeFrame(a, wire);
      t.true(n <= MAX_WIRE, `frame of ${n} bytes exceeds MAX_WIRE`);
      t.is(wire[n - 1], 0);
      for (let i = 0; i < n - 1; i++) if (wire[i] === 0) t.fail(`0x00 inside frame at ${i}`);
      const len = cobsDecodeInPlace(wire, n - 1);
      t.true(len > 0 && len <= MAX_PAYLOAD);
      t.is(decodePayload(wire, len, b), DECODE_OK, `type 0x${type.toString(16)}`);
      const diff = sameMessage(a, b);
      t.is(diff, null, `type 0x${type.toString(16)} ${mode}: ${diff}`);
      checked++;
    }
  }
  t.is(checked, MSG_TYPES.length * 5);
});

test('COBS round-trips runs of zeros, of 254 and 255 non-zero bytes, and stays within MAX_ENCODED', (t) => {
  const src = new Uint8Array(MAX_PAYLOAD);
  const enc = new Uint8Array(MAX_ENCODED + 4);
  const rng = createRng(3);
  for (const len of [1, 2, 253, 254, 255, 256]) {
    for (const fill of ['zeros', 'ones', 'random']) {
      for (let i = 0; i < len; i++) src[i] = fill === 'zeros' ? 0 : fill === 'ones' ? 0xff : rngNextU32(rng) & 0xff;
      const n = cobsEncode(src, len, enc, 0);
      t.true(n <= MAX_ENCODED, `len ${len} ${fill} encoded to ${n}`);
      for (let i = 0; i < n; i++) if (enc[i] === 0) t.fail(`zero in encoding of ${fill} ${len}`);
      const d = cobsDecodeInPlace(enc, n);
      t.is(d, len);
      let same = true;
      for (let i = 0; i < len; i++) if (enc[i] !== src[i]) same = false;
      t.true(same, `len ${len} ${fill}`);
    }
  }
});

test('COBS decoding rejects a code byte that runs past the end', (t) => {
  t.is(cobsDecodeInPlace(Uint8Array.of(5, 1, 2), 3), -1);
});

test('encoding a count beyond the maximum throws a RangeError naming the limit', (t) => {
  const m = createMessage();
  m.type = MsgType.SAMPLE;
  m.count = MAX_CHANNELS + 1;
  const e = t.throws(() => encodePayload(m, new Uint8Array(MAX_PAYLOAD)), { instanceOf: RangeError });
  t.regex(e!.message, /0\.\.120/);
});

test('a payload whose body length does not match its count is rejected as bad length', (t) => {
  const m = createMessage();
  m.type = MsgType.TARGET;
  m.count = 3;
  const p = new Uint8Array(MAX_PAYLOAD);
  const n = encodePayload(m, p);
  p[4 + 4] = 4; // claim 4 values, carry 3
  const crc = crc16(p, 0, n - 2);
  p[n - 2] = crc & 0xff;
  p[n - 1] = crc >>> 8;
  t.is(decodePayload(p, n, createMessage()), DECODE_BAD_LENGTH);
});
