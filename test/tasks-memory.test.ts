import test from 'ava';
import { createTask, mackeyGlassSeries, narma10Series, type Task } from '../sim/tasks/index.ts';
import { SyntheticSignal } from '../sim/board/signals.ts';

function collect(task: Task, n: number): { x: number[][]; t: number[][]; p: number[][] } {
  const x = new Float64Array(task.inputs);
  const tg = new Float64Array(task.outputs);
  const pr = new Float64Array(task.outputs);
  const out = { x: [] as number[][], t: [] as number[][], p: [] as number[][] };
  for (let i = 0; i < n && task.next(x, tg); i++) {
    out.x.push(Array.from(x));
    out.t.push(Array.from(tg));
    out.p.push(Array.from(task.persistence(pr)));
  }
  return out;
}

test('narma10 follows the order-10 NARMA recursion of Atiya & Parlos 2000 with u in [0, 0.5]', (t) => {
  const { x, t: y, p } = collect(createTask('narma10', { seed: 3, steps: 2000 }), 2000);
  t.is(x.length, 2000);
  for (let k = 10; k < 2000; k++) {
    // target(k) = y(k+1); target(k-1-i) = y(k-i).
    let s = 0;
    for (let i = 0; i < 10; i++) s += y[k - 1 - i][0];
    const want = 0.3 * y[k - 1][0] + 0.05 * y[k - 1][0] * s + 1.5 * x[k - 9][0] * x[k][0] + 0.1;
    t.true(Math.abs(y[k][0] - want) < 1e-12, `step ${k}`);
    t.true(x[k][0] >= 0 && x[k][0] < 0.5);
    t.is(p[k][0], y[k - 1][0]);
  }
  for (let s = 1; s <= 10; s++) t.notThrows(() => narma10Series(s, 10000));
});

test('mackey-glass (delay 17) satisfies its delay equation and stays on the chaotic attractor', (t) => {
  // Sampled every 0.1 (the integration grid): a central difference matches the right-hand side.
  const s = mackeyGlassSeries(3000, 0.1);
  const lag = 170;
  let worst = 0;
  for (let k = lag + 1; k < 2999; k++) {
    const d = (s[k + 1] - s[k - 1]) / 0.2;
    const xd = s[k - lag];
    const rhs = (0.2 * xd) / (1 + xd ** 10) - 0.1 * s[k];
    worst = Math.max(worst, Math.abs(d - rhs));
  }
  t.true(worst < 2e-3, `largest mismatch ${worst}`);
  const u = mackeyGlassSeries(5000);
  let lo = Infinity;
  let hi = -Infinity;
  let mean = 0;
  for (const v of u) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    mean += v / u.length;
  }
  // The delay-17 attractor spans about 0.4 .. 1.35 around a mean near 0.9 (it neither settles nor grows).
  t.true(lo > 0.3 && lo < 0.6 && hi > 1.2 && hi < 1.45 && Math.abs(mean - 0.9) < 0.05, `range ${lo}..${hi}, mean ${mean}`);
  // Horizon K: target = input K samples later; persistence = the current input.
  const { x, t: tg, p } = collect(createTask('mackey-glass', { steps: 100, horizon: 6 }), 100);
  for (let k = 0; k + 6 < 100; k++) {
    t.is(tg[k][0], x[k + 6][0]);
    t.is(p[k][0], x[k][0]);
  }
});

/** Residual NMSE of the best same-time linear fit target ~ [x, 1] (normal equations, tiny ridge). */
function sameTimeLinearNmse(x: number[][], y: number[]): number {
  const L = x[0].length + 1;
  const A = Array.from({ length: L }, () => new Array(L + 1).fill(0));
  for (let i = 0; i < y.length; i++) {
    const r = [...x[i], 1];
    for (let a = 0; a < L; a++) {
      for (let b = 0; b < L; b++) A[a][b] += r[a] * r[b];
      A[a][L] += r[a] * y[i];
    }
  }
  for (let a = 0; a < L; a++) A[a][a] += 1e-9;
  for (let c = 0; c < L; c++) {
    for (let r = c + 1; r < L; r++) {
      const f = A[r][c] / A[c][c];
      for (let k = c; k <= L; k++) A[r][k] -= f * A[c][k];
    }
  }
  const w = new Array(L).fill(0);
  for (let r = L - 1; r >= 0; r--) {
    let s = A[r][L];
    for (let k = r + 1; k < L; k++) s -= A[r][k] * w[k];
    w[r] = s / A[r][r];
  }
  let se = 0;
  let m = 0;
  for (const v of y) m += v / y.length;
  let v = 0;
  for (let i = 0; i < y.length; i++) {
    const r = [...x[i], 1];
    let p = 0;
    for (let a = 0; a < L; a++) p += w[a] * r[a];
    se += (y[i] - p) ** 2;
    v += (y[i] - m) ** 2;
  }
  return se / v;
}

test('the heater board scenario needs history: a same-time linear readout cannot fit it, unlike the mix scenario', (t) => {
  const heater = collect(createTask('board', { scenario: 'heater', seed: 2, steps: 3000, driftEvery: 0 }), 3000);
  const mix = collect(createTask('board', { scenario: 'mix', seed: 2, steps: 3000, driftEvery: 0 }), 3000);
  const h = sameTimeLinearNmse(heater.x, heater.t.map((r) => r[0]));
  const m = sameTimeLinearNmse(mix.x, mix.t.map((r) => r[0]));
  t.true(h > 0.2, `heater same-time linear NMSE ${h}`);
  t.true(m < 0.01, `mix same-time linear NMSE ${m}`);
  // Temperature is a lag of drive^2: it correlates more with the drive 30 samples back than with the drive now.
  const corr = (lag: number): number => {
    let sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0, n = 0;
    for (let k = lag; k < 3000; k++) {
      const a = heater.x[k - lag][0];
      const b = heater.t[k][0];
      sxy += a * b; sx += a; sy += b; sxx += a * a; syy += b * b; n++;
    }
    return (sxy / n - (sx / n) * (sy / n)) / Math.sqrt((sxx / n - (sx / n) ** 2) * (syy / n - (sy / n) ** 2));
  };
  t.true(corr(30) > corr(0), `corr lag 30 ${corr(30)} vs lag 0 ${corr(0)}`);
});

test('the heater signal gives the same sample whether it is read in order or out of order', (t) => {
  const a = new SyntheticSignal({ scenario: 'heater', seed: 4, driftEvery: 500 });
  const b = new SyntheticSignal({ scenario: 'heater', seed: 4, driftEvery: 500 });
  const xa = new Float64Array(3), ta = new Float64Array(1), xb = new Float64Array(3), tb = new Float64Array(1);
  const seq: number[] = [];
  for (let n = 0; n < 1200; n++) {
    a.sample(n, xa, ta);
    seq.push(ta[0]);
  }
  for (const n of [1100, 3, 700, 701, 0]) {
    b.sample(n, xb, tb);
    t.is(tb[0], seq[n], `sample ${n}`);
  }
  t.throws(() => new SyntheticSignal({ scenario: 'heater', outputs: 2 }), { message: /one output/ });
});

test('the mackey-glass series uses only IEEE 754 arithmetic (+ - * /, each correctly rounded), so every engine gives the same series: no Math.pow, whose last bits differ between Node 20 and 24', (t) => {
  const before = mackeyGlassSeries(2000);
  const saved = { pow: Math.pow, exp: Math.exp, log: Math.log };
  const refuse = (): number => {
    throw new Error('a libm function was called');
  };
  Object.assign(Math, { pow: refuse, exp: refuse, log: refuse });
  let after: Float64Array;
  try {
    after = mackeyGlassSeries(2000);
  } finally {
    Object.assign(Math, saved);
  }
  t.deepEqual(after, before);
});
