import test from 'ava';
import { Session, type SessionOptions } from '../firmware-bridge/session.ts';
import { createMockPair, type MockPair } from '../firmware-bridge/transports/mock.ts';
import { VirtualBoard, type VirtualBoardOptions } from '../sim/board/device.ts';
import type { Transport, TransportHandlers } from '../firmware-bridge/transport.ts';
import { scriptedStreamingSession } from '../firmware-bridge/fuzz.ts';
import { ErrorCode, MAX_WIRE, MsgType, createMessage, encodeFrame } from '../firmware-bridge/protocol.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

interface Rig {
  pair: MockPair;
  board: VirtualBoard;
  session: Session;
  seqs: number[];
  stop(): Promise<void>;
}

async function rig(s: Partial<SessionOptions> = {}, b: Partial<VirtualBoardOptions> = {}, pairOptions = {}): Promise<Rig> {
  const pair = createMockPair({ record: false, ...pairOptions });
  const board = new VirtualBoard({ transport: pair.device, channels: 3, outputs: 1, rateHz: 2000, ...b });
  await board.start();
  const seqs: number[] = [];
  const session = new Session({
    transport: pair.host,
    learner: null,
    config: { inputs: 3, outputs: 1, rateHz: 2000 },
    helloTimeoutMs: 150,
    onStep: (seq) => seqs.push(seq),
    ...s,
  });
  await session.start();
  return {
    pair,
    board,
    session,
    seqs,
    async stop() {
      await session.stop();
      await board.stop();
    },
  };
}

/** Indices where the stepped seqs are not consecutive (a loss or a duplicate). */
function breaks(seqs: number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1] + 1) out.push(i);
  return out;
}

test('the handshake completes and samples are stepped in order, each once', async (t) => {
  const r = await rig();
  await until(() => r.seqs.length >= 500, 5000, '500 samples');
  await r.stop();
  t.deepEqual(breaks(r.seqs), []);
  t.is(r.session.stats.framesDropped, 0);
  t.is(r.session.stats.connects, 1);
});

test('a host that connects long after the board started sampling still gets the stream at once', async (t) => {
  const pair = createMockPair({ record: false });
  const board = new VirtualBoard({ transport: pair.device, channels: 3, outputs: 1, rateHz: 10000, window: 256 });
  await board.start();
  await until(() => board.generated > 2000, 5000, 'the board to sample 2000 times');
  const seqs: number[] = [];
  const session = new Session({ transport: pair.host, learner: null, config: { inputs: 3, outputs: 1, rateHz: 10000 }, onStep: (q) => seqs.push(q) });
  await session.start();
  await until(() => seqs.length >= 200, 3000, '200 samples');
  await session.stop();
  await board.stop();
  t.true(seqs[0] >= 2000, 'the stream starts at new samples, not at the board power-on');
  t.deepEqual(breaks(seqs), []);
});

test('a session with startSeq 0 gets the samples the board buffered before the host connected', async (t) => {
  const pair = createMockPair({ record: false });
  // The board pauses at a known count, far below its ring, so that seq 0 is still held however late the host connects.
  const board = new VirtualBoard({ transport: pair.device, channels: 3, outputs: 1, rateHz: 4000, maxSamples: 1500 });
  await board.start();
  await until(() => board.generated === 1500, 10000, 'the board to sample 1500 times');
  const seqs: number[] = [];
  const session = new Session({ transport: pair.host, learner: null, config: { inputs: 3, outputs: 1, rateHz: 4000 }, startSeq: 0, onStep: (q) => seqs.push(q) });
  await session.start();
  await until(() => seqs.length >= 1500, 10000, '1500 samples');
  await session.stop();
  await board.stop();
  t.is(seqs[0], 0);
  t.deepEqual(breaks(seqs), []);
  t.is(seqs.length, 1500);
});

test('twenty unplugs of the mock cable each end in a reconnect, and no sample is lost or repeated', async (t) => {
  const r = await rig();
  for (let i = 0; i < 20; i++) {
    const before = r.session.stats.connects;
    await until(() => r.seqs.length > 0, 2000, 'samples');
    await sleep(30 + (i % 5) * 10);
    r.pair.unplug();
    await sleep(20);
    r.pair.replug();
    await until(() => r.session.stats.connects === before + 1, 5000, `reconnect ${i + 1}`);
  }
  await sleep(100);
  const acked = r.session.stats.ackedSeq;
  await r.stop();
  t.is(r.session.stats.reconnects, 20);
  t.deepEqual(breaks(r.seqs), []);
  t.true(r.seqs[r.seqs.length - 1] + 1 >= acked, 'every acknowledged sample was stepped');
  t.true(r.board.stats.samplesRetransmitted > 0, 'resends happened, and were not stepped twice');
});

test('a device that goes silent is detected by the heartbeat timeout and the session resumes when it is back', async (t) => {
  const r = await rig({ heartbeatMs: 50, heartbeatTimeoutMs: 200 });
  await until(() => r.seqs.length > 100, 3000, 'samples');
  await r.board.stop(); // device closes its end: host writes go nowhere, nothing comes back
  await until(() => r.session.stats.heartbeatTimeouts >= 1, 3000, 'heartbeat timeout');
  await r.board.start();
  await until(() => r.session.stats.connects >= 2, 5000, 'reconnect');
  const n = r.seqs.length;
  await until(() => r.seqs.length > n + 100, 3000, 'more samples');
  await r.stop();
  t.deepEqual(breaks(r.seqs), []);
});

test('a slow learner makes the bounded queue overflow: drops are counted and resent, nothing is lost or repeated', async (t) => {
  // A run of known length that fits the board's ring: however far the loaded host falls behind the wall clock, the
  // board still holds every sample not yet acknowledged, so each of the 4000 must be stepped exactly once.
  const r = await rig({ queueCapacity: 16, stepBudget: 1, startSeq: 0 }, { rateHz: 8000, maxSamples: 4000 });
  await until(() => r.seqs.length >= 4000, 40000, '4000 samples');
  await r.stop();
  const st = r.session.stats;
  t.true(st.dropped.overflow > 0, `overflow drops counted (${st.dropped.overflow})`);
  t.true(st.nacksSent > 0);
  t.is(st.samplesLost, 0);
  t.is(r.board.stats.samplesOverwritten, 0);
  t.is(r.seqs[0], 0);
  t.deepEqual(breaks(r.seqs), []);
  t.is(r.seqs.length, 4000, 'nothing stepped twice');
});

/** A slow line: every write asks the writer to wait, and 'drain' comes 20 ms later. */
class SlowLine implements Transport {
  private handlers: TransportHandlers | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  constructor(private readonly inner: Transport) {}
  get path(): string {
    return this.inner.path;
  }
  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  setHandlers(h: TransportHandlers): void {
    this.handlers = h;
    this.inner.setHandlers({ data: (c, n) => h.data(c, n), drain: () => {}, close: (e) => h.close(e) });
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    return this.inner.close();
  }
  write(data: Uint8Array, length = data.length): boolean {
    this.inner.write(data, length);
    if (!this.drainTimer) {
      this.drainTimer = setTimeout(() => {
        this.drainTimer = null;
        this.handlers?.drain();
      }, 20);
    }
    return false;
  }
}

test('predictions are dropped and counted while the port asks to drain, and streaming goes on', async (t) => {
  const pair = createMockPair({ record: false });
  const board = new VirtualBoard({ transport: pair.device, channels: 3, outputs: 1, rateHz: 4000 });
  await board.start();
  const seqs: number[] = [];
  const session = new Session({
    transport: new SlowLine(pair.host),
    learner: null,
    config: { inputs: 3, outputs: 1, rateHz: 4000 },
    txBufferBytes: 2000,
    helloTimeoutMs: 150,
    onStep: (seq) => seqs.push(seq),
  });
  await session.start();
  await until(() => seqs.length >= 1000, 5000, '1000 samples');
  await session.stop();
  await board.stop();
  const st = session.stats;
  t.true(st.predictionsDropped > 0, `predictions dropped: ${st.predictionsDropped}`);
  t.true(st.predictionsSent > 0, `predictions sent: ${st.predictionsSent}`);
  t.is(st.controlDropped, 0, 'ACKs and heartbeats still found room');
  t.deepEqual(breaks(seqs), []);
});

test('a configuration the device cannot serve is refused and start() rejects with the reason', async (t) => {
  const pair = createMockPair({ record: false });
  const board = new VirtualBoard({ transport: pair.device, channels: 2, outputs: 1 });
  await board.start();
  const session = new Session({ transport: pair.host, learner: null, config: { inputs: 3, outputs: 1, rateHz: 1000 }, helloTimeoutMs: 150 });
  await t.throwsAsync(session.start(), { message: /at most 2 channels but config.inputs is 3/ });
  await session.stop();
  await board.stop();
});

test('samples the device overwrote during a long unplug are reported lost, and the stream continues after them', async (t) => {
  const r = await rig({}, { bufferCapacity: 256, window: 128, rateHz: 4000 });
  await until(() => r.seqs.length > 50, 3000, 'samples');
  r.pair.unplug();
  await sleep(300); // ~1200 samples at 4 kHz, far more than the 256-sample buffer
  r.pair.replug();
  await until(() => r.session.stats.connects === 2, 5000, 'reconnect');
  const n = r.seqs.length;
  await until(() => r.seqs.length > n + 100, 3000, 'more samples');
  await r.stop();
  const st = r.session.stats;
  t.true(st.samplesLost > 0, `lost ${st.samplesLost}`);
  // the unplug makes one gap; a host starved of CPU may let the tiny ring overwrite more, which must be reported too
  const gaps = breaks(r.seqs);
  t.true(gaps.length >= 1, 'the overwritten samples left a gap');
  const missing = gaps.reduce((sum, i) => sum + (r.seqs[i] - r.seqs[i - 1] - 1), 0);
  t.true(gaps.every((i) => r.seqs[i] > r.seqs[i - 1]), 'no sample repeated');
  t.is(missing, st.samplesLost, 'the gaps hold exactly the samples reported lost');
});

test('session options that do not match the learner are refused with both shapes named', (t) => {
  const pair = createMockPair();
  const fake = { options: { inputs: 2, outputs: 1 } } as unknown as SessionOptions['learner'];
  t.throws(() => new Session({ transport: pair.host, learner: fake, config: { inputs: 3, outputs: 1, rateHz: 100 } }), {
    message: /learner has 2 inputs and 1 outputs but the stream has 3 and 1/,
  });
});

test('a samples-lost notice behind the expected seq is stale and ignored; one ahead skips and counts the gap', async (t) => {
  const s = await scriptedStreamingSession(20, null);
  const m = createMessage();
  const wire = new Uint8Array(MAX_WIRE);
  const put = (): void => s.transport.emitNow(wire.subarray(0, encodeFrame(m, wire)));
  m.type = MsgType.ERROR;
  m.fseq = s.nextFseq;
  m.code = ErrorCode.SAMPLES_LOST;
  m.detail = 5; // behind: the host already accepted 0..19
  m.count = 0;
  put();
  t.is(s.session.stats.expectedSeq, 20);
  t.is(s.session.stats.samplesLost, 0);
  m.fseq = s.nextFseq + 1;
  m.detail = 30; // ahead: 20..29 are gone
  put();
  t.is(s.session.stats.expectedSeq, 30);
  t.is(s.session.stats.samplesLost, 10);
  await s.session.stop();
});
