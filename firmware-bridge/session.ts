/**
 * Host side of the bridge (PROTOCOL.md section 4): handshake, in-order sample acceptance with cumulative ACKs
 * and go-back-N NACKs, a bounded queue of accepted samples handed, as the wire's integers with their MISSING marks
 * (PROTOCOL.md "Missing readings"), to the learning loop (learning-loop.ts), predictions sent back, heartbeats, and reconnect with exponential backoff after an unplug, resuming at the first sample not yet
 * accepted so that nothing acknowledged is lost or repeated.
 *
 * Memory: every buffer (receive queue, transmit buffer, one sample's vectors) is allocated in the constructor.
 * The streaming path allocates nothing per sample (test/session-alloc.test.ts): samples are stepped at the end of the
 * chunk that completed them, and the transmit buffer goes to the transport as (buffer, length), without a view; the
 * transport then copies what it sends (one Buffer per flush, transport.ts).
 *
 * What is dropped, and where it is counted (stats.dropped):
 * - line errors: the framer's badCrc / badLength / unknownType / overflow / outOfSequence (frame seq);
 * - samples that are not the next expected one (duplicates, or after a gap): outOfSequence (then NACK);
 * - samples that arrive while the receive queue is full: overflow (not acknowledged; the NACK that asks for them
 *   again waits until the learner has freed half the queue, so that the resend is not dropped in turn);
 * - outgoing PREDICTION frames while the transmit buffer is congested: stats.predictionsDropped;
 * - outgoing control frames when the transmit buffer is full: stats.controlDropped (ACKs are cumulative and
 *   heartbeats periodic, so the next one repairs it).
 */
import type { OnlineLearner, LearnerKind } from '../runtime/types.ts';
import { Framer, createDropCounters, totalDropped, type DropCounters } from './framer.ts';
import { LineSniffer } from './sniff.ts';
import {
  CONFIG_START,
  CONFIG_TARGETS,
  ErrorCode,
  FLAG_MISSING,
  LEARNER_CODES,
  MAX_CHANNELS,
  MAX_PAYLOAD,
  MAX_VALUES,
  MAX_WIRE,
  MIN_PROTOCOL_VERSION,
  MsgType,
  NO_RESUME,
  PROTOCOL_VERSION,
  SUBJECT_FRAME,
  SUBJECT_SAMPLES,
  STATS_FIELDS,
  createMessage,
  encodeFrame,
  errorText,
  seqDiff,
  type Message,
} from './protocol.ts';
import type { Transport } from './transport.ts';
import { LearningLoop } from './learning-loop.ts';

export interface StreamConfig {
  /** Channels per SAMPLE = learner inputs M. */
  inputs: number;
  /** Values per TARGET / PREDICTION = learner outputs O. */
  outputs: number;
  rateHz: number;
  /** Device sends a TARGET after every SAMPLE (default: outputs > 0). */
  targets?: boolean;
  /** Q formats: real = raw / 2^frac (default 12 for all three). */
  inputFrac?: number;
  targetFrac?: number;
  predictionFrac?: number;
  /** Learner the device should run itself ('none', the default, means the host learns). */
  deviceLearner?: LearnerKind | 'none';
  hidden?: number;
}

/** The device's STATS counters by name (PROTOCOL.md, STATS). */
export type DeviceStats = Record<(typeof STATS_FIELDS)[number], number>;

export type SessionState = 'idle' | 'connecting' | 'handshake' | 'configuring' | 'streaming' | 'reconnecting' | 'closed';

/**
 * The device cannot run the configuration asked of it: its CAPABILITIES allow fewer channels, targets or a lower rate
 * than `config` asks (`field` names the config field, `limit` the device's bound), or it NACKed the CONFIGURE (`field`
 * null). Callers with a user interface report it in their own terms (`run --rate`), as bad input.
 */
export class ConfigurationRefused extends Error {
  override name = 'ConfigurationRefused';
  constructor(
    message: string,
    readonly field: 'inputs' | 'outputs' | 'rateHz' | null,
    readonly limit: number | null,
    readonly requested: number | null,
  ) {
    super(message);
  }
}

export interface SessionEvent {
  type: 'streaming' | 'disconnected' | 'samples-lost' | 'device-error' | 'open-failed';
  message: string;
}

export interface SessionOptions {
  transport: Transport;
  /** null: samples are accepted and reported through onStep with y = 0, nothing learns. */
  learner: OnlineLearner | null;
  /**
   * Where accepted samples go (firmware-bridge/learning-loop.ts). Default: a LearningLoop over `learner`, the
   * stream's Q formats, `nmseWindow` and `onStep`.
   */
  loop?: LearningLoop;
  config: StreamConfig;
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  /** Send a cumulative ACK after this many accepted samples (default 32). */
  ackEvery?: number;
  /** Accepted samples waiting for learner.step (default 4096). */
  queueCapacity?: number;
  /** Host-to-device buffer while the port asks to drain (default 16384 bytes). */
  txBufferBytes?: number;
  /** Samples stepped per event-loop turn (default 256). */
  stepBudget?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  helloTimeoutMs?: number;
  helloRetries?: number;
  /**
   * Handshake rounds (each helloRetries HELLOs) that may end with bytes that are not bridge frames (text, Firmata,
   * noise at the wrong baud rate) before start() fails with what they looked like (default 3). Rounds with no bytes
   * at all are retried for ever: a board may still be booting.
   */
  foreignRounds?: number;
  sendPredictions?: boolean;
  /** Time constant, in samples, of the running NMSE (default 1000). */
  nmseWindow?: number;
  /** The default loop's outlier guard, in standard deviations (learning-loop.ts; default 8, Infinity: off). */
  outlier?: number;
  /**
   * Where a fresh session starts: the seq of the first sample wanted, if the device still holds it (its buffer
   * may reach back to before the host connected); default: the device's next new sample. Reconnects always
   * resume at the first sample not yet accepted.
   */
  startSeq?: number;
  /** Called after every learner step (x, target and y are reused buffers: copy what you keep). */
  onStep?: (seq: number, x: Float64Array, target: Float64Array | null, y: Float64Array) => void;
  onEvent?: (e: SessionEvent) => void;
  now?: () => number;
}

export interface SessionStats {
  state: SessionState;
  /** Successful handshakes; reconnects = connects - 1. */
  connects: number;
  reconnects: number;
  heartbeatTimeouts: number;
  writeFailures: number;
  samplesAccepted: number;
  samplesStepped: number;
  /** Samples the device reported it could not resend (ERROR 3). */
  samplesLost: number;
  /** Next sample seq the host expects (everything before it was accepted). */
  expectedSeq: number;
  /** Highest cumulative ACK value sent. */
  ackedSeq: number;
  acksSent: number;
  nacksSent: number;
  heartbeatsSent: number;
  predictionsSent: number;
  predictionsDropped: number;
  controlDropped: number;
  /** Line-level drops (framer) plus sample-level drops (session), by reason. */
  dropped: DropCounters;
  framesDropped: number;
  framesMissed: number;
  framesReceived: number;
  /** Running NMSE (exponential window), NaN until a target has been seen. */
  nmse: number;
  queueDepth: number;
  deviceId: number;
}

const noop = (): void => {};

/** Receive queue slot flags. */
const QF_TARGET = 1;
const QF_X_MARKED = 2;
const QF_T_MARKED = 4;
/** Index of the clock as last read in Session.times. */
/** Slots of Session.times: when the last frame arrived, went out, a HELLO or CONFIGURE went out, the last SAMPLE
 * arrived, the last ACK and NACK went out, the chunk being decoded arrived; and the clock as last read. */
const T_RX = 0;
const T_TX = 1;
const T_HELLO = 2;
const T_SAMPLE = 3;
const T_ACK = 4;
const T_NACK = 5;
const T_CHUNK = 6;
const CLOCK = 7;

export class Session {
  readonly options: SessionOptions;
  private readonly transport: Transport;
  private readonly framer: Framer;
  private readonly tx = createMessage();
  private readonly txBuf: Uint8Array;
  private txLen = 0;
  private txFseq = 0;
  private waitingDrain = false;
  private state: SessionState = 'idle';
  private readonly now: () => number;

  // configuration
  private readonly M: number;
  private readonly O: number;
  private readonly targets: boolean;
  /** The learning loop the accepted samples go to, and one sample's buffers for it. */
  readonly loop: LearningLoop;
  private readonly xRaw: Int16Array;
  private readonly tRaw: Int16Array;
  private readonly pred: Int16Array;
  private readonly heartbeatMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly ackEvery: number;
  private readonly stepBudget: number;
  private readonly sendPredictions: boolean;

  // receive queue (ring of accepted samples)
  private readonly qCap: number;
  private readonly qSeq: Float64Array;
  private readonly qX: Int16Array;
  private readonly qT: Int16Array;
  /** Per slot: QF_TARGET, QF_X_MARKED (the SAMPLE had the MISSING flag), QF_T_MARKED (the TARGET had it). */
  private readonly qFlags: Uint8Array;
  private qHead = 0;
  private qLen = 0;

  // sample acceptance
  private expected = 0;
  private started = false; // expected is meaningful once the first sample was accepted or resumed
  /**
   * A fresh session (HELLO resumeSeq 0xFFFFFFFF) starts at the nextSeq of the last CAPABILITIES (PROTOCOL.md 4.1,
   * 4.6): -1 until one came. The last one wins: the device answers every HELLO (a retried one too) with CAPABILITIES
   * and sets its send pointer anew, and frames arrive in order, so the last CAPABILITIES before the samples is the
   * one whose nextSeq the device streams from.
   */
  private freshFrom = -1;
  /** A fresh session that has accepted nothing yet: samples the device says it cannot resend were never wanted. */
  private freshStart = false;
  private pendingSeq = -1;
  private readonly pendingX: Int16Array;
  private pendingMarked = false;
  private sinceAck = 0;
  private lastNackValue = -1;
  /**
   * A NACK is owed but the queue is full: a resend now would land on the full queue and be dropped again (go-back-N
   * resends everything from the NACKed seq), so the NACK goes out once the learner has freed half the queue.
   */
  private nackWhenRoom = false;

  // link
  /** The device's nextSeq from its last HEARTBEAT. */
  private deviceNextSeq = -1;
  private deviceRestarted = false;
  private helloTries = 0;
  /** What arrived before the handshake completed, and how many rounds in a row ended with foreign bytes. */
  private readonly sniffer = new LineSniffer();
  private foreignRounds = 0;
  private sawFrame = false;
  private configureFseq = -1;
  private backoffMs: number;
  /**
   * Clock readings (ms): when the last frame arrived, went out, a HELLO or CONFIGURE went out (the handshake timeout
   * counts from it), the last SAMPLE arrived, the last ACK and NACK went out; and times[CLOCK], the clock as last read.
   * In a typed array, not in fields: a clock value is not a small integer, and storing one in a field allocates a heap
   * number. The sample path reads no clock (a call to Date.now may return a fresh heap number): it stamps with
   * times[CLOCK], which tick() refreshes every 10..50 ms and the handshake at each step, so link times are late by at
   * most one tick period, against a heartbeat timeout of 1000 ms by default.
   */
  private readonly times = new Float64Array(8);
  private timer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stepScheduled = false;
  private readonly runStepsBound: () => void;
  private readonly startedAt: number;


  private sessionDrops: DropCounters = createDropCounters();
  private statsWaiter: { resolve: (s: DeviceStats) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null = null;
  private readonly statsObj: SessionStats;
  private startWaiters: { resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(options: SessionOptions) {
    const c = options.config;
    if (!Number.isInteger(c.inputs) || c.inputs < 1 || c.inputs > MAX_CHANNELS) {
      throw new RangeError(`config.inputs must be an integer in 1..${MAX_CHANNELS} (got ${c.inputs})`);
    }
    if (!Number.isInteger(c.outputs) || c.outputs < 0 || c.outputs > MAX_VALUES) {
      throw new RangeError(`config.outputs must be an integer in 0..${MAX_VALUES} (got ${c.outputs})`);
    }
    if (!(c.rateHz > 0)) throw new RangeError(`config.rateHz must be > 0 (got ${c.rateHz})`);
    const L = options.learner;
    if (L && (L.options.inputs !== c.inputs || L.options.outputs !== c.outputs)) {
      throw new RangeError(
        `learner has ${L.options.inputs} inputs and ${L.options.outputs} outputs but the stream has ${c.inputs} and ${c.outputs}; make them equal`,
      );
    }
    this.options = options;
    this.transport = options.transport;
    this.now = options.now ?? Date.now;
    this.M = c.inputs;
    this.O = c.outputs;
    this.targets = c.targets ?? c.outputs > 0;
    this.heartbeatMs = options.heartbeatMs ?? 200;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 1000;
    this.ackEvery = options.ackEvery ?? 32;
    this.stepBudget = options.stepBudget ?? 256;
    this.sendPredictions = options.sendPredictions ?? true;
    this.backoffMs = options.backoffInitialMs ?? 50;
    this.qCap = options.queueCapacity ?? 4096;
    this.qSeq = new Float64Array(this.qCap);
    this.qX = new Int16Array(this.qCap * this.M);
    this.qT = new Int16Array(this.qCap * Math.max(1, this.O));
    this.qFlags = new Uint8Array(this.qCap);
    this.pendingX = new Int16Array(this.M);
    this.txBuf = new Uint8Array(Math.max(options.txBufferBytes ?? 16384, 4 * MAX_WIRE));
    this.loop =
      options.loop ??
      new LearningLoop({
        learner: L,
        inputs: c.inputs,
        outputs: c.outputs,
        inputFrac: c.inputFrac,
        targetFrac: c.targetFrac,
        predictionFrac: c.predictionFrac,
        nmseWindow: options.nmseWindow,
        outlier: options.outlier,
        onStep: options.onStep,
      });
    this.xRaw = new Int16Array(this.M);
    this.tRaw = new Int16Array(Math.max(1, this.O));
    this.pred = new Int16Array(Math.max(1, this.O));
    this.framer = new Framer((m) => this.onMessage(m));
    this.runStepsBound = () => this.runSteps();
    this.readClock();
    this.startedAt = this.times[CLOCK];
    this.statsObj = {
      state: 'idle',
      connects: 0,
      reconnects: 0,
      heartbeatTimeouts: 0,
      writeFailures: 0,
      samplesAccepted: 0,
      samplesStepped: 0,
      samplesLost: 0,
      expectedSeq: 0,
      ackedSeq: 0,
      acksSent: 0,
      nacksSent: 0,
      heartbeatsSent: 0,
      predictionsSent: 0,
      predictionsDropped: 0,
      controlDropped: 0,
      dropped: createDropCounters(),
      framesDropped: 0,
      framesMissed: 0,
      framesReceived: 0,
      nmse: NaN,
      queueDepth: 0,
      deviceId: 0,
    };
    this.transport.setHandlers({
      data: (chunk, length) => this.onData(chunk, length),
      drain: () => {
        this.waitingDrain = false;
        this.flush();
      },
      close: (err) => this.onTransportClose(err),
    });
  }

  /** A fresh snapshot of the counters (allocates; call it for progress lines, not per sample). */
  get stats(): SessionStats {
    const s = this.statsObj;
    const f = this.framer.counters;
    s.state = this.state;
    s.expectedSeq = this.expected;
    s.queueDepth = this.qLen;
    s.framesMissed = f.framesMissed;
    s.framesReceived = f.framesOk;
    const d = s.dropped;
    d.badCrc = f.badCrc + this.sessionDrops.badCrc;
    d.badLength = f.badLength + this.sessionDrops.badLength;
    d.unknownType = f.unknownType + this.sessionDrops.unknownType;
    d.overflow = f.overflow + this.sessionDrops.overflow;
    d.outOfSequence = f.outOfSequence + this.sessionDrops.outOfSequence;
    s.framesDropped = totalDropped(d);
    s.nmse = this.loop.nmse.value;
    return { ...s, dropped: { ...d } };
  }

  /** Reads the clock into times[CLOCK], where the sample path reads it (a method returning a float would box it). */
  private readClock(): void {
    this.times[CLOCK] = this.now();
  }

  /** Reads the clock and records the reading in times[slot] too. */
  private stamp(slot: number): void {
    this.readClock();
    this.times[slot] = this.times[CLOCK];
  }

  get currentState(): SessionState {
    return this.state;
  }

  /** Opens the transport and completes the handshake; resolves once samples stream. Retries with backoff. */
  start(): Promise<void> {
    if (this.state !== 'idle') return Promise.reject(new Error(`session already started (state ${this.state})`));
    const p = new Promise<void>((resolve, reject) => {
      this.startWaiters = { resolve, reject };
    });
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(50, this.heartbeatMs / 4)));
    void this.connect();
    return p;
  }

  /** Stops streaming, sends a final ACK, closes the transport. Samples still queued are stepped first. */
  async stop(): Promise<void> {
    if (this.state === 'closed') return;
    const wasStreaming = this.state === 'streaming';
    while (this.qLen > 0) this.runSteps();
    if (wasStreaming) {
      this.sendAck();
      this.flush();
    }
    this.state = 'closed';
    if (this.timer) clearInterval(this.timer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.timer = null;
    this.reconnectTimer = null;
    if (this.startWaiters) {
      this.startWaiters.reject(new Error('session stopped before streaming started'));
      this.startWaiters = null;
    }
    if (this.statsWaiter) {
      clearTimeout(this.statsWaiter.timer);
      this.statsWaiter.reject(new Error('session stopped'));
      this.statsWaiter = null;
    }
    await this.transport.close().catch(noop);
  }

  /**
   * Asks the device for its counters (STATS_REQUEST -> STATS). Rejects when not streaming, when another request
   * is pending, or when no answer comes within timeoutMs.
   */
  requestDeviceStats(timeoutMs = 1000): Promise<DeviceStats> {
    if (this.state !== 'streaming') return Promise.reject(new Error(`device stats need a streaming session (state ${this.state})`));
    if (this.statsWaiter) return Promise.reject(new Error('a device stats request is already pending'));
    return new Promise<DeviceStats>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.statsWaiter = null;
        reject(new Error(`no STATS from ${this.transport.path} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.statsWaiter = { resolve, reject, timer };
      this.tx.type = MsgType.STATS_REQUEST;
      this.send(true);
      this.flush();
    });
  }

  /** Waits until every accepted sample has been stepped (for tests and summaries). */
  async idle(): Promise<void> {
    while (this.qLen > 0) await new Promise((r) => setImmediate(r));
  }

  // ----------------------------------------------------------------------------------------------------
  // connection

  private async connect(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    try {
      await this.transport.open();
    } catch (e) {
      this.emit('open-failed', (e as Error).message);
      this.scheduleReconnect();
      return;
    }
    if ((this.state as SessionState) === 'closed') {
      await this.transport.close().catch(noop);
      return;
    }
    this.framer.reset();
    if (!this.started) this.freshFrom = -1;
    this.txLen = 0;
    this.waitingDrain = false;
    this.pendingSeq = -1;
    this.nackWhenRoom = false;
    this.state = 'handshake';
    this.helloTries = 0;
    this.sniffer.reset();
    this.sawFrame = false;
    this.stamp(T_RX);
    this.sendHello();
  }

  private sendHello(): void {
    this.helloTries++;
    this.stamp(T_HELLO);
    this.txFseq = 0;
    // a resend from 'configuring' starts the handshake over: the device answers this HELLO with CAPABILITIES and
    // stops streaming, so an ACK of the earlier CONFIGURE must not count, and a new CONFIGURE must follow
    this.state = 'handshake';
    this.configureFseq = -1;
    // one 0x00 first so that a partial frame left in the device's receiver ends here
    this.txBuf[this.txLen++] = 0;
    const m = this.tx;
    m.type = MsgType.HELLO;
    m.version = PROTOCOL_VERSION;
    m.minVersion = MIN_PROTOCOL_VERSION;
    m.maxPayload = MAX_PAYLOAD;
    m.resumeSeq = this.started ? this.expected >>> 0 : this.options.startSeq !== undefined ? this.options.startSeq >>> 0 : NO_RESUME;
    this.send(true);
    this.flush();
  }

  private linkDown(reason: string): void {
    if (this.state === 'closed' || this.state === 'reconnecting' || this.state === 'idle') return;
    const wasConnecting = this.state === 'connecting';
    this.state = 'reconnecting';
    this.pendingSeq = -1;
    this.emit('disconnected', reason);
    if (!wasConnecting) void this.transport.close().catch(noop);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state === 'closed') return;
    this.state = 'reconnecting';
    if (this.reconnectTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoffMaxMs ?? 2000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
  }

  private onTransportClose(err: Error | null): void {
    if (this.state === 'closed' || this.state === 'reconnecting') return;
    if (err) this.statsObj.writeFailures++;
    this.linkDown(err ? err.message : 'port closed');
  }

  private tick(): void {
    this.readClock();
    const now = this.times[CLOCK];
    const st = this.state;
    if (st === 'handshake' || st === 'configuring') {
      if (now - this.times[T_HELLO] > (this.options.helloTimeoutMs ?? 500)) {
        if (this.helloTries >= (this.options.helloRetries ?? 3)) this.noAnswer();
        else this.sendHello();
      }
      return;
    }
    if (st !== 'streaming') return;
    if (now - this.times[T_RX] > this.heartbeatTimeoutMs) {
      this.statsObj.heartbeatTimeouts++;
      this.linkDown(`no frame from the device for ${now - this.times[T_RX]} ms (heartbeat timeout ${this.heartbeatTimeoutMs} ms)`);
      return;
    }
    if (this.deviceNextSeq >= 0 && seqDiff(this.deviceNextSeq, this.expected) > 0 && now - this.times[T_SAMPLE] > this.heartbeatTimeoutMs) {
      // alive (heartbeats) but not sending samples it has: the device lost the handshake; start it over
      this.statsObj.heartbeatTimeouts++;
      this.linkDown(`the device has samples up to ${this.deviceNextSeq} but sent none for ${now - this.times[T_SAMPLE]} ms`);
      return;
    }
    if (this.sinceAck > 0 && now - this.times[T_ACK] >= this.heartbeatMs / 2) this.sendAck();
    if (now - this.times[T_TX] >= this.heartbeatMs) {
      const m = this.tx;
      m.type = MsgType.HEARTBEAT;
      m.uptimeMs = (now - this.startedAt) >>> 0;
      m.nextSeq = this.expected >>> 0;
      if (this.send(true)) this.statsObj.heartbeatsSent++;
    }
    this.flush();
  }

  /** The handshake round ended unanswered: say what arrived instead, and give up after foreignRounds such rounds. */
  private noAnswer(): void {
    const why = this.sawFrame ? null : this.sniffer.describe();
    const msg = `no answer to HELLO after ${this.helloTries} tries` + (why ? `; ${why}` : '');
    if (why === null) {
      this.foreignRounds = 0;
      this.linkDown(msg);
      return;
    }
    this.foreignRounds++;
    const limit = this.options.foreignRounds ?? 3;
    if (this.foreignRounds >= limit) this.fail(new Error(`${msg}; gave up after ${limit} attempts`));
    else this.linkDown(msg);
  }

  private emit(type: SessionEvent['type'], message: string): void {
    this.options.onEvent?.({ type, message });
  }

  // ----------------------------------------------------------------------------------------------------
  // receive

  private onData(chunk: Uint8Array, length: number): void {
    if (this.state === 'closed') return;
    if (this.state === 'handshake' || this.state === 'configuring') this.sniffer.push(chunk, length);
    this.times[T_CHUNK] = this.times[CLOCK];
    this.framer.push(chunk, 0, length);
    // The samples this chunk completed are stepped now, up to stepBudget (a backlog continues in later turns), so
    // that a live stream schedules nothing per sample.
    if (this.qLen > 0 && !this.stepScheduled) this.runSteps();
    this.flush();
  }

  private onMessage(m: Message): void {
    this.times[T_RX] = this.times[T_CHUNK];
    this.foreignRounds = 0;
    this.sawFrame = true;
    switch (m.type) {
      case MsgType.CAPABILITIES:
        if (!this.started && this.options.startSeq === undefined) this.freshFrom = m.nextSeq >>> 0;
        if (this.state === 'handshake') this.onCapabilities(m);
        return;
      case MsgType.ACK:
        if (this.state === 'configuring' && m.subject === SUBJECT_FRAME && m.ref === this.configureFseq) this.onConfigured();
        return;
      case MsgType.NACK:
        if (this.state === 'configuring' && m.subject === SUBJECT_FRAME && m.ref === this.configureFseq) {
          this.fail(new ConfigurationRefused(`device refused the configuration (code ${m.code}); check inputs/outputs/rate against its capabilities`, null, null, null));
        }
        return;
      case MsgType.SAMPLE:
        if (this.state === 'streaming') {
          this.times[T_SAMPLE] = this.times[T_RX];
          this.onSample(m);
        }
        return;
      case MsgType.HEARTBEAT:
        if (this.state === 'streaming') this.deviceNextSeq = m.nextSeq >>> 0;
        return;
      case MsgType.TARGET:
        if (this.state === 'streaming') this.onTarget(m);
        return;
      case MsgType.ERROR:
        this.onDeviceError(m);
        return;
      case MsgType.STATS:
        this.onStats(m);
        return;
      default:
        return; // SNAPSHOT_*: nothing to do here
    }
  }

  private onCapabilities(m: Message): void {
    const c = this.options.config;
    if (m.version === 0 || m.version > PROTOCOL_VERSION || m.version < MIN_PROTOCOL_VERSION) {
      this.fail(new Error(`device speaks protocol version ${m.version}; this host speaks ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}`));
      return;
    }
    if (m.channels < c.inputs) {
      this.fail(new ConfigurationRefused(`device streams at most ${m.channels} channels but config.inputs is ${c.inputs}`, 'inputs', m.channels, c.inputs));
      return;
    }
    if (m.maxTargets < c.outputs) {
      this.fail(new ConfigurationRefused(`device supports at most ${m.maxTargets} outputs but config.outputs is ${c.outputs}`, 'outputs', m.maxTargets, c.outputs));
      return;
    }
    // maxRateHz 0: the device states no rate (a device that learns on itself and does not sample)
    if (m.maxRateHz > 0 && Math.round(c.rateHz) > m.maxRateHz) {
      this.fail(new ConfigurationRefused(`device samples at most ${m.maxRateHz} Hz but config.rateHz is ${c.rateHz}`, 'rateHz', m.maxRateHz, c.rateHz));
      return;
    }
    this.statsObj.deviceId = m.deviceId;
    // a device whose next sample is behind what the host already accepted has restarted its count
    this.deviceRestarted = this.started && seqDiff(m.nextSeq >>> 0, this.expected) < 0;
    const t = this.tx;
    t.type = MsgType.CONFIGURE;
    t.learner = LEARNER_CODES[c.deviceLearner ?? 'none'];
    t.inputs = c.inputs;
    t.outputs = c.outputs;
    t.configFlags = CONFIG_START | (this.targets ? CONFIG_TARGETS : 0);
    t.hidden = c.hidden ?? 0;
    t.inputFrac = c.inputFrac ?? 12;
    t.targetFrac = c.targetFrac ?? 12;
    t.predictionFrac = c.predictionFrac ?? 12;
    t.heartbeatMs = this.heartbeatMs;
    t.heartbeatTimeoutMs = this.heartbeatTimeoutMs;
    t.rateHz = Math.round(c.rateHz);
    this.configureFseq = this.txFseq;
    this.state = 'configuring';
    this.stamp(T_HELLO);
    this.send(true);
  }

  private onConfigured(): void {
    this.state = 'streaming';
    this.stamp(T_SAMPLE);
    this.deviceNextSeq = -1;
    const s = this.statsObj;
    s.connects++;
    s.reconnects = s.connects - 1;
    this.backoffMs = this.options.backoffInitialMs ?? 50;
    this.times[T_ACK] = this.times[CLOCK];
    this.lastNackValue = -1;
    this.emit('streaming', `streaming from ${this.transport.path}${s.connects > 1 ? ` (reconnect ${s.reconnects})` : ''}`);
    if (this.startWaiters) {
      this.startWaiters.resolve();
      this.startWaiters = null;
    }
  }

  private fail(e: Error): void {
    // said once: to start()'s caller when it is waiting (the rejection carries it), else as an event
    if (this.startWaiters) {
      this.startWaiters.reject(e);
      this.startWaiters = null;
    } else this.emit('device-error', e.message);
    void this.stop();
  }

  private onDeviceError(m: Message): void {
    if (m.code === ErrorCode.SAMPLES_LOST) {
      const d = m.detail >>> 0;
      if (!this.started) {
        // A fresh start without startSeq asked for nothing old: the device starts at its nextSeq (section 4.1) and
        // has nothing to report lost, so an ERROR 3 now is stale (answering an earlier host) and ignored (4.3). With
        // startSeq it says where the device could start instead.
        if (this.options.startSeq === undefined) return;
        this.expected = d;
        this.started = true;
      } else if (this.freshStart) {
        // nothing accepted yet in a fresh session: the device starts later than its CAPABILITIES said (it answered a
        // HELLO whose CAPABILITIES did not arrive); nothing this host wanted is lost. One behind is stale (4.3).
        if (seqDiff(d, this.expected) > 0) this.expected = d;
      } else {
        const gap = seqDiff(d, this.expected);
        if (gap > 0) {
          this.statsObj.samplesLost += gap;
          this.emit('samples-lost', `device could not resend ${gap} samples; continuing at seq ${d}`);
          this.expected = d;
        } else if (gap < 0 && this.deviceRestarted) {
          this.emit('samples-lost', `device sequence restarted at ${d} (host expected ${this.expected}); the device was reset`);
          this.expected = d;
        }
        // gap < 0 otherwise: a stale notice (answering an older NACK); the host is already past it
        this.deviceRestarted = false;
      }
      this.pendingSeq = -1;
      return;
    }
    this.emit('device-error', `device error ${m.code}: ${errorText(m)}`);
  }

  /**
   * Answers the pending requestDeviceStats(). Its own method: a closure over `m` inside onMessage makes V8 allocate a
   * context for `m` on every frame unless the top tier's escape analysis removes it. V8's mid tier (Maglev, on by
   * default from Node 22) has none: in the live benchmark on Node 24 that was 9.5 bytes a sample over 40,000 samples.
   */
  private onStats(m: Message): void {
    const w = this.statsWaiter;
    if (!w) return;
    this.statsWaiter = null;
    clearTimeout(w.timer);
    const out = {} as DeviceStats;
    STATS_FIELDS.forEach((name, i) => (out[name] = m.stats[i]));
    w.resolve(out);
  }

  private onSample(m: Message): void {
    if (m.count !== this.M) {
      this.sessionDrops.badLength++;
      return;
    }
    if (!this.started) {
      // first sample of a fresh session: the stream starts at CAPABILITIES' nextSeq (a sample before it is stale, a
      // resend answering an earlier host; one after it means the first ones were lost: NACK them); with startSeq, or
      // from a device that sent no CAPABILITIES nextSeq, wherever the device is
      this.expected = this.freshFrom >= 0 ? this.freshFrom : m.seq;
      this.freshStart = this.freshFrom >= 0;
      this.started = true;
    }
    const d = seqDiff(m.seq, this.expected);
    if (d < 0) {
      this.sessionDrops.outOfSequence++; // duplicate or reordered
      return;
    }
    if (d > 0) {
      this.sessionDrops.outOfSequence++; // something before it was lost
      this.pendingSeq = -1;
      this.nack();
      return;
    }
    const marked = (m.flags & FLAG_MISSING) !== 0;
    if (!this.targets) {
      this.accept(m.values, null, m.seq, marked, false);
      return;
    }
    if (this.pendingSeq === m.seq) this.sessionDrops.outOfSequence++; // a repeat of the pending sample replaces it
    this.pendingSeq = m.seq;
    this.pendingMarked = marked;
    for (let i = 0; i < this.M; i++) this.pendingX[i] = m.values[i];
  }

  private onTarget(m: Message): void {
    if (!this.targets || !this.started) return;
    if (m.count !== this.O) {
      this.sessionDrops.badLength++;
      return;
    }
    const d = seqDiff(m.seq, this.expected);
    if (d < 0) {
      this.sessionDrops.outOfSequence++;
      return;
    }
    if (d > 0 || this.pendingSeq !== m.seq) {
      this.sessionDrops.outOfSequence++;
      this.pendingSeq = -1;
      this.nack();
      return;
    }
    this.pendingSeq = -1;
    this.accept(this.pendingX, m.values, m.seq, this.pendingMarked, (m.flags & FLAG_MISSING) !== 0);
  }

  private accept(x: Int16Array, target: Int16Array | null, seq: number, xMarked: boolean, tMarked: boolean): void {
    if (this.qLen === this.qCap) {
      this.sessionDrops.overflow++;
      this.nack();
      return;
    }
    const slot = (this.qHead + this.qLen) % this.qCap;
    this.qSeq[slot] = seq;
    const M = this.M;
    for (let i = 0; i < M; i++) this.qX[slot * M + i] = x[i];
    if (target) {
      const O = this.O;
      for (let i = 0; i < O; i++) this.qT[slot * O + i] = target[i];
    }
    this.qFlags[slot] = (target ? QF_TARGET : 0) | (xMarked ? QF_X_MARKED : 0) | (target && tMarked ? QF_T_MARKED : 0);
    this.qLen++;
    this.freshStart = false;
    this.expected = (this.expected + 1) >>> 0;
    this.statsObj.samplesAccepted++;
    if (++this.sinceAck >= this.ackEvery) this.sendAck();
    // stepped at the end of the chunk that completed it (onData)
  }

  private nack(): void {
    if (this.qLen === this.qCap) {
      this.nackWhenRoom = true;
      return;
    }
    const now = this.times[CLOCK];
    if (this.lastNackValue === this.expected && now - this.times[T_NACK] < 100) return;
    this.lastNackValue = this.expected;
    this.times[T_NACK] = now;
    const m = this.tx;
    m.type = MsgType.NACK;
    m.subject = SUBJECT_SAMPLES;
    m.code = ErrorCode.NONE;
    m.ref = 0;
    m.value = this.expected >>> 0;
    if (this.send(true)) this.statsObj.nacksSent++;
  }

  private sendAck(): void {
    const m = this.tx;
    m.type = MsgType.ACK;
    m.subject = SUBJECT_SAMPLES;
    m.code = 0;
    m.ref = 0;
    m.value = this.expected >>> 0;
    if (this.send(true)) {
      this.statsObj.acksSent++;
      this.statsObj.ackedSeq = this.expected;
      this.sinceAck = 0;
      this.times[T_ACK] = this.times[CLOCK];
    }
  }

  // ----------------------------------------------------------------------------------------------------
  // learning

  /** Hands queued samples, as the wire's integers, to the learning loop (at most stepBudget per event-loop turn). */
  private runSteps(): void {
    this.stepScheduled = false;
    const M = this.M;
    const O = this.O;
    const xRaw = this.xRaw;
    const tRaw = this.tRaw;
    let n = 0;
    while (this.qLen > 0 && n < this.stepBudget) {
      const slot = this.qHead;
      const seq = this.qSeq[slot];
      for (let i = 0; i < M; i++) xRaw[i] = this.qX[slot * M + i];
      const f = this.qFlags[slot];
      const hasT = (f & QF_TARGET) !== 0;
      if (hasT) for (let i = 0; i < O; i++) tRaw[i] = this.qT[slot * O + i];
      this.qHead = (this.qHead + 1) % this.qCap;
      this.qLen--;
      this.loop.step(seq, xRaw, hasT ? tRaw : null, this.pred, (f & QF_X_MARKED) !== 0, (f & QF_T_MARKED) !== 0);
      this.statsObj.samplesStepped++;
      if (this.sendPredictions && O > 0 && this.state === 'streaming') this.sendPrediction(seq);
      n++;
    }
    if (this.nackWhenRoom && this.qLen <= this.qCap >> 1 && this.state === 'streaming') {
      this.nackWhenRoom = false;
      this.nack();
    }
    this.flush();
    if (this.qLen > 0 && !this.stepScheduled) {
      this.stepScheduled = true;
      setImmediate(this.runStepsBound);
    }
  }

  private sendPrediction(seq: number): void {
    // predictions yield to control frames: keep room for four control frames
    if (this.txLen + 5 * MAX_WIRE > this.txBuf.length) {
      this.statsObj.predictionsDropped++;
      return;
    }
    const m = this.tx;
    m.type = MsgType.PREDICTION;
    m.seq = seq >>> 0;
    m.count = this.O;
    for (let i = 0; i < this.O; i++) m.values[i] = this.pred[i];
    if (this.send(false)) this.statsObj.predictionsSent++;
  }

  // ----------------------------------------------------------------------------------------------------
  // transmit

  /** Encodes this.tx into the transmit buffer. Returns false (and counts) when there is no room. */
  private send(control: boolean): boolean {
    if (this.txLen + MAX_WIRE > this.txBuf.length) {
      if (control) this.statsObj.controlDropped++;
      else this.statsObj.predictionsDropped++;
      return false;
    }
    this.tx.flags = 0;
    this.tx.fseq = this.txFseq;
    this.txFseq = (this.txFseq + 1) & 0xffff;
    this.txLen += encodeFrame(this.tx, this.txBuf, this.txLen);
    return true;
  }

  private flush(): void {
    if (this.txLen === 0 || this.waitingDrain || !this.transport.isOpen) return;
    const ok = this.transport.write(this.txBuf, this.txLen);
    this.txLen = 0;
    this.times[T_TX] = this.times[CLOCK];
    if (!ok) this.waitingDrain = true;
  }
}
