/**
 * `neurostream run --port PATH --learner rflo`: learns live from a board over the bridge protocol. Shows a
 * progress line (samples/s, running NMSE beside persistence's and NLMS-AR p 8's on the same samples and which one
 * leads, dropped frames, reconnects) on stderr, writes periodic snapshots
 * with --snapshot, and stops cleanly on Ctrl-C. With --duration SECONDS it stops by itself; --json prints one
 * summary object on stdout (samples, frames_dropped, reconnects, nmse_first, nmse_last, ...).
 * --virtual starts a virtual board (sim/board) for the run instead of opening --port.
 * A learner that diverges (runtime/divergence.ts) is restored to its last good state with halved learning rates,
 * said on stderr and counted in the summary; the run goes on.
 */
import { Command, Option } from 'commander';
import { LEARNER_KINDS, type Engine, type LearnerKind, type LearnerOptions, type OnlineLearner } from '../../runtime/types.ts';
import { initWeights } from '../../runtime/init.ts';
import { createFixedLearner } from '../../runtime/learner.ts';
import { saveSnapshot } from '../../runtime/snapshot.ts';
import { tauWarning } from '../../runtime/plan.ts';
import { FIXED_STREAM_DEFAULTS, PLAIN_READOUT_LR } from '../defaults.ts';
import { createFloatLearner } from '../reference/index.ts';
import { Session, type SessionEvent } from '../../firmware-bridge/session.ts';
import { LearningLoop } from '../../firmware-bridge/learning-loop.ts';
import { LIVE_LINEAR_NAME, liveYardsticks } from '../baselines.ts';
import { checkpointFor } from '../engine.ts';
import { divergenceLine, divergenceRecord, leader, yardstickText } from '../report.ts';
import { createInProcessBoard, hostTransport, startVirtualBoard, type InProcessBoard, type VirtualBoardHandle } from '../board/index.ts';
import { FirmataSource, HandshakeTimeout, PredictAheadSource, firmataMissing, openFirmata, type FirmataConnection } from '../../firmware-bridge/johnny-five.ts';
import { DeviceLearnerClient, NoAnswer } from '../../firmware-bridge/device/client.ts';
import { isSocketPath } from '../../firmware-bridge/transports/socket.ts';
import { runHil } from '../../firmware-bridge/device/hil.ts';
import { createDriftTask } from '../tasks/drift.ts';
import { buildFirmware, missingTool, startQemu, type QemuBoard } from '../../firmware-bridge/qemu.ts';
import { Failure, InputError, Interrupted, checkOutputPath, modelToJson, writingTo } from '../modelio.ts';
import { saveSnapshotFile } from '../snapshot-file.ts';
import { fmt } from '../report.ts';
import {
  CONNECT_TIMEOUT_HELP,
  DEFAULT_CONNECT_TIMEOUT_S,
  LEARNER_FLAGS,
  boardRefusal,
  checkPortPath,
  checkRate,
  choiceOption,
  flagMessage,
  intOption,
  lastOnLink,
  noAnswerError,
  numberOption,
  pathOption,
  RetryNotes,
  stopOnSignals,
} from './options.ts';
import { withResources, type Resources } from '../lifetime.ts';

export interface RunArgs {
  port?: string;
  virtual?: boolean;
  /** The board at --port runs stock StandardFirmata: read --pins through johnny-five. */
  firmata?: boolean;
  pins?: string[];
  sampleMs?: number;
  aheadMs?: number;
  /** The board at --port (or QEMU with --virtual) runs our firmware and learns itself; the host streams and compares. */
  onDevice?: boolean;
  /** --on-device: steps of the drift stream to send (default 10000). */
  steps?: number;
  learner: LearnerKind;
  engine: Engine;
  inputs: number;
  outputs: number;
  rate: number;
  /** Unset: the live defaults of sim/defaults.ts (FIXED_STREAM_DEFAULTS for this learner). */
  hidden?: number;
  tau?: number;
  lrOut?: number;
  lrRec?: number;
  /** The readout reads the input too (y = W_out h + D x); default on. */
  direct?: boolean;
  /** Normalised (NLMS) readout steps; default on. */
  normalized?: boolean;
  /** Gain of the initial W_rec ~ N(0, g^2 / N); default 0.9. */
  gain?: number;
  seed: number;
  /** Default 115200 (bridge firmware), 57600 with --firmata (StandardFirmata's). */
  baud?: number;
  duration?: number;
  /** Seconds to wait for the board's first answer before giving up (default DEFAULT_CONNECT_TIMEOUT_S). */
  connectTimeout?: number;
  json?: boolean;
  snapshot?: string;
  snapshotEvery: number;
  /** Virtual board only. */
  driftEvery: number;
  progress?: boolean;
}

export interface RunSummary {
  port: string;
  learner: LearnerKind;
  engine: Engine;
  duration_s: number;
  samples: number;
  samples_per_s: number;
  frames_dropped: number;
  dropped: Record<string, number>;
  reconnects: number;
  samples_lost: number;
  predictions_sent: number;
  predictions_dropped: number;
  /** NMSE over the first and last tenth of the samples that carried a target. */
  nmse_first: number | null;
  nmse_last: number | null;
  /** Exponentially weighted running NMSE at the end (window 1000 samples). */
  nmse_running: number | null;
  /** Prequential NMSE over the whole run: the learner, persistence (the last target) and NLMS-AR p 8, same samples. */
  nmse_all: number | null;
  persistence_nmse: number | null;
  linear_nmse: number | null;
  /** The linear yardstick: NLMS over the last 8 samples of every input channel (mu 0.5; sim/baselines.ts). */
  linear_variant: 'nlms';
  /** Running NMSE (window 1000) of persistence and NLMS-AR at the end, and which of the three is lowest there. */
  persistence_nmse_running: number | null;
  linear_nmse_running: number | null;
  leading: string;
  /** Times the learner diverged and was restored to its last good state with halved learning rates. */
  divergences: number;
  divergence_events: { kind: string; at: number; restored_from: number; detail: string; lr_rec: number; lr_out: number }[];
  /** The learning rates at the end (halved once per divergence). */
  lr_rec: number;
  lr_out: number;
  snapshots: number;
  /** Times the link went down (unplug, heartbeat timeout, port error) after streaming had begun. */
  disconnects: number;
  /** Seconds the board was not streaming after the first handshake (including at the end, if it was gone). */
  offline_s: number;
  /** The run ended with the board gone (disconnected and not back); when it was gone for 5 s or more the command exits 1. */
  board_gone_at_end: boolean;
  /** ERROR frames the device sent (other than ERROR 3, counted in samples_lost), by "code N". */
  device_errors: Record<string, number>;
  /** --firmata: readings rejected by the scaler (not a number, or outside the ADC's range). */
  readings_rejected?: number;
  /** Readings the outlier guard rejected (firmware-bridge/learning-loop.ts): inputs held, targets not learned from. */
  outliers: { inputs: number; targets: number };
  /** Readings the board marked missing (PROTOCOL.md "Missing readings"): inputs held, targets not learned from. */
  missing: { inputs: number; targets: number };
  /** What the input itself showed, e.g. a pin stuck at one value. */
  notes?: string[];
}

/** Per-sample squared error and targets, kept so that any window's NMSE can be computed at the end. */
class ErrorLog {
  private e2 = new Float64Array(4096);
  private t: Float64Array;
  n = 0;
  constructor(private readonly O: number) {
    this.t = new Float64Array(4096 * O);
  }
  add(target: Float64Array, y: Float64Array): void {
    if (this.n === this.e2.length) {
      const e2 = new Float64Array(this.e2.length * 2);
      e2.set(this.e2);
      this.e2 = e2;
      const t = new Float64Array(this.t.length * 2);
      t.set(this.t);
      this.t = t;
    }
    let s = 0;
    for (let o = 0; o < this.O; o++) {
      const e = target[o] - y[o];
      s += e * e;
      this.t[this.n * this.O + o] = target[o];
    }
    this.e2[this.n++] = s;
  }
  /** sum e^2 / sum_o sum (t_o - mean_o)^2 over samples [from, to). */
  nmse(from: number, to: number): number | null {
    if (to - from < 2) return null;
    let e2 = 0;
    let v = 0;
    for (let o = 0; o < this.O; o++) {
      let s = 0;
      let s2 = 0;
      for (let i = from; i < to; i++) {
        const x = this.t[i * this.O + o];
        s += x;
        s2 += x * x;
      }
      v += s2 - (s * s) / (to - from);
    }
    for (let i = from; i < to; i++) e2 += this.e2[i];
    return v > 0 ? e2 / v : null;
  }
}

export interface RunIo {
  stdout(s: string): void;
  stderr(s: string): void;
  /** Aborting it stops the run (Ctrl-C). */
  signal?: AbortSignal;
  /** Every session event as it happens (tests use it to act at a point of the run). */
  onSessionEvent?: (e: SessionEvent) => void;
  isTTY?: boolean;
}

/** Seconds offline at the end after which a run fails as "the board went away and did not come back". */
const GONE_S = 5;

/** RunArgs with every learner setting decided: the flags the user gave, else the live defaults. */
type ResolvedRunArgs = RunArgs & Required<Pick<RunArgs, 'hidden' | 'tau' | 'lrOut' | 'lrRec' | 'direct' | 'normalized' | 'gain'>>;

/**
 * The live defaults (sim/defaults.ts FIXED_STREAM_DEFAULTS, chosen by measurement on the drift task and the virtual
 * board's stream; the same for both engines, so the float twin stays a twin) for every learner setting not given.
 */
export function withLiveDefaults(a: RunArgs): ResolvedRunArgs {
  const d = FIXED_STREAM_DEFAULTS[a.learner];
  return {
    ...a,
    hidden: a.hidden ?? d.hidden,
    tau: a.tau ?? d.tau,
    // the plain delta rule is stable only below 0.5: --no-normalized alone starts from 0.01 (sim/README.md, measured)
    lrOut: a.lrOut ?? ((a.normalized ?? d.normalized) ? d.lrOut : PLAIN_READOUT_LR),
    lrRec: a.lrRec ?? d.lrRec,
    direct: a.direct ?? d.direct,
    normalized: a.normalized ?? d.normalized,
    gain: a.gain ?? d.gain ?? 0.9,
  };
}

/** The run's learner options: per-sample ('step') updates on an open stream. */
function learnerOptions(a: ResolvedRunArgs): LearnerOptions {
  return {
    learner: a.learner,
    inputs: a.inputs,
    hidden: a.hidden,
    outputs: a.outputs,
    tau: a.tau,
    lrRec: a.learner === 'output' ? 0 : a.lrRec,
    lrOut: a.lrOut,
    update: 'step',
    trialLength: 1,
    direct: a.direct,
    normalizedReadout: a.normalized,
  };
}

/** `run` sets the learner through these flags; it has no --memory-budget and no --trial-length (step updates). */
const RUN_FLAGS = { ...LEARNER_FLAGS, memoryBudget: null, trialLength: null, update: null };

/** The run's learner; a configuration the runtime refuses is bad input (exit 2), named by the flags of `run`. */
function makeLearner(a: ResolvedRunArgs): OnlineLearner {
  const opts = learnerOptions(a);
  try {
    const w = initWeights({ inputs: a.inputs, hidden: a.hidden, outputs: a.outputs, tau: a.tau, seed: a.seed, gain: a.gain });
    return a.engine === 'fixed' ? createFixedLearner(opts, w) : createFloatLearner(opts, w);
  } catch (err) {
    if (err instanceof RangeError) throw new InputError(`run: ${flagMessage(err.message, RUN_FLAGS)}`);
    throw err;
  }
}

function writeSnapshot(a: ResolvedRunArgs, learner: OnlineLearner): void {
  const path = a.snapshot;
  if (!path) return;
  writingTo('run --snapshot', path, () => {
    if (a.engine === 'fixed') saveSnapshotFile(path, saveSnapshot(learner as ReturnType<typeof createFixedLearner>));
    else saveSnapshotFile(path, new TextEncoder().encode(JSON.stringify(modelToJson(learner.getWeights())) + '\n'));
  });
}

export interface OnDeviceSummary {
  port: string;
  learner: LearnerKind;
  steps: number;
  steps_per_s: number;
  /** Every prediction and the final state of the device equal the host's TypeScript learner, bit for bit. */
  bit_exact: boolean;
  first_prediction_mismatch: string | null;
  first_snapshot_mismatch: string | null;
  device_stats: number[];
}

/**
 * --on-device: the board runs firmware-bridge/firmware and learns on the device. The host sends it the initial
 * learner as a runtime snapshot, streams the drift task's samples and targets, and steps the same TypeScript
 * learner beside it: every prediction and the final snapshot must agree bit for bit. --virtual builds the firmware
 * for the requested sizes and starts it on QEMU's lm3s6965evb.
 */
export async function runOnDevice(args: RunArgs, io: RunIo): Promise<OnDeviceSummary> {
  const a = withLiveDefaults(args);
  if (!a.port && !a.virtual) throw new InputError('run --on-device: give the board with --port PATH, or --virtual to start the firmware on QEMU');
  if (a.firmata) throw new InputError('run: --on-device and --firmata exclude each other (a Firmata board runs StandardFirmata, not our firmware)');
  if (a.engine !== 'fixed') throw new InputError('run --on-device compares with the fixed-point runtime: use --engine fixed (the default)');
  if (a.port && a.virtual) throw new InputError(`run --on-device: --virtual starts the firmware on QEMU, and --port ${a.port} names your board; give one of them`);
  // flags of the live run that the on-device run has no use for are refused, not ignored
  if (args.duration !== undefined) throw new InputError('run --on-device streams --steps samples (default 10000) and ends; --duration does not apply: give --steps instead');
  if (args.snapshot !== undefined) throw new InputError('run --on-device keeps no learner on the host to save; --snapshot does not apply (the run compares the device\'s final state with the host runtime\'s itself)');
  if (a.port && isSocketPath(a.port)) {
    throw new InputError(`run --on-device --port: ${a.port} is a local socket (a virtual bridge board's); --on-device needs the serial device of a board running this project's firmware, or --virtual to run it on QEMU`);
  }
  makeLearner(a); // a configuration the runtime refuses is refused before anything is built or opened
  if (a.port) checkPortPath(a.port, 'run --on-device', '--port');
  return withResources(async (res) => {
  let qemu: QemuBoard | null = null;
  if (a.virtual) {
    const missing = missingTool(['arm-none-eabi-gcc', 'qemu-system-arm']);
    if (missing) throw new InputError(`run --on-device --virtual needs ${missing}: apt-get install -y --no-install-recommends gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm`);
    const firmware = buildFirmware({ hidden: Math.max(a.hidden, 8), inputs: Math.max(a.inputs, 1), outputs: Math.max(a.outputs, 1) });
    // a Ctrl-C during the build (which holds the event loop) is seen here, before QEMU starts
    await new Promise((r) => setImmediate(r));
    if (io.signal?.aborted) throw new Interrupted('run --on-device: stopped while the firmware was built; QEMU was not started', io.signal.reason);
    qemu = res.own('QEMU board', await startQemu(firmware), (q) => q.stop());
  }
  const port = qemu ? qemu.path : a.port!;
  const baud = a.baud ?? 115200;
  const opened = await DeviceLearnerClient.open(port, baud).catch((e: unknown) => {
    throw new Failure(`run --on-device: cannot open ${port}: ${(e as Error).message}; check that no other program holds it (another run, a serial monitor)`);
  });
  const client = res.own(`device at ${port}`, opened, (c) => c.close());
  const steps = a.steps ?? 10000;
  {
    io.stderr(`run --on-device: ${a.learner} N=${a.hidden} on ${qemu ? 'QEMU lm3s6965evb at ' : ''}${port}, ${steps} steps; waiting up to ${a.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S} s for the firmware's first answer (Ctrl-C to stop)\n`);
    const options = learnerOptions(a);
    // Ctrl-C ends the wait for the device at once (withResources closes the port, QEMU); the steps sent so far are
    // not a result, so nothing is reported.
    const stopped = new Promise<never>((_, reject) => {
      const stop = (): void => reject(new Interrupted(`run --on-device: stopped before the run on ${port} finished; nothing to compare`, io.signal?.reason));
      if (io.signal?.aborted) stop();
      io.signal?.addEventListener('abort', stop, { once: true });
    });
    stopped.catch(() => {});
    // The first answer (HELLO -> CAPABILITIES) may take --connect-timeout; a device that never answers is named the
    // way run names one.
    const connectS = a.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S;
    client.timeoutMs = connectS * 1000;
    const hello = client.hello();
    hello.catch(() => {});
    await Promise.race([hello, stopped]).catch((e: unknown) => {
      if (e instanceof NoAnswer) {
        throw noAnswerError({ command: 'run --on-device', port, seconds: connectS, baud, last: 'HELLO sent, no CAPABILITIES back', firmata: null });
      }
      throw e;
    });
    client.timeoutMs = 5000;
    const work = runHil(client, {
      options,
      steps,
      seed: a.seed,
      stream: createDriftTask({ seed: a.seed, channels: Math.max(options.inputs, options.outputs), steps }),
    });
    work.catch(() => {});
    const r = await Promise.race([work, stopped]);
    const summary: OnDeviceSummary = {
      port,
      learner: a.learner,
      steps: r.steps,
      steps_per_s: Number(r.stepsPerSecond.toFixed(1)),
      bit_exact: r.firstPredictionMismatch === null && r.firstSnapshotMismatch === null,
      first_prediction_mismatch: r.firstPredictionMismatch,
      first_snapshot_mismatch: r.firstSnapshotMismatch,
      device_stats: [...r.stats],
    };
    if (a.json) io.stdout(JSON.stringify(summary) + '\n');
    else {
      io.stdout(
        `${summary.steps} steps on the device at ${summary.steps_per_s} steps/s; ` +
          (summary.bit_exact
            ? 'every prediction and the final state equal the host runtime, bit for bit\n'
            : `DIFFERENT from the host runtime: ${summary.first_prediction_mismatch ?? ''} ${summary.first_snapshot_mismatch ?? ''}\n`),
      );
    }
    if (!summary.bit_exact) throw new Error(`the device differs from the host runtime (${summary.first_prediction_mismatch ?? summary.first_snapshot_mismatch}); flash the firmware built from this checkout`);
    return summary;
  }
  });
}

/** Runs until the duration elapses or io.signal aborts; returns (and with --json prints) the summary. */
export async function runLive(args: RunArgs, io: RunIo): Promise<RunSummary> {
  let a = withLiveDefaults(args);
  if (!a.port && !a.virtual) throw new InputError('run: give the board with --port PATH (e.g. /dev/ttyACM0, or the path `neurostream board --virtual` printed), or use --virtual');
  if (a.outputs < 1) throw new InputError('run: --outputs must be >= 1 to learn (the board must send targets)');
  if (a.firmata && a.virtual) throw new InputError('run: --firmata reads a real board at --port; it cannot be combined with --virtual');
  if (a.port && a.virtual) throw new InputError(`run: --virtual starts a board of its own, and --port ${a.port} names yours; give one of them (with both, the run would learn from the virtual board and leave ${a.port} unread)`);
  if (a.firmata) {
    const missing = await firmataMissing();
    if (missing !== null) throw new InputError(`run --firmata: ${missing}`); // the user's setup, not a failure of the run
  }
  if (a.port && !a.virtual) checkPortPath(a.port, 'run', '--port');
  if (a.firmata && a.port && isSocketPath(a.port)) {
    throw new InputError(`run --firmata --port: ${a.port} is a local socket (a virtual bridge board's); --firmata reads the serial device of a board running StandardFirmata (leave out --firmata to learn from the virtual board)`);
  }
  if (a.snapshot) checkOutputPath(a.snapshot, 'file', 'run --snapshot');
  if (!a.firmata) checkRate(a.rate, a.virtual === true, 'run');
  const pins = a.pins ?? ['A0'];
  // Input: every pin `ahead` samples ago; target: the first pin now (so the learner predicts it aheadMs forward).
  if (a.firmata) a = { ...a, inputs: pins.length, outputs: 1 };
  // Everything that can be checked without the board is checked before anything is opened.
  const learner = makeLearner(a);
  const tauNote = a.engine === 'fixed' ? tauWarning(a.tau) : null;
  if (tauNote) io.stderr(`run: warning: ${flagMessage(tauNote, RUN_FLAGS)}\n`);
  return withResources((res) => streamLive(a, io, res, learner, pins));
}

/** runLive's body: every board, port, sensor and child process it opens is registered in `res`. */
async function streamLive(a: ResolvedRunArgs, io: RunIo, res: Resources, learner: OnlineLearner, pins: string[]): Promise<RunSummary> {
  let board: VirtualBoardHandle | null = null;
  if (a.virtual) {
    board = res.own('virtual board', await startVirtualBoard({ channels: a.inputs, outputs: a.outputs, rateHz: a.rate, seed: a.seed, driftEvery: a.driftEvery, stderr: 'inherit' }), (b) => b.stop());
  }
  let firmata: { conn: FirmataConnection; source: FirmataSource; board: InProcessBoard } | null = null;
  if (a.firmata) {
    const sampleMs = a.sampleMs ?? 20;
    const ahead = Math.max(1, Math.round((a.aheadMs ?? 100) / sampleMs));
    // The handshake gets --connect-timeout, as the bridge's does; Ctrl-C and --duration end the wait too.
    const connectS = a.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S;
    if (a.progress !== false) io.stderr(`run: waiting up to ${connectS} s for StandardFirmata's handshake at ${a.port} (Ctrl-C to stop)\n`);
    const durationOver = new AbortController();
    const durationTimer = a.duration !== undefined ? setTimeout(() => durationOver.abort(), a.duration * 1000) : undefined;
    const signal = io.signal ? AbortSignal.any([io.signal, durationOver.signal]) : durationOver.signal;
    const opened = await openFirmata(a.port!, { baudRate: a.baud ?? 57600, samplingIntervalMs: Math.min(sampleMs, 10), signal, timeoutMs: connectS * 1000 })
      .catch((e: unknown) => {
        if (io.signal?.aborted) throw new Interrupted(`run: stopped while waiting for the StandardFirmata handshake from ${a.port}; nothing was learned or written`, io.signal.reason);
        if (durationOver.signal.aborted) throw new Failure(`run: --duration ${a.duration} s ended while waiting for the StandardFirmata handshake from ${a.port}; check the board, or give it more time`);
        if (e instanceof HandshakeTimeout) throw new Failure(`run --firmata: ${e.message}. --connect-timeout sets how long to wait (now ${connectS} s)`);
        throw e;
      })
      .finally(() => clearTimeout(durationTimer));
    const conn = res.own(`Firmata board at ${a.port}`, opened, (c) => c.close());
    const source = res.own(
      'Firmata pins',
      await FirmataSource.open({ five: conn.five, io: conn.io, inputs: pins, freqMs: sampleMs }).catch((e: unknown) => {
        throw e instanceof RangeError ? new InputError(`run --pins: ${e.message}; e.g. --pins A0,A1`) : e;
      }),
      (s) => s.close(),
    );
    const inProcess = res.own('in-process board', await createInProcessBoard({ source: new PredictAheadSource(source, ahead), rateHz: source.rateHz }), (b) => b.stop());
    firmata = { conn, source, board: inProcess };
    a = { ...a, rate: source.rateHz };
    io.stderr(`run: StandardFirmata at ${a.port}, pins ${pins.join(',')} every ${sampleMs} ms, predicting ${pins[0]} ${ahead * sampleMs} ms ahead\n`);
  }
  const port = board ? board.path : a.port!;
  const log = new ErrorLog(a.outputs);
  const name = a.learner;
  const divergences: ReturnType<typeof divergenceRecord>[] = [];
  const loop = new LearningLoop({
    learner,
    inputs: a.inputs,
    outputs: a.outputs,
    onStep: (_seq, _x, target, y) => {
      if (target) log.add(target, y);
    },
    yardsticks: liveYardsticks(a.inputs, a.outputs),
    guard: {
      checkpoint: checkpointFor(learner),
      onDivergence: (d) => {
        divergences.push(divergenceRecord(d));
        io.stderr((io.isTTY ? '\r\x1b[K' : '') + divergenceLine('run', name, d));
      },
    },
  });
  const events: SessionEvent[] = [];
  const retries = new RetryNotes(a.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S);
  // the link's record: disconnects after the first handshake, time offline, errors the device sent
  let everStreamed = false;
  let disconnects = 0;
  let offlineMs = 0;
  let offlineSince: number | null = null;
  const deviceErrors: Record<string, number> = {};
  const session = new Session({
    transport: firmata ? firmata.board.transport : hostTransport(port, a.baud ?? 115200),
    learner,
    loop,
    config: { inputs: a.inputs, outputs: a.outputs, rateHz: a.rate, hidden: a.hidden },
    onEvent: (e) => {
      events.push(e);
      io.onSessionEvent?.(e);
      const now = Date.now();
      // while the link is down after streaming, each failed reconnect is a retry, said once per cause
      const reconnecting = offlineSince !== null;
      if (e.type === 'streaming') {
        if (offlineSince !== null) offlineMs += now - offlineSince;
        offlineSince = null;
        everStreamed = true;
      } else if (e.type === 'disconnected' && everStreamed && offlineSince === null) {
        disconnects++;
        offlineSince = now;
      }
      if (e.type === 'device-error') {
        // a device may send ERROR frames continuously: count them, print each distinct one once
        const code = /^device error (\d+)/.exec(e.message)?.[1];
        const key = code !== undefined ? `code ${code}` : 'other';
        deviceErrors[key] = (deviceErrors[key] ?? 0) + 1;
        if (deviceErrors[key] > 1) return;
      }
      if (retries.said(e, everStreamed, reconnecting, io.stderr)) return;
      if (e.type !== 'streaming') io.stderr(`\n${e.type}: ${e.message}${e.type === 'device-error' ? ' (repeats are counted in the summary)' : ''}\n`);
    },
  });
  res.add('bridge session', () => session.stop());
  const t0 = Date.now();
  let snapshots = 0;
  let progressTimer: NodeJS.Timeout | null = null;
  let snapshotTimer: NodeJS.Timeout | null = null;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let deadlineReached = false;
  let connectTimer: NodeJS.Timeout | undefined;
  const last = (): string =>
    everStreamed ? 'the handshake was done, no sample had come yet' : lastOnLink(events.length > 0 ? events[events.length - 1].message : null, session.currentState);
  let linkAtEnd = '';
  try {
    const started = session.start();
    const aborted = new Promise<void>((resolve) => {
      if (io.signal?.aborted) resolve();
      io.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    const deadline =
      a.duration !== undefined
        ? new Promise<void>((r) => {
            deadlineTimer = setTimeout(() => {
              deadlineReached = true;
              r();
            }, a.duration! * 1000);
          })
        : new Promise<void>(() => {});
    // A board that never answers (wrong port or baud, no bridge firmware) ends the run after --connect-timeout
    // seconds instead of being retried until Ctrl-C; once it has streamed, a drop is retried (an unplug).
    const connectS = a.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S;
    const noAnswer = new Promise<void>((r) => (connectTimer = setTimeout(r, connectS * 1000)));
    started.catch(() => {}); // a stop before streaming rejects it; that is not an error here
    const first = await Promise.race([started.then(() => 'started' as const), aborted.then(() => 'stopped' as const), deadline.then(() => 'stopped' as const), noAnswer.then(() => 'no answer' as const)]).catch(
      (err: unknown) => {
        // a board that cannot run the asked --inputs, --outputs or --rate is bad input, named by those flags
        const said = events.filter((e) => e.type === 'device-error' && /^device error /.test(e.message)).pop()?.message;
        throw boardRefusal(err, 'run', port, { inputs: a.inputs, outputs: a.outputs, rate: a.rate }, said);
      },
    );
    clearTimeout(connectTimer);
    if (first === 'no answer') {
      throw noAnswerError({ command: 'run', port, seconds: connectS, baud: a.baud ?? (firmata ? 57600 : 115200), last: last(), firmata: firmata ? null : 'add --firmata' });
    }
    if (first === 'started') {
      let lastN = 0;
      let lastT = Date.now();
      const show = (): void => {
        const s = session.stats;
        const now = Date.now();
        const rate = ((s.samplesStepped - lastN) * 1000) / Math.max(1, now - lastT);
        lastN = s.samplesStepped;
        lastT = now;
        const line =
          `run: ${s.samplesStepped} samples, ${rate.toFixed(0)} samples/s, NMSE ${fmt(s.nmse)} (${yardstickText(loop, name)}), ` +
          `dropped ${s.framesDropped}, reconnects ${s.reconnects}` +
          (loop.divergences > 0 ? `, diverged and restored ${loop.divergences}x` : '');
        io.stderr(io.isTTY ? `\r${line}\x1b[K` : line + '\n');
      };
      if (a.progress !== false) progressTimer = setInterval(show, io.isTTY ? 1000 : 5000);
      if (a.snapshot) {
        let lastFailure = '';
        snapshotTimer = setInterval(() => {
          // a failed periodic save is said (once per cause) and the run goes on; the next one may succeed
          try {
            writeSnapshot(a, loop.learner!);
            snapshots++;
            lastFailure = '';
          } catch (err) {
            const msg = (err as Error).message;
            if (msg !== lastFailure) io.stderr(`${io.isTTY ? '\r\x1b[K' : ''}run: ${msg}; the run goes on and tries again in ${a.snapshotEvery} s\n`);
            lastFailure = msg;
          }
        }, a.snapshotEvery * 1000);
      }
      await Promise.race([aborted, deadline]);
    }
  } finally {
    clearTimeout(deadlineTimer);
    clearTimeout(connectTimer);
    if (progressTimer) clearInterval(progressTimer);
    if (snapshotTimer) clearInterval(snapshotTimer);
    linkAtEnd = last();
    // the session, board, port and sensor close here, before the summary, so that it reports a closed link
    await res.closeAll();
  }
  // Stopped, or --duration ran out, before the first sample (a silent board, or one that completed the handshake and
  // had sent nothing yet): there is nothing to summarise (an empty summary would only say so in dashes), so the
  // command says what it was waiting for and ends.
  if (session.stats.samplesStepped === 0 && io.signal?.aborted) {
    throw new Interrupted(`run: stopped before the board at ${port} streamed a sample (last on the link: ${linkAtEnd}); nothing was learned or written`, io.signal.reason);
  }
  if (session.stats.samplesStepped === 0 && deadlineReached) {
    throw new Failure(`run: --duration ${a.duration} s ended before the board at ${port} streamed a sample (last on the link: ${linkAtEnd}); check the board, or give it more time`);
  }
  if (io.isTTY && a.progress !== false) io.stderr('\r\x1b[K');
  let snapshotFailure: Error | null = null;
  if (a.snapshot && log.n > 0) {
    try {
      writeSnapshot(a, loop.learner!);
      snapshots++;
    } catch (err) {
      snapshotFailure = err as Error; // the summary is printed first, then the run fails with it
    }
  }
  const s = session.stats;
  const offlineAtEndS = offlineSince !== null ? (Date.now() - offlineSince) / 1000 : 0;
  const tenth = Math.floor(log.n / 10);
  const duration = (Date.now() - t0) / 1000;
  const scores = loop.scores();
  const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
  const summary: RunSummary = {
    port,
    learner: a.learner,
    engine: a.engine,
    duration_s: Number(duration.toFixed(3)),
    samples: s.samplesStepped,
    samples_per_s: Number((s.samplesStepped / Math.max(duration, 1e-9)).toFixed(1)),
    frames_dropped: s.framesDropped,
    dropped: { ...s.dropped },
    reconnects: s.reconnects,
    samples_lost: s.samplesLost,
    predictions_sent: s.predictionsSent,
    predictions_dropped: s.predictionsDropped,
    nmse_first: tenth >= 2 ? log.nmse(0, tenth) : null,
    nmse_last: tenth >= 2 ? log.nmse(log.n - tenth, log.n) : null,
    nmse_running: Number.isFinite(s.nmse) ? s.nmse : null,
    nmse_all: scores.learner,
    persistence_nmse: scores.persistence,
    linear_nmse: scores.yardsticks[0],
    linear_variant: 'nlms',
    persistence_nmse_running: finite(loop.persistenceNmse.value),
    linear_nmse_running: finite(loop.yardstickNmse[0].value),
    leading: leader(loop, name),
    divergences: loop.divergences,
    divergence_events: divergences,
    lr_rec: loop.learner!.options.lrRec,
    lr_out: loop.learner!.options.lrOut,
    snapshots,
    disconnects,
    offline_s: Number(((offlineMs + offlineAtEndS * 1000) / 1000).toFixed(3)),
    board_gone_at_end: offlineSince !== null,
    device_errors: deviceErrors,
    outliers: { inputs: session.loop.inputOutliers, targets: session.loop.targetOutliers },
    missing: { inputs: session.loop.inputsMissing, targets: session.loop.targetsMissing },
  };
  if (firmata) {
    summary.readings_rejected = firmata.source.rejected.reduce((x, y) => x + y, 0);
    const stuck = firmata.source.constantPins();
    if (stuck.length > 0) summary.notes = stuck.map((p) => `pin ${p.pin} read ${p.value} every time: a stuck or unconnected pin? it carries no information`);
  }
  if (a.json) io.stdout(JSON.stringify(summary) + '\n');
  else {
    io.stdout(
      `${summary.samples} samples in ${duration.toFixed(1)} s (${summary.samples_per_s} samples/s) from ${port}\n` +
        `NMSE first tenth ${fmt(summary.nmse_first)}, last tenth ${fmt(summary.nmse_last)}, whole run ${fmt(summary.nmse_all)} ` +
        `(persistence ${fmt(summary.persistence_nmse)}, ${LIVE_LINEAR_NAME} ${fmt(summary.linear_nmse)} over the whole run)\n` +
        `running NMSE (the last ~1000 samples, against the target's variance there, which is smaller than the whole run's): ${summary.learner} ${fmt(summary.nmse_running)}, persistence ${fmt(summary.persistence_nmse_running)}, ` +
        `${LIVE_LINEAR_NAME} ${fmt(summary.linear_nmse_running)}; leading: ${summary.leading}\n` +
        (summary.divergences > 0
          ? `diverged ${summary.divergences}x, each time restored to the last good state with halved learning rates; now lr_rec ${summary.lr_rec}, lr_out ${summary.lr_out}\n`
          : '') +
        `frames dropped ${summary.frames_dropped}, reconnects ${summary.reconnects}, samples lost ${summary.samples_lost}` +
        (snapshots > 0 ? `; ${snapshots} snapshots in ${a.snapshot}` : '') +
        '\n' +
        `link: ${summary.disconnects} disconnect(s), ${summary.offline_s.toFixed(1)} s offline` +
        (summary.board_gone_at_end ? ', the board was gone at the end' : '') +
        (Object.keys(deviceErrors).length > 0 ? `; device errors ${Object.entries(deviceErrors).map(([k, v]) => `${k}: ${v}`).join(', ')}` : '') +
        '\n' +
        (summary.readings_rejected ? `readings rejected: ${summary.readings_rejected} (not a number or outside the ADC range)\n` : '') +
        (summary.outliers.inputs + summary.outliers.targets > 0
          ? `outliers rejected: ${summary.outliers.inputs} input readings (held), ${summary.outliers.targets} targets (not learned from); more than 8 standard deviations from the running mean\n`
          : '') +
        (summary.missing.inputs + summary.missing.targets > 0
          ? `missing readings from the board: ${summary.missing.inputs} inputs (held), ${summary.missing.targets} targets (not learned from)\n`
          : '') +
        (summary.notes ?? []).map((n) => `input: ${n}\n`).join(''),
    );
  }
  // Gone for good, not a drop the reconnect (backoff up to 2 s, then a handshake) had no time to repair: offline for
  // at least GONE_S at the end.
  if (summary.board_gone_at_end && offlineAtEndS >= GONE_S) {
    throw new Failure(`run: the board at ${port} went away after ${summary.samples} samples and did not come back (${summary.offline_s.toFixed(1)} s offline at the end); check the cable or power, then run again`);
  }
  if (snapshotFailure) throw snapshotFailure;
  if (s.samplesStepped === 0 && events.length > 0) {
    const last = events[events.length - 1];
    throw new Failure(`run: no samples from ${port} (${last.type}: ${last.message})`);
  }
  return summary;
}

export function register(program: Command): void {
  program
    .command('run')
    .summary('learn live from a board over the serial bridge')
    .description(
      'Opens the board at --port, completes the bridge handshake, and learns online from its samples and targets, ' +
        'sending predictions back. Reconnects after unplugs without losing acknowledged samples. Ctrl-C stops.',
    )
    .option('--port <path>', 'serial device or pseudo-terminal (e.g. /dev/ttyACM0)')
    .option('--virtual', 'start a virtual board for this run instead of opening --port')
    .option('--firmata', 'the board at --port runs stock StandardFirmata (57600 baud unless --baud): read --pins through johnny-five and learn to predict the first pin --ahead-ms ahead')
    .option('--pins <list>', 'firmata: analog pins to read (default A0)', (v: string) => v.split(',').map((p) => p.trim()).filter((p) => p !== ''))
    .option('--sample-ms <ms>', 'firmata: milliseconds between samples (default 20)', numberOption(1))
    .option('--ahead-ms <ms>', 'firmata: how far ahead to predict the first pin (default 100)', numberOption(1))
    .option('--on-device', 'the board runs our firmware (firmware-bridge/firmware) and learns itself; the host streams the drift task and checks every prediction and the final state bit for bit (--virtual: on QEMU)')
    .option('--steps <n>', 'on-device: steps to stream (default 10000)', intOption(1))
    .addOption(new Option('--learner <kind>', 'learning rule').argParser(choiceOption(LEARNER_KINDS)).default('rflo'))
    .addOption(new Option('--engine <engine>', 'fixed-point runtime or float64 reference').argParser(choiceOption(['float', 'fixed'] as const)).default('fixed'))
    .option('--inputs <n>', 'channels per sample', intOption(1), 3)
    .option('--outputs <n>', 'targets per sample', intOption(1), 1)
    .option('--rate <hz>', 'sample rate asked of the board', numberOption(1), 1000)
    .option('--hidden <n>', `hidden units (default ${FIXED_STREAM_DEFAULTS.rflo.hidden}; rtrl ${FIXED_STREAM_DEFAULTS.rtrl.hidden})`, intOption(1))
    .option('--tau <steps>', `time constant (default ${FIXED_STREAM_DEFAULTS.rflo.tau})`, numberOption(1))
    .option('--lr-out <rate>', `learning rate of the readout (W_out, D; default ${FIXED_STREAM_DEFAULTS.rflo.lrOut} with normalised steps, below 2; ${PLAIN_READOUT_LR} with --no-normalized, below 0.5)`, numberOption(0))
    .option('--lr-rec <rate>', `learning rate of W_in, W_rec, b (default ${FIXED_STREAM_DEFAULTS.rflo.lrRec})`, numberOption(0))
    .option('--no-direct', 'the readout reads h only (y = W_out h); default: it reads the input too (y = W_out h + D x)')
    .option('--no-normalized', 'plain delta-rule readout steps (lr-out per step, below 0.5); default: normalised (NLMS) steps')
    .option('--gain <g>', `gain of the initial recurrent weights, W_rec ~ N(0, g^2/N) (default ${FIXED_STREAM_DEFAULTS.rflo.gain})`, numberOption(0))
    .option('--seed <n>', 'seed of the initial weights (and of the virtual board signal)', intOption(0), 1)
    .option('--baud <rate>', 'baud rate (ignored by pseudo-terminals; default 115200, with --firmata 57600, the StandardFirmata sketch\'s)', intOption(1))
    .option('--duration <seconds>', 'stop after this long', numberOption(0, false))
    .option('--connect-timeout <seconds>', CONNECT_TIMEOUT_HELP, numberOption(0, false))
    .option('--json', 'print one JSON summary object on stdout')
    .option('--snapshot <file>', 'write the learner here periodically and at the end (fixed: binary snapshot; float: model JSON)', pathOption)
    .option('--snapshot-every <seconds>', 'seconds between snapshots', numberOption(0, false), 60)
    .option('--drift-every <samples>', 'virtual board: samples between drift events', intOption(0), 8000)
    .option('--no-progress', 'no progress line on stderr')
    .addHelpText(
      'after',
      '\nExamples:\n  neurostream board --virtual            # prints a path\n  neurostream run --port /tmp/neurostream-pty-XXXX/host --learner rflo\n' +
        '  neurostream run --virtual --duration 10 --json\n' +
        '  neurostream run --port /dev/ttyACM0 --firmata --pins A0,A1\n' +
        '  neurostream run --virtual --on-device --steps 10000 --json     # our firmware on QEMU, compared bit for bit',
    )
    .action(async (a: RunArgs) => {
      // SIGTERM (systemd, `timeout`, `kill`) ends a run as Ctrl-C does: the summary and the final snapshot are written.
      // SIGHUP (the terminal closed) too: the board, QEMU or socat it started must not outlive it.
      const stop = stopOnSignals('no summary, and no final snapshot (a periodic one stays as it was)');
      try {
        const io = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s), signal: stop.signal, isTTY: process.stderr.isTTY === true };
        if (a.onDevice) await runOnDevice(a, io);
        else await runLive(a, io);
      } finally {
        stop.release();
      }
    });
}
