import test from 'ava';
import { Framer, totalDropped } from '../firmware-bridge/framer.ts';
import { MAX_ENCODED, MAX_WIRE, MsgType, createMessage, encodeFrame, type Message } from '../firmware-bridge/protocol.ts';

/** A stream of frames of mixed types and sizes, with fseq 0, 1, 2, ... and the seq of each sample. */
function buildStream(frames: number): { bytes: Uint8Array; seqs: number[] } {
  const m = createMessage();
  const out = new Uint8Array(frames * MAX_WIRE);
  let n = 0;
  const seqs: number[] = [];
  for (let i = 0; i < frames; i++) {
    m.fseq = i;
    if (i % 3 === 2) {
      m.type = MsgType.HEARTBEAT;
      m.uptimeMs = i * 1000;
      m.nextSeq = i;
      seqs.push(-1);
    } else {
      m.type = MsgType.SAMPLE;
      m.seq = 1000 + i;
      m.timestampUs = i * 250;
      m.count = 1 + ((i * 37) % 120);
      for (let c = 0; c < m.count; c++) m.values[c] = ((i + 1) * (c + 3) * 97) % 65536 - 32768;
      seqs.push(m.seq);
    }
    n += encodeFrame(m, out, n);
  }
  return { bytes: out.subarray(0, n), seqs };
}

function collector(checkSequence = true): { framer: Framer; got: number[] } {
  const got: number[] = [];
  const framer = new Framer((msg: Message) => got.push(msg.type === MsgType.SAMPLE ? msg.seq : -1), { checkSequence });
  return { framer, got };
}

test('a stream split into two reads at every byte boundary decodes to the same frames', (t) => {
  const { bytes, seqs } = buildStream(12);
  let failures = 0;
  for (let k = 0; k <= bytes.length; k++) {
    const { framer, got } = collector();
    framer.push(bytes.subarray(0, k));
    framer.push(bytes.subarray(k));
    if (got.join() !== seqs.join() || totalDropped(framer.counters) !== 0) failures++;
  }
  t.is(failures, 0, `split points that broke decoding: ${failures} of ${bytes.length + 1}`);
});

test('a stream fed in reads of every size from 1 to 64 bytes decodes to the same frames', (t) => {
  const { bytes, seqs } = buildStream(20);
  for (let size = 1; size <= 64; size++) {
    const { framer, got } = collector();
    for (let i = 0; i < bytes.length; i += size) framer.push(bytes, i, Math.min(bytes.length, i + size));
    t.is(got.join(), seqs.join(), `read size ${size}`);
  }
});

test('garbage before, between and after frames costs only the frames it touches', (t) => {
  const { bytes, seqs } = buildStream(6);
  const { framer, got } = collector(false); // the stream is sent twice, so fseq restarts
  framer.push(Uint8Array.of(0x13, 0x37, 0xff, 0x42)); // no delimiter yet: joins the first frame
  framer.push(bytes);
  framer.push(Uint8Array.of(0x55, 0x66, 0x00, 0x00, 0x00));
  framer.push(bytes);
  // first copy's first frame is corrupted by the garbage glued to its front; one garbage-only frame later.
  t.is(got.length, seqs.length * 2 - 1);
  t.deepEqual(got.slice(-seqs.length), seqs.map((s) => s));
  t.is(totalDropped(framer.counters), 2);
});

test('more than MAX_ENCODED bytes without a delimiter is one overflow, and the next frame is received', (t) => {
  const { bytes, seqs } = buildStream(3);
  const { framer, got } = collector();
  const junk = new Uint8Array(MAX_ENCODED * 3).fill(0x41);
  framer.push(junk);
  framer.push(Uint8Array.of(0));
  framer.push(bytes);
  t.is(framer.counters.overflow, 1);
  t.is(got.join(), seqs.join());
});

test('exactly MAX_ENCODED bytes is not an overflow (it is judged by its CRC instead)', (t) => {
  const { framer } = collector();
  framer.push(new Uint8Array(MAX_ENCODED).fill(0x41));
  framer.push(Uint8Array.of(0));
  t.is(framer.counters.overflow, 0);
  t.is(totalDropped(framer.counters), 1);
});

test('a repeated frame is dropped as out of sequence and a skipped one is counted as missed', (t) => {
  const m = createMessage();
  const buf = new Uint8Array(MAX_WIRE * 4);
  let n = 0;
  m.type = MsgType.HEARTBEAT;
  for (const f of [10, 11, 11, 14, 13]) {
    m.fseq = f;
    n += encodeFrame(m, buf, n);
  }
  const { framer, got } = collector();
  framer.push(buf.subarray(0, n));
  t.is(got.length, 3);
  t.is(framer.counters.outOfSequence, 2);
  t.is(framer.counters.framesMissed, 2);
});

test('frame sequence wraps from 65535 to 0 without a drop', (t) => {
  const m = createMessage();
  const buf = new Uint8Array(MAX_WIRE * 3);
  let n = 0;
  m.type = MsgType.HEARTBEAT;
  for (const f of [65534, 65535, 0]) {
    m.fseq = f;
    n += encodeFrame(m, buf, n);
  }
  const { framer, got } = collector();
  framer.push(buf.subarray(0, n));
  t.is(got.length, 3);
  t.is(totalDropped(framer.counters), 0);
});
