/**
 * When an online learner has diverged: one definition for the simulator (sim/tasks/run.ts) and the live learning loop
 * (firmware-bridge/learning-loop.ts). Checked over consecutive windows of DIVERGENCE_WINDOW scored samples:
 *   nan        a prediction was NaN or infinite (float engine; a fixed-point prediction saturates instead)
 *   exploded   in a window, the learner's squared error exceeded EXPLODE_RATIO x the target's variance and
 *              EXPLODE_RATIO x persistence's squared error (worse than predicting the mean tenfold, and far worse
 *              than predicting the last value)
 *   saturated  in a window, more than SATURATED_FRACTION of the hidden-state values were pinned at
 *              |h| > SATURATED_LEVEL: the recurrent and input weights grew until tanh saturates, and the state no
 *              longer carries the input. Only a learner that changes W_rec / W_in (not output-only, lrRec > 0) counts:
 *              a fixed reservoir that saturates is an input-scale matter, not divergence.
 *   weights    (fixed point) a master weight (W_in, W_rec, b or W_out, Q7.24) hit its saturation bound in each of
 *              WEIGHT_SATURATION_WINDOWS consecutive windows (the runtime's saturation counters, runtime/layout.ts):
 *              the weights are pinned at +-128, persistently, not once.
 *
 * And the guard's "last good state" (LearnerCheckpoint): ArenaCheckpoint for the fixed-point learner (the whole arena
 * copied without allocating), WeightsCheckpoint for any other engine (its weights).
 * Pure TypeScript; the window test and ArenaCheckpoint.save allocate nothing.
 */
import { plan } from './plan.ts';
import type { FixedConfig } from './plan.ts';
import { FixedLearner } from './learner.ts';
import type { LearnerOptions, ModelWeights, OnlineLearner } from './types.ts';

export const DIVERGENCE_WINDOW = 1000;
export const EXPLODE_RATIO = 10;
export const SATURATED_FRACTION = 0.9;
export const SATURATED_LEVEL = 0.995;
export const WEIGHT_SATURATION_WINDOWS = 3;

/** Divergence kinds as codes (0: sane), in the order of DIVERGENCE_KINDS. */
export const DIVERGED_NONE = 0;
export const DIVERGED_NAN = 1;
export const DIVERGED_EXPLODED = 2;
export const DIVERGED_SATURATED = 3;
export const DIVERGED_WEIGHTS = 4;
export const DIVERGENCE_KINDS = ['none', 'nan', 'exploded', 'saturated', 'weights'] as const;
export type DivergenceKind = Exclude<(typeof DIVERGENCE_KINDS)[number], 'none'>;

/**
 * The window test (exploded, then saturated) of one full window: se and pse are the learner's and persistence's summed
 * squared errors over the window, variance the target's summed squared deviation from its window mean (a window
 * whose target does not vary has no NMSE to explode), saturatedFraction the share of hidden-state values pinned at
 * |h| > SATURATED_LEVEL, learnsRecurrent whether the learner changes W_rec / W_in. Returns a DIVERGED_* code.
 */
export function classifyWindow(se: number, pse: number, variance: number, saturatedFraction: number, learnsRecurrent: boolean): number {
  if (variance > 0 && se > EXPLODE_RATIO * variance && se > EXPLODE_RATIO * pse) return DIVERGED_EXPLODED;
  if (learnsRecurrent && saturatedFraction > SATURATED_FRACTION) return DIVERGED_SATURATED;
  return DIVERGED_NONE;
}

/** The last good state of a learner, for the live divergence guard (firmware-bridge/learning-loop.ts). */
export interface LearnerCheckpoint {
  /** Records `learner`'s current state as healthy (called at the end of every healthy window). */
  save(learner: OnlineLearner): void;
  /** A learner in the last good state with learning rates lrRec and lrOut (its options carry the rates it got). */
  restore(lrRec: number, lrOut: number): OnlineLearner;
}

/**
 * The live divergence guard's "last good state" of a fixed-point learner: the whole arena (weights, state, traces,
 * saturation counters, step count; the bytes a snapshot carries, runtime/snapshot.ts) copied into preallocated memory, without allocating, at the end of every healthy window. Two copies are kept: the
 * one restored is the older, which stayed healthy for a whole window after it was taken (the newer may already be on
 * its way out). Restoring binds a new learner to a copy of that arena with new learning rates: the arena's layout does
 * not depend on them (runtime/plan.ts), only the plan's step-size mantissas and shifts do.
 */
export class ArenaCheckpoint implements LearnerCheckpoint {
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
  save(learner: OnlineLearner): void {
    const l = learner as FixedLearner;
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

/**
 * The last good weights of a learner of any engine (two copies, as ArenaCheckpoint keeps two arenas), for the float64
 * twin: save() reads the weights through getWeights() (one copy per healthy window; the float engine is the reference,
 * not the device path); restore() builds a learner with `make` from the saved weights, with a fresh state and traces.
 */
export class WeightsCheckpoint implements LearnerCheckpoint {
  private good: ModelWeights;
  private pending: ModelWeights;
  constructor(
    private learner: OnlineLearner,
    private readonly make: (options: LearnerOptions, weights: ModelWeights) => OnlineLearner,
  ) {
    this.good = learner.getWeights();
    this.pending = learner.getWeights();
  }
  save(l: OnlineLearner): void {
    this.learner = l;
    const t = this.good;
    this.good = this.pending;
    this.pending = copyInto(t, l.getWeights());
  }
  restore(lrRec: number, lrOut: number): OnlineLearner {
    const next = this.make({ ...this.learner.options, lrRec, lrOut }, this.good);
    copyInto(this.pending, this.good);
    this.learner = next;
    return next;
  }
}

function copyInto(dst: ModelWeights, src: ModelWeights): ModelWeights {
  dst.W_in.set(src.W_in);
  dst.W_rec.set(src.W_rec);
  dst.b.set(src.b);
  dst.W_out.set(src.W_out);
  dst.h0.set(src.h0);
  dst.B.set(src.B);
  if (dst.D && src.D) dst.D.set(src.D);
  return dst;
}
