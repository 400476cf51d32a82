/**
 * Host side of the on-device learning profile of the bridge protocol (device.h describes it): drives a board
 * that runs the C learner (the firmware here, on QEMU or on silicon) over a serial port or pty.
 *   HELLO -> CAPABILITIES; the runtime's snapshot of the initial learner as SNAPSHOT_DATA chunks (each ACKed);
 *   CONFIGURE (on-device learner, sizes, fracs 12, START | TARGETS) -> ACK; SAMPLE + TARGET -> PREDICTION per step,
 *   pipelined `window` steps deep; STATS_REQUEST -> STATS; SNAPSHOT_REQUEST -> the device's snapshot.
 * Both sides start from identical weights because the host sends the exact bytes of a runtime snapshot (integer
 * Q7.24 weights, Q3.12 forward copies, state, traces): nothing is re-derived from floats or seeds on the device.
 * Test and tooling code (allocates per call); the runtime's step path is not involved.
 */
import { SerialPort } from 'serialport';
import { Framer } from '../framer.ts';
import { FLAG_MISSING, MAX_SNAPSHOT_CHUNK, MAX_WIRE, MISSING_VALUE, MSG_NAMES, MsgType, NO_RESUME, createMessage, encodeFrame, errorText, LEARNER_CODES, CONFIG_START, CONFIG_TARGETS, CONFIG_DIRECT, CONFIG_NORMALIZED } from '../protocol.ts';
import type { Message } from '../protocol.ts';
import type { LearnerKind } from '../../runtime/types.ts';

export interface DeviceCapabilities {
  version: number;
  channels: number;
  maxTargets: number;
  learnerMask: number;
  deviceId: number;
}

export interface DeviceConfigure {
  learner: LearnerKind;
  inputs: number;
  outputs: number;
  hidden: number;
  /** The loaded learner's readout reads the input too (options.direct): CONFIGURE flags bit2 DIRECT. */
  direct?: boolean;
  /** The loaded learner's readout takes normalised steps (options.normalizedReadout): flags bit3 NORMALIZED. */
  normalized?: boolean;
}

const typeName = (t: number): string => MSG_NAMES[t]?.toUpperCase() ?? `0x${t.toString(16)}`;

/** A request the device did not answer within DeviceLearnerClient.timeoutMs. */
export class NoAnswer extends Error {
  override name = 'NoAnswer';
}

type Waiter = { want: number; resolve: (m: Message) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class DeviceLearnerClient {
  private readonly port: SerialPort;
  private readonly framer: Framer;
  private readonly out = createMessage();
  private readonly wire = new Uint8Array(MAX_WIRE);
  private fseq = 0;
  private waiter: Waiter | null = null;
  private onPrediction: ((m: Message) => void) | null = null;
  private onSnapshot: ((m: Message) => void) | null = null;
  private failure: Error | null = null;
  /** HEARTBEAT frames received from the device. */
  heartbeats = 0;
  /** ERROR frames received, as "code: text". */
  readonly errors: string[] = [];
  timeoutMs = 5000;

  /** The device's serial port or pty path. */
  readonly path: string;

  private constructor(port: SerialPort, path: string) {
    this.port = port;
    this.path = path;
    this.framer = new Framer((m) => this.receive(m));
    port.on('data', (d: Buffer) => this.framer.push(d));
  }

  /** Opens the device's port (baudRate: the firmware's UART rate; a pty ignores it). */
  static async open(path: string, baudRate = 115200): Promise<DeviceLearnerClient> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
    return new DeviceLearnerClient(port, path);
  }

  /** Ends the stream or snapshot transfer under way (its timer with it); null when none is. */
  private cancelTransfer: ((e: Error) => void) | null = null;

  /** Closes the port; a request, stream or snapshot transfer still waiting is rejected at once, its timer cleared. */
  async close(): Promise<void> {
    const closed = new Error(`the port ${this.path} was closed`);
    this.settle(null, closed);
    this.cancelTransfer?.(closed);
    if (this.port.isOpen) await new Promise<void>((res) => this.port.close(() => res()));
  }

  /** Framer counters of what the host received (bad frames from the device would show here). */
  get receiveCounters() {
    return this.framer.counters;
  }

  private receive(m: Message): void {
    if (m.type === MsgType.HEARTBEAT) {
      this.heartbeats++;
      return;
    }
    if (m.type === MsgType.ERROR) {
      const e = `${m.code}: ${errorText(m)}`;
      this.errors.push(e);
      this.failure = new Error(`device sent ERROR ${e}`);
      if (this.waiter) this.settle(null, this.failure);
      if (this.onSnapshot) this.onSnapshot(m);
      return;
    }
    if (m.type === MsgType.SNAPSHOT_DATA && this.onSnapshot) {
      this.onSnapshot(m);
      return;
    }
    if (m.type === MsgType.PREDICTION && this.onPrediction) {
      this.onPrediction(m);
      return;
    }
    if (this.waiter && m.type === this.waiter.want) this.settle(m, null);
    else if (this.waiter && m.type === MsgType.NACK) {
      // The ERROR that explains a NACK follows it; wait for it unless none comes.
      const w = this.waiter;
      clearTimeout(w.timer);
      w.timer = setTimeout(() => this.settle(null, new Error(`device sent NACK code ${m.code}`)), 500);
    }
  }

  private settle(m: Message | null, e: Error | null): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    clearTimeout(w.timer);
    if (e) w.reject(e);
    else {
      // Framer reuses its message: hand out a copy of the fields callers read.
      const c = createMessage();
      Object.assign(c, m, { values: m!.values.slice(), bytes: m!.bytes.slice(), stats: m!.stats.slice() });
      w.resolve(c);
    }
  }

  /** Writes raw bytes (for fault injection in tests). */
  sendRaw(bytes: Uint8Array): void {
    this.port.write(Buffer.from(bytes));
  }

  /** The fseq the next frame this client sends will carry. */
  get nextFseq(): number {
    return this.fseq;
  }

  private send(type: number, flags = 0): Buffer {
    this.out.type = type;
    this.out.flags = flags;
    this.out.fseq = this.fseq;
    this.fseq = (this.fseq + 1) & 0xffff;
    const n = encodeFrame(this.out, this.wire, 0);
    return Buffer.from(this.wire.subarray(0, n));
  }

  private request(type: number, want: number, extra: Buffer[] = []): Promise<Message> {
    if (this.waiter) throw new Error('one request at a time');
    this.failure = null;
    const p = new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(
        () => this.settle(null, new NoAnswer(`no ${typeName(want)} from the device at ${this.path} within ${this.timeoutMs} ms (it was sent ${typeName(type)})`)),
        this.timeoutMs,
      );
      this.waiter = { want, resolve, reject, timer };
    });
    this.port.write(Buffer.concat([...extra, this.send(type)]));
    return p;
  }

  async hello(): Promise<DeviceCapabilities> {
    const o = this.out;
    o.version = 1;
    o.minVersion = 1;
    o.maxPayload = 256;
    o.resumeSeq = NO_RESUME;
    this.fseq = 0;
    this.framer.reset();
    const m = await this.request(MsgType.HELLO, MsgType.CAPABILITIES, [Buffer.from([0])]);
    return { version: m.version, channels: m.channels, maxTargets: m.maxTargets, learnerMask: m.learnerMask, deviceId: m.deviceId };
  }

  /** Sends a runtime snapshot (saveSnapshot bytes) in chunks, waiting for each chunk's ACK. */
  async loadSnapshot(bytes: Uint8Array, transferId = 1): Promise<void> {
    const o = this.out;
    for (let off = 0; off < bytes.length; off += MAX_SNAPSHOT_CHUNK) {
      const n = Math.min(MAX_SNAPSHOT_CHUNK, bytes.length - off);
      o.transferId = transferId;
      o.snapshotFlags = off + n === bytes.length ? 1 : 0;
      o.offset = off;
      o.totalLength = bytes.length;
      o.count = n;
      o.bytes.set(bytes.subarray(off, off + n));
      await this.request(MsgType.SNAPSHOT_DATA, MsgType.ACK);
    }
  }

  async configure(c: DeviceConfigure): Promise<void> {
    const o = this.out;
    o.learner = LEARNER_CODES[c.learner];
    o.inputs = c.inputs;
    o.outputs = c.outputs;
    o.hidden = c.hidden;
    o.configFlags = CONFIG_START | CONFIG_TARGETS | (c.direct === true ? CONFIG_DIRECT : 0) | (c.normalized === true ? CONFIG_NORMALIZED : 0);
    o.inputFrac = 12;
    o.targetFrac = 12;
    o.predictionFrac = 12;
    o.heartbeatMs = 200;
    o.heartbeatTimeoutMs = 1000;
    o.rateHz = 0;
    await this.request(MsgType.CONFIGURE, MsgType.ACK);
  }

  /**
   * Streams T steps: x (T*M, Q3.12) and targets (T*O, Q3.12) as SAMPLE + TARGET with seq first..first+T-1, keeping
   * at most `window` steps in flight; writes the PREDICTIONs into y (T*O). Rejects on an ERROR, a prediction out of
   * order, or `timeoutMs` without progress.
   * Missing readings (PROTOCOL.md "Missing readings"): xMissing (T*M, non-zero = that input has no reading) and
   * targetMissing (T, non-zero = that step's target is missing), or null. A step with any missing input is sent as a
   * SAMPLE with the MISSING flag and MISSING_VALUE in those channels; a reading of exactly -32768 cannot share such a
   * SAMPLE (RangeError: send -32767, as runHil does). A missing target is a TARGET with the MISSING flag.
   */
  stream(
    x: Int16Array,
    targets: Int16Array,
    y: Int16Array,
    M: number,
    O: number,
    window = 32,
    first = 0,
    xMissing: Uint8Array | null = null,
    targetMissing: Uint8Array | null = null,
  ): Promise<void> {
    const T = x.length / M;
    if (xMissing !== null) {
      for (let k = 0; k < T; k++) {
        let any = false;
        for (let j = 0; j < M; j++) any ||= xMissing[k * M + j] !== 0;
        for (let j = 0; j < M && any; j++) {
          if (xMissing[k * M + j] === 0 && x[k * M + j] === MISSING_VALUE) {
            throw new RangeError(`step ${k}, input ${j}: a reading of -32768 cannot share a SAMPLE with a missing channel (PROTOCOL.md "Missing readings"); send -32767`);
          }
        }
      }
    }
    let sent = 0;
    let got = 0;
    this.failure = null;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const done = (e: Error | null) => {
        clearTimeout(timer);
        this.onPrediction = null;
        this.cancelTransfer = null;
        if (e) reject(e);
        else resolve();
      };
      this.cancelTransfer = done;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => done(new Error(`no prediction for step ${got} within ${this.timeoutMs} ms (${this.errors.join('; ')})`)), this.timeoutMs);
      };
      const pump = () => {
        const parts: Buffer[] = [];
        const o = this.out;
        while (sent < T && sent - got < window) {
          o.seq = (first + sent) >>> 0;
          o.timestampUs = 0;
          o.count = M;
          let sampleFlags = 0;
          for (let j = 0; j < M; j++) {
            const gap = xMissing !== null && xMissing[sent * M + j] !== 0;
            if (gap) sampleFlags = FLAG_MISSING;
            o.values[j] = gap ? MISSING_VALUE : x[sent * M + j];
          }
          parts.push(this.send(MsgType.SAMPLE, sampleFlags));
          o.count = O;
          const noTarget = targetMissing !== null && targetMissing[sent] !== 0;
          for (let j = 0; j < O; j++) o.values[j] = noTarget ? MISSING_VALUE : targets[sent * O + j];
          parts.push(this.send(MsgType.TARGET, noTarget ? FLAG_MISSING : 0));
          sent++;
        }
        if (parts.length) this.port.write(Buffer.concat(parts));
      };
      this.onPrediction = (m) => {
        if (this.failure) return done(this.failure);
        if (m.seq !== ((first + got) >>> 0) || m.count !== O) {
          return done(new Error(`prediction out of order: seq ${m.seq} (count ${m.count}), expected seq ${first + got}`));
        }
        for (let j = 0; j < O; j++) y[got * O + j] = m.values[j];
        got++;
        if (got === T) return done(null);
        arm();
        pump();
      };
      arm();
      pump();
    });
  }

  async stats(): Promise<Uint32Array> {
    const m = await this.request(MsgType.STATS_REQUEST, MsgType.STATS);
    return m.stats;
  }

  /** The device learner's snapshot in the runtime's format (SNAPSHOT_REQUEST, chunks reassembled). */
  readSnapshot(transferId = 2): Promise<Uint8Array> {
    const o = this.out;
    o.transferId = transferId;
    o.offset = 0;
    o.maxChunk = MAX_SNAPSHOT_CHUNK;
    this.failure = null;
    return new Promise<Uint8Array>((resolve, reject) => {
      let buf: Uint8Array | null = null;
      let have = 0;
      let timer: NodeJS.Timeout;
      const done = (e: Error | null) => {
        clearTimeout(timer);
        this.onSnapshot = null;
        this.cancelTransfer = null;
        if (e) reject(e);
        else resolve(buf!);
      };
      this.cancelTransfer = done;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => done(new Error(`snapshot stalled at ${have} bytes (${this.errors.join('; ')})`)), this.timeoutMs);
      };
      this.onSnapshot = (m) => {
        if (m.type === MsgType.ERROR) return done(this.failure);
        if (buf === null) buf = new Uint8Array(m.totalLength);
        if (m.offset !== have || m.offset + m.count > buf.length) return done(new Error(`snapshot chunk at ${m.offset}, expected ${have}`));
        buf.set(m.bytes.subarray(0, m.count), m.offset);
        have += m.count;
        if (have === buf.length) done(null);
        else arm();
      };
      arm();
      this.port.write(this.send(MsgType.SNAPSHOT_REQUEST));
    });
  }
}
