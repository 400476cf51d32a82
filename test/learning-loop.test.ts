import test from 'ava';
import { LearningLoop } from '../firmware-bridge/learning-loop.ts';
import { createFixedLearner } from '../runtime/learner.ts';
import { initWeights } from '../runtime/init.ts';
import { createScaler } from '../runtime/scaler.ts';
import { RunningNmse } from '../runtime/metrics.ts';
import { createRng, rngNextU32 } from '../runtime/rng.ts';
import { SyntheticSignal } from '../sim/board/signals.ts';

const opts = { learner: 'rflo', inputs: 2, hidden: 8, outputs: 2, tau: 5, lrRec: 0.02, lrOut: 0.05, update: 'step', trialLength: 1 } as const;
const w = () => initWeights({ inputs: 2, hidden: 8, outputs: 2, tau: 5, seed: 9 });
const arena = (l: ReturnType<typeof createFixedLearner>) => new Uint8Array(l.arena, l.arenaOffset, l.plan.totalBytes);

test('Q3.12 wire samples reach stepQ unchanged: predictions and the arena equal a learner stepped on the same integers', (t) => {
  const viaLoop = createFixedLearner(opts, w(), { backend: 'js' });
  const direct = createFixedLearner(opts, w(), { backend: 'js' });
  const loop = new LearningLoop({ learner: viaLoop, inputs: 2, outputs: 2 });
  const rng = createRng(4);
  const x = new Int16Array(2);
  const tg = new Int16Array(2);
  const pred = new Int16Array(2);
  const want = new Int16Array(2);
  for (let k = 0; k < 500; k++) {
    for (let j = 0; j < 2; j++) x[j] = (rngNextU32(rng) & 0x3fff) - 0x2000;
    for (let j = 0; j < 2; j++) tg[j] = (rngNextU32(rng) & 0x1fff) - 0x1000;
    const learn = k % 4 !== 3;
    t.true(loop.step(k, x, learn ? tg : null, pred));
    direct.stepQ(x, learn ? tg : null, want);
    if (pred[0] !== want[0] || pred[1] !== want[1]) {
      t.fail(`step ${k}: loop ${pred}, direct ${want}`);
      return;
    }
  }
  t.deepEqual(arena(viaLoop), arena(direct));
  t.true(Number.isFinite(loop.nmse.value));
  t.is(loop.nmse.count, 375);
});

test('other wire formats are requantized to Q3.12 by the named rounding (half up), predictions back to the stream format', (t) => {
  const l = createFixedLearner(opts, w(), { backend: 'js' });
  const twin = createFixedLearner(opts, w(), { backend: 'js' });
  const loop = new LearningLoop({ learner: l, inputs: 2, outputs: 2, inputFrac: 14, targetFrac: 14, predictionFrac: 10 });
  const pred = new Int16Array(2);
  const y = new Int16Array(2);
  const x = [6, -6];
  loop.step(0, x, [10, -10], pred);
  // Q2.14 -> Q3.12: round half up of v / 4 (6 / 4 = 1.5 -> 2, -6 / 4 = -1.5 -> -1; 10 / 4 = 2.5 -> 3, -2.5 -> -2).
  twin.stepQ([2, -1], [3, -2], y);
  t.deepEqual(arena(l), arena(twin));
  t.deepEqual([...pred], [...y].map((v) => Math.floor(v / 4 + 0.5)));
});

test('with a scaler, raw counts become the input format in the scaler only; a rejected sample is not learned from', (t) => {
  const l = createFixedLearner(opts, w(), { backend: 'js' });
  const twin = createFixedLearner(opts, w(), { backend: 'js' });
  const scaler = createScaler({ channels: 2, mode: 'range', min: 0, max: 1023 });
  const twinScaler = createScaler({ channels: 2, mode: 'range', min: 0, max: 1023 });
  const loop = new LearningLoop({ learner: l, inputs: 2, outputs: 2, scaler });
  const pred = new Int16Array(2);
  const xq = new Int16Array(2);
  const y = new Int16Array(2);
  for (let k = 0; k < 50; k++) {
    const raw = [(k * 37) % 1024, (k * 91) % 1024];
    loop.step(k, raw, [k % 7, -(k % 5)], pred);
    t.true(twinScaler.scaleQ(raw, xq));
    twin.stepQ(xq, [k % 7, -(k % 5)], y);
    t.deepEqual([...pred], [...y]);
  }
  const before = arena(l).slice();
  t.false(loop.step(50, [2000, 5], [0, 0], pred), 'out of range: rejected');
  t.is(loop.rejected, 1);
  t.deepEqual(arena(l), before);
  t.deepEqual([...pred], [0, 0]);
});

test('RunningNmse: 1 for predicting the running mean of a random target, 0 for a perfect predictor, NaN before data', (t) => {
  const perfect = new RunningNmse(1, 100);
  const mean = new RunningNmse(1, 100);
  t.true(Number.isNaN(perfect.value));
  const rng = createRng(1);
  let m = 0;
  for (let k = 0; k < 20000; k++) {
    const v = (rngNextU32(rng) / 2 ** 32) * 2 - 1;
    perfect.add([v], [v]);
    mean.add([v], [m]);
    m += (v - m) / 100;
  }
  t.is(perfect.value, 0);
  t.true(Math.abs(mean.value - 1) < 0.1, `mean predictor NMSE ${mean.value}`);
});

test('the live outlier guard rejects nothing in clean virtual-board streams, whatever sample a session starts at', (t) => {
  // A session starts at the board's next sequence number, so the guard first sees any stretch of the signal. Seed 1
  // from sample 100 (the 2 kHz mix scenario) opens on a flat stretch of a channel that then falls fast: judged
  // against the spread of its first three readings, 15 clean readings were held (the board-cli run in CI). The
  // heater's target opens at an equilibrium, flat to one count, before the drive steps; its drive holds a level for
  // 40 samples, then steps by up to its whole range (the glitches the guard does catch: test/live-bad-readings.test.ts).
  const q12 = (v: number): number => Math.max(-32767, Math.min(32767, Math.round(v * 4096)));
  const x = new Float64Array(3);
  const tg = new Float64Array(1);
  const xq = new Int16Array(3);
  const tq = new Int16Array(1);
  const pred = new Int16Array(1);
  let runs = 0;
  for (const scenario of ['mix', 'heater'] as const) {
    for (const seed of [1, 2, 3, 4]) {
      const signal = new SyntheticSignal({ channels: 3, outputs: 1, rateHz: 2000, seed, driftEvery: 0, scenario });
      for (let start = 0; start <= 1600; start += 100) {
        const loop = new LearningLoop({ learner: null, inputs: 3, outputs: 1 });
        for (let n = start; n < start + 3000; n++) {
          signal.sample(n, x, tg);
          for (let j = 0; j < 3; j++) xq[j] = q12(x[j]);
          tq[0] = q12(tg[0]);
          loop.step(n, xq, tq, pred);
        }
        runs++;
        if (loop.inputOutliers + loop.targetOutliers > 0) {
          t.fail(`${scenario} seed ${seed} from sample ${start}: ${loop.inputOutliers} input and ${loop.targetOutliers} target readings rejected`);
          return;
        }
      }
    }
  }
  t.is(runs, 136);
});
