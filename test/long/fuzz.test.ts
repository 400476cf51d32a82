import test from 'ava';
import { runFuzz } from '../../firmware-bridge/fuzz.ts';
import { initWeights } from '../../runtime/init.ts';
import { createFloatLearner } from '../../sim/reference/index.ts';

test('10^6 bad and valid frames through a streaming session: no exception, every bad frame counted, learner untouched', async (t) => {
  const shape = { inputs: 2, hidden: 8, outputs: 1 };
  const learner = createFloatLearner(
    { ...shape, learner: 'rflo', tau: 5, lrRec: 0.05, lrOut: 0.05, update: 'step', trialLength: 1 },
    initWeights({ ...shape, tau: 5, seed: 3 }),
  );
  let total = 0;
  for (const seed of [101, 102, 103, 104, 105]) {
    const r = await runFuzz({ frames: 200_000, seed, chunkMax: 1 + (seed % 5) * 1000, learner });
    total += r.counts.valid + r.bad;
    t.is(r.framesDropped, r.bad, `seed ${seed}: every bad frame is counted exactly once`);
    t.is(r.dropped.overflow, r.counts.oversized + r.counts.randomOversized, `seed ${seed}`);
    t.true(r.dropped.badCrc >= r.counts.bitflip, `seed ${seed}`);
    t.is(r.validReceived, r.counts.valid, `seed ${seed}: valid frames after garbage are received`);
    t.is(r.stepsDuringFuzz, 0, `seed ${seed}`);
    t.true(r.learnerUnchanged, `seed ${seed}: learner unchanged`);
  }
  t.is(total, 1_000_000);
});
