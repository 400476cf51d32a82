/**
 * What `run` and `demo` hand the live learning loop (firmware-bridge/learning-loop.ts), and the words for it:
 * - the linear yardstick: NLMS-AR over the last 8 samples of every input channel (mu 0.5; sim/baselines.ts, the same
 *   predictor `sim --task <stream>` and `npm run bench:learning` score), fed the scaled samples the learner sees;
 * - the divergence guard's checkpoint for either engine: the fixed-point arena (runtime/checkpoint.ts, copied without
 *   allocating) or, for the float64 twin, its weights (one copy of the weights per healthy window: the float engine
 *   is the reference, not the device path; a restore starts from the saved weights with a fresh state and traces);
 * - progress and summary text: the learner's running NMSE beside persistence's and NLMS-AR's, which one leads, and
 *   one stderr line per divergence naming what happened and the new rates.
 */
import type { ModelWeights, OnlineLearner } from '../runtime/types.ts';
import { FixedLearner } from '../runtime/learner.ts';
import { ArenaCheckpoint } from '../runtime/checkpoint.ts';
import type { LearnerCheckpoint, LearningLoop, LiveDivergence, Yardstick } from '../firmware-bridge/learning-loop.ts';
import { createNlmsAr } from './baselines.ts';
import { createFloatLearner } from './reference/index.ts';
import { copyWeightsInto } from './reference/model.ts';
import { fmt } from './report.ts';

/** Lags and step size of the live linear yardstick (the acceptance table's NLMS-AR). */
export const LIVE_LINEAR = { lags: 8, mu: 0.5 } as const;
export const LIVE_LINEAR_NAME = `NLMS-AR p${LIVE_LINEAR.lags}`;
export const PERSISTENCE_NAME = 'persistence';

/** The yardsticks `run` and `demo` score beside the learner: NLMS-AR p 8 over every input channel. */
export function liveYardsticks(inputs: number, outputs: number): Yardstick[] {
  return [createNlmsAr({ inputs, outputs, lags: LIVE_LINEAR.lags, mu: LIVE_LINEAR.mu })];
}

/** The float twin's last good weights (two copies, as runtime/checkpoint.ts keeps two arenas). */
class WeightsCheckpoint implements LearnerCheckpoint {
  private good: ModelWeights;
  private pending: ModelWeights;
  constructor(private learner: OnlineLearner) {
    this.good = learner.getWeights();
    this.pending = learner.getWeights();
  }
  save(l: OnlineLearner): void {
    this.learner = l;
    const t = this.good;
    this.good = this.pending;
    this.pending = copyWeightsInto(t, l.getWeights());
  }
  restore(lrRec: number, lrOut: number): OnlineLearner {
    const next = createFloatLearner({ ...this.learner.options, lrRec, lrOut }, this.good);
    copyWeightsInto(this.pending, this.good);
    this.learner = next;
    return next;
  }
}

/** The checkpoint of a learner of either engine. */
export function checkpointFor(l: OnlineLearner): LearnerCheckpoint {
  if (l instanceof FixedLearner) {
    const c = new ArenaCheckpoint(l);
    return { save: (x) => c.save(x as FixedLearner), restore: (r, o) => c.restore(r, o) };
  }
  return new WeightsCheckpoint(l);
}

/** NaN ranks last. */
function rank(v: number): number {
  return Number.isNaN(v) ? Infinity : v;
}

/** Who has the lowest running NMSE: the learner (by `learnerName`), persistence or a yardstick; '-' before data. */
export function leader(loop: LearningLoop, learnerName: string): string {
  let best = learnerName;
  let v = rank(loop.nmse.value);
  if (rank(loop.persistenceNmse.value) < v) {
    best = PERSISTENCE_NAME;
    v = rank(loop.persistenceNmse.value);
  }
  loop.yardstickNmse.forEach((n, k) => {
    if (rank(n.value) < v) {
      best = loop.yardsticks[k].name;
      v = rank(n.value);
    }
  });
  return v === Infinity ? '-' : best;
}

/** "persistence 0.0123, NLMS-AR p8 0.0150; leading: RFLO" for a progress line. */
export function yardstickText(loop: LearningLoop, learnerName: string): string {
  const parts = [`${PERSISTENCE_NAME} ${fmt(loop.persistenceNmse.value)}`, ...loop.yardstickNmse.map((n, k) => `${loop.yardsticks[k].name} ${fmt(n.value)}`)];
  return `${parts.join(', ')}; leading: ${leader(loop, learnerName)}`;
}

/** One stderr line per repaired divergence: what happened, where, what was restored, the new rates. */
export function divergenceLine(command: string, learnerName: string, d: LiveDivergence): string {
  const rate = (from: number, to: number): string => (from === 0 ? '0' : to === 0 ? `0 (${from} / 2 is below the smallest step the fixed-point plan represents)` : String(to));
  return (
    `${command}: ${learnerName} diverged (${d.kind}) at sample ${d.at}: ${d.detail}; restored its last good state ` +
    `(${d.restoredFrom === 0 ? 'the initial one' : `from sample ${d.restoredFrom}`}) and halved the learning rates: ` +
    `lr_rec ${rate(d.fromLrRec, d.lrRec)}, lr_out ${rate(d.fromLrOut, d.lrOut)} (divergence ${d.count}); learning goes on\n`
  );
}

/** A divergence as the summaries' JSON carries it. */
export function divergenceRecord(d: LiveDivergence): { kind: string; at: number; restored_from: number; detail: string; lr_rec: number; lr_out: number } {
  return { kind: d.kind, at: d.at, restored_from: d.restoredFrom, detail: d.detail, lr_rec: d.lrRec, lr_out: d.lrOut };
}
