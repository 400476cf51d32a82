/**
 * The device side of the bridge protocol (PROTOCOL.md) as a virtual board: it samples a SyntheticSignal at
 * rateHz by the wall clock into a retransmit ring, streams SAMPLE + TARGET frames after the host's HELLO and
 * CONFIGURE (a reading its source gives as NaN, a failed read, goes out as a missing reading: PROTOCOL.md "Missing
 * readings"), resends from any NACKed seq (go-back-N), answers STATS, sends heartbeats, stops streaming when
 * the host goes quiet, and reopens its port after the link goes away (a pty peer killed, a cable pulled).
 *
 * It runs over any Transport: the device end of a mock pair in-process, or a pseudo-terminal in its own
 * process (sim/board/main.ts). Buffers are allocated once; the streaming path allocates nothing per frame.
 *
 * Link handling: it sends HEARTBEAT whenever its port is open (a write is how a dead pty shows up, as EIO),
 * reopens the port after the link closes, and also after 3 x heartbeatTimeoutMs (at least 2 s) without a frame
 * from the host, because a pty whose peer died does not always report it to a reader that never writes.
 */
import { Framer } from '../../firmware-bridge/framer.ts';
import {
  CONFIG_START,
  CONFIG_TARGETS,
  ErrorCode,
  FLAG_MISSING,
  FLAG_RETRANSMIT,
  MAX_PAYLOAD,
  MAX_WIRE,
  MISSING_VALUE,
  MsgType,
  NO_RESUME,
  PROTOCOL_VERSION,
  MIN_PROTOCOL_VERSION,
  SUBJECT_FRAME,
  SUBJECT_SAMPLES,
  createMessage,
  encodeFrame,
  seqDiff,
  setErrorText,
  type Message,
} from '../../firmware-bridge/protocol.ts';
import type { Transport } from '../../firmware-bridge/transport.ts';
import type { SampleSource } from '../../firmware-bridge/source.ts';
import { SyntheticSignal, type SignalOptions } from './signals.ts';

// Where the board's samples come from: the seam is the device side's, defined in firmware-bridge/source.ts.
export type { SampleSource } from '../../firmware-bridge/source.ts';

/**
 * The highest sample rate the virtual board streams at (samples/s), stated in its CAPABILITIES' maxRateHz
 * (firmware-bridge/PROTOCOL.md); `run --virtual` and `demo` refuse a --rate above it before starting the board.
 */
export const VIRTUAL_BOARD_MAX_RATE_HZ = 20000;

export interface VirtualBoardOptions extends SignalOptions {
  transport: Transport;
  /** Sample source (default: a SyntheticSignal built from the signal options). */
  source?: SampleSource;
  /** Samples kept for resending (default 16384). */
  bufferCapacity?: number;
  /** Most samples sent but not yet acknowledged (default 2048). */
  window?: number;
  deviceId?: number;
  /** Highest sample rate accepted in CONFIGURE and stated in CAPABILITIES (default VIRTUAL_BOARD_MAX_RATE_HZ). */
  maxRateHz?: number;
  /** Fixed-point format of channels and targets until the host configures one (default 12). */
  frac?: number;
  /** Retry period for reopening the port after the link went away (default 50 ms). */
  reopenMs?: number;
  /**
   * Stop sampling after this many samples (default: no limit), as a sensor run of known length; the board keeps
   * streaming, resending and answering. A test that must not race the wall clock against the ring uses it.
   */
  maxSamples?: number;
  /** Timer period (default 5 ms). */
  tickMs?: number;
  /** Link events (opened, open failed, closed, HELLO, CONFIGURE), for debugging. */
  onLog?: (message: string) => void;
  now?: () => number;
}

export interface VirtualBoardStats {
  framesRx: number;
  framesTx: number;
  hellos: number;
  configures: number;
  opens: number;
  samplesGenerated: number;
  samplesSent: number;
  samplesRetransmitted: number;
  samplesOverwritten: number;
  predictionsReceived: number;
  nacksReceived: number;
  badCrc: number;
  badLength: number;
  unknownType: number;
  overflow: number;
  outOfSequence: number;
}

export class VirtualBoard {
  readonly signal: SampleSource;
  readonly statsCounters: VirtualBoardStats = {
    framesRx: 0,
    framesTx: 0,
    hellos: 0,
    configures: 0,
    opens: 0,
    samplesGenerated: 0,
    samplesSent: 0,
    samplesRetransmitted: 0,
    samplesOverwritten: 0,
    predictionsReceived: 0,
    nacksReceived: 0,
    badCrc: 0,
    badLength: 0,
    unknownType: 0,
    overflow: 0,
    outOfSequence: 0,
  };
  private readonly transport: Transport;
  private readonly framer: Framer;
  private readonly tx = createMessage();
  private readonly txBuf = new Uint8Array(32768);
  private txLen = 0;
  private txFseq = 0;
  private waitingDrain = false;
  private readonly now: () => number;
  private readonly cap: number;
  private readonly window: number;
  private readonly ringX: Int16Array;
  private readonly ringT: Int16Array;
  private readonly ringTs: Uint32Array;
  /** Per slot: RF_X_MISSING (a channel without a reading), RF_T_MISSING (no target). */
  private readonly ringFlags: Uint8Array;
  private readonly xs: Float64Array;
  private readonly ts: Float64Array;
  private readonly C: number;
  private readonly T: number;
  private readonly frac: number;

  private nextSeq = 0;
  private oldestSeq = 0;
  private sendPtr = 0;
  private highestSent = 0;
  private t0 = 0;
  private rateHz: number;
  private streaming = false;
  private inputs: number;
  private outputs: number;
  private targets = true;
  private inScale: number;
  private tgtScale: number;
  private heartbeatMs = 200;
  private heartbeatTimeoutMs = 1000;
  private lostNotice = -1;
  private lastRxAt = 0;
  private lastTxAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private reopenTimer: NodeJS.Timeout | null = null;
  private running = false;
  private opening = false;
  private readonly startedAt: number;
  private readonly options: VirtualBoardOptions;

  constructor(options: VirtualBoardOptions) {
    this.options = options;
    this.transport = options.transport;
    this.signal = options.source ?? new SyntheticSignal(options);
    this.C = this.signal.channels;
    this.T = this.signal.outputs;
    this.cap = options.bufferCapacity ?? 16384;
    this.window = Math.min(options.window ?? 2048, this.cap);
    this.ringX = new Int16Array(this.cap * this.C);
    this.ringT = new Int16Array(this.cap * Math.max(1, this.T));
    this.ringTs = new Uint32Array(this.cap);
    this.ringFlags = new Uint8Array(this.cap);
    this.xs = new Float64Array(this.C);
    this.ts = new Float64Array(Math.max(1, this.T));
    this.rateHz = options.rateHz ?? 1000;
    this.inputs = this.C;
    this.outputs = this.T;
    this.frac = options.frac ?? 12;
    this.inScale = 2 ** this.frac;
    this.tgtScale = 2 ** this.frac;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.framer = new Framer((m) => this.onMessage(m));
    this.transport.setHandlers({
      data: (chunk, length) => {
        this.framer.push(chunk, 0, length);
        this.syncFramerCounters();
        this.pump();
      },
      drain: () => {
        this.waitingDrain = false;
        this.pump();
      },
      close: (e) => this.onClose(e),
    });
  }

  get stats(): VirtualBoardStats {
    this.syncFramerCounters();
    return { ...this.statsCounters };
  }

  /** Seq the next generated sample will get. */
  get generated(): number {
    return this.nextSeq;
  }

  get isStreaming(): boolean {
    return this.streaming;
  }

  /** Starts sampling and opens the port (retrying until it opens). */
  async start(): Promise<void> {
    this.running = true;
    // continue the sample clock where it stopped (a restart is not a burst and not a stall)
    this.t0 = this.now() - (this.statsCounters.samplesGenerated * 1000) / this.rateHz;
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 5);
    await this.tryOpen();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.streaming = false;
    if (this.timer) clearInterval(this.timer);
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.timer = null;
    this.reopenTimer = null;
    await this.transport.close().catch(() => {});
  }

  private async tryOpen(): Promise<void> {
    if (!this.running || this.opening || this.transport.isOpen) return;
    this.opening = true;
    try {
      await this.transport.open();
      this.statsCounters.opens++;
      this.options.onLog?.(`opened ${this.transport.path}`);
      this.framer.reset();
      this.txLen = 0;
      this.waitingDrain = false;
      this.lastRxAt = this.now();
    } catch (e) {
      this.options.onLog?.(`open failed: ${(e as Error).message}`);
      this.scheduleReopen();
    } finally {
      this.opening = false;
    }
  }

  private scheduleReopen(): void {
    if (!this.running || this.reopenTimer) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      void this.tryOpen();
    }, this.options.reopenMs ?? 50);
  }

  private onClose(error: Error | null): void {
    this.options.onLog?.(`closed${error ? `: ${error.message}` : ''}`);
    this.streaming = false;
    this.scheduleReopen();
  }

  private syncFramerCounters(): void {
    const f = this.framer.counters;
    const s = this.statsCounters;
    s.framesRx = f.framesOk;
    s.badCrc = f.badCrc;
    s.badLength = f.badLength;
    s.unknownType = f.unknownType;
    s.overflow = f.overflow;
    s.outOfSequence = f.outOfSequence;
  }

  // ----------------------------------------------------------------------------------------------------

  private tick(): void {
    const now = this.now();
    this.generate(now);
    if (this.streaming && now - this.lastRxAt > this.heartbeatTimeoutMs) this.streaming = false; // host went quiet
    if (this.transport.isOpen && now - this.lastRxAt > Math.max(3 * this.heartbeatTimeoutMs, 2000)) {
      // A pty whose peer died does not always report it on read, and a silent device never writes: after a long
      // silence, reopen the port, which fails until the link is back and then gets a live one.
      this.options.onLog?.(`no frame from the host for ${now - this.lastRxAt} ms; reopening the port`);
      this.lastRxAt = now;
      void this.transport.close();
      return;
    }
    // heartbeats whenever the port is open (not only while streaming): a write is how a dead link shows up (EIO)
    if (this.transport.isOpen && now - this.lastTxAt >= this.heartbeatMs) {
      const m = this.tx;
      m.type = MsgType.HEARTBEAT;
      m.uptimeMs = (now - this.startedAt) >>> 0;
      m.nextSeq = this.nextSeq >>> 0;
      this.send(0);
    }
    this.pump();
  }

  private generate(now: number): void {
    let due = Math.floor(((now - this.t0) * this.rateHz) / 1000) - this.statsCounters.samplesGenerated;
    const limit = this.options.maxSamples;
    if (limit !== undefined && due > limit - this.statsCounters.samplesGenerated) due = limit - this.statsCounters.samplesGenerated;
    if (due > this.cap) {
      // the process stalled for longer than the ring holds: skip ahead in time rather than burst
      this.t0 = now - ((this.statsCounters.samplesGenerated + this.cap) * 1000) / this.rateHz;
      due = this.cap;
    }
    const C = this.C;
    const T = this.T;
    for (let k = 0; k < due; k++) {
      const s = this.nextSeq;
      const slot = s % this.cap;
      this.signal.sample(s, this.xs, this.ts);
      // A reading that is not a number (a failed read) goes out as a missing reading (PROTOCOL.md "Missing readings"):
      // MISSING_VALUE with the MISSING flag, and then a real -32768 is sent as -32767.
      let xMissing = false;
      for (let c = 0; c < C; c++) if (Number.isNaN(this.xs[c])) xMissing = true;
      for (let c = 0; c < C; c++) {
        const v = this.xs[c];
        const q = Number.isNaN(v) ? MISSING_VALUE : sat16(v * this.inScale);
        this.ringX[slot * C + c] = xMissing && !Number.isNaN(v) && q === MISSING_VALUE ? MISSING_VALUE + 1 : q;
      }
      let tMissing = false;
      for (let o = 0; o < T; o++) if (Number.isNaN(this.ts[o])) tMissing = true;
      for (let o = 0; o < T; o++) this.ringT[slot * T + o] = tMissing ? MISSING_VALUE : sat16(this.ts[o] * this.tgtScale);
      this.ringFlags[slot] = (xMissing ? RF_X_MISSING : 0) | (tMissing ? RF_T_MISSING : 0);
      this.ringTs[slot] = Math.round((s * 1e6) / this.rateHz) >>> 0;
      this.nextSeq = s + 1;
      this.statsCounters.samplesGenerated++;
      if (this.nextSeq - this.oldestSeq > this.cap) {
        this.oldestSeq++;
        this.statsCounters.samplesOverwritten++;
        if (this.sendPtr < this.oldestSeq) this.sendPtr = this.oldestSeq;
      }
    }
  }

  /** Sends what is due (samples within the window) and flushes, as far as the port takes it. */
  private pump(): void {
    if (!this.transport.isOpen) return;
    if (this.streaming) {
      if (this.lostNotice >= 0) {
        const m = this.tx;
        m.type = MsgType.ERROR;
        m.code = ErrorCode.SAMPLES_LOST;
        m.detail = this.lostNotice >>> 0;
        setErrorText(m, 'requested samples were overwritten');
        if (this.send(0)) this.lostNotice = -1;
      }
      while (
        this.sendPtr < this.nextSeq &&
        this.sendPtr - this.oldestSeq < this.window &&
        this.txLen + 6 * MAX_WIRE <= this.txBuf.length && // keep room for control frames (ACK, CAPABILITIES, STATS)
        !this.waitingDrain
      ) {
        this.sendSample(this.sendPtr);
        this.sendPtr++;
      }
    }
    this.flush();
  }

  private sendSample(s: number): void {
    const slot = s % this.cap;
    const retransmit = s < this.highestSent;
    const m = this.tx;
    m.type = MsgType.SAMPLE;
    m.seq = s >>> 0;
    m.timestampUs = this.ringTs[slot];
    m.count = this.inputs;
    let xMissing = false;
    for (let c = 0; c < this.inputs; c++) {
      m.values[c] = this.ringX[slot * this.C + c];
      if (m.values[c] === MISSING_VALUE && (this.ringFlags[slot] & RF_X_MISSING) !== 0) xMissing = true;
    }
    const again = retransmit ? FLAG_RETRANSMIT : 0;
    this.send(again | (xMissing ? FLAG_MISSING : 0));
    if (this.targets && this.outputs > 0) {
      m.type = MsgType.TARGET;
      m.seq = s >>> 0;
      m.count = this.outputs;
      for (let o = 0; o < this.outputs; o++) m.values[o] = this.ringT[slot * this.T + o];
      this.send(again | ((this.ringFlags[slot] & RF_T_MISSING) !== 0 ? FLAG_MISSING : 0));
    }
    if (retransmit) this.statsCounters.samplesRetransmitted++;
    else {
      this.statsCounters.samplesSent++;
      this.highestSent = s + 1;
    }
  }

  private send(flags: number): boolean {
    if (this.txLen + MAX_WIRE > this.txBuf.length) return false;
    this.tx.flags = flags;
    this.tx.fseq = this.txFseq;
    this.txFseq = (this.txFseq + 1) & 0xffff;
    this.txLen += encodeFrame(this.tx, this.txBuf, this.txLen);
    this.statsCounters.framesTx++;
    return true;
  }

  private flush(): void {
    if (this.txLen === 0 || this.waitingDrain || !this.transport.isOpen) return;
    const ok = this.transport.write(this.txBuf, this.txLen);
    this.txLen = 0;
    this.lastTxAt = this.now();
    if (!ok) this.waitingDrain = true;
  }

  // ----------------------------------------------------------------------------------------------------

  private onMessage(m: Message): void {
    this.lastRxAt = this.now();
    switch (m.type) {
      case MsgType.HELLO:
        this.onHello(m);
        return;
      case MsgType.CONFIGURE:
        this.onConfigure(m);
        return;
      case MsgType.ACK:
        if (m.subject === SUBJECT_SAMPLES) {
          const v = m.value >>> 0;
          if (seqDiff(v, this.oldestSeq) > 0 && seqDiff(v, this.nextSeq) <= 0) this.oldestSeq = v;
          if (this.sendPtr < this.oldestSeq) this.sendPtr = this.oldestSeq;
        }
        return;
      case MsgType.NACK:
        if (m.subject === SUBJECT_SAMPLES) {
          this.statsCounters.nacksReceived++;
          const v = m.value >>> 0;
          if (seqDiff(v, this.oldestSeq) < 0) {
            this.sendPtr = this.oldestSeq;
            this.lostNotice = this.oldestSeq;
          } else if (seqDiff(v, this.sendPtr) < 0) {
            this.sendPtr = v;
          }
        }
        return;
      case MsgType.PREDICTION:
        this.statsCounters.predictionsReceived++;
        return;
      case MsgType.STATS_REQUEST: {
        this.syncFramerCounters();
        const s = this.statsCounters;
        const t = this.tx;
        t.type = MsgType.STATS;
        const w = t.stats;
        w[0] = s.framesRx;
        w[1] = s.framesTx;
        w[2] = s.badCrc;
        w[3] = s.badLength;
        w[4] = s.unknownType;
        w[5] = s.overflow;
        w[6] = s.outOfSequence;
        w[7] = s.samplesGenerated;
        w[8] = s.samplesSent;
        w[9] = s.samplesRetransmitted;
        w[10] = s.samplesOverwritten;
        w[11] = (this.now() - this.startedAt) >>> 0;
        this.send(0);
        return;
      }
      case MsgType.SNAPSHOT_REQUEST: {
        const t = this.tx;
        t.type = MsgType.ERROR;
        t.code = ErrorCode.SNAPSHOT_UNAVAILABLE;
        t.detail = 0;
        setErrorText(t, 'the virtual board streams only; it has no learner to snapshot');
        this.send(0);
        return;
      }
      default:
        return;
    }
  }

  private onHello(m: Message): void {
    this.statsCounters.hellos++;
    this.options.onLog?.(`HELLO resume ${m.resumeSeq >>> 0}`);
    this.streaming = false;
    this.txFseq = 0;
    this.txLen = 0;
    const t = this.tx;
    const version = Math.min(m.version, PROTOCOL_VERSION);
    const ok = version >= MIN_PROTOCOL_VERSION && version >= m.minVersion;
    t.type = MsgType.CAPABILITIES;
    t.version = ok ? version : 0;
    t.channels = this.C;
    t.maxPayload = MAX_PAYLOAD;
    t.maxTargets = this.T;
    t.learnerMask = 0;
    t.bufferCapacity = Math.min(this.cap, 0xffff);
    t.maxRateHz = this.options.maxRateHz ?? VIRTUAL_BOARD_MAX_RATE_HZ;
    t.deviceId = this.options.deviceId ?? 0x4e530001;
    t.nextSeq = this.nextSeq >>> 0;
    t.oldestSeq = this.oldestSeq >>> 0;
    this.txBuf[this.txLen++] = 0;
    this.send(0);
    if (!ok) {
      t.type = MsgType.ERROR;
      t.code = ErrorCode.VERSION_UNSUPPORTED;
      t.detail = PROTOCOL_VERSION;
      setErrorText(t, `this device speaks protocol ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}`);
      this.send(0);
      return;
    }
    const r = m.resumeSeq >>> 0;
    this.lostNotice = -1;
    if (r === NO_RESUME) this.sendPtr = this.nextSeq;
    else if (r >= this.oldestSeq && r <= this.nextSeq) this.sendPtr = r;
    else {
      this.sendPtr = this.oldestSeq;
      this.lostNotice = this.oldestSeq;
    }
    // samples before the resume point were acknowledged by this host (or are not wanted by a fresh one): release
    // them, so the send window counts from here
    this.oldestSeq = this.sendPtr;
  }

  private onConfigure(m: Message): void {
    this.statsCounters.configures++;
    const t = this.tx;
    let why = '';
    if (m.inputs < 1 || m.inputs > this.C) why = `inputs must be 1..${this.C} (got ${m.inputs})`;
    else if (m.outputs > this.T) why = `outputs must be 0..${this.T} (got ${m.outputs})`;
    else if (m.rateHz < 1 || m.rateHz > (this.options.maxRateHz ?? VIRTUAL_BOARD_MAX_RATE_HZ)) why = `rateHz must be 1..${this.options.maxRateHz ?? VIRTUAL_BOARD_MAX_RATE_HZ} (got ${m.rateHz})`;
    else if (m.learner !== 0) why = 'this board does not learn on-device (learner must be 0)';
    // PROTOCOL.md 4.6: Frac fields are 0..15 (the fractional bits of an int16 value)
    else if (m.inputFrac > 15 || m.targetFrac > 15 || m.predictionFrac > 15) why = `inputFrac, targetFrac and predictionFrac must be 0..15 (got ${m.inputFrac}, ${m.targetFrac}, ${m.predictionFrac})`;
    if (why) {
      t.type = MsgType.NACK;
      t.subject = SUBJECT_FRAME;
      t.code = ErrorCode.BAD_CONFIG;
      t.ref = m.fseq;
      t.value = 0;
      this.send(0);
      t.type = MsgType.ERROR;
      t.code = ErrorCode.BAD_CONFIG;
      t.detail = 0;
      setErrorText(t, why);
      this.send(0);
      this.flush();
      return;
    }
    this.inputs = m.inputs;
    this.outputs = m.outputs;
    this.targets = (m.configFlags & CONFIG_TARGETS) !== 0;
    if (m.rateHz !== this.rateHz) {
      // keep sample times continuous: restart the clock at the current count with the new rate
      this.t0 = this.now() - (this.statsCounters.samplesGenerated * 1000) / m.rateHz;
      this.rateHz = m.rateHz;
    }
    if (m.inputFrac !== this.frac || m.targetFrac !== this.frac) {
      this.inScale = 2 ** m.inputFrac;
      this.tgtScale = 2 ** m.targetFrac;
    }
    this.heartbeatMs = m.heartbeatMs || 200;
    this.heartbeatTimeoutMs = m.heartbeatTimeoutMs || 1000;
    t.type = MsgType.ACK;
    t.subject = SUBJECT_FRAME;
    t.code = 0;
    t.ref = m.fseq;
    t.value = 0;
    this.send(0);
    this.streaming = (m.configFlags & CONFIG_START) !== 0;
    this.flush();
  }
}

const RF_X_MISSING = 1;
const RF_T_MISSING = 2;

function sat16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}
