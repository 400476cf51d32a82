/**
 * Short version of Murray 2019's periodic-task acceptance (test/long/periodic.test.ts has the full one):
 * one seed, 1000 trials, float64. Enough to show RFLO learning its recurrent weights and beating the
 * output-only reservoir clearly; the thresholds are well inside what one seed gives (RFLO ~0.03, output ~0.6).
 */
import test from 'ava';
import { runSim } from '../sim/commands/sim.ts';

const base = { task: 'periodic' as const, seeds: [1], trials: 1000, curvePoints: 10 };

test('RFLO learns the periodic output: test NMSE <= 0.06 after 1000 trials and falling along the way', (t) => {
  const s = runSim({ ...base, learner: 'rflo' });
  t.log(`RFLO NMSE ${s.nmse[0]}; curve ${s.curve.map((p) => p.nmse.toFixed(3)).join(' ')}`);
  t.true(s.nmse[0] <= 0.06);
  t.true(s.curve[s.curve.length - 1].nmse < s.curve[0].nmse / 2);
});

test('RFLO beats the output-only baseline by more than 5x on the same seed and initial weights', (t) => {
  const rflo = runSim({ ...base, learner: 'rflo' });
  const out = runSim({ ...base, learner: 'output' });
  t.log(`RFLO ${rflo.nmse[0]}, output-only ${out.nmse[0]}`);
  t.true(out.nmse[0] >= 0.2);
  t.true(rflo.nmse[0] * 5 < out.nmse[0]);
});

test('state noise reaches the learner, and a noisy run is reproducible for its seed', (t) => {
  const quiet = runSim({ ...base, trials: 100, learner: 'rflo' });
  const a = runSim({ ...base, trials: 100, learner: 'rflo', noise: 0.01 });
  const b = runSim({ ...base, trials: 100, learner: 'rflo', noise: 0.01 });
  t.not(a.nmse[0], quiet.nmse[0]);
  t.is(a.nmse[0], b.nmse[0]);
  t.deepEqual(a.curve, b.curve);
});

test('the same seed gives the same result and another seed a different one', (t) => {
  const a = runSim({ ...base, trials: 50, learner: 'rflo', seeds: [1, 2] });
  const b = runSim({ ...base, trials: 50, learner: 'rflo', seeds: [1, 2] });
  t.deepEqual(a.nmse, b.nmse);
  t.not(a.nmse[0], a.nmse[1]);
});
