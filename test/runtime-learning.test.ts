import test from 'ava';
import { comparePeriodic } from './runtime-periodic.ts';

// Short versions of test/long/fixed-learning.test.ts: one seed, fewer trials.

for (const kind of ['output', 'rflo', 'snap1'] as const) {
  test(`fixed-point ${kind} learns the periodic task within 1.5x of its float twin's NMSE (one seed, 400 trials)`, (t) => {
    const { fixed, float } = comparePeriodic(kind, 1, 400);
    t.log(`${kind}: fixed NMSE ${fixed.toFixed(4)}, float ${float.toFixed(4)}, ratio ${(fixed / float).toFixed(3)}`);
    t.true(fixed <= 1.5 * float, `fixed ${fixed} vs float ${float}`);
    t.true(fixed < 0.9, 'it learned something at all');
  });
}

test('fixed-point RTRL at N = 8 tracks its float twin on the periodic task (one seed, 150 trials)', (t) => {
  const { fixed, float } = comparePeriodic('rtrl', 1, 150);
  t.log(`rtrl: fixed NMSE ${fixed.toFixed(4)}, float ${float.toFixed(4)}, ratio ${(fixed / float).toFixed(3)}`);
  t.true(fixed <= 1.5 * float && fixed >= float / 1.5, `fixed ${fixed} vs float ${float}`);
});

test('negative control: without Q7.24 master weights and guard bits (int16-resolution per-step updates) RFLO does not learn', (t) => {
  const on = comparePeriodic('rflo', 1, 400, { update: 'step' });
  const off = comparePeriodic('rflo', 1, 400, { update: 'step', weightFracBits: 12, updateFracBits: 12 });
  t.log(`step mode: Q24 master ${on.fixed.toFixed(4)}, int16 resolution ${off.fixed.toFixed(4)}, float ${on.float.toFixed(4)}`);
  t.true(on.fixed <= 1.5 * on.float);
  t.true(off.fixed > 5 * on.float, `control ${off.fixed} should fail against float ${on.float}`);
});
