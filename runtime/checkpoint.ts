/**
 * The live divergence guard's "last good state" of a fixed-point learner (firmware-bridge/learning-loop.ts): the whole
 * arena (weights, state, traces, saturation counters, step count; the bytes a snapshot carries, runtime/snapshot.ts)
 * copied into preallocated memory, without allocating, at the end of every healthy window. Two copies are kept: the
 * one restored is the older, which stayed healthy for a whole window after it was taken (the newer may already be on
 * its way out). Restoring binds a new learner to a copy of that arena with new learning rates: the arena's layout does
 * not depend on them (runtime/plan.ts), only the plan's step-size mantissas and shifts do.
 */
import { plan } from './plan.ts';
import type { FixedConfig } from './plan.ts';
import { FixedLearner } from './learner.ts';

export class ArenaCheckpoint {
  /** Bytes of one arena. */
  readonly bytes: number;
  private good: Uint8Array;
  private pending: Uint8Array;
  private learner: FixedLearner;
  private view: Uint8Array;

  /** Both copies start as `l`'s current state. */
  constructor(l: FixedLearner) {
    this.bytes = l.plan.totalBytes;
    this.learner = l;
    this.view = new Uint8Array(l.arena, l.arenaOffset, this.bytes);
    this.good = new Uint8Array(this.bytes);
    this.pending = new Uint8Array(this.bytes);
    this.good.set(this.view);
    this.pending.set(this.view);
  }

  /**
   * Records l's current state as healthy: the previous record becomes the one restore() returns. Allocates nothing
   * for the learner it was made for or last restored (another learner: one view, once).
   */
  save(l: FixedLearner): void {
    if (l !== this.learner) {
      if (l.plan.totalBytes !== this.bytes) throw new RangeError(`checkpoint holds ${this.bytes}-byte arenas; this learner's arena has ${l.plan.totalBytes}`);
      this.learner = l;
      this.view = new Uint8Array(l.arena, l.arenaOffset, this.bytes);
    }
    const t = this.good;
    this.good = this.pending;
    this.pending = t;
    this.pending.set(this.view);
  }

  /**
   * A new learner (same backend) in the last good state with learning rates lrRec and lrOut; both copies then hold
   * that state. A rate the fixed-point plan cannot represent (below its smallest step) is set to 0: that part stops
   * learning rather than the run stopping. Allocates (a plan and an arena): call it on divergence, not per sample.
   */
  restore(lrRec: number, lrOut: number): FixedLearner {
    const old = this.learner;
    const cfg: FixedConfig = { ...old.plan.options, weightFracBits: old.plan.weightFracBits, updateFracBits: old.plan.updateFracBits, memoryBudget: old.plan.memoryBudget };
    let next: FixedLearner | null = null;
    let err: unknown = null;
    for (const [r, o] of [[lrRec, lrOut], [0, lrOut], [lrRec, 0], [0, 0]]) {
      try {
        const arena = new ArrayBuffer(this.bytes);
        new Uint8Array(arena).set(this.good);
        next = new FixedLearner(plan({ ...cfg, lrRec: r, lrOut: o }), undefined as never, arena, old.backend);
        break;
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        err ??= e;
      }
    }
    if (next === null) throw err;
    this.learner = next;
    this.view = new Uint8Array(next.arena, next.arenaOffset, this.bytes);
    this.pending.set(this.good);
    return next;
  }
}
