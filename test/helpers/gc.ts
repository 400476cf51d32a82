/**
 * The allocation check shared by the allocation tests (runtime-alloc, session-alloc): a GC-event counter and the
 * protocol that settles the optimizing compiler before measuring. One test file at a time, serially: the observer sees
 * the whole process.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HeapSampler, formatSites } from '../../bench/heap-sampler.ts';

// A full collection before each measurement, so garbage left by earlier tests or the warm-up (and V8's memory
// reducer acting on it) cannot land in the measured window.
setFlagsFromString('--expose-gc');
export const fullGc = runInNewContext('gc') as () => void;

/** GC events (any kind) while fn runs. */
export async function gcEventsDuring(fn: () => void): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    n += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  fn();
  // Observer callbacks are delivered asynchronously.
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return n;
}

/** GC events while the promise fn returns settles (for work that arrives from outside, e.g. a socket). */
export async function gcEventsWhile(fn: () => Promise<void>): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    n += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  await fn();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return n;
}

export interface AllocationWindows {
  /** Extra warm-up rounds of 5000 until a window was GC-free and flat. */
  rounds: number;
  /** Per measured window: GC events, heap change in bytes, and what count() advanced by. */
  events: number[];
  grew: number[];
  counted: number[];
}

/**
 * Warm-up (run(20000), then up to 40 rounds until a 5000-step window is GC-free and adds under 1 byte per step: on a
 * loaded machine concurrent compilation can take a while, and until then the interpreter boxes wide sums; a path that
 * really allocates never settles), then three windows of `window` steps, each after a full collection. A real
 * allocation per step shows in every window (at least 16 bytes a step); a late JIT install lands in some only, so the
 * caller asks that one window be GC-free with a heap change under 8 bytes a step (oneCleanWindow).
 */
export async function allocationWindows(run: (steps: number) => void, count: () => number, window = 100000): Promise<AllocationWindows> {
  run(20000);
  let rounds = 0;
  const settled = async (): Promise<boolean> => {
    const h0 = process.memoryUsage().heapUsed;
    const ev = await gcEventsDuring(() => run(5000));
    return ev === 0 && process.memoryUsage().heapUsed - h0 < 5000;
  };
  while (rounds < 40 && !(await settled())) rounds++;
  const events: number[] = [];
  const grew: number[] = [];
  const counted: number[] = [];
  for (let w = 0; w < 3; w++) {
    fullGc();
    await new Promise((r) => setTimeout(r, 20));
    const before = process.memoryUsage().heapUsed;
    const c0 = count();
    events.push(await gcEventsDuring(() => run(window)));
    grew.push(process.memoryUsage().heapUsed - before);
    counted.push(count() - c0);
  }
  return { rounds, events, grew, counted };
}

/**
 * One window GC-free with a heap change under 8 bytes a step: half the smallest object V8 makes (a 16-byte heap
 * number or view header), so one object per step fails every window. The bound was 256 KiB a window (2.6 bytes a
 * step); windows with no object per step measured up to 500 KiB (5 bytes a step) in CI, from V8's own bookkeeping
 * and allocation now and then, and failed it.
 */
export const oneCleanWindow = (r: AllocationWindows): boolean => r.events.some((e, w) => e === 0 && r.grew[w] < 8 * Math.max(1, r.counted[w]));

/** What the sampling heap profiler attributed to run(steps): see allocationSites. */
export interface AllocationSites {
  /** Bytes a step allocated by functions in the project's own folders (runtime/, firmware-bridge/, sim/). */
  project: number;
  /** The largest sites, "function folder/file bytes/step; ...", for a failure message. */
  top: string;
}

/**
 * Where `run(steps)` allocates (bench/heap-sampler.ts: V8's sampling heap profiler, a sample every 256 bytes on
 * average, collected objects counted too), per step. Unlike the heap's size, which a collection finishing during a
 * window can shrink and V8's own bookkeeping grows by a few bytes a step, this names who allocated: one 16-byte object
 * a step in the project's code is 16 bytes a step here. Two rounds; the one with less from the project's code is
 * returned (a real allocation shows in both, a compiler tier change in one). `run` may be asynchronous (a live
 * stream: it resolves once `steps` more samples were stepped).
 */
export async function allocationSites(run: (steps: number) => void | Promise<void>, steps = 50000, top = 5): Promise<AllocationSites> {
  const sampler = new HeapSampler();
  try {
    let best: AllocationSites | null = null;
    for (let round = 0; round < 2; round++) {
      await sampler.start();
      await run(steps);
      const s = await sampler.stop();
      const r = { project: s.project / steps, top: formatSites(s, steps, top) };
      if (best === null || r.project < best.project) best = r;
    }
    return best!;
  } finally {
    sampler.disconnect();
  }
}
