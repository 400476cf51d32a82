/**
 * The live path end to end on the host: the virtual board (a separate process, sim/board/main.ts) streams SAMPLE +
 * TARGET frames over a local socket (or a socat pty, --link pty) to a Session whose learner is the fixed-point RFLO
 * at N = 64 (4 inputs, 4 outputs, 'step' updates, the default backend), and every sample's latency is measured from
 * frame in to prediction out:
 *   in:  the moment the host transport delivers the bytes that complete the sample (its TARGET frame), before the
 *        session sees them;
 *   out: the moment the session hands the PREDICTION frame for that sample to the transport's write().
 * So a latency covers framer, session queue, learning loop, scaler, learner step, prediction encoding and the wait
 * for the event-loop turn the session steps in, for every sample of a chunk that arrived together (the board sends
 * what its 5 ms timer found due). A probe wraps the transport and decodes the same bytes with its own Framer
 * (allocation-free) after the session's handler returned, and the outgoing bytes after the timestamp was taken.
 * Garbage collections in the host process are counted (PerformanceObserver 'gc') over the measured samples, and V8's
 * sampling heap profiler says who allocated over them (bench/heap-sampler.ts): the project's code (framer, session,
 * learning loop, scaler, learner) or the rest (Node's socket reads, fs writes and timers; the probe).
 * Writes bench-results/live.json and prints one line.
 *
 *   npx tsx bench/live.ts [--samples 100000] [--rate 2000] [--hidden 64] [--link socket|pty] [--warmup 2000]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import { Framer } from '../firmware-bridge/framer.ts';
import { MsgType, type Message } from '../firmware-bridge/protocol.ts';
import { Session } from '../firmware-bridge/session.ts';
import type { Transport, TransportHandlers } from '../firmware-bridge/transport.ts';
import { hostTransport, startVirtualBoard } from '../sim/board/index.ts';
import { M, O, benchOptions } from './timing.ts';
import { HeapSampler, formatSites, type HeapSample } from './heap-sampler.ts';

export interface LiveResult {
  link: 'socket' | 'pty';
  learner: 'rflo';
  backend: string;
  N: number;
  inputs: number;
  outputs: number;
  rateHz: number;
  samples: number;
  /** Frame in -> prediction out, microseconds. */
  latency_us: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  /** Garbage collections in the host process while the measured samples streamed, by kind. */
  gc: { events: number; minor: number; major: number; other: number; ms: number };
  /** Host heap growth over the measured samples, bytes. */
  heapGrowth: number;
  /** Bytes allocated per measured sample (sampling heap profiler): by the project's code, by everything else. */
  allocated: { project: number; other: number; top: string };
  seconds: number;
  /** The machine's 1-minute load average at the end (a shared machine's scheduling delays land in the latencies). */
  loadavg1: number;
  predictionsDropped: number;
  samplesLost: number;
}

/** A transport that timestamps what comes in and what goes out, and decodes both with its own framers. */
class LatencyProbe implements Transport {
  readonly inner: Transport;
  /** Arrival time (ms, performance.now) of the chunk that completed each sample, by seq & 0xffff. */
  private readonly tIn = new Float64Array(65536).fill(-1);
  private readonly lat: Float64Array;
  count = 0;
  measuring = false;
  private chunkAt = 0;
  private writeAt = 0;
  private readonly inFramer: Framer;
  private readonly outFramer: Framer;

  constructor(inner: Transport, capacity: number) {
    this.inner = inner;
    this.lat = new Float64Array(capacity);
    this.inFramer = new Framer((m: Message) => {
      if (m.type === MsgType.TARGET) this.tIn[m.seq & 0xffff] = this.chunkAt;
    }, { checkSequence: false });
    this.outFramer = new Framer((m: Message) => {
      if (m.type !== MsgType.PREDICTION) return;
      const slot = m.seq & 0xffff;
      const t0 = this.tIn[slot];
      this.tIn[slot] = -1;
      if (!this.measuring || t0 < 0 || this.count >= this.lat.length) return;
      this.lat[this.count++] = this.writeAt - t0;
    }, { checkSequence: false });
  }
  get path(): string {
    return this.inner.path;
  }
  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  latencies(): Float64Array {
    return this.lat.subarray(0, this.count);
  }
  setHandlers(h: TransportHandlers): void {
    this.inner.setHandlers({
      data: (chunk, length) => {
        this.chunkAt = performance.now();
        // the probe reads the chunk first: the session steps the samples a chunk completes (and writes their
        // predictions) before h.data returns
        this.inFramer.push(chunk, 0, length);
        h.data(chunk, length);
      },
      drain: () => h.drain(),
      close: (e) => h.close(e),
    });
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  write(data: Uint8Array, length = data.length): boolean {
    this.writeAt = performance.now();
    const ok = this.inner.write(data, length);
    this.outFramer.push(data, 0, length);
    return ok;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const pct = (sorted: Float64Array, p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** Runs the live path and measures it; throws when the board or the session fail (the message says where). */
export async function runLiveBench(o: { samples?: number; rateHz?: number; hidden?: number; link?: 'socket' | 'pty'; warmup?: number } = {}): Promise<LiveResult> {
  const samples = o.samples ?? 100000;
  const rateHz = o.rateHz ?? 2000;
  const N = o.hidden ?? 64;
  const link = o.link ?? 'socket';
  const warmup = o.warmup ?? 2000;
  const learner = createFixedLearner(benchOptions('rflo', N), initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 1 }), { memoryBudget: 2 ** 31 });
  const board = await startVirtualBoard({ rateHz, channels: M, outputs: O, seed: 1, link, stderr: 'ignore' });
  const probe = new LatencyProbe(hostTransport(board.path), samples);
  let stepped = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  // Every GC entry is kept with its start time, and those that started inside the measured window are counted at
  // the end: the observer's callbacks come asynchronously, so a flag read in the callback would count collections
  // of the warm-up or of the summary below (sorting the latencies) and miss ones at the window's end.
  const gcSeen: { at: number; ms: number; kind: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
      gcSeen.push({ at: e.startTime, ms: e.duration, kind });
    }
  });
  let heap0 = 0;
  let t0 = 0;
  let finishing = false;
  const sampler = new HeapSampler();
  let sampling: Promise<void> | null = null;
  const startMeasuring = (): void => {
    sampling = sampler.start();
    heap0 = process.memoryUsage().heapUsed;
    t0 = performance.now();
    probe.measuring = true;
  };
  const session = new Session({
    transport: probe,
    learner,
    config: { inputs: M, outputs: O, rateHz },
    // onStep is inlined into the learning loop's optimized step: what it does once (start the measurement, finish)
    // goes through process.nextTick, one call target, so that the step is not deoptimized when it happens
    onStep: () => {
      stepped++;
      if (stepped === warmup) process.nextTick(startMeasuring);
      if (probe.count >= samples && !finishing) {
        finishing = true;
        process.nextTick(done);
      }
    },
  });
  obs.observe({ entryTypes: ['gc'] });
  const limitMs = 60000 + (2 * (samples + warmup) * 1000) / rateHz;
  const timer = setTimeout(() => done(), limitMs);
  let t1 = 0;
  let heapGrowth = 0;
  let heap: HeapSample | null = null;
  try {
    await session.start();
    await finished;
    probe.measuring = false;
    t1 = performance.now();
    heapGrowth = process.memoryUsage().heapUsed - heap0;
    if (sampling !== null) {
      await sampling;
      heap = await sampler.stop();
    }
  } finally {
    sampler.disconnect();
    clearTimeout(timer);
    await session.stop();
    await board.stop();
    // the last entries are delivered after a turn of the event loop
    await new Promise((r) => setTimeout(r, 50));
    obs.disconnect();
  }
  const seconds = (t1 - t0) / 1000;
  let gcEvents = 0;
  let gcMinor = 0;
  let gcMajor = 0;
  let gcOther = 0;
  let gcMs = 0;
  for (const g of gcSeen) {
    if (g.at < t0 || g.at > t1) continue;
    gcEvents++;
    gcMs += g.ms;
    if (g.kind === 1) gcMinor++;
    else if (g.kind === 4) gcMajor++;
    else gcOther++;
  }
  const lat = Float64Array.from(probe.latencies()).sort();
  if (lat.length < samples) throw new Error(`the live path measured ${lat.length} of ${samples} samples within ${Math.round(limitMs / 1000)} s (stepped ${stepped})`);
  let sum = 0;
  for (const v of lat) sum += v;
  const us = (ms: number) => Math.round(ms * 1000 * 10) / 10;
  const st = session.stats;
  return {
    link,
    learner: 'rflo',
    backend: learner.backend,
    N,
    inputs: M,
    outputs: O,
    rateHz,
    samples: lat.length,
    latency_us: { p50: us(pct(lat, 0.5)), p90: us(pct(lat, 0.9)), p99: us(pct(lat, 0.99)), p999: us(pct(lat, 0.999)), max: us(lat[lat.length - 1]), mean: us(sum / lat.length) },
    gc: { events: gcEvents, minor: gcMinor, major: gcMajor, other: gcOther, ms: Math.round(gcMs * 10) / 10 },
    heapGrowth,
    allocated: {
      project: heap === null ? NaN : Math.round((heap.project / lat.length) * 100) / 100,
      other: heap === null ? NaN : Math.round((heap.other / lat.length) * 100) / 100,
      top: heap === null ? '' : formatSites(heap, lat.length, 6, 'sample'),
    },
    seconds: Math.round(seconds * 10) / 10,
    loadavg1: Math.round(loadavg()[0] * 100) / 100,
    predictionsDropped: st.predictionsDropped,
    samplesLost: st.samplesLost,
  };
}

export function formatLive(r: LiveResult): string {
  const l = r.latency_us;
  return (
    `live path (${r.link}, RFLO N = ${r.N} on ${r.backend}, ${r.rateHz} samples/s, ${r.samples} samples): frame in -> prediction out ` +
    `p50 ${l.p50} us, p99 ${l.p99} us, p99.9 ${l.p999} us, max ${l.max} us (mean ${l.mean}); ` +
    `GC events ${r.gc.events} (minor ${r.gc.minor}, major ${r.gc.major}, ${r.gc.ms} ms), heap ${r.heapGrowth >= 0 ? '+' : ''}${Math.round(r.heapGrowth / 1024)} KB; ` +
    `allocated ${r.allocated.project} bytes a sample by the project's code, ${r.allocated.other} by the rest; load average ${r.loadavg1}`
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const num = (name: string) => (arg(name) === undefined ? undefined : Number(arg(name)));
  const link = arg('--link') as 'socket' | 'pty' | undefined;
  const r = await runLiveBench({ samples: num('--samples'), rateHz: num('--rate'), hidden: num('--hidden'), link, warmup: num('--warmup') });
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results', 'live.json'), JSON.stringify({ node: process.version, date: new Date().toISOString(), ...r }, null, 2) + '\n');
  process.stdout.write(formatLive(r) + '\n');
}
