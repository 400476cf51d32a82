/**
 * The live learning loop's yardsticks (persistence, NLMS-AR p 8) and divergence guard (restore the last good state,
 * halve the learning rates, go on), without a board: wire integers straight into firmware-bridge/learning-loop.ts.
 */
import test from 'ava';
import { allocationSites, allocationWindows, oneCleanWindow } from './helpers/gc.ts';
import { LearningLoop, type LiveDivergence } from '../firmware-bridge/learning-loop.ts';
import { createFixedLearner, type FixedLearner } from '../runtime/learner.ts';
import { initWeights } from '../runtime/init.ts';
import { createNlmsAr, liveYardsticks } from '../sim/baselines.ts';
import { createFloatLearner } from '../sim/reference/index.ts';
import { checkpointFor } from '../sim/engine.ts';
import { divergenceLine } from '../sim/report.ts';
import type { LearnerOptions } from '../runtime/types.ts';
import { SAT } from '../runtime/layout.ts';

const M = 3;
const shape = { inputs: M, hidden: 12, outputs: 1, tau: 1 };
const options = (lr: number, learner: LearnerOptions['learner'] = 'rflo', tau = 1): LearnerOptions => ({ ...shape, tau, learner, lrRec: lr, lrOut: lr, update: 'step', trialLength: 1 });
const weights = (tau = 1) => initWeights({ ...shape, tau, seed: 3, gain: 1.2 });
const arena = (l: FixedLearner) => new Uint8Array(l.arena, l.arenaOffset, l.plan.totalBytes).slice();

/** Sample k of a board-like stream in Q3.12 wire integers: three sinusoids, the target a mix of them. */
function sample(k: number, x: Int16Array, tg: Int16Array): void {
  let mix = 0;
  for (let j = 0; j < M; j++) {
    const v = 0.8 * Math.sin((2 * Math.PI * k) / (37 + 23 * j) + j);
    x[j] = Math.round(v * 4096);
    mix += (j + 1) * v;
  }
  tg[0] = Math.round((mix / 6) * 4096);
}

test('a learner at a huge rate diverges; the guard restores the state saved at restoredFrom, halves both rates, and the stream goes on', (t) => {
  // At tau 2 and lr 0.2 this learner runs sanely for about 10^4 samples, then explodes: the restored state is a
  // saved one, not the initial one.
  const lr = 0.2;
  const l = createFixedLearner(options(lr, 'rflo', 2), weights(2), { backend: 'js' });
  // A twin stepped on the same integers records the arena at every window end, to check what was restored.
  const twin = createFixedLearner(options(lr, 'rflo', 2), weights(2), { backend: 'js' });
  const states = new Map<number, Uint8Array>([[0, arena(twin)]]);
  const seen: LiveDivergence[] = [];
  const loop = new LearningLoop({ learner: l, inputs: M, outputs: 1, guard: { checkpoint: checkpointFor(l), onDivergence: (d) => seen.push(d) }, yardsticks: liveYardsticks(M, 1) });
  const x = new Int16Array(M);
  const tg = new Int16Array(1);
  const pred = new Int16Array(1);
  const tw = new Int16Array(1);
  let k = 0;
  let restoredArena: Uint8Array | null = null;
  for (; k < 20000 && seen.length === 0; k++) {
    sample(k, x, tg);
    loop.step(k, x, tg, pred);
    twin.stepQ(x, tg, tw);
    if ((k + 1) % 1000 === 0) states.set(k + 1, arena(twin));
    if (seen.length > 0) restoredArena = arena(loop.learner as FixedLearner);
  }
  t.is(seen.length, 1, `diverged within ${k} samples`);
  const d = seen[0];
  t.log(divergenceLine('run', 'rflo', d).trim());
  t.true(['exploded', 'saturated', 'weights'].includes(d.kind), d.kind);
  t.is(d.fromLrRec, lr);
  t.is(d.lrRec, lr / 2);
  t.is(d.lrOut, lr / 2);
  t.is(loop.learner!.options.lrRec, lr / 2);
  t.not(loop.learner, l, 'a new learner with the halved rates steps from now on');
  t.is(loop.divergences, 1);
  t.true(d.restoredFrom > 0 && d.restoredFrom < d.at && d.at - d.restoredFrom <= 2000, `restored from ${d.restoredFrom}, diverged at ${d.at}`);
  t.deepEqual(restoredArena, states.get(d.restoredFrom), 'the restored arena is the state at restoredFrom, byte for byte');
  t.regex(divergenceLine('run', 'rflo', d), /^run: rflo diverged \(\w+\) at sample \d+: .+; restored its last good state .+halved the learning rates: lr_rec 0\.1, lr_out 0\.1 \(divergence 1\); learning goes on\n$/);
  // The stream goes on with the restored learner: it steps, predicts and is scored.
  const scored = loop.nmse.count;
  for (let j = 0; j < 3000; j++, k++) {
    sample(k, x, tg);
    t.true(loop.step(k, x, tg, pred));
  }
  t.is(loop.nmse.count, scored + 3000);
  t.true(Number.isFinite(loop.nmse.value));
  t.true(loop.divergences >= 1 && loop.learner!.options.lrRec === lr / 2 ** loop.divergences, `${loop.divergences} divergences, lr_rec ${loop.learner!.options.lrRec}`);
});

test('a learner at sane rates is never called diverged over 20000 samples (fixed and float)', (t) => {
  for (const engine of ['fixed', 'float'] as const) {
    const l = engine === 'fixed' ? createFixedLearner(options(0.01), weights(), { backend: 'js' }) : createFloatLearner(options(0.01), weights());
    const loop = new LearningLoop({ learner: l, inputs: M, outputs: 1, guard: { checkpoint: checkpointFor(l) }, yardsticks: liveYardsticks(M, 1) });
    const x = new Int16Array(M);
    const tg = new Int16Array(1);
    const pred = new Int16Array(1);
    for (let k = 0; k < 20000; k++) {
      sample(k, x, tg);
      loop.step(k, x, tg, pred);
    }
    t.is(loop.divergences, 0, engine);
    t.is(loop.learner, l, engine);
  }
});

test('the float twin diverging to NaN is restored at once from its saved weights with halved rates', (t) => {
  const l = createFloatLearner(options(40, 'output'), weights());
  const seen: LiveDivergence[] = [];
  const loop = new LearningLoop({ learner: l, inputs: M, outputs: 1, guard: { checkpoint: checkpointFor(l), onDivergence: (d) => seen.push(d) } });
  const x = new Int16Array(M);
  const tg = new Int16Array(1);
  const pred = new Int16Array(1);
  let k = 0;
  for (; k < 5000 && seen.length === 0; k++) {
    sample(k, x, tg);
    loop.step(k, x, tg, pred);
  }
  t.true(seen.length === 1, `diverged within ${k} samples`);
  t.true(['nan', 'exploded'].includes(seen[0].kind), seen[0].kind);
  t.is(loop.learner!.options.lrOut, 20);
  const w = loop.learner!.getWeights();
  t.true([...w.W_out].every(Number.isFinite), 'the restored weights are finite');
});

test('persistence and NLMS-AR are scored on the samples the learner sees: the last target, and sim/baselines.ts stepped on the same x', (t) => {
  const l = createFixedLearner(options(0.01), weights(), { backend: 'js' });
  const loop = new LearningLoop({ learner: l, inputs: M, outputs: 1, yardsticks: liveYardsticks(M, 1) });
  const ref = createNlmsAr({ inputs: M, outputs: 1, lags: 8, mu: 0.5 });
  const x = new Int16Array(M);
  const tg = new Int16Array(1);
  const pred = new Int16Array(1);
  const xr = new Float64Array(M);
  const yr = new Float64Array(1);
  let last = 0;
  let pse = 0;
  let lse = 0;
  let s = 0;
  let s2 = 0;
  const n = 4000;
  for (let k = 0; k < n; k++) {
    sample(k, x, tg);
    loop.step(k, x, k % 5 === 4 ? null : tg, pred);
    for (let j = 0; j < M; j++) xr[j] = x[j] / 4096;
    const tr = tg[0] / 4096;
    ref.step(xr, k % 5 === 4 ? null : [tr], yr);
    if (k % 5 === 4) continue; // inference only: not scored, the regressor still moves on
    t.is(loop.yardstickY[0][0], yr[0]);
    t.is(loop.persistenceY[0], last);
    pse += (tr - last) ** 2;
    lse += (tr - yr[0]) ** 2;
    s += tr;
    s2 += tr * tr;
    last = tr;
  }
  const scored = (n * 4) / 5;
  const v = s2 - (s * s) / scored;
  const sc = loop.scores();
  t.is(sc.samples, scored);
  t.true(Math.abs(sc.persistence! - pse / v) < 1e-12, `${sc.persistence} vs ${pse / v}`);
  t.true(Math.abs(sc.yardsticks[0]! - lse / v) < 1e-12, `${sc.yardsticks[0]} vs ${lse / v}`);
  t.true(sc.yardsticks[0]! < sc.persistence!, 'NLMS-AR learns the mix');
  t.is(loop.persistenceNmse.count, scored);
});

test('the guarded loop with yardsticks allocates nothing per sample: no collection and a flat heap over 10^5 samples', async (t) => {
  const l = createFixedLearner(options(0.01), weights(), { backend: 'js' });
  const loop = new LearningLoop({ learner: l, inputs: M, outputs: 1, guard: { checkpoint: checkpointFor(l) }, yardsticks: liveYardsticks(M, 1) });
  const x = new Int16Array(M);
  const tg = new Int16Array(1);
  const pred = new Int16Array(1);
  // Precomputed samples, so that the measured loop does only the loop's work.
  const xs = new Int16Array(4096 * M);
  const ts = new Int16Array(4096);
  for (let k = 0; k < 4096; k++) {
    sample(k, x, tg);
    xs.set(x, k * M);
    ts[k] = tg[0];
  }
  const run = (from: number, n: number): void => {
    for (let k = from; k < from + n; k++) {
      const i = k & 4095;
      for (let j = 0; j < M; j++) x[j] = xs[i * M + j];
      tg[0] = ts[i];
      loop.step(k, x, tg, pred);
    }
  };
  // test/helpers/gc.ts: settle, then three windows after a full collection, one GC-free and flat; and the sampling
  // heap profiler over the settled loop, which names what allocates.
  let k = 0;
  const steps = (n: number): void => {
    run(k, n);
    k += n;
  };
  const r = await allocationWindows(steps, () => k);
  const sites = await allocationSites(steps);
  t.log(`GC events ${r.events.join(', ')}, heap change ${r.grew.join(', ')} bytes (extra warm-up rounds ${r.rounds}); sampled: ${sites.project.toFixed(3)} bytes a sample by the project's code, largest sites ${sites.top}`);
  t.is(loop.divergences, 0);
  t.true(oneCleanWindow(r), `GC events ${r.events.join(', ')}; heap grew ${r.grew.join(', ')} bytes; allocated by ${sites.top}`);
  t.true(sites.project < 1, `the project's code allocates ${sites.project.toFixed(2)} bytes a sample: ${sites.top}`);
});

test('master weights that saturate in 3 consecutive windows count as diverged ("weights"); in 2, or with a healthy window between, they do not', (t) => {
  const l = createFixedLearner(options(0.01), weights(), { backend: 'js' });
  const seen: LiveDivergence[] = [];
  const loop = new LearningLoop({ learner: l, inputs: M, outputs: 1, guard: { checkpoint: checkpointFor(l), onDivergence: (d) => seen.push(d) } });
  const x = new Int16Array(M);
  const tg = new Int16Array(1);
  const pred = new Int16Array(1);
  let k = 0;
  // One saturation event of W_out in window w when hits[w] (as the kernel counts a clamp of a master weight).
  const windows = (hits: boolean[]): void => {
    for (const hit of hits) {
      for (let j = 0; j < 1000; j++, k++) {
        if (hit && j === 500) (loop.learner as FixedLearner).state.saturation[SAT.W_out]++;
        sample(k, x, tg);
        loop.step(k, x, tg, pred);
      }
    }
  };
  windows([true, true, false, true, true, false]);
  t.is(seen.length, 0, 'never three in a row');
  windows([true, true, true]);
  t.is(seen.length, 1);
  t.is(seen[0].kind, 'weights');
  t.regex(seen[0].detail, /saturation bound .+ each of the last 3 windows/);
  t.is(seen[0].at, 9000);
  t.is(seen[0].restoredFrom, 7000);
  t.is(loop.learner!.options.lrOut, 0.005);
});
