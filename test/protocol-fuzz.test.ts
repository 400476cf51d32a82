import test from 'ava';
import { runFuzz, scriptedStreamingSession } from '../firmware-bridge/fuzz.ts';
import { initWeights } from '../runtime/init.ts';
import { createFloatLearner } from '../sim/reference/index.ts';
import type { OnlineLearner } from '../runtime/types.ts';

// 10^5 frames here; test/long/fuzz.test.ts runs 10^6.

function learner(): OnlineLearner {
  const shape = { inputs: 2, hidden: 8, outputs: 1 };
  return createFloatLearner(
    { ...shape, learner: 'rflo', tau: 5, lrRec: 0.05, lrOut: 0.05, update: 'step', trialLength: 1 },
    initWeights({ ...shape, tau: 5, seed: 3 }),
  );
}

test('10^5 random, bit-flipped, truncated, oversized and mistyped frames are each dropped and counted, and the learner is untouched', async (t) => {
  const r = await runFuzz({ frames: 100_000, seed: 11, chunkMax: 4096, learner: learner() });
  t.log(`fuzz: ${r.counts.bytes} bytes, ${r.bad} bad frames, ${r.counts.valid} valid; dropped ${JSON.stringify(r.dropped)}`);
  t.is(r.framesDropped, r.bad, 'every bad frame is counted exactly once');
  t.is(r.dropped.overflow, r.counts.oversized + r.counts.randomOversized);
  t.true(r.dropped.badCrc >= r.counts.bitflip, 'every bit-flipped frame fails its CRC');
  t.true(r.dropped.unknownType >= r.counts.badType);
  t.is(r.dropped.outOfSequence, 0);
  t.is(r.validReceived, r.counts.valid, 'valid frames after garbage are received');
  t.is(r.stepsDuringFuzz, 0, 'no rejected frame reached the learner');
  t.true(r.learnerUnchanged, 'weights and hidden state are bit-identical after the fuzz');
  t.is(r.sessionState, 'streaming');
});

test('the framer alone survives the fuzz fed in reads of 1 to 16 bytes', async (t) => {
  const r = await runFuzz({ frames: 20_000, seed: 12, chunkMax: 16, framerOnly: true });
  t.is(r.framesDropped, r.bad);
  t.is(r.dropped.overflow, r.counts.oversized + r.counts.randomOversized);
  t.is(r.validReceived, r.counts.valid);
});

test('the scripted session used by the fuzz reaches streaming and steps the learner on in-order samples', async (t) => {
  const L = learner();
  const w0 = L.getWeights().W_out.slice();
  const s = await scriptedStreamingSession(50, L);
  t.is(s.session.currentState, 'streaming');
  t.is(s.steps(), 50);
  t.notDeepEqual(L.getWeights().W_out, w0, 'the in-order samples did train the learner');
  await s.session.stop();
});
