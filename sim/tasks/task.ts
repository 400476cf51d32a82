/**
 * The streaming-task interface of the simulator. A task is a seeded generator that writes one sample at a time
 * into buffers the caller allocated once (`x` of length `inputs`, `target` of length `outputs`): `next` allocates
 * nothing, so a long run makes no more garbage than a short one.
 *
 * Two kinds:
 * - trial tasks (`trialLength` = P): the caller starts every trial with `startTrial()` (and the learner's
 *   resetState()), then calls `next` P times; `next` always returns true.
 * - streams (`trialLength` = null): `next` returns false when the stream has ended (never, for endless streams).
 *   Streams are scored prequentially: the prediction of a sample is made before learning from it.
 */
export interface Task {
  readonly name: string;
  /** M, values written into x per sample (may be 0). */
  readonly inputs: number;
  /** O, values written into target per sample. */
  readonly outputs: number;
  /** P for trial tasks; null for streams. */
  readonly trialLength: number | null;
  /** Total number of samples of a finite stream (after skipping), null when endless or trial-based. */
  readonly length: number | null;
  /** Writes the next sample into x (length M) and target (length O). Returns false (writing nothing) at the end. */
  next(x: Float64Array, target: Float64Array): boolean;
  /** Trial tasks: rewinds to the first step of a trial. Streams: no-op. */
  startTrial(): void;
  /** Rewinds to the very beginning with the original seed: the same samples again. */
  reset(): void;
  /**
   * Persistence ("predict the last value") prediction of the sample last written by `next`, in target units,
   * into out (length O). For trial tasks it is the previous step's target (0 at a trial's first step).
   */
  persistence(out: Float64Array): Float64Array;
  /**
   * Map from the task's target units to signal units for the sample last written: signal = v * scale[k] + offset[k].
   * Identity (1, 0) unless the task normalises a recorded signal on the fly (csv). Errors are scored in signal units.
   */
  readonly scale: Float64Array;
  readonly offset: Float64Array;
  /** Samples left out of a finite stream because a cell was empty, non-numeric or non-finite. */
  readonly skipped: number;
  /** Samples of a finite stream rejected by the outlier guard (a subset of skipped); absent when the task has none. */
  readonly rejected?: number;
  /** Lines for the run's summary about the data itself (a units row, missing readings, outliers, constant columns). */
  readonly notes?: readonly string[];
  /** Steps (0-based sample indices) where the task changed abruptly (drift); empty otherwise. */
  readonly events: readonly number[];
  /** One line describing the task and its parameters, for summaries. */
  describe(): string;
}
