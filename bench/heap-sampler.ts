/**
 * Who allocates, per step: V8's sampling heap profiler (through node:inspector), counting objects already collected
 * too, summed per function. A heap's size over a window cannot say this: a collection that finishes during the window
 * shrinks it, and V8's own bookkeeping grows it by a few bytes a step that no JavaScript object explains. Used by the
 * allocation checks (test/helpers/gc.ts) and the live-path benchmark (bench/live.ts).
 */
import { Session } from 'node:inspector/promises';

/** What the profiler attributed to a stretch of work. */
export interface HeapSample {
  /** Bytes allocated by functions in the project's own folders (runtime/, firmware-bridge/, sim/). */
  project: number;
  /** Bytes allocated by everything else (Node's streams, timers and fs; the caller's own code). */
  other: number;
  /** Bytes per function ("name folder/file"), largest first. */
  sites: [string, number][];
}

const PROJECT = /\/(runtime|firmware-bridge|sim)\//;

/**
 * A sampling session: start() begins sampling (a sample every `interval` bytes on average, scaled back to bytes by
 * V8), stop() ends it and sums the profile. Sampling costs little where little is allocated.
 */
export class HeapSampler {
  private readonly session = new Session();
  constructor(private readonly interval = 256) {
    this.session.connect();
  }
  async start(): Promise<void> {
    await this.session.post('HeapProfiler.startSampling', { samplingInterval: this.interval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  async stop(): Promise<HeapSample> {
    const { profile } = await this.session.post('HeapProfiler.stopSampling');
    const bytes = new Map<string, number>();
    let project = 0;
    let other = 0;
    type Node = (typeof profile)['head'];
    const walk = (n: Node): void => {
      const f = n.callFrame;
      if (n.selfSize > 0) {
        const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, '') || '(native)'}`;
        bytes.set(key, (bytes.get(key) ?? 0) + n.selfSize);
        if (PROJECT.test(f.url)) project += n.selfSize;
        else other += n.selfSize;
      }
      for (const c of n.children) walk(c);
    };
    walk(profile.head);
    return { project, other, sites: [...bytes].sort((a, b) => b[1] - a[1]) };
  }
  disconnect(): void {
    this.session.disconnect();
  }
}

/** "function file 1.23 B/step; ..." for the largest `top` sites, per `steps`. */
export function formatSites(s: HeapSample, steps: number, top = 5, unit = 'step'): string {
  return s.sites.slice(0, top).map(([k, b]) => `${k} ${(b / steps).toFixed(2)} B/${unit}`).join('; ') || 'nothing sampled';
}
