/**
 * Fuzz stream generator shared by test/protocol-fuzz.test.ts (10^5 frames) and test/long/fuzz.test.ts (10^6).
 * Produces a byte stream of bad frames of known kinds, interleaved with valid HEARTBEAT frames, and says how
 * many of each it wrote, so a test can check that every bad frame was counted under the expected reason.
 *
 * Kinds (every bad frame ends with its own 0x00 delimiter):
 * - random:    1..300 random non-zero bytes (any reason; > 258 bytes is an overflow)
 * - bitflip:   a valid frame of a random type (SAMPLE/TARGET carry the seq the host expects next) with 1..3 bits
 *              flipped in header|body|crc before COBS: CRC-16/CCITT-FALSE detects every such error (Hamming
 *              distance 4 at these lengths), so these must all be badCrc
 * - truncated: a valid encoded frame cut short before its delimiter (badCrc or badLength)
 * - oversized: 259..1000 non-zero bytes: overflow
 * - badType:   a correct CRC over an unassigned type: unknownType
 * - badBody:   a correct CRC over a body whose length does not match its type: badLength
 * Valid frames are HEARTBEATs with consecutive fseq (they do not touch a learner).
 */
import { createRng, rngNextU32 } from '../runtime/rng.ts';
import type { OnlineLearner } from '../runtime/types.ts';
import { Framer, totalDropped, type DropCounters } from './framer.ts';
import { Session } from './session.ts';
import { MockTransport } from './transports/mock.ts';
import {
  MAX_ENCODED,
  MAX_PAYLOAD,
  MAX_WIRE,
  MSG_TYPES,
  MsgType,
  cobsEncode,
  crc16,
  createMessage,
  encodeFrame,
  encodePayload,
} from './protocol.ts';

export const FUZZ_KINDS = ['random', 'bitflip', 'truncated', 'oversized', 'badType', 'badBody', 'valid'] as const;
export type FuzzKind = (typeof FUZZ_KINDS)[number];

export interface FuzzCounts {
  random: number;
  bitflip: number;
  truncated: number;
  oversized: number;
  badType: number;
  badBody: number;
  valid: number;
  /** Random frames longer than MAX_ENCODED (these are overflows too). */
  randomOversized: number;
  bytes: number;
}

export interface FuzzOptions {
  frames: number;
  seed: number;
  /** Seq that SAMPLE/TARGET frames in bitflip carry (the host's expected seq makes the test strongest). */
  sampleSeq: number;
  channels: number;
  outputs: number;
  /** Valid frames start at this fseq (the next one the receiver expects). */
  firstFseq: number;
  /** Receives the stream in chunks of random size (1..chunkMax bytes); the chunk is reused afterwards. */
  sink: (chunk: Uint8Array) => void;
  chunkMax?: number;
}

export function runFuzzStream(o: FuzzOptions): FuzzCounts {
  const rng = createRng(o.seed);
  const r = (n: number): number => rngNextU32(rng) % n;
  const counts: FuzzCounts = { random: 0, bitflip: 0, truncated: 0, oversized: 0, badType: 0, badBody: 0, valid: 0, randomOversized: 0, bytes: 0 };
  const chunkMax = o.chunkMax ?? 4096;
  const out = new Uint8Array(1 << 16);
  let len = 0;
  const payload = new Uint8Array(MAX_PAYLOAD + 8);
  const wire = new Uint8Array(MAX_WIRE + 8);
  const m = createMessage();
  let fseq = o.firstFseq;
  const unassigned: number[] = [];
  for (let t = 0; t < 256; t++) if (!MSG_TYPES.includes(t)) unassigned.push(t);

  const emitAll = (): void => {
    let i = 0;
    while (i < len) {
      const n = Math.min(len - i, 1 + r(chunkMax));
      o.sink(out.subarray(i, i + n));
      i += n;
    }
    counts.bytes += len;
    len = 0;
  };
  const room = (n: number): void => {
    if (len + n > out.length) emitAll();
  };
  const randomMessage = (): void => {
    m.type = MSG_TYPES[r(MSG_TYPES.length)];
    m.flags = 0;
    m.fseq = r(65536);
    m.seq = o.sampleSeq;
    m.count = m.type === MsgType.SAMPLE ? o.channels : m.type === MsgType.TARGET || m.type === MsgType.PREDICTION ? o.outputs : r(40);
    for (let i = 0; i < m.values.length; i++) m.values[i] = (rngNextU32(rng) & 0xffff) - 32768;
    for (let i = 0; i < m.bytes.length; i++) m.bytes[i] = rngNextU32(rng) & 0xff;
    m.version = 1;
    m.resumeSeq = rngNextU32(rng);
  };
  const putEncoded = (plen: number): void => {
    room(MAX_WIRE);
    len += cobsEncode(payload, plen, out, len);
    out[len++] = 0;
  };

  for (let f = 0; f < o.frames; f++) {
    const kind = FUZZ_KINDS[r(FUZZ_KINDS.length)];
    counts[kind]++;
    switch (kind) {
      case 'random':
      case 'oversized': {
        const n = kind === 'random' ? 1 + r(300) : MAX_ENCODED + 1 + r(1000 - MAX_ENCODED);
        if (kind === 'random' && n > MAX_ENCODED) counts.randomOversized++;
        room(n + 1);
        for (let i = 0; i < n; i++) out[len++] = 1 + r(255);
        out[len++] = 0;
        break;
      }
      case 'bitflip': {
        randomMessage();
        const plen = encodePayload(m, payload);
        const flips = 1 + r(3);
        const used = new Set<number>();
        while (used.size < flips) used.add(r(plen * 8));
        for (const bit of used) payload[bit >> 3] ^= 1 << (bit & 7);
        putEncoded(plen);
        break;
      }
      case 'truncated': {
        randomMessage();
        const n = encodeFrame(m, wire) - 1; // without the delimiter
        const keep = 1 + r(n - 1);
        room(keep + 1);
        out.set(wire.subarray(0, keep), len);
        len += keep;
        out[len++] = 0;
        break;
      }
      case 'badType': {
        randomMessage();
        const plen = encodePayload(m, payload);
        payload[0] = unassigned[r(unassigned.length)];
        const c = crc16(payload, 0, plen - 2);
        payload[plen - 2] = c & 0xff;
        payload[plen - 1] = c >>> 8;
        putEncoded(plen);
        break;
      }
      case 'badBody': {
        randomMessage();
        let plen = encodePayload(m, payload) - 2;
        // grow or shrink the body by 1..3 bytes (never below the 4-byte header)
        const delta = 1 + r(3);
        if (r(2) === 0 || plen - delta < 4) {
          for (let i = 0; i < delta; i++) payload[plen++] = r(256);
        } else plen -= delta;
        if (plen + 2 > MAX_PAYLOAD) plen = MAX_PAYLOAD - 2 - r(3) - 1;
        const c = crc16(payload, 0, plen);
        payload[plen] = c & 0xff;
        payload[plen + 1] = c >>> 8;
        putEncoded(plen + 2);
        break;
      }
      case 'valid': {
        m.type = MsgType.HEARTBEAT;
        m.flags = 0;
        m.fseq = fseq;
        fseq = (fseq + 1) & 0xffff;
        m.uptimeMs = f;
        m.nextSeq = o.sampleSeq;
        room(MAX_WIRE);
        len += encodeFrame(m, out, len);
        break;
      }
    }
  }
  emitAll();
  return counts;
}

// ---------------------------------------------------------------------------------------------------------
// Harness: a session driven into 'streaming' by a scripted device on a mock transport, then fuzzed.

export interface ScriptedSession {
  session: Session;
  transport: MockTransport;
  /** Learner steps so far. */
  steps(): number;
  /** fseq the scripted device uses next. */
  nextFseq: number;
  /** Sample seq the session expects next. */
  nextSeq: number;
}

const flushTurns = async (n = 3): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/**
 * A Session on a MockTransport whose device side is scripted here: CAPABILITIES, the ACK of CONFIGURE, then
 * `samples` SAMPLE+TARGET pairs (seq 0..samples-1) so the learner has stepped. Channels 2, outputs 1.
 */
export async function scriptedStreamingSession(samples: number, learner: OnlineLearner | null): Promise<ScriptedSession> {
  const transport = new MockTransport({ record: false });
  let steps = 0;
  const session = new Session({
    transport,
    learner,
    config: { inputs: 2, outputs: 1, rateHz: 1000 },
    heartbeatTimeoutMs: 600_000,
    heartbeatMs: 600_000,
    onStep: () => {
      steps++;
    },
  });
  const started = session.start();
  await flushTurns();
  const m = createMessage();
  const wire = new Uint8Array(MAX_WIRE);
  const put = (): void => transport.emit(wire.subarray(0, encodeFrame(m, wire)));
  m.type = MsgType.CAPABILITIES;
  m.fseq = 0;
  m.version = 1;
  m.channels = 2;
  m.maxPayload = MAX_PAYLOAD;
  m.maxTargets = 1;
  m.bufferCapacity = 1024;
  m.maxRateHz = 1000;
  put();
  await flushTurns();
  m.type = MsgType.ACK;
  m.fseq = 1;
  m.subject = 0;
  m.code = 0;
  m.ref = 1; // HELLO was host fseq 0, CONFIGURE fseq 1
  m.value = 0;
  put();
  await started;
  let fseq = 2;
  for (let s = 0; s < samples; s++) {
    m.type = MsgType.SAMPLE;
    m.fseq = fseq++;
    m.seq = s;
    m.timestampUs = s * 1000;
    m.count = 2;
    m.values[0] = Math.round(2048 * Math.sin(s / 5));
    m.values[1] = Math.round(2048 * Math.cos(s / 7));
    put();
    m.type = MsgType.TARGET;
    m.fseq = fseq++;
    m.count = 1;
    m.values[0] = Math.round(2048 * Math.sin((s + 1) / 5));
    put();
  }
  await flushTurns(4);
  await session.idle();
  return { session, transport, steps: () => steps, nextFseq: fseq, nextSeq: samples };
}

export interface FuzzResult {
  counts: FuzzCounts;
  bad: number;
  dropped: DropCounters;
  framesDropped: number;
  validReceived: number;
  stepsDuringFuzz: number;
  learnerUnchanged: boolean;
  sessionState: string;
}

function sameArrays(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/**
 * Runs the fuzz stream through a streaming Session (or, with framerOnly, a bare Framer) and reports what was
 * counted, whether the valid frames got through, and whether the learner changed.
 */
export async function runFuzz(o: { frames: number; seed: number; chunkMax: number; framerOnly?: boolean; learner?: OnlineLearner | null }): Promise<FuzzResult> {
  const bad = (c: FuzzCounts): number => o.frames - c.valid;
  if (o.framerOnly) {
    let valid = 0;
    const framer = new Framer((msg) => {
      if (msg.type === MsgType.HEARTBEAT) valid++;
    });
    const counts = runFuzzStream({ frames: o.frames, seed: o.seed, sampleSeq: 0, channels: 2, outputs: 1, firstFseq: 0, chunkMax: o.chunkMax, sink: (c) => framer.push(c) });
    const f = framer.counters;
    const dropped = { badCrc: f.badCrc, badLength: f.badLength, unknownType: f.unknownType, overflow: f.overflow, outOfSequence: f.outOfSequence };
    return { counts, bad: bad(counts), dropped, framesDropped: totalDropped(dropped), validReceived: valid, stepsDuringFuzz: 0, learnerUnchanged: true, sessionState: 'none' };
  }
  const learner = o.learner ?? null;
  const s = await scriptedStreamingSession(100, learner);
  const before = learner ? learner.getWeights() : null;
  const hBefore = learner ? learner.readHidden(new Float64Array(learner.options.hidden)) : null;
  const stepsBefore = s.steps();
  const framesBefore = s.session.stats.framesReceived;
  const counts = runFuzzStream({
    frames: o.frames,
    seed: o.seed,
    sampleSeq: s.nextSeq,
    channels: 2,
    outputs: 1,
    firstFseq: s.nextFseq,
    chunkMax: o.chunkMax,
    sink: (c) => s.transport.emitNow(c),
  });
  await flushTurns(4);
  await s.session.idle();
  const st = s.session.stats;
  let unchanged = true;
  if (learner && before && hBefore) {
    const after = learner.getWeights();
    const hAfter = learner.readHidden(new Float64Array(learner.options.hidden));
    unchanged =
      sameArrays(before.W_in, after.W_in) &&
      sameArrays(before.W_rec, after.W_rec) &&
      sameArrays(before.W_out, after.W_out) &&
      sameArrays(before.b, after.b) &&
      sameArrays(hBefore, hAfter);
  }
  const result: FuzzResult = {
    counts,
    bad: bad(counts),
    dropped: st.dropped,
    framesDropped: st.framesDropped,
    validReceived: st.framesReceived - framesBefore,
    stepsDuringFuzz: s.steps() - stepsBefore,
    learnerUnchanged: unchanged,
    sessionState: st.state,
  };
  await s.session.stop();
  return result;
}
