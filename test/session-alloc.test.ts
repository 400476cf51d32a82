// The live path allocates nothing per sample: bytes in -> framer -> session -> learning loop (outlier guard, missing
// readings) -> fixed-point learner -> PREDICTION and ACK frames out. (Over a real local socket from the virtual
// board's process: test/long/session-alloc-socket.test.ts.) One file, run serially: the GC observer sees the whole
// process.
import test from 'ava';
import { allocationSites, allocationWindows, oneCleanWindow } from './helpers/gc.ts';
import { Session } from '../firmware-bridge/session.ts';
import { Framer } from '../firmware-bridge/framer.ts';
import { FLAG_MISSING, MAX_PAYLOAD, MAX_WIRE, MISSING_VALUE, MsgType, createMessage, encodeFrame, type Message } from '../firmware-bridge/protocol.ts';
import type { Transport, TransportHandlers } from '../firmware-bridge/transport.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import { initWeights } from '../runtime/init.ts';


/**
 * A transport that copies nothing: what the host writes is decoded at once by a Framer (the board's side of the
 * cable), and the test hands the host its bytes through `deliver`. The transports that really send (serial, socket,
 * mock) copy each write, by their contract; this one lets the measurement see the session alone.
 */
class SinkTransport implements Transport {
  readonly path = 'sink';
  isOpen = false;
  handlers: TransportHandlers | null = null;
  hellos = 0;
  configureFseq = -1;
  predictions = 0;
  acks = 0;
  lastAck = 0;
  checksum = 0;
  private readonly board = new Framer((m) => this.fromHost(m));
  setHandlers(h: TransportHandlers): void {
    this.handlers = h;
  }
  async open(): Promise<void> {
    this.isOpen = true;
  }
  async close(): Promise<void> {
    this.isOpen = false;
    this.handlers?.close(null);
  }
  write(data: Uint8Array, length = data.length): boolean {
    this.board.push(data, 0, length);
    return true;
  }
  private fromHost(m: Message): void {
    if (m.type === MsgType.HELLO) this.hellos++;
    else if (m.type === MsgType.CONFIGURE) this.configureFseq = m.fseq;
    else if (m.type === MsgType.PREDICTION) {
      this.predictions++;
      this.checksum = (this.checksum + m.values[0]) | 0;
    } else if (m.type === MsgType.ACK && m.subject === 1) {
      this.acks++;
      this.lastAck = m.value;
    }
  }
}

test.serial('10^5 live samples through the session, the learning loop and a fixed-point learner: no garbage collection, a flat heap', async (t) => {
  const M = 3;
  const learner = createFixedLearner(
    { learner: 'rflo', inputs: M, hidden: 16, outputs: 1, tau: 4, lrRec: 0.002, lrOut: 0.01, update: 'step', trialLength: 1 },
    initWeights({ inputs: M, hidden: 16, outputs: 1, tau: 4, seed: 5 }),
  );
  const sink = new SinkTransport();
  let scored = 0;
  const session = new Session({
    transport: sink,
    learner,
    config: { inputs: M, outputs: 1, rateHz: 1000 },
    heartbeatMs: 600_000,
    heartbeatTimeoutMs: 600_000,
    onStep: (_seq, _x, target) => {
      if (target !== null) scored++;
    },
  });
  const started = session.start();
  const m = createMessage();
  const wire = new Uint8Array(MAX_WIRE);
  let fseq = 0;
  const put = (): void => {
    m.flags = 0;
    m.fseq = fseq++ & 0xffff;
    sink.handlers!.data(wire, encodeFrame(m, wire));
  };
  while (sink.hellos === 0) await new Promise((r) => setImmediate(r));
  Object.assign(m, { type: MsgType.CAPABILITIES, version: 1, channels: M, maxPayload: MAX_PAYLOAD, maxTargets: 1, bufferCapacity: 4096, maxRateHz: 1000, nextSeq: 0, oldestSeq: 0 });
  fseq = 0;
  put();
  t.not(sink.configureFseq, -1, 'the host configured the board');
  Object.assign(m, { type: MsgType.ACK, subject: 0, code: 0, ref: sink.configureFseq, value: 0 });
  put();
  await started;

  // One chunk per sample (SAMPLE + TARGET, padded with frame delimiters, which are ignored), as a UART delivers it.
  const chunk = new Uint8Array(2 * MAX_WIRE);
  let seq = 0;
  const feed = (samples: number): void => {
    for (let k = 0; k < samples; k++, seq++) {
      const s = seq;
      m.type = MsgType.SAMPLE;
      m.seq = s;
      m.timestampUs = (s * 1000) >>> 0;
      m.count = M;
      // a failed read every 7th sample (MISSING flag), a full-scale glitch every 1000th (the guard rejects it)
      const miss = s % 7 === 3;
      m.flags = miss ? FLAG_MISSING : 0;
      m.fseq = fseq++ & 0xffff;
      m.values[0] = s % 1000 === 500 ? 32767 : Math.round(2000 * Math.sin(s * 0.05));
      m.values[1] = miss ? MISSING_VALUE : Math.round(1500 * Math.sin(s * 0.031));
      m.values[2] = ((s * 37) % 4096) - 2048;
      let n = encodeFrame(m, chunk, 0);
      m.type = MsgType.TARGET;
      m.count = 1;
      m.flags = s % 11 === 5 ? FLAG_MISSING : 0;
      m.fseq = fseq++ & 0xffff;
      m.values[0] = Math.round(1000 * Math.sin(s * 0.05 + 0.3));
      n += encodeFrame(m, chunk, n);
      chunk.fill(0, n);
      sink.handlers!.data(chunk, chunk.length);
    }
  };
  const stepped = (): number => learner.stepCount();

  // The settle-then-measure protocol of test/helpers/gc.ts: one object per sample (a view, an Immediate) is at least
  // 16 bytes, 1.6 MB a window, in every window.
  const { rounds, events, grew, counted } = await allocationWindows(feed, stepped);
  const sites = await allocationSites(feed);
  for (const c of counted) t.is(c, 100000, 'every sample was stepped within its own chunk');
  const st = session.stats;
  const loop = session.loop;
  await session.stop();
  t.log(`GC events ${events.join(', ')}, heap change ${grew.join(', ')} bytes (extra warm-up rounds ${rounds})`);
  t.log(`${st.samplesStepped} samples, ${sink.predictions} predictions, ${sink.acks} ACKs; ${loop.inputsMissing} inputs and ${loop.targetsMissing} targets missing, ${loop.inputOutliers} input outliers`);
  t.log(`sampled: ${sites.project.toFixed(3)} bytes a sample allocated by the project's code; largest sites ${sites.top}`);
  t.true(oneCleanWindow({ rounds, events, grew, counted }), `GC events ${events.join(', ')}; heap grew ${grew.join(', ')} bytes; allocated by ${sites.top}`);
  t.true(sites.project < 1, `the project's code allocates ${sites.project.toFixed(2)} bytes a sample: ${sites.top}`);
  // the path measured is the whole one: every sample accepted, stepped, predicted and acknowledged, bad readings handled
  t.is(st.samplesStepped, seq);
  t.is(sink.predictions, seq);
  t.true(sink.lastAck >= seq - 32);
  t.is(st.framesDropped, 0);
  t.true(loop.inputsMissing > 0 && loop.targetsMissing > 0 && loop.inputOutliers > 0);
  t.true(scored > 0);
});
