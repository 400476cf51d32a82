import test from 'ava';
import { comparePeriodic, median } from '../runtime-periodic.ts';

// Murray's periodic task, 5000 trials, 5 seeds, end-of-trial updates; medians of test NMSE, fixed vs float twin.
const SEEDS = [1, 2, 3, 4, 5];
const TRIALS = 5000;

for (const kind of ['output', 'rflo', 'snap1'] as const) {
  test(`fixed-point ${kind}: median NMSE over 5 seeds after 5000 trials is within 1.5x of the float twin's`, (t) => {
    const fx: number[] = [];
    const fl: number[] = [];
    for (const seed of SEEDS) {
      const r = comparePeriodic(kind, seed, TRIALS);
      fx.push(r.fixed);
      fl.push(r.float);
      t.log(`seed ${seed}: fixed ${r.fixed.toFixed(4)}, float ${r.float.toFixed(4)}`);
    }
    const a = median(fx);
    const b = median(fl);
    t.log(`median fixed ${a.toFixed(4)}, float ${b.toFixed(4)}, ratio ${(a / b).toFixed(3)} (goal: within 5 %)`);
    t.true(a <= 1.5 * b, `median fixed ${a} vs float ${b}`);
  });
}

test('fixed-point RTRL at N = 8 tracks its float twin: median NMSE over 5 seeds within 1.5x either way', (t) => {
  const fx: number[] = [];
  const fl: number[] = [];
  for (const seed of SEEDS) {
    const r = comparePeriodic('rtrl', seed, 2000);
    fx.push(r.fixed);
    fl.push(r.float);
    t.log(`seed ${seed}: fixed ${r.fixed.toFixed(4)}, float ${r.float.toFixed(4)}`);
  }
  const a = median(fx);
  const b = median(fl);
  t.log(`median fixed ${a.toFixed(4)}, float ${b.toFixed(4)}, ratio ${(a / b).toFixed(3)}`);
  t.true(a <= 1.5 * b && a >= b / 1.5);
});

test('negative control over 5 seeds: int16-resolution per-step updates leave RFLO unable to learn', (t) => {
  const on: number[] = [];
  const off: number[] = [];
  for (const seed of SEEDS) {
    on.push(comparePeriodic('rflo', seed, 1000, { update: 'step' }).fixed);
    off.push(comparePeriodic('rflo', seed, 1000, { update: 'step', weightFracBits: 12, updateFracBits: 12 }).fixed);
  }
  t.log(`median NMSE with master weights ${median(on).toFixed(4)}, without ${median(off).toFixed(4)}`);
  t.true(median(off) > 5 * median(on));
});
