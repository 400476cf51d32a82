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
 * Pure TypeScript; nothing here allocates.
 */

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
