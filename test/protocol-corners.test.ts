// The wire protocol's corners that PROTOCOL.md decides and the host must follow.
import test from 'ava';
import { Session } from '../firmware-bridge/session.ts';
import { Framer } from '../firmware-bridge/framer.ts';
import { ErrorCode, MAX_PAYLOAD, MAX_WIRE, MsgType, createMessage, encodeFrame, type Message } from '../firmware-bridge/protocol.ts';
import { MockTransport } from '../firmware-bridge/transports/mock.ts';

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
