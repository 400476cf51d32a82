import test from 'ava';
import type { LearnerOptions, OnlineLearner } from '../runtime/types.ts';
import { createDriftTask } from '../sim/tasks/index.ts';
import { createSimLearner, DIVERGENCE_WINDOW, runStream } from '../sim/tasks/run.ts';
import { runSim, formatSim, type SimArgs } from '../sim/commands/sim.ts';

/** A learner stand-in whose prediction and hidden state are given functions of the target: exercises the detector. */
function fake(predict: (target: number, n: number) => number, hidden: (n: number) => number, learner: LearnerOptions['learner'] = 'rflo'): OnlineLearner {
  let n = 0;
  const options = { learner, inputs: 3, hidden: 4, outputs: 3, tau: 1, lrRec: 0.01, lrOut: 0.01, update: 'step', trialLength: 1 } as LearnerOptions;
  return {
    engine: 'float',
    options,
    step(_x, target, out) {
      for (let k = 0; k < 3; k++) out[k] = predict(target ? target[k] : 0, n);
      n++;
      return out;
    },
    readHidden(out) {
      out.fill(hidden(n));
      return out;
    },
    resetState() {},
    endTrial() {},
    readGradient: (g) => g,
    clearGradient() {},
    perturbHidden() {},
    getWeights: () => {
      throw new Error('unused');
    },
    setWeights() {},
  };
}

test('a sane run is not called diverged', (t) => {
  const task = createDriftTask({ seed: 1, steps: 3000 });
  const { learner } = createSimLearner({ learner: 'rflo', hidden: 16, tau: 2, lrRec: 0.01, lrOut: 0.01, update: 'step', seed: 1 }, task);
  const r = runStream(learner, task);
  t.is(r.divergence, null);
  t.true(Number.isFinite(r.nmse));
});

test('a NaN prediction stops the run and is reported as nan with the rates to lower', (t) => {
  const r = runStream(fake((y, n) => (n === 1234 ? NaN : y), () => 0), createDriftTask({ seed: 1, steps: 5000 }));
  t.is(r.divergence?.kind, 'nan');
  t.is(r.divergence?.at, 1235);
  t.is(r.steps, 1235);
  t.true(Number.isNaN(r.nmse));
  t.regex(r.divergence?.message ?? '', /--lr-rec/);
});

test('a finite but huge error is reported as exploded, relative to the target variance and to persistence', (t) => {
  // Sane for two windows, then 20 x the target: an error of 19^2 x the target power.
  const r = runStream(fake((y, n) => (n < 2 * DIVERGENCE_WINDOW ? y : 20 * y), () => 0), createDriftTask({ seed: 1, steps: 5000 }));
  t.is(r.divergence?.kind, 'exploded');
  t.is(r.divergence?.at, 3 * DIVERGENCE_WINDOW);
  t.true(Number.isFinite(r.nmse));
  // Three times the target is bad (NMSE about 4) but not an explosion past 10 x.
  const mild = runStream(fake((y) => 3 * y, () => 0), createDriftTask({ seed: 1, steps: 5000 }));
  t.is(mild.divergence, null);
});

test('hidden states pinned at +-1 for a whole window are reported as saturated, unless only W_out learns', (t) => {
  const pinned = (n: number): number => (n < DIVERGENCE_WINDOW ? 0.3 : -0.999);
  const r = runStream(fake((y) => y, pinned), createDriftTask({ seed: 1, steps: 5000 }));
  t.is(r.divergence?.kind, 'saturated');
  t.is(r.divergence?.at, 2 * DIVERGENCE_WINDOW);
  t.regex(r.divergence?.message ?? '', /--max-rec-step/);
  const out = runStream(fake((y) => y, pinned, 'output'), createDriftTask({ seed: 1, steps: 5000 }));
  t.is(out.divergence, null);
});

test('sim names the divergence of each seed and what to change; the stream defaults avert it at the same lr_rec', (t) => {
  // The old stream shape at lr 0.1 (Murray's N 30, tau 10, plain steps, no bound): RFLO diverges on drift.
  const old: SimArgs = { task: 'drift', learner: 'rflo', seeds: [1], steps: 5000, lrRec: 0.1, lrOut: 0.1, hidden: 30, tau: 10, direct: false, normalized: false, maxRecStep: 0 };
  const s = runSim(old);
  t.truthy(s.diverged?.[0]);
  t.regex(formatSim(s), /seed 1 diverged \((nan|exploded|saturated)\): .*--lr-rec/);
  // lr_rec 0.1 at the stream defaults (tau 1.25, gain 0.9, D, the RLS readout, a bound on each recurrent step) stays sane.
  const safe = runSim({ task: 'drift', learner: 'rflo', seeds: [1], steps: 5000, lrRec: 0.1 });
  t.is(safe.diverged?.[0], false, "a seed that did not diverge says false, not null");
  t.true(safe.nmse[0] < 1, `NMSE ${safe.nmse[0]}`);
});
