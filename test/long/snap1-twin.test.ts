/**
 * Fixed-point SnAp-1 against its float64 twin on Murray's periodic task (N = 30, tau 10, 5000 trials, end-of-trial
 * updates), over seeds 101-110, which no other test uses (runtime/ARITHMETIC.md, "SnAp-1's decay above 1, and what
 * one seed at lr 0.3 can show").
 *
 * At lr 0.3 the learning trajectories are chaotic: the float twin started from weights rounded to Q7.24 (what the
 * fixed engine starts from) lands up to 47x away from the unrounded twin on one seed, so a per-seed bar there
 * measures the draw, not the arithmetic. What the arithmetic must do at lr 0.3 is not make things worse than that:
 * the fixed engine's median is no worse than its twin's (one-sided 5 %), and it has no more seeds more than 2x
 * worse than the float twin than the rounded-start float twin has. That fails when the fixed arithmetic biases
 * learning (as the decay clamped at 1 did: traces 8 % and gradients 15 % off once units passed phi' W_aa = 1).
 * At lr 0.1 (the periodic default for SnAp-1) the trajectories are far less sensitive and the per-seed bar holds:
 * no seed more than 2x worse than its twin, and the median no worse than the twin's.
 * Takes several minutes (one test per seed, so AVA's inactivity timeout sees progress; lr 0.1 is in
 * snap1-twin-lr01.test.ts so the two run in parallel): `npm run test:long`.
 */
import test from 'ava';
import { initWeights } from '../../runtime/init.ts';
import { createLearner } from '../../sim/engine.ts';
import { runTrials } from '../../sim/tasks/run.ts';
import { createPeriodicTask } from '../../sim/tasks/periodic.ts';
import { median } from '../runtime-periodic.ts';

const SEEDS = [101, 102, 103, 104, 105, 106, 107, 108, 109, 110];
const TRIALS = 5000;

/** Test NMSE after TRIALS trials; `roundInit` rounds the initial weights to Q7.24 (float engine only). */
function run(engine: 'fixed' | 'float', lr: number, seed: number, roundInit = false): number {
  const w = initWeights({ inputs: 0, hidden: 30, outputs: 1, tau: 10, seed, gain: 1.5 });
  if (roundInit) for (const a of [w.W_rec, w.W_out, w.b, w.h0, w.B]) for (let i = 0; i < a.length; i++) a[i] = Math.round(a[i] * 2 ** 24) / 2 ** 24;
  const l = createLearner(engine, { learner: 'snap1', inputs: 0, hidden: 30, outputs: 1, tau: 10, lrRec: lr, lrOut: lr, update: 'trial', trialLength: 200 }, w);
  return runTrials(l, createPeriodicTask({}), { trials: TRIALS, curvePoints: 1 }).nmse;
}

function table(rows: [number, ...number[]][]): string {
  return rows.map(([s, ...v]) => `seed ${s}: ${v.map((x) => x.toPrecision(3)).join(' / ')}`).join('\n');
}

const worse2x = (a: number[], ref: number[]) => a.filter((v, i) => v > 2 * ref[i]).length;

const fx: number[] = [];
const fl: number[] = [];
const ctl: number[] = [];

for (const seed of SEEDS) {
  test.serial(`lr 0.3, seed ${seed}: fixed, float and the float twin from a Q7.24-rounded start all learn (NMSE < 0.1)`, (t) => {
    const r: [number, number, number] = [run('fixed', 0.3, seed), run('float', 0.3, seed), run('float', 0.3, seed, true)];
    fx.push(r[0]);
    fl.push(r[1]);
    ctl.push(r[2]);
    t.log(`fixed / float / float from a Q7.24-rounded start: ${r.map((v) => v.toPrecision(3)).join(' / ')}`);
    for (const v of r) t.true(Number.isFinite(v) && v < 0.1, `NMSE ${v}`);
  });
}

test.serial('lr 0.3: fixed-point SnAp-1 is no worse than its float twin, beyond what the float twin shows from a Q7.24-rounded start', (t) => {
  t.is(fx.length, SEEDS.length);
  t.log(`fixed / float / float from a Q7.24-rounded start\n${table(SEEDS.map((s, i) => [s, fx[i], fl[i], ctl[i]]))}`);
  t.log(`median ${median(fx).toPrecision(3)} / ${median(fl).toPrecision(3)} / ${median(ctl).toPrecision(3)}; seeds > 2x worse than float: fixed ${worse2x(fx, fl)}, control ${worse2x(ctl, fl)}`);
  t.true(median(fx) <= 1.05 * median(fl), `median fixed ${median(fx)} vs float ${median(fl)}`);
  t.true(worse2x(fx, fl) <= worse2x(ctl, fl), `fixed has ${worse2x(fx, fl)} seeds > 2x worse, the float control ${worse2x(ctl, fl)}`);
});
