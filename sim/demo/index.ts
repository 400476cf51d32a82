/**
 * The live demo (`npm start`, `neurostream demo`): starts the virtual board on a local socket (or opens a real
 * board with `port`), connects over the bridge, and learns online from the board's stream with three learners fed
 * the same samples: the fixed-point learner (RFLO by default) that drives the session, the fixed-point
 * output-only baseline, and the float64 twin of the main learner; beside them the persistence baseline and NLMS-AR
 * p 8 (sim/live.ts), scored by the learning loop on the scaled samples the learner sees. A progress line on stderr
 * shows samples/s, the running NMSE of each, which one leads, and the drift events so far. The main learner is
 * guarded: if it diverges it is restored to its last good state with halved learning rates (said on stderr, counted
 * in the summary). At the end it writes a report folder (plots as SVG and PNG, index.md, index.html, summary.json)
 * and prints a summary table and the report's path.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LearnerKind, LearnerOptions, OnlineLearner } from '../../runtime/types.ts';
import { initWeights } from '../../runtime/init.ts';
import { createFixedLearner } from '../../runtime/learner.ts';
import { FRAC } from '../../runtime/plan.ts';
import { createFloatLearner } from '../reference/index.ts';
import { Session, type SessionEvent } from '../../firmware-bridge/session.ts';
import { LearningLoop, type DivergenceGuard } from '../../firmware-bridge/learning-loop.ts';
import { LIVE_LINEAR_NAME, PERSISTENCE_NAME, liveYardsticks } from '../baselines.ts';
import { checkpointFor } from '../engine.ts';
import { divergenceLine, divergenceRecord } from '../report.ts';
import { Resources } from '../lifetime.ts';
import { Failure, InputError, Interrupted, checkOutputPath, makeDir, namedWriteError } from '../modelio.ts';
import { DEFAULT_CONNECT_TIMEOUT_S, LEARNER_FLAGS, RetryNotes, boardRefusal, checkPortPath, checkRate, flagMessage, lastOnLink, noAnswerError } from '../commands/options.ts';
import { hostTransport, startVirtualBoard, type VirtualBoardHandle } from '../board/index.ts';
import { RunningNmse, blockNmse, measureRecovery } from '../../runtime/metrics.ts';
import { fmt, table } from '../report.ts';
import { lineChartSpec, writeFigure, type Figure } from '../plot/charts.ts';
import { writeReportIndex } from '../plot/report.ts';
import { FIXED_STREAM_DEFAULTS, PLAIN_READOUT_LR } from '../defaults.ts';

export interface DemoOptions {
  /** Main learner, run in fixed point and as its float64 twin (default 'rflo'). */
  learner?: LearnerKind;
  hidden?: number;
  /** Seconds of streaming (default 60). */
  duration?: number;
  /** A real board running the protocol instead of the virtual one. */
  port?: string;
  baud?: number;
  /** Report folder (default ./reports/demo-<timestamp>/). */
  out?: string;
  /** Print the summary as one JSON object instead of the table. */
  json?: boolean;
  seed?: number;
  tau?: number;
  lrOut?: number;
  lrRec?: number;
  /** The readout reads the input too (y = W_out h + D x); default on. */
  direct?: boolean;
  /** Normalised (NLMS) readout steps; default on. */
  normalized?: boolean;
  inputs?: number;
  outputs?: number;
  rateHz?: number;
  /** Virtual board: samples between drift events (default 15000, i.e. every 15 s at 1 kHz). */
  driftEvery?: number;
  /** Progress line on stderr (default true). */
  progress?: boolean;
  /** Seconds to wait for the board's first answer before giving up (default 30, sim/commands/board-link.ts). */
  connectTimeout?: number;
}

export interface DemoIo {
  stdout(s: string): void;
  stderr(s: string): void;
  /** Aborting it ends the stream early (Ctrl-C); the report is still written from what was learned. */
  signal?: AbortSignal;
  isTTY?: boolean;
}

export interface DemoLearnerSummary {
  name: string;
  learner: LearnerKind;
  engine: 'fixed' | 'float';
  /** NMSE over the first and last tenth of the samples, and over all of them. */
  nmse_first: number | null;
  nmse_last: number | null;
  nmse_all: number | null;
  /**
   * Per drift event (window 500 samples, recovered at <= 1.5 x the pre-drift NMSE). full_regime: the segment after
   * the event lasted a whole drift period (it ended at the next drift, or the run went on that long); when it did
   * not, steps null means the run ended first ("run ended" in the table), not "never".
   */
  recovery: { event: number; pre_nmse: number; post_nmse: number; steps: number | null; full_regime: boolean }[];
  /** Times it diverged and was restored to its last good state with halved learning rates; its rates at the end. */
  divergences: number;
  lr_out_end: number;
  lr_rec_end: number;
}

export interface DemoSummary {
  port: string;
  virtual: boolean;
  /** Streaming time and whole wall time including board start-up and the report. */
  duration_s: number;
  wall_s: number;
  samples: number;
  samples_per_s: number;
  /** Sample seqs of the drift events inside the run (virtual board only). */
  drift_events: number[];
  frames_dropped: number;
  reconnects: number;
  hidden: number;
  tau: number;
  lr_out: number;
  lr_rec: number;
  learners: DemoLearnerSummary[];
  /**
   * The yardsticks on the same samples: persistence (the last target) and NLMS-AR p 8 over every input channel, fed
   * the scaled samples the main learner sees. `learner` and `engine` are those of the loop that scored them.
   */
  baselines: { name: string; nmse_first: number | null; nmse_last: number | null; nmse_all: number | null; recovery: DemoLearnerSummary['recovery'] }[];
  /** The learner or baseline with the lowest NMSE over the last tenth of the run. */
  leading: string | null;
  /** Divergences of any learner (each restored to its last good state with halved learning rates), in order. */
  divergences: number;
  divergence_events: (ReturnType<typeof divergenceRecord> & { learner: string })[];
  /** Fixed-point main learner vs its float64 twin, in LSB of the Q3.12 output (2^-12). */
  fixed_vs_float: { rms_lsb: number | null; max_lsb: number | null; rms_lsb_last_tenth: number | null };
  report: string;
  figures: string[];
}

/**
 * The live defaults (sim/defaults.ts FIXED_STREAM_DEFAULTS, the same as `run`'s): tau 2, N 32, lr_rec 0.003, lr_out
 * 0.5 with normalised (NLMS) readout steps and a readout that reads the input (D), W_rec gain 0.9. Measured on the
 * drift task and the board's stream with the fixed engine (sim/README.md, "Fixed-point stream defaults"): RFLO 0.072
 * on drift against persistence 0.0996, 0.0041 on the board against persistence 0.0053 and NLMS-AR 0.0047; the demo's
 * earlier defaults (N 24, lr_out 0.01, lr_rec 0.03, no D) scored 0.0196 live against persistence 0.0045. RTRL's
 * O(N^4) step keeps up with 1 kHz (fixed and float twin together, on one core) at N = 12, not at 24 (about 390
 * samples/s), so the demo runs it smaller than `run` does.
 */
const LIVE = FIXED_STREAM_DEFAULTS.rflo;
export const DEMO_DEFAULTS = {
  hidden: LIVE.hidden,
  hiddenRtrl: 12,
  tau: LIVE.tau,
  lrOut: LIVE.lrOut,
  lrRec: LIVE.lrRec,
  direct: LIVE.direct,
  normalized: LIVE.normalized,
  gain: LIVE.gain ?? 0.9,
  duration: 60,
  driftEvery: 15000,
  rateHz: 1000,
} as const;

/** Colours of the main learner, the baseline and the float twin in every figure. */
const COLOR = ['#d62728', '#1f77b4', '#2ca02c', '#7f7f7f', '#9467bd'];

const LABEL: Record<LearnerKind, string> = { rflo: 'RFLO', snap1: 'SnAp-1', rtrl: 'RTRL', output: 'output-only' };

/** Growable per-sample log: seq, targets (O), predictions of each learner (O each). */
class SampleLog {
  n = 0;
  seq: Float64Array;
  t: Float64Array;
  y: Float64Array[];
  constructor(readonly O: number, readonly L: number, capacity: number) {
    this.seq = new Float64Array(capacity);
    this.t = new Float64Array(capacity * O);
    this.y = Array.from({ length: L }, () => new Float64Array(capacity * O));
  }
  private grow(): void {
    const cap = this.seq.length * 2;
    const g = (a: Float64Array, k: number): Float64Array => {
      const b = new Float64Array(cap * k);
      b.set(a);
      return b;
    };
    this.seq = g(this.seq, 1);
    this.t = g(this.t, this.O);
    this.y = this.y.map((a) => g(a, this.O));
  }
  add(seq: number, t: Float64Array, ys: Float64Array[]): void {
    if (this.n === this.seq.length) this.grow();
    const O = this.O;
    this.seq[this.n] = seq;
    for (let o = 0; o < O; o++) this.t[this.n * O + o] = t[o];
    for (let l = 0; l < this.L; l++) for (let o = 0; o < O; o++) this.y[l][this.n * O + o] = ys[l][o];
    this.n++;
  }
  /** Squared error summed over outputs, per sample, of learner l. */
  sqErr(l: number): Float64Array {
    const out = new Float64Array(this.n);
    const O = this.O;
    for (let i = 0; i < this.n; i++) {
      let s = 0;
      for (let o = 0; o < O; o++) {
        const e = this.t[i * O + o] - this.y[l][i * O + o];
        s += e * e;
      }
      out[i] = s;
    }
    return out;
  }
  /** sum e^2 / sum over outputs of sum (t - mean)^2, samples [from, to) (runtime/metrics.ts blockNmse). */
  nmse(e2: Float64Array, from: number, to: number): number | null {
    return blockNmse(e2, this.t, this.O, from, to);
  }
  /** First index whose seq >= s. */
  indexOfSeq(s: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.seq[m] < s) lo = m + 1;
      else hi = m;
    }
    return lo;
  }
}

function timestamp(d = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Timers a run waits on; all cleared at the end so nothing keeps the process alive after an early stop. */
class Timers {
  private readonly ids: NodeJS.Timeout[] = [];
  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.ids.push(setTimeout(r, ms)));
  }
  clear(): void {
    for (const id of this.ids) clearTimeout(id);
  }
}

/** Runs the demo; returns the summary (also printed: a table, or JSON with `json`). */
export async function runDemo(options: DemoOptions = {}, io: DemoIo = defaultIo()): Promise<DemoSummary> {
  // the folder is decided once, so that a failed write in it is named by --out
  const out = resolve(options.out ?? join('reports', `demo-${timestamp()}`));
  return demo({ ...options, out }, io).catch((err: unknown) => {
    throw namedWriteError(err, 'demo --out', out);
  });
}

async function demo(options: DemoOptions, io: DemoIo): Promise<DemoSummary> {
  const wall0 = Date.now();
  const kind = options.learner ?? 'rflo';
  const hidden = options.hidden ?? (kind === 'rtrl' ? DEMO_DEFAULTS.hiddenRtrl : DEMO_DEFAULTS.hidden);
  const duration = options.duration ?? DEMO_DEFAULTS.duration;
  const M = options.inputs ?? 3;
  const O = options.outputs ?? 1;
  const rate = options.rateHz ?? DEMO_DEFAULTS.rateHz;
  const tau = options.tau ?? DEMO_DEFAULTS.tau;
  const lrOut = options.lrOut ?? ((options.normalized ?? DEMO_DEFAULTS.normalized) ? DEMO_DEFAULTS.lrOut : PLAIN_READOUT_LR);
  const lrRec = options.lrRec ?? DEMO_DEFAULTS.lrRec;
  const seed = options.seed ?? 1;
  const driftEvery = options.driftEvery ?? DEMO_DEFAULTS.driftEvery;
  const outDir = resolve(options.out ?? join('reports', `demo-${timestamp()}`));
  const virtual = !options.port;
  // a --port that does not exist (or is a regular file) is a typo: refused before anything starts, as `run` does
  if (options.port) checkPortPath(options.port, 'demo', '--port');
  // the report folder is checked before the board starts, not found unwritable after a minute of streaming
  checkOutputPath(outDir, 'dir', 'demo --out');
  checkRate(rate, virtual, 'demo');
  const connectS = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S;

  const direct = options.direct ?? DEMO_DEFAULTS.direct;
  const normalizedReadout = options.normalized ?? DEMO_DEFAULTS.normalized;
  const w = initWeights({ inputs: M, hidden, outputs: O, tau, seed, gain: DEMO_DEFAULTS.gain });
  const opts = (learner: LearnerKind): LearnerOptions => ({
    learner,
    inputs: M,
    hidden,
    outputs: O,
    tau,
    lrRec: learner === 'output' ? 0 : lrRec,
    lrOut,
    update: 'step',
    trialLength: 1,
    direct,
    normalizedReadout,
  });
  let main: OnlineLearner;
  let learners: { name: string; kind: LearnerKind; engine: 'fixed' | 'float'; l: OnlineLearner | null }[];
  try {
    main = createFixedLearner(opts(kind), w);
    learners = [
      { name: `${LABEL[kind]} (fixed Q)`, kind, engine: 'fixed', l: null }, // steps inside the session
      { name: 'output-only (fixed Q)', kind: 'output', engine: 'fixed', l: createFixedLearner(opts('output'), w) },
      { name: `${LABEL[kind]} (float64)`, kind, engine: 'float', l: createFloatLearner(opts(kind), w) },
    ];
  } catch (err) {
    // a configuration the runtime refuses is bad input, named by the demo's flags (it has no --memory-budget)
    if (err instanceof RangeError) throw new InputError(`demo: ${flagMessage(err.message, { ...LEARNER_FLAGS, memoryBudget: null, trialLength: null, update: null })}`);
    throw err;
  }
  // Columns of the log: the three learners, then persistence and NLMS-AR (from the loop).
  const baseNames = [PERSISTENCE_NAME, LIVE_LINEAR_NAME];
  const cols = learners.length + baseNames.length;
  const ys = Array.from({ length: cols }, () => new Float64Array(O));
  const running = learners.map(() => new RunningNmse(O, 1000));
  const log = new SampleLog(O, cols, Math.ceil(duration * rate * 1.3) + 1024);
  let firstSeq = -1;
  const divergences: (ReturnType<typeof divergenceRecord> & { learner: string })[] = [];
  const restoredAt = new Float64Array(learners.length).fill(-1);
  const guardOf = (i: number, name: string, l: OnlineLearner): DivergenceGuard => ({
    checkpoint: checkpointFor(l),
    onDivergence: (d) => {
      divergences.push({ learner: name, ...divergenceRecord(d) });
      // The progress line measures the restored learner: a fresh running NMSE, without the sample that diverged.
      running[i] = new RunningNmse(O, 1000);
      restoredAt[i] = d.seq;
      io.stderr((io.isTTY ? '\r\x1b[K' : '') + divergenceLine('demo', name, d));
    },
  });
  // The companions learn in loops of their own, each guarded like the main one, fed the same wire integers (the
  // session's Q3.12: x = xq / 4096 exactly, so xq is recovered without rounding).
  const xq = new Int16Array(M);
  const tq = new Int16Array(O);
  const pq = new Int16Array(O);
  const companions: (LearningLoop | null)[] = learners.map((c, i) =>
    c.l === null
      ? null
      : new LearningLoop({
          learner: c.l,
          inputs: M,
          outputs: O,
          guard: guardOf(i, c.name, c.l),
          onStep: (_seq, _x, _t, y) => {
            for (let o = 0; o < O; o++) ys[i][o] = y[o];
          },
        }),
  );
  const loop = new LearningLoop({
    learner: main,
    inputs: M,
    outputs: O,
    yardsticks: liveYardsticks(M, O),
    guard: guardOf(0, learners[0].name, main),
    onStep: (seq, x, target, y) => {
      if (!target) return;
      if (firstSeq < 0) firstSeq = seq;
      ys[0].set(y);
      for (let j = 0; j < M; j++) xq[j] = Math.round(x[j] * 4096);
      for (let o = 0; o < O; o++) tq[o] = Math.round(target[o] * 4096);
      for (let i = 1; i < learners.length; i++) companions[i]!.step(seq, xq, tq, pq);
      for (let i = 0; i < learners.length; i++) if (restoredAt[i] !== seq) running[i].add(target, ys[i]);
      const yp = ys[learners.length];
      const yl = ys[learners.length + 1];
      for (let o = 0; o < O; o++) {
        yp[o] = loop.persistenceY[o];
        yl[o] = loop.yardstickY[0][o];
      }
      log.add(seq, target, ys);
    },
  });

  let board: VirtualBoardHandle | null = null;
  let session: Session | null = null;
  let progressTimer: NodeJS.Timeout | null = null;
  let port = options.port ?? '';
  let t0 = Date.now();
  let t1 = t0;
  const showProgress = options.progress !== false;
  const timers = new Timers();
  const res = new Resources(); // everything the demo opens; closed in the finally below
  let lastEvent: string | null = null;
  let streamed = false;
  let linkAtEnd = '';
  try {
    if (virtual) {
      if (showProgress) io.stderr('demo: starting the virtual board (a board process on a local socket) ...\n');
      board = res.own('virtual board', await startVirtualBoard({ channels: M, outputs: O, rateHz: rate, seed, driftEvery, stderr: 'inherit' }), (b) => b.stop());
      port = board.path;
    }
    const retries = new RetryNotes(connectS);
    session = new Session({
      transport: hostTransport(port, options.baud ?? 115200),
      learner: main,
      loop,
      config: { inputs: M, outputs: O, rateHz: rate, hidden },
      onEvent: (e: SessionEvent) => {
        if (e.type !== 'streaming') lastEvent = e.message;
        else streamed = true;
        if (retries.said(e, streamed, false, io.stderr)) return;
        if (e.type !== 'streaming') io.stderr(`\n${e.type}: ${e.message}\n`);
      },
    });
    const opened = session;
    res.add('bridge session', () => opened.stop());
    const aborted = new Promise<void>((r) => {
      if (io.signal?.aborted) r();
      io.signal?.addEventListener('abort', () => r(), { once: true });
    });
    const started = session.start();
    started.catch(() => {});
    const gotStart = await Promise.race([started.then(() => true), aborted.then(() => false), timers.sleep(connectS * 1000).then(() => false)]).catch((err: unknown) => {
      // a board that cannot run the asked --inputs, --outputs or --rate is bad input, named by those flags
      throw boardRefusal(err, 'demo', port, { inputs: M, outputs: O, rate }, lastEvent);
    });
    if (!gotStart && !io.signal?.aborted) {
      const last = lastOnLink(lastEvent, opened.currentState);
      if (virtual) throw new Failure(`demo: the virtual board at ${port} did not answer within ${connectS} s (last: ${last}); on a loaded machine, raise --connect-timeout`);
      throw noAnswerError({ command: 'demo', port, seconds: connectS, baud: options.baud ?? 115200, last, firmata: 'use `neurostream run --firmata`' });
    }
    t0 = Date.now();
    if (gotStart) {
      let lastN = 0;
      let lastT = t0;
      const show = (): void => {
        const now = Date.now();
        const r = ((log.n - lastN) * 1000) / Math.max(1, now - lastT);
        lastN = log.n;
        lastT = now;
        const drifts = virtual && log.n > 0 ? Math.floor(log.seq[log.n - 1] / driftEvery) - Math.floor(Math.max(0, firstSeq) / driftEvery) : 0;
        const nm = learners.map((l, i) => `${l.name} ${fmt(running[i].value)}`).join(', ');
        const base = [loop.persistenceNmse, loop.yardstickNmse[0]];
        const bm = baseNames.map((b, k) => `${b} ${fmt(base[k].value)}`).join(', ');
        const all = [...running.map((r) => r.value), ...base.map((r) => r.value)];
        let lead = -1;
        all.forEach((v, i) => {
          if (Number.isFinite(v) && (lead < 0 || v < all[lead])) lead = i;
        });
        const leadName = lead < 0 ? '-' : lead < learners.length ? learners[lead].name : baseNames[lead - learners.length];
        const left = Math.max(0, duration - (now - t0) / 1000).toFixed(0);
        const line =
          `demo: ${log.n} samples, ${r.toFixed(0)}/s | NMSE ${nm} | ${bm}; leading: ${leadName} | drift events ${drifts}` +
          (divergences.length > 0 ? ` | diverged and restored ${divergences.length}x` : '') +
          ` | ${left} s left`;
        io.stderr(io.isTTY ? `\r${line}\x1b[K` : line + '\n');
      };
      if (showProgress) progressTimer = setInterval(show, io.isTTY ? 1000 : 5000);
      await Promise.race([aborted, timers.sleep(duration * 1000)]);
    }
    t1 = Date.now();
  } finally {
    timers.clear();
    if (progressTimer) clearInterval(progressTimer);
    if (showProgress && io.isTTY) io.stderr('\r\x1b[K');
    linkAtEnd = streamed ? 'the handshake was done, no sample had come yet' : lastOnLink(lastEvent, session?.currentState ?? 'idle');
    await res.closeAll();
  }
  // Stopped, or --duration ran out, before the first sample: a report of empty curves would only say so in dashes.
  if (log.n === 0 && io.signal?.aborted) {
    throw new Interrupted(`demo: stopped before the board at ${port} streamed a sample (last on the link: ${linkAtEnd}); no report written`, io.signal.reason);
  }
  if (log.n === 0) {
    throw new Failure(`demo: --duration ${duration} s ended before the board at ${port} streamed a sample (last on the link: ${linkAtEnd}); no report written. Give it more time, or check the board`);
  }
  const stats = session!.stats;

  // ---- numbers
  const n = log.n;
  const e2 = ys.map((_, i) => log.sqErr(i));
  const events: number[] = [];
  if (virtual && n > 0) for (let k = Math.ceil((firstSeq + 1) / driftEvery) * driftEvery; k <= log.seq[n - 1]; k += driftEvery) events.push(k);
  const eventIdx = events.map((s) => log.indexOfSeq(s));
  const tenth = Math.floor(n / 10);
  const lsb = 2 ** -FRAC.Y;
  const diffs = new Float64Array(n);
  let sum2 = 0;
  let max = 0;
  let sumLast = 0;
  for (let i = 0; i < n; i++) {
    let d2 = 0;
    for (let o = 0; o < O; o++) {
      const d = (log.y[0][i * O + o] - log.y[2][i * O + o]) / lsb;
      d2 += d * d;
      max = Math.max(max, Math.abs(d));
    }
    diffs[i] = d2 / O;
    sum2 += d2 / O;
    if (i >= n - tenth) sumLast += d2 / O;
  }
  const scoresOf = (i: number): Pick<DemoLearnerSummary, 'nmse_first' | 'nmse_last' | 'nmse_all' | 'recovery'> => ({
    nmse_first: tenth >= 2 ? log.nmse(e2[i], 0, tenth) : null,
    nmse_last: tenth >= 2 ? log.nmse(e2[i], n - tenth, n) : null,
    nmse_all: log.nmse(e2[i], 0, n),
    recovery: measureRecovery(e2[i], log.t, O, n, eventIdx, 500, 1.5).map((r) => ({
      event: log.seq[r.event],
      pre_nmse: r.preNmse,
      post_nmse: r.postNmse,
      steps: r.steps,
      full_regime: !r.runEnded || log.seq[n - 1] + 1 - log.seq[r.event] >= driftEvery,
    })),
  });
  const loopOf = (i: number): LearningLoop => companions[i] ?? loop;
  const summaries: DemoLearnerSummary[] = learners.map((l, i) => ({
    name: l.name,
    learner: l.kind,
    engine: l.engine,
    ...scoresOf(i),
    divergences: loopOf(i).divergences,
    lr_out_end: loopOf(i).learner!.options.lrOut,
    lr_rec_end: loopOf(i).learner!.options.lrRec,
  }));
  const baselines = baseNames.map((name, k) => ({ name, ...scoresOf(learners.length + k) }));
  const divergedText = summaries
    .filter((l) => l.divergences > 0)
    .map((l) => `${l.name} diverged ${l.divergences}x, each time restored to its last good state with halved learning rates (now lr_out ${l.lr_out_end}, lr_rec ${l.lr_rec_end})`);
  const ranked = [...summaries, ...baselines].filter((x) => x.nmse_last !== null && Number.isFinite(x.nmse_last));
  const leading = ranked.length === 0 ? null : ranked.reduce((a, b) => (b.nmse_last! < a.nmse_last! ? b : a)).name;
  const streamS = (t1 - t0) / 1000;

  // ---- figures
  makeDir(outDir);
  const figures: Figure[] = [];
  const seqs = log.seq.subarray(0, n);
  const rules = events.map((s, k) => ({ x: s, label: `drift ${k + 1}` }));
  const out0 = (a: Float64Array): Float64Array => (O === 1 ? a.subarray(0, n) : Float64Array.from({ length: n }, (_, i) => a[i * O]));
  const target0 = out0(log.t);
  const pred = learners.map((_, i) => out0(log.y[i]));
  if (n > 0) {
    const windows: { from: number; to: number; name: string; title: string; caption: string }[] = [];
    eventIdx.slice(0, 2).forEach((e, k) => {
      windows.push({
        from: Math.max(0, e - 1500),
        to: Math.min(n, e + 3500),
        name: `prediction-drift-${k + 1}`,
        title: `Prediction vs target around drift ${k + 1} (sample ${events[k]})`,
        caption: `Target (dashed) and the online predictions of each learner, 1500 samples before and 3500 after drift event ${k + 1}, when the board changes its signal frequencies and the target mix at once.`,
      });
    });
    windows.push({
      from: Math.max(0, n - 2000),
      to: n,
      name: 'prediction-end',
      title: 'Prediction vs target, last 2000 samples',
      caption: 'Target (dashed) and the online predictions (each made before learning from that sample) at the end of the run.',
    });
    for (const wdw of windows) {
      const sl = (a: Float64Array): Float64Array => a.subarray(wdw.from, wdw.to);
      const spec = lineChartSpec({
        title: wdw.title,
        xTitle: 'sample',
        yTitle: 'output 0',
        maxPoints: 5000,
        series: [
          { name: 'target', x: sl(seqs), y: sl(target0), dashed: true, color: '#222222' },
          { name: learners[1].name, x: sl(seqs), y: sl(pred[1]), color: COLOR[1] },
          { name: learners[0].name, x: sl(seqs), y: sl(pred[0]), color: COLOR[0] },
        ],
        rules,
        xDomain: [seqs[wdw.from], seqs[wdw.to - 1]],
      });
      figures.push(await writeFigure(outDir, wdw.name, spec, wdw.caption));
    }
    // running NMSE: trailing window of 1000 samples, every 250 samples
    const W = 1000;
    const step = 250;
    const xs: number[] = [];
    const curves: number[][] = ys.map(() => []);
    for (let end = W; end <= n; end += step) {
      xs.push(seqs[end - 1]);
      ys.forEach((_, i) => curves[i].push(log.nmse(e2[i], end - W, end) ?? NaN));
    }
    figures.push(
      await writeFigure(
        outDir,
        'nmse',
        lineChartSpec({
          title: 'Running NMSE per learner (trailing 1000 samples, log scale)',
          xTitle: 'sample',
          yTitle: 'NMSE',
          logY: true,
          series: [3, 4, 1, 0, 2].map((i) => ({ name: i < learners.length ? learners[i].name : baseNames[i - learners.length], x: xs, y: curves[i], color: COLOR[i], dashed: i >= 2 })),
          rules,
        }),
        `Mean squared error over the last 1000 samples divided by the target variance in that window; 1 = no better than the mean. Persistence (the last target) and ${LIVE_LINEAR_NAME} (NLMS over the last 8 samples of every input channel) are the yardsticks, on the same samples. Grey rules: drift events.`,
      ),
    );
    const gx: number[] = [];
    const rms: number[] = [];
    const mx: number[] = [];
    for (let end = step; end <= n; end += step) {
      let s = 0;
      let m = 0;
      for (let i = end - step; i < end; i++) {
        s += diffs[i];
        m = Math.max(m, Math.sqrt(diffs[i]));
      }
      gx.push(seqs[end - 1]);
      rms.push(Math.sqrt(s / step));
      mx.push(m);
    }
    const nmseGap = curves[0].map((v, i) => v - curves[2][i]);
    figures.push(
      await writeFigure(
        outDir,
        'fixed-vs-float',
        lineChartSpec({
          title: `Fixed-point ${LABEL[kind]} vs its float64 twin: prediction difference in output LSB (2^-12)`,
          xTitle: 'sample',
          yTitle: '|y_fixed - y_float| / LSB',
          logY: true,
          series: [
            { name: 'RMS per 250 samples', x: gx, y: rms },
            { name: 'max per 250 samples', x: gx, y: mx },
          ],
          rules,
        }),
        'Both learners start from the same weights and see the same samples; the difference grows as their weights drift apart by rounding, and stays small against the output range (1 = 4096 LSB).',
      ),
    );
    figures.push(
      await writeFigure(
        outDir,
        'nmse-gap',
        lineChartSpec({
          title: `Running NMSE gap: fixed-point ${LABEL[kind]} minus float64 ${LABEL[kind]}`,
          xTitle: 'sample',
          yTitle: 'NMSE(fixed) - NMSE(float)',
          series: [{ name: 'NMSE gap (trailing 1000 samples)', x: xs, y: nmseGap }],
          rules,
        }),
        'Positive: the fixed-point learner is worse than its float64 twin over the same window.',
      ),
    );
  }
  const summary: DemoSummary = {
    port,
    virtual,
    duration_s: Number(streamS.toFixed(3)),
    wall_s: 0,
    samples: n,
    samples_per_s: Number((n / Math.max(streamS, 1e-9)).toFixed(1)),
    drift_events: events,
    frames_dropped: stats.framesDropped,
    reconnects: stats.reconnects,
    hidden,
    tau,
    lr_out: lrOut,
    lr_rec: lrRec,
    learners: summaries,
    baselines,
    leading,
    divergences: divergences.length,
    divergence_events: divergences,
    fixed_vs_float: {
      rms_lsb: n > 0 ? Math.sqrt(sum2 / n) : null,
      max_lsb: n > 0 ? max : null,
      rms_lsb_last_tenth: tenth > 0 ? Math.sqrt(sumLast / tenth) : null,
    },
    report: outDir,
    figures: figures.map((f) => f.png),
  };
  const rows = summaryTable(summary);
  writeReportIndex(outDir, {
    title: `neurostream demo: ${LABEL[kind]} learning live from ${virtual ? 'the virtual board' : port}`,
    intro: [
      `${n} samples in ${streamS.toFixed(1)} s (${summary.samples_per_s} samples/s) over the serial bridge${virtual ? ' from the virtual board' : ''}; ` +
        `${M} input channels, ${O} target; ${events.length} drift events${virtual ? ` (every ${driftEvery} samples)` : ''}.`,
      `Three learners see the same stream, starting from the same weights (seed ${seed}): the fixed-point ${LABEL[kind]} (the one the session runs and whose predictions go back to the board), ` +
        `the fixed-point output-only baseline (only W_out learns), and the float64 twin of ${LABEL[kind]}. N = ${hidden}, tau = ${tau}, lr_out = ${lrOut}, lr_rec = ${lrRec}.`,
      `Beside them, on the same samples: persistence (the next target is the last one) and ${LIVE_LINEAR_NAME}, an NLMS linear predictor over the last 8 samples of every input channel. Leading over the last tenth: ${leading ?? '-'}.`,
      'Every prediction is made before the learner learns from that sample (prequential scoring).',
      ...divergedText.map((d) => `${d}.`),
    ],
    table: rows,
    figures,
    notes: [
      `Fixed vs float: RMS prediction difference ${fmt(summary.fixed_vs_float.rms_lsb)} LSB over the run, ${fmt(summary.fixed_vs_float.rms_lsb_last_tenth)} LSB in the last tenth, max ${fmt(summary.fixed_vs_float.max_lsb)} LSB (1 LSB = 2^-12).`,
      'Recovery: samples after a drift event until the NMSE over the trailing 500 samples is back to <= 1.5 x its level just before the event.',
    ],
  });
  summary.wall_s = Number(((Date.now() - wall0) / 1000).toFixed(3));
  writeFileSync(join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  if (options.json) io.stdout(JSON.stringify(summary) + '\n');
  else {
    io.stdout(
      `neurostream demo: ${n} samples in ${streamS.toFixed(1)} s (${summary.samples_per_s} samples/s) from ${virtual ? 'the virtual board' : port}, ${events.length} drift events\n\n` +
        table(rows) +
        `\nleading over the last tenth: ${leading ?? '-'}` +
        divergedText.map((d) => `\n${d}`).join('') +
        `\n\nfixed vs float ${LABEL[kind]}: RMS prediction difference ${fmt(summary.fixed_vs_float.rms_lsb)} LSB (last tenth ${fmt(summary.fixed_vs_float.rms_lsb_last_tenth)}), max ${fmt(summary.fixed_vs_float.max_lsb)} LSB\n` +
        (virtual && streamS > 5 && summary.samples_per_s < 0.9 * rate
          ? `note: the learners kept up with ${summary.samples_per_s} of the board's ${rate} samples/s (the board waits for acknowledgements); try a smaller --hidden\n`
          : '') +
        `report: ${join(outDir, 'index.html')}\n`,
    );
  }
  return summary;
}

/** The summary table: one row per learner. */
export function summaryTable(s: DemoSummary): string[][] {
  const head = ['learner', 'NMSE first tenth', 'NMSE last tenth', 'NMSE all', 'recovery (samples, per drift)'];
  return [
    head,
    ...[...s.learners, ...s.baselines].map((l) => [
      l.name,
      fmt(l.nmse_first),
      fmt(l.nmse_last),
      fmt(l.nmse_all),
      l.recovery.length === 0 ? '-' : l.recovery.map((r) => (r.steps !== null ? String(r.steps) : r.full_regime ? 'never' : 'run ended')).join(', '),
    ]),
  ];
}

function defaultIo(): DemoIo {
  return { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), isTTY: process.stderr.isTTY === true };
}
