// The wire protocol's corners that PROTOCOL.md decides and the host must follow.
import test from 'ava';
import { Session } from '../firmware-bridge/session.ts';
import { Framer } from '../firmware-bridge/framer.ts';
import { ErrorCode, MAX_PAYLOAD, MAX_WIRE, MsgType, createMessage, encodeFrame, type Message } from '../firmware-bridge/protocol.ts';
import { MockTransport, createMockPair } from '../firmware-bridge/transports/mock.ts';
import { VirtualBoard } from '../sim/board/device.ts';
import { buildHost, missingTool } from '../firmware-bridge/qemu.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import { initWeights } from '../runtime/init.ts';
import { saveSnapshot } from '../runtime/snapshot.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const turns = async (n = 3): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

test('a stale ERROR 3 after a fresh handshake is ignored: the stream starts at CAPABILITIES nextSeq, nothing is counted lost', async (t) => {
  const transport = new MockTransport({ record: false });
  const fromHost: Message[] = [];
  const framer = new Framer((m) => fromHost.push({ ...m, values: m.values.slice() } as Message));
  transport.onWrite = (d) => framer.push(d);
  const stepped: number[] = [];
  const session = new Session({
    transport,
    learner: null,
    config: { inputs: 1, outputs: 1, rateHz: 1000 },
    heartbeatMs: 600_000,
    heartbeatTimeoutMs: 600_000,
    onStep: (seq) => stepped.push(seq),
  });
  const started = session.start();
  await turns();
  const m = createMessage();
  const wire = new Uint8Array(MAX_WIRE);
  let fseq = 0;
  const put = (): void => {
    m.fseq = fseq++;
    transport.emit(wire.subarray(0, encodeFrame(m, wire)));
  };
  // the peer of the report: CAPABILITIES nextSeq 5000, oldestSeq 1000, then ERROR 3 with detail 1000
  Object.assign(m, { type: MsgType.CAPABILITIES, version: 1, channels: 1, maxPayload: MAX_PAYLOAD, maxTargets: 1, bufferCapacity: 4096, maxRateHz: 1000, nextSeq: 5000, oldestSeq: 1000 });
  put();
  await turns();
  Object.assign(m, { type: MsgType.ERROR, code: ErrorCode.SAMPLES_LOST, detail: 1000 });
  put();
  Object.assign(m, { type: MsgType.ACK, subject: 0, code: 0, ref: 1, value: 0 });
  put();
  await started;
  for (let s = 5000; s < 5100; s++) {
    Object.assign(m, { type: MsgType.SAMPLE, seq: s, timestampUs: s * 1000, count: 1 });
    m.values[0] = s & 0x7ff;
    put();
    Object.assign(m, { type: MsgType.TARGET, seq: s, count: 1 });
    put();
  }
  await turns(6);
  await session.idle();
  const st = session.stats;
  await session.stop();
  t.is(stepped.length, 100);
  t.is(stepped[0], 5000);
  t.is(st.samplesLost, 0);
  t.is(st.nacksSent, 0, 'no NACK back to the stale 1000');
  t.false(fromHost.some((f) => f.type === MsgType.NACK));
  t.is(st.expectedSeq, 5100);
});

/** A host session on a mock line and a scripted device: put() sends a frame to the host, fromHost collects its frames. */
async function scripted(o: { startSeq?: number } = {}) {
  const transport = new MockTransport({ record: false });
  const fromHost: Message[] = [];
  const framer = new Framer((m) => fromHost.push({ ...m, values: m.values.slice() } as Message));
  transport.onWrite = (d) => framer.push(d);
  const stepped: number[] = [];
  const session = new Session({
    transport,
    learner: null,
    config: { inputs: 1, outputs: 1, rateHz: 1000 },
    heartbeatMs: 600_000,
    heartbeatTimeoutMs: 600_000,
    onStep: (seq) => stepped.push(seq),
    ...o,
  });
  const started = session.start();
  await turns();
  const m = createMessage();
  const wire = new Uint8Array(MAX_WIRE);
  let fseq = 0;
  const put = (f: Partial<Message>): void => {
    Object.assign(m, { flags: 0 }, f, { fseq: fseq++ });
    transport.emit(wire.subarray(0, encodeFrame(m, wire)));
  };
  const capabilities = (nextSeq: number, oldestSeq: number): void => {
    fseq = 0;
    put({ type: MsgType.CAPABILITIES, version: 1, channels: 1, maxPayload: MAX_PAYLOAD, maxTargets: 1, bufferCapacity: 4096, maxRateHz: 1000, nextSeq, oldestSeq });
  };
  const configured = async (): Promise<void> => {
    await turns();
    const c = [...fromHost].reverse().find((f) => f.type === MsgType.CONFIGURE);
    put({ type: MsgType.ACK, subject: 0, code: 0, ref: c!.fseq, value: 0 });
    await started;
  };
  const sample = (seq: number): void => {
    put({ type: MsgType.SAMPLE, seq, timestampUs: seq * 1000, count: 1, values: Int16Array.of(seq & 0x7ff) });
    put({ type: MsgType.TARGET, seq, count: 1, values: Int16Array.of(0) });
  };
  return { session, transport, fromHost, stepped, put, capabilities, configured, sample };
}

test('a fresh start begins at CAPABILITIES nextSeq: a stale resend before it is dropped, not taken as the start', async (t) => {
  const d = await scripted();
  d.capabilities(5000, 1000);
  await d.configured();
  // a resend answering an earlier host's NACK is still on the line, then the stream from nextSeq
  for (let s = 1000; s < 1010; s++) d.sample(s);
  for (let s = 5000; s < 5100; s++) d.sample(s);
  await turns(6);
  await d.session.idle();
  const st = d.session.stats;
  await d.session.stop();
  t.is(d.stepped[0], 5000);
  t.is(d.stepped.length, 100);
  t.is(st.samplesLost, 0);
  t.false(d.fromHost.some((f) => f.type === MsgType.NACK), 'no NACK back to the stale 1000');
  t.is(st.dropped.outOfSequence, 20, 'the ten stale samples and their targets');
});

test('a fresh start whose first sample was lost on the line asks for it (NACK nextSeq) instead of starting after it', async (t) => {
  const d = await scripted();
  d.capabilities(300, 300);
  await d.configured();
  d.sample(301); // 300 was lost
  await turns(6);
  const nack = d.fromHost.find((f) => f.type === MsgType.NACK);
  t.is(nack?.value, 300);
  for (let s = 300; s < 340; s++) d.sample(s); // the device resends from 300
  await turns(6);
  await d.session.idle();
  const st = d.session.stats;
  await d.session.stop();
  t.deepEqual(d.stepped, Array.from({ length: 40 }, (_, i) => 300 + i));
  t.is(st.samplesLost, 0);
});

test('a retried HELLO: the last CAPABILITIES sets the start, and an ERROR 3 ahead before the first sample counts nothing lost', async (t) => {
  const d = await scripted();
  // the first HELLO's CAPABILITIES is configured from; the device then answers the retried HELLO with a later nextSeq
  d.capabilities(100, 100);
  await turns();
  d.capabilities(120, 120);
  await d.configured();
  for (let s = 120; s < 150; s++) d.sample(s);
  await turns(6);
  await d.session.idle();
  t.is(d.stepped[0], 120);
  t.is(d.stepped.length, 30);
  t.false(d.fromHost.some((f) => f.type === MsgType.NACK));
  t.is(d.session.stats.samplesLost, 0);
  await d.session.stop();
  // the same race with the second CAPABILITIES lost on the line: the host asks for 100, the device has released it and
  // says it continues at 120 (ERROR 3): nothing the fresh host wanted is lost
  const e = await scripted();
  e.capabilities(100, 100);
  await e.configured();
  e.sample(120);
  await turns(6);
  t.is(e.fromHost.find((f) => f.type === MsgType.NACK)?.value, 100);
  e.put({ type: MsgType.ERROR, code: ErrorCode.SAMPLES_LOST, detail: 120 });
  for (let s = 120; s < 150; s++) e.sample(s);
  await turns(6);
  await e.session.idle();
  const st = e.session.stats;
  await e.session.stop();
  t.is(e.stepped[0], 120);
  t.is(e.stepped.length, 30);
  t.is(st.samplesLost, 0);
});

// ---- the corners PROTOCOL.md section 4.6 decides, on the firmware (device.c), the virtual board and the host

const gcc = missingTool(['gcc']);
const needGcc = gcc !== null && process.env.CI !== 'true' ? test.skip : test;

needGcc(`firmware: a resent SAMPLE+TARGET of a step already taken is not learned twice; a wrong channel count is dropped quietly; ERROR 1 names version 1${gcc ? ` (skipped: ${gcc} not found)` : ''}`, (t) => {
  const exe = buildHost('corners-device');
  const o = { learner: 'rflo', inputs: 3, hidden: 8, outputs: 3, tau: 10, lrRec: 0.003, lrOut: 0.01, update: 'step', trialLength: 1 } as const;
  const w = initWeights({ inputs: 3, hidden: 8, outputs: 3, tau: 10, seed: 3 });
  const file = join(mkdtempSync(join(tmpdir(), 'ns-corners-')), 'rflo8.nsnp');
  writeFileSync(file, saveSnapshot(createFixedLearner(o, w)));
  const out = (mode: string): Record<string, string> => {
    const r = spawnSync(exe, [file, mode], { encoding: 'utf8' });
    t.is(r.status, 0, r.stdout + r.stderr);
    const f = r.stdout.trim().split(' ');
    return Object.fromEntries(f.flatMap((v, i) => (i % 2 === 0 ? [[v, f[i + 1]]] : [])));
  };
  const once = out('nodup');
  const twice = out('dup');
  t.is(twice.predictions, '15', 'no second PREDICTION for the resent step');
  t.is(twice.snapshot, once.snapshot, 'the learner is the same as without the resend');
  t.is(twice.errors_after_wrong_count, '0');
  t.is(twice.error1_code, '1');
  t.is(twice.error1_detail, '1');
  // and it is the host runtime's learner after the same 15 steps (the twin the host keeps)
  const l = createFixedLearner(o, w);
  const y = new Float64Array(3);
  for (let s = 0; s < 15; s++) {
    const x = [0, 1, 2].map((j) => (((s * 37 + j * 11) % 4096) - 2048) / 4096);
    const tg = [0, 1, 2].map((k) => (((s * 53 + k * 7) % 4096) - 2048) / 4096);
    l.step(x, tg, y);
  }
  const snap = saveSnapshot(l);
  let h = 2166136261;
  for (const b of snap) h = Math.imul(h ^ b, 16777619) >>> 0;
  t.is(h.toString(16).padStart(8, '0'), once.snapshot);
});

test('virtual board: CONFIGURE with a Frac field beyond 15 is refused (NACK + ERROR 2); ERROR 1 names version 1; an ACK beyond nextSeq is ignored', async (t) => {
  const pair = createMockPair({ record: false });
  const board = new VirtualBoard({ transport: pair.device, channels: 1, outputs: 1, rateHz: 1000 });
  await board.start();
  await pair.host.open();
  const got: Message[] = [];
  const framer = new Framer((m) => got.push({ ...m } as Message));
  pair.host.setHandlers({ data: (c, n) => framer.push(c, 0, n), drain: () => {}, close: () => {} });
  const m = createMessage();
  const wire = new Uint8Array(MAX_WIRE);
  let fseq = 0;
  const send = (fields: Partial<Message>): void => {
    Object.assign(m, fields, { fseq: fseq++ });
    pair.host.write(wire.subarray(0, encodeFrame(m, wire)));
  };
  try {
    send({ type: MsgType.HELLO, version: 2, minVersion: 2, maxPayload: MAX_PAYLOAD, resumeSeq: 0xffffffff });
    await turns(6);
    const e1 = got.find((f) => f.type === MsgType.ERROR);
    t.is(e1?.code, ErrorCode.VERSION_UNSUPPORTED);
    t.is(e1?.detail, 1);
    fseq = 0;
    send({ type: MsgType.HELLO, version: 1, minVersion: 1, maxPayload: MAX_PAYLOAD, resumeSeq: 0xffffffff });
    const base = { type: MsgType.CONFIGURE, learner: 0, inputs: 1, outputs: 1, configFlags: 3, hidden: 0, targetFrac: 12, predictionFrac: 12, heartbeatMs: 200, heartbeatTimeoutMs: 1000, rateHz: 1000 };
    send({ ...base, inputFrac: 16 });
    await turns(6);
    t.true(got.some((f) => f.type === MsgType.NACK && f.code === ErrorCode.BAD_CONFIG), 'inputFrac 16 refused');
    // a valid CONFIGURE: the board streams
    send({ ...base, inputFrac: 12 });
    const firstSample = async (): Promise<number> => {
      for (let i = 0; i < 400; i++) {
        const f = got.find((g) => g.type === MsgType.SAMPLE);
        if (f) return f.seq;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error('no SAMPLE from the board');
    };
    const first = await firstSample();
    // an ACK far beyond nextSeq must release nothing: a NACK of the first sample still gets it resent
    send({ type: MsgType.ACK, subject: 1, code: 0, ref: 0, value: (first + 1_000_000) >>> 0 });
    await turns(6);
    got.length = 0;
    send({ type: MsgType.NACK, subject: 1, code: 0, ref: 0, value: first });
    let resent: Message | undefined;
    for (let i = 0; i < 400 && !resent; i++) {
      resent = got.find((g) => g.type === MsgType.SAMPLE && g.seq === first);
      if (!resent) await new Promise((r) => setTimeout(r, 5));
    }
    t.truthy(resent, 'the first sample is resent after the out-of-range ACK');
    t.false(got.some((g) => g.type === MsgType.ERROR && g.code === ErrorCode.SAMPLES_LOST), 'nothing reported lost');
  } finally {
    await board.stop();
    await pair.host.close();
  }
});

test('host: a SAMPLE whose count fits its length but not the configured inputs is dropped as badLength', async (t) => {
  const transport = new MockTransport({ record: false });
  const stepped: number[] = [];
  const session = new Session({ transport, learner: null, config: { inputs: 2, outputs: 1, rateHz: 1000 }, heartbeatMs: 600_000, heartbeatTimeoutMs: 600_000, onStep: (s) => stepped.push(s) });
  const started = session.start();
  await turns();
  const m = createMessage();
  const wire = new Uint8Array(MAX_WIRE);
  let fseq = 0;
  const put = (f: Partial<Message>): void => {
    Object.assign(m, f, { fseq: fseq++ });
    transport.emit(wire.subarray(0, encodeFrame(m, wire)));
  };
  put({ type: MsgType.CAPABILITIES, version: 1, channels: 2, maxPayload: MAX_PAYLOAD, maxTargets: 1, bufferCapacity: 64, maxRateHz: 1000, nextSeq: 0, oldestSeq: 0 });
  await turns();
  put({ type: MsgType.ACK, subject: 0, code: 0, ref: 1, value: 0 });
  await started;
  put({ type: MsgType.SAMPLE, seq: 0, timestampUs: 0, count: 3 });
  await turns(6);
  const st = session.stats;
  await session.stop();
  t.is(st.dropped.badLength, 1);
  t.deepEqual(stepped, []);
});
