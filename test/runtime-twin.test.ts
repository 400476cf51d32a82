import test from 'ava';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner } from '../runtime/learner.ts';
// The TypeScript kernels (backend 'js'); test/wasm.test.ts proves the wasm backend writes the same arena.
const JS = { backend: 'js' } as const;
import type { FixedLearner } from '../runtime/learner.ts';
import { zeroGradient } from '../runtime/types.ts';
import type { LearnerKind, LearnerOptions, ModelWeights } from '../runtime/types.ts';
import { createFloatLearner } from '../sim/reference/index.ts';
import { createDriftTask } from '../sim/tasks/drift.ts';

/** Weights rounded to what the fixed engine's forward pass uses (Q3.12; h0 Q1.15), so both engines start equal. */
function representable(w: ModelWeights): ModelWeights {
  const q = (a: Float64Array, f: number) => a.map((v) => Math.floor(v * 2 ** f + 0.5) / 2 ** f);
  return { ...w, W_in: q(w.W_in, 12), W_rec: q(w.W_rec, 12), b: q(w.b, 12), W_out: q(w.W_out, 12), B: q(w.B, 12), h0: q(w.h0, 15) };
}

function options(kind: LearnerKind, N: number, M: number, O: number): LearnerOptions {
  return { learner: kind, inputs: M, hidden: N, outputs: O, tau: 10, lrRec: 0.03, lrOut: 0.03, update: 'trial', trialLength: 100 };
}

function relErr(a: Float64Array, b: Float64Array): number {
  let n = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    n += (a[i] - b[i]) ** 2;
    d += b[i] ** 2;
  }
  return d === 0 ? Math.sqrt(n) : Math.sqrt(n / d);
}

for (const kind of ['rtrl', 'rflo', 'snap1', 'output'] as const) {
  test(`one ${kind} step matches its float twin: h within 2 LSB, y within 2 LSB, update terms within 1 %`, (t) => {
    const N = 16;
    const M = 3;
    const O = 2;
    const w = representable(initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 11, h0: 0.3 }));
    const opt = options(kind, N, M, O);
    const fx = createFixedLearner(opt, w, JS);
    const fl = createFloatLearner(opt, w);
    const x = [0.5, -0.25, 0.75];
    const target = [0.5, -0.5];
    const a = new Float64Array(O);
    const b = new Float64Array(O);
    // Two steps, so traces carry a nonzero previous value into the second.
    for (let s = 0; s < 2; s++) {
      fx.step(x, target, a);
      fl.step(x, target, b);
    }
    const ha = fx.readHidden(new Float64Array(N));
    const hb = fl.readHidden(new Float64Array(N));
    let hErr = 0;
    for (let i = 0; i < N; i++) hErr = Math.max(hErr, Math.abs(ha[i] - hb[i]) * 32768);
    let yErr = 0;
    for (let o = 0; o < O; o++) yErr = Math.max(yErr, Math.abs(a[o] - b[o]) * 4096);
    const ga = fx.readGradient(zeroGradient(opt));
    const gb = fl.readGradient(zeroGradient(opt));
    const errs = { W_rec: relErr(ga.W_rec, gb.W_rec), W_in: relErr(ga.W_in, gb.W_in), b: relErr(ga.b, gb.b), W_out: relErr(ga.W_out, gb.W_out) };
    t.log(`h ${hErr.toFixed(2)} LSB, y ${yErr.toFixed(2)} LSB, terms rel. error ${JSON.stringify(errs, (_k, v) => (typeof v === 'number' ? +v.toExponential(2) : v))}`);
    t.true(hErr <= 2, `h error ${hErr} LSB`);
    t.true(yErr <= 2, `y error ${yErr} LSB`);
    for (const [k, v] of Object.entries(errs)) t.true(v <= 0.01, `${k} relative error ${v}`);
  });
}

for (const kind of ['rtrl', 'rflo', 'snap1', 'output'] as const) {
  test(`one ${kind} step with direct (y = W_out h + D x) matches its float twin: y within 2 LSB, D's term and step update within 1 %`, (t) => {
    const N = 16;
    const M = 3;
    const O = 2;
    const w = representable(initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 11, h0: 0.3 }));
    w.D = Float64Array.from([0.5, -0.25, 0.125, -0.75, 0.3125, 0.0625]);
    const x = [0.5, -0.25, 0.75];
    const target = [0.5, -0.5];
    const a = new Float64Array(O);
    const b = new Float64Array(O);
    // 'trial' mode: the accumulated terms (readGradient) after two steps.
    const opt: LearnerOptions = { ...options(kind, N, M, O), direct: true };
    const fx = createFixedLearner(opt, w, JS);
    const fl = createFloatLearner(opt, w);
    for (let s = 0; s < 2; s++) {
      fx.step(x, target, a);
      fl.step(x, target, b);
    }
    let yErr = 0;
    for (let o = 0; o < O; o++) yErr = Math.max(yErr, Math.abs(a[o] - b[o]) * 4096);
    const ga = fx.readGradient(zeroGradient(opt));
    const gb = fl.readGradient(zeroGradient(opt));
    const termErr = relErr(ga.D as Float64Array, gb.D as Float64Array);
    const outErr = relErr(ga.W_out, gb.W_out);
    // 'step' mode: D's change over two steps (lrOut 0.03 per step), in Q7.24 LSB and relative.
    const optStep: LearnerOptions = { ...opt, update: 'step', trialLength: 1 };
    const sx = createFixedLearner(optStep, w, JS);
    const sl = createFloatLearner(optStep, w);
    for (let s = 0; s < 2; s++) {
      sx.step(x, target, a);
      sl.step(x, target, b);
    }
    const D0 = w.D;
    const dx = (sx.getWeights().D as Float64Array).map((v, i) => v - D0[i]);
    const dl = (sl.getWeights().D as Float64Array).map((v, i) => v - D0[i]);
    let lsb = 0;
    for (let i = 0; i < dx.length; i++) lsb = Math.max(lsb, Math.abs(dx[i] - dl[i]) * 2 ** 24);
    const stepErr = relErr(dx, dl);
    t.log(
      `y ${yErr.toFixed(2)} LSB (Q3.12); D term rel. error ${termErr.toExponential(2)}, W_out ${outErr.toExponential(2)}; ` +
        `D step update rel. error ${stepErr.toExponential(2)}, worst ${lsb.toFixed(1)} LSB of Q7.24 (update ~${(Math.max(...dl.map(Math.abs)) * 2 ** 24).toFixed(0)} LSB)`,
    );
    t.true(yErr <= 2, `y error ${yErr} LSB`);
    t.true(termErr <= 0.01, `D term relative error ${termErr}`);
    t.true(outErr <= 0.01, `W_out term relative error ${outErr}`);
    t.true(stepErr <= 0.01, `D step update relative error ${stepErr}`);
    t.true(dl.some((v) => v !== 0), 'the float twin moved D');
  });
}

for (const kind of ['rflo', 'output'] as const) {
  for (const direct of [false, true]) {
    test(`one ${kind} step with the normalised readout${direct ? ' and direct' : ''} (NLMS) matches its float twin: W_out's and D's step updates within 1 %, and in LSB of Q7.24`, (t) => {
      const N = 16;
      const M = 3;
      const O = 2;
      const w = representable(initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 11, h0: 0.3 }));
      if (direct) w.D = Float64Array.from([0.5, -0.25, 0.125, -0.75, 0.3125, 0.0625]);
      const x = [0.5, -0.25, 0.75];
      const target = [0.5, -0.5];
      const a = new Float64Array(O);
      const b = new Float64Array(O);
      // lrOut 0.5 per step, eps 1e-3: two steps in 'step' mode.
      const opt: LearnerOptions = { ...options(kind, N, M, O), update: 'step', trialLength: 1, lrOut: 0.5, direct, normalizedReadout: true, readoutEps: 1e-3 };
      const fx = createFixedLearner(opt, w, JS);
      const fl = createFloatLearner(opt, w);
      for (let s = 0; s < 2; s++) {
        fx.step(x, target, a);
        fl.step(x, target, b);
      }
      const gx = fx.getWeights();
      const gl = fl.getWeights();
      const report: string[] = [];
      for (const name of direct ? ['W_out', 'D'] as const : ['W_out'] as const) {
        const w0 = w[name] as Float64Array;
        const dx = (gx[name] as Float64Array).map((v, i) => v - w0[i]);
        const dl = (gl[name] as Float64Array).map((v, i) => v - w0[i]);
        let lsb = 0;
        for (let i = 0; i < dx.length; i++) lsb = Math.max(lsb, Math.abs(dx[i] - dl[i]) * 2 ** 24);
        const rel = relErr(dx, dl);
        report.push(`${name} step update rel. error ${rel.toExponential(2)}, worst ${lsb.toFixed(1)} LSB of Q7.24 (update ~${(Math.max(...dl.map(Math.abs)) * 2 ** 24).toFixed(0)} LSB)`);
        t.true(rel <= 0.01, `${name} step update relative error ${rel}`);
        t.true(dl.some((v) => v !== 0), `the float twin moved ${name}`);
      }
      t.log(report.join('; '));
    });
  }
}

test('RTRL gradient over a 50-step sequence matches the float twin within 1 %', (t) => {
  const N = 8;
  const M = 2;
  const O = 2;
  const w = representable(initWeights({ inputs: M, hidden: N, outputs: O, tau: 5, seed: 3 }));
  const opt: LearnerOptions = { ...options('rtrl', N, M, O), tau: 5, lrRec: 0, lrOut: 0 };
  const fx = createFixedLearner(opt, w, JS);
  const fl = createFloatLearner(opt, w);
  const out = new Float64Array(O);
  for (let s = 0; s < 50; s++) {
    const x = [Math.sin(s / 3), Math.cos(s / 5) * 0.5];
    const y = [Math.sin(s / 4) * 0.5, 0.2];
    fx.step(x, y, out);
    fl.step(x, y, out);
  }
  const ga = fx.readGradient(zeroGradient(opt));
  const gb = fl.readGradient(zeroGradient(opt));
  const e = [relErr(ga.W_rec, gb.W_rec), relErr(ga.W_in, gb.W_in), relErr(ga.b, gb.b), relErr(ga.W_out, gb.W_out)];
  t.log(`relative errors W_rec, W_in, b, W_out: ${e.map((v) => v.toExponential(2)).join(', ')}`);
  for (const v of e) t.true(v <= 0.01);
});

for (const [label, round] of [
  ['weights representable in Q3.12', true],
  ['unrounded float64 weights (the forward pass reads the Q7.24 masters)', false],
] as const) {
test(`10^4 forward steps without learning keep the hidden state within 60 dB SNR of float64 (${label})`, (t) => {
  // A driven, contracting network (gain 0.8): with gain 1.5 the autonomous dynamics are chaotic and any rounding
  // difference grows until the trajectories are unrelated, which says nothing about the arithmetic.
  const N = 32;
  const M = 2;
  const O = 1;
  const w0 = initWeights({ inputs: M, hidden: N, outputs: O, tau: 10, seed: 5, gain: 0.8 });
  const w = round ? representable(w0) : w0;
  const opt = options('output', N, M, O);
  const fx = createFixedLearner(opt, w, JS);
  const fl = createFloatLearner(opt, w);
  const out = new Float64Array(O);
  const ha = new Float64Array(N);
  const hb = new Float64Array(N);
  const x = new Float64Array(M);
  let sig = 0;
  let noise = 0;
  let worst = 0;
  for (let s = 0; s < 10000; s++) {
    x[0] = Math.floor(Math.sin(s / 17) * 4096 + 0.5) / 4096;
    x[1] = Math.floor(Math.sin(s / 29 + 1) * 0.5 * 4096 + 0.5) / 4096;
    fx.step(x, null, out);
    fl.step(x, null, out);
    fx.readHidden(ha);
    fl.readHidden(hb);
    for (let i = 0; i < N; i++) {
      sig += hb[i] ** 2;
      noise += (ha[i] - hb[i]) ** 2;
      worst = Math.max(worst, Math.abs(ha[i] - hb[i]) * 32768);
    }
  }
  const snr = 10 * Math.log10(sig / noise);
  t.log(`hidden-state SNR ${snr.toFixed(1)} dB over 10^4 steps, worst error ${worst.toFixed(1)} LSB`);
  t.true(snr >= 60, `SNR ${snr} dB`);
});
}

function runDeterministic(kind: LearnerKind): FixedLearner {
  const N = kind === 'rtrl' ? 6 : 16;
  const w = initWeights({ inputs: 2, hidden: N, outputs: 2, tau: 10, seed: 42 });
  const l = createFixedLearner({ ...options(kind, N, 2, 2), update: 'step', lrRec: 0.01, lrOut: 0.01, trialLength: 10 }, w, JS);
  const out = new Float64Array(2);
  const x = new Float64Array(2);
  const y = new Float64Array(2);
  for (let s = 0; s < 10000; s++) {
    x[0] = Math.sin(s / 7);
    x[1] = Math.cos(s / 13);
    y[0] = Math.sin(s / 9);
    y[1] = 0.5 * Math.cos(s / 4);
    l.step(x, y, out);
  }
  return l;
}

for (const kind of ['rtrl', 'rflo', 'snap1', 'output'] as const) {
  test(`${kind}: the same seed gives bit-identical weights and state after 10^4 learning steps in two runs`, (t) => {
    const a = new Uint8Array(runDeterministic(kind).arena);
    const b = new Uint8Array(runDeterministic(kind).arena);
    t.is(a.length, b.length);
    let first = -1;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) { first = i; break; }
    t.is(first, -1, `first differing arena byte ${first}`);
  });
}

test('on the drift stream (5000 samples, RFLO N 32, tau 2, normalised readout lr_out 0.5, D) the fixed engine tracks its float twin: prediction MSE within 2 % and below persistence', (t) => {
  const task = createDriftTask({ seed: 1, channels: 3, steps: 5000 });
  const M = task.inputs;
  const O = task.outputs;
  const w = initWeights({ inputs: M, hidden: 32, outputs: O, tau: 2, seed: 1, gain: 0.9 });
  const opt: LearnerOptions = { learner: 'rflo', inputs: M, hidden: 32, outputs: O, tau: 2, lrRec: 0.003, lrOut: 0.5, update: 'step', trialLength: 1, direct: true, normalizedReadout: true };
  const fx = createFixedLearner(opt, w, JS);
  const fl = createFloatLearner(opt, w);
  const x = new Float64Array(M);
  const y = new Float64Array(O);
  const a = new Float64Array(O);
  const b = new Float64Array(O);
  const pers = new Float64Array(O);
  let ex = 0;
  let el = 0;
  let ep = 0;
  while (task.next(x, y)) {
    task.persistence(pers);
    fx.step(x, y, a);
    fl.step(x, y, b);
    for (let o = 0; o < O; o++) {
      ex += (a[o] - y[o]) ** 2;
      el += (b[o] - y[o]) ** 2;
      ep += (pers[o] - y[o]) ** 2;
    }
  }
  t.log(`MSE fixed ${ex.toExponential(4)}, float ${el.toExponential(4)} (ratio ${(ex / el).toFixed(4)}), persistence ${ep.toExponential(4)}`);
  t.true(Math.abs(ex / el - 1) < 0.02, `fixed / float MSE ${ex / el}`);
  t.true(ex < ep, 'the fixed learner beats persistence');
  t.true(fx.saturation().W_out === 0, 'no readout weight saturated');
});
