import test from 'ava';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner, FixedLearner } from '../runtime/learner.ts';
import { wasmSimdSupported } from '../runtime/wasm/backend.ts';
import { saveSnapshot, loadSnapshot } from '../runtime/snapshot.ts';
import { createRng, rngNextU32, rngUniform } from '../runtime/rng.ts';
import type { LearnerKind, LearnerOptions } from '../runtime/types.ts';
import type { FixedOptions } from '../runtime/plan.ts';
import { arenaBytes, firstDiff, randomizeArena, shrinkArena } from './helpers/arena.ts';

// The wasm backend (runtime/wasm) against the TypeScript kernels: same plan, same weights, same inputs; the whole
// arena (every buffer, counters and step count included) must be byte-identical.

interface Case {
  kind: LearnerKind;
  N: number;
  update: 'step' | 'trial';
  feedback?: 'random' | 'transpose';
  tau: number;
  gain: number;
  /** Fixed-point options (weightFracBits < 24 takes the kernels' general 'step' path). */
  extra?: FixedOptions;
  /** The readout reads the input too (options.direct, y = W_out h + D x). */
  direct?: boolean;
  /** Normalised (NLMS) readout steps with this lrOut (options.normalizedReadout; readoutEps 2^-20). */
  normalized?: number;
}

const M = 3;
const O = 2;

function options(c: Case): LearnerOptions {
  return {
    learner: c.kind,
    inputs: M,
    hidden: c.N,
    outputs: O,
    tau: c.tau,
    lrRec: 0.05,
    lrOut: c.normalized ?? 0.05,
    update: c.update,
    trialLength: 50,
    feedback: c.feedback,
    ...(c.direct ? { direct: true } : {}),
    ...(c.normalized !== undefined ? { normalizedReadout: true, readoutEps: 2 ** -20 } : {}),
  };
}

function pair(c: Case): [FixedLearner, FixedLearner] {
  const w = initWeights({ inputs: M, hidden: c.N, outputs: O, tau: c.tau, seed: 7, gain: c.gain, inScale: 2, outScale: 1 });
  const js = createFixedLearner(options(c), w, { ...c.extra, backend: 'js' });
  const wasm = createFixedLearner(options(c), w, { ...c.extra, backend: 'wasm' });
  return [js, wasm];
}

/** Same random stream into both learners: step() with targets, inference-only steps, stepQ, endTrial. */
function drive(ls: FixedLearner[], steps: number, seed: number, check: (step: number) => boolean): number {
  const rng = createRng(seed);
  const x = new Float64Array(M);
  const y = new Float64Array(O);
  const out = new Float64Array(O);
  const xq = new Int16Array(M);
  const outq = new Int16Array(O);
  for (let s = 0; s < steps; s++) {
    for (let j = 0; j < M; j++) x[j] = (rngUniform(rng) - 0.5) * 4;
    for (let o = 0; o < O; o++) y[o] = (rngUniform(rng) - 0.5) * 3;
    const mode = s % 11;
    for (const l of ls) {
      if (mode === 3) l.step(x, null, out);
      else if (mode === 7) {
        for (let j = 0; j < M; j++) xq[j] = Math.round(x[j] * 4096);
        l.stepQ(xq, null, outq);
      } else l.step(x, y, out);
      if (s % 50 === 49) l.endTrial();
    }
    // Checked mid-trial (s % 50 = 24) so the accumulators are non-zero also in step mode.
    if (s % 500 === 474 && !check(s)) return s;
  }
  return -1;
}

const CASES: Case[] = [
  { kind: 'rflo', N: 37, update: 'step', tau: 10, gain: 1.5 },
  { kind: 'rflo', N: 64, update: 'trial', feedback: 'transpose', tau: 4, gain: 1.5 },
  { kind: 'rflo', N: 19, update: 'step', tau: 10, gain: 1.5, extra: { weightFracBits: 16, updateFracBits: 20 } },
  { kind: 'snap1', N: 37, update: 'step', tau: 10, gain: 1.5 },
  { kind: 'snap1', N: 24, update: 'trial', tau: 1, gain: 3 },
  { kind: 'output', N: 37, update: 'step', tau: 10, gain: 1.5 },
  { kind: 'output', N: 16, update: 'trial', tau: 2, gain: 1.5 },
  { kind: 'rtrl', N: 8, update: 'step', tau: 10, gain: 1.5 },
  { kind: 'rtrl', N: 7, update: 'trial', tau: 3, gain: 2 },
  { kind: 'rflo', N: 37, update: 'step', tau: 10, gain: 1.5, direct: true },
  { kind: 'snap1', N: 24, update: 'step', tau: 1, gain: 3, direct: true, extra: { weightFracBits: 16, updateFracBits: 20 } },
  { kind: 'output', N: 16, update: 'trial', tau: 2, gain: 1.5, direct: true },
  { kind: 'rtrl', N: 6, update: 'step', tau: 10, gain: 1.5, direct: true },
  // Normalised readout: lrOut / trialLength = 0.03 and 0.0399 (k 19 and 14 + ... every update shift path).
  { kind: 'rflo', N: 21, update: 'step', tau: 2, gain: 0.9, direct: true, normalized: 1.5 },
  { kind: 'output', N: 16, update: 'step', tau: 1, gain: 0.9, normalized: 1.995 },
  { kind: 'snap1', N: 12, update: 'step', tau: 2, gain: 0.9, direct: true, normalized: 0.5, extra: { weightFracBits: 16, updateFracBits: 20 } },
];

const skip = !wasmSimdSupported();

for (const c of CASES) {
  const name = `${c.kind} N=${c.N} ${c.update}${c.feedback === 'transpose' ? ' transpose' : ''} tau=${c.tau}${c.extra ? ` ${JSON.stringify(c.extra)}` : ''}${c.direct ? ' direct' : ''}${c.normalized !== undefined ? ` normalized ${c.normalized}` : ''}`;
  (skip ? test.skip : test)(`wasm and js backends keep byte-identical arenas over 10^4 steps (${name})`, (t) => {
    const [js, wasm] = pair(c);
    t.is(js.backend, 'js');
    t.is(wasm.backend, 'wasm');
    t.deepEqual(arenaBytes(wasm), arenaBytes(js));
    let diff: string | null = null;
    const failedAt = drive([js, wasm], 10000, 11, () => {
      diff = firstDiff(js, arenaBytes(js), arenaBytes(wasm));
      return diff === null;
    });
    t.is(failedAt, -1, `arenas differ after step ${failedAt + 1}: ${diff}`);
    t.is(wasm.stepCount(), 10000);
    t.deepEqual(arenaBytes(wasm), arenaBytes(js));
    // The run must have learned something, or the comparison would prove little.
    const w0 = pair(c)[0];
    t.notDeepEqual(Array.from(js.state.W_out), Array.from(w0.state.W_out));
    if (c.kind !== 'output') t.notDeepEqual(Array.from(js.state.W_rec), Array.from(w0.state.W_rec));
    if (c.direct) t.true(js.state.D.some((v) => v !== 0), 'D learned');
  });
}

/**
 * RTRL sizes whose wasm paths the 10^4-step cases above do not reach (too slow there): N = 40 sums more than 32 k
 * (the three-piece path's exact i32 segment is flushed into i64 mid-row), N = 3 takes the i64 path (kernels.as: N <= 3).
 */
const RANDOM_ONLY: Case[] = [
  { kind: 'rtrl', N: 40, update: 'step', tau: 10, gain: 1.5 },
  { kind: 'rtrl', N: 3, update: 'trial', tau: 2, gain: 1.5 },
];

for (const c of [...CASES, ...RANDOM_ONLY]) {
  const name = `${c.kind} N=${c.N} ${c.update}${c.feedback === 'transpose' ? ' transpose' : ''} tau=${c.tau}${c.extra ? ` ${JSON.stringify(c.extra)}` : ''}${c.direct ? ' direct' : ''}${c.normalized !== undefined ? ` normalized ${c.normalized}` : ''}`;
  (skip ? test.skip : test)(`one wasm step equals one js step from random full-range arenas, saturating everywhere (${name})`, (t) => {
    const [js, wasm] = pair(c);
    const rng = createRng(c.N * 31 + c.tau);
    const out = new Int16Array(O);
    const x = new Int16Array(M);
    const y = new Int16Array(O);
    let saturations = 0;
    for (let it = 0; it < 150; it++) {
      randomizeArena(js, [wasm], rng);
      // Normalised readout: every other step from a shrunk state, so |[h; x]|^2 spans eps to full range.
      const xShift = c.normalized !== undefined && it % 2 === 1 ? shrinkArena(js, [wasm], rng) : 0;
      const before = js.state.saturation.reduce((a, v) => a + v, 0);
      for (let j = 0; j < M; j++) x[j] = ((rngNextU32(rng) & 0xffff) - 32768) >> xShift;
      for (let o = 0; o < O; o++) y[o] = (rngNextU32(rng) & 0xffff) - 32768;
      const learn = it % 5 !== 4;
      js.stepQ(x, learn ? y : null, out);
      wasm.stepQ(x, learn ? y : null, out);
      saturations += js.state.saturation.reduce((a, v) => a + v, 0) - before;
      const d = firstDiff(js, arenaBytes(js), arenaBytes(wasm));
      if (d !== null) {
        t.fail(`iteration ${it} (learn ${learn}): ${d}`);
        return;
      }
    }
    t.log(`saturation events counted in 150 random steps: ${saturations}`);
    t.true(saturations > 150, 'random states should saturate often');
  });
}

(skip ? test.skip : test)('snapshots move a learner between the wasm and js backends unchanged', (t) => {
  const c = CASES[0];
  const [js, wasm] = pair(c);
  drive([js, wasm], 600, 3, () => true);
  const fromWasm = loadSnapshot(saveSnapshot(wasm));
  const fromJs = loadSnapshot(saveSnapshot(js));
  t.deepEqual(saveSnapshot(wasm), saveSnapshot(js));
  t.deepEqual(arenaBytes(fromWasm), arenaBytes(js));
  t.deepEqual(arenaBytes(fromJs), arenaBytes(wasm));
  // A learner loaded from a snapshot continues identically on either backend.
  const jsCopy = new FixedLearner(fromWasm.plan, undefined as never, arenaBytes(fromWasm).slice().buffer, 'js');
  drive([jsCopy, fromJs], 600, 4, () => true);
  t.is(jsCopy.backend, 'js');
  t.deepEqual(arenaBytes(jsCopy), arenaBytes(fromJs));
});

test('backend auto picks wasm exactly when WebAssembly SIMD validates, and js is always available', (t) => {
  const c = CASES[4];
  const w = initWeights({ inputs: M, hidden: c.N, outputs: O, tau: c.tau, seed: 1 });
  t.is(createFixedLearner(options(c), w).backend, wasmSimdSupported() ? 'wasm' : 'js');
  t.is(createFixedLearner(options(c), w, { backend: 'auto' }).backend, wasmSimdSupported() ? 'wasm' : 'js');
  t.is(createFixedLearner(options(c), w, { backend: 'js' }).backend, 'js');
  t.throws(() => createFixedLearner(options(c), w, { backend: 'gpu' as never }), { message: /backend must be/ });
});

(skip ? test.skip : test)('an ordinary RTRL run at N = 40 (sums over more than 32 k) keeps byte-identical arenas on both backends', (t) => {
  const [js, wasm] = pair(RANDOM_ONLY[0]);
  let diff: string | null = null;
  const failedAt = drive([js, wasm], 300, 5, () => {
    diff = firstDiff(js, arenaBytes(js), arenaBytes(wasm));
    return diff === null;
  });
  t.is(failedAt, -1, `arenas differ after step ${failedAt + 1}: ${diff}`);
  t.is(firstDiff(js, arenaBytes(js), arenaBytes(wasm)), null, 'arenas equal after 300 steps');
  t.notDeepEqual(Array.from(js.state.W_rec), Array.from(pair(RANDOM_ONLY[0])[0].state.W_rec), 'the run learned');
});

/** The RTRL edge tests' start: a random arena with W_rec, W_in and b zeroed (u = 0, so phi' = 1), copied to wasm after. */
function zeroedWeights(js: FixedLearner, wasm: FixedLearner, rng: ReturnType<typeof createRng>): FixedLearner['state'] {
  randomizeArena(js, [wasm], rng);
  const st = js.state;
  st.W_rec.fill(0);
  st.W_in.fill(0);
  st.b.fill(0);
  return st;
}

/** The largest row norm L (up to 2^23) for which ok(L) holds, ok monotone. */
function largestNorm(ok: (L: number) => boolean): number {
  let L = 0;
  for (let step = 2 ** 22; step >= 1; step /= 2) if (ok(L + step)) L += step;
  return L;
}

/** W_rec_q12 rows of L1 norm L: all positive (aligned, every sum at its extreme) or with random signs. */
function setRowNorms(st: FixedLearner['state'], N: number, L: number, aligned: boolean, rand: (n: number) => number): void {
  for (let j = 0; j < N; j++) {
    for (let k = 0; k < N; k++) {
      const w = Math.floor(L / N) + (k < L % N ? 1 : 0);
      st.W_rec_q12[j * N + k] = aligned ? w : rand(2) ? w : -w;
    }
  }
}

/** The largest L1 norm of a W_rec_q12 row. */
function maxRowL1(st: FixedLearner['state'], N: number): number {
  let rowL1 = 0;
  for (let j = 0; j < N; j++) {
    let a = 0;
    for (let k = 0; k < N; k++) a += Math.abs(st.W_rec_q12[j * N + k]);
    rowL1 = Math.max(rowL1, a);
  }
  return rowL1;
}

/** One step of both learners on a random full-range x (and target, when learning); the arenas' first difference. */
function stepBoth(js: FixedLearner, wasm: FixedLearner, rng: ReturnType<typeof createRng>, learn: boolean): string | null {
  const x = new Int16Array(M);
  const y = new Int16Array(O);
  const out = new Int16Array(O);
  for (let j = 0; j < M; j++) x[j] = (rngNextU32(rng) & 0xffff) - 32768;
  for (let o = 0; o < O; o++) y[o] = (rngNextU32(rng) & 0xffff) - 32768;
  js.stepQ(x, learn ? y : null, out);
  wasm.stepQ(x, learn ? y : null, out);
  return firstDiff(js, arenaBytes(js), arenaBytes(wasm));
}

/**
 * The wasm RTRL sum takes, per chunk of parameters, a two-piece split S = hi 2^s + lo (s in 12..16) when max |S| and
 * the rows' L1 norm of W_rec_q12 bound every i32 sum (kernels.as splitFor), else the three-piece path. This is that
 * test, restated: true when every chunk of a state with this max |S| (m) and row norm (L) takes the two-piece path.
 */
function twoPieceFor(m: number, L: number): boolean {
  for (let s = 12; s <= 16; s++) {
    if (Math.floor((m + 2 ** (s - 1)) / 2 ** s) > 32767) continue;
    const hS = L * (Math.floor(m / 2 ** s) + 1);
    const lS = L * 2 ** (s - 1);
    if (hS > 2147483647 || lS > 2147483647 - 2048) return false;
    return hS * 2 ** (s - 12) + Math.floor(lS / 4096) + 1 + 8388608 <= 2147483647;
  }
  return false;
}

for (const c of [
  { kind: 'rtrl', N: 16, update: 'step', tau: 2, gain: 1.5 },
  { kind: 'rtrl', N: 9, update: 'trial', tau: 2, gain: 1.5 },
] as Case[]) {
  (skip ? test.skip : test)(`wasm RTRL equals js at and around the bounds of its two-piece sums (N=${c.N} ${c.update})`, (t) => {
    const [js, wasm] = pair(c);
    const N = c.N;
    const P = js.state.theta;
    const rng = createRng(N * 7 + 1);
    const rand = (n: number) => rngNextU32(rng) % n;
    let twoPiece = 0;
    let twoPieceAtBound = 0;
    let threePiece = 0;
    for (let it = 0; it < 160; it++) {
      // u = 0 (phi' = 1, a phi' = a = 1/2 at tau 2): the largest weight of the inner term in S'
      const st = zeroedWeights(js, wasm, rng);
      // max |S| = m, from full range (no split fits) and just below (s = 16) down to 2^18 (s = 12)
      const m = Math.floor((2147483647 - 32768 * rand(3)) / 2 ** rand(13));
      const Lmax = largestNorm((L) => twoPieceFor(m, L));
      // rows' L1 norm just under or just over the bound (or anywhere below it)
      const near = it % 3 !== 2;
      const L = Math.min(N * 32767, near ? Math.max(N, Lmax + rand(2 * N + 1) - N) : rand(Lmax + 1));
      const aligned = it % 2 === 0;
      setRowNorms(st, N, L, aligned, rand);
      for (let tt = 0; tt < P; tt++) {
        const sign = rand(2) ? 1 : -1;
        for (let k = 0; k < N; k++) {
          const v = aligned ? m - rand(4096) : rand(m + 1);
          st.S[k * P + tt] = (aligned ? sign : rand(2) ? 1 : -1) * v;
        }
      }
      st.S[rand(N * P)] = m;
      arenaBytes(wasm).set(arenaBytes(js));
      const rowL1 = maxRowL1(st, N);
      let maxS = 0;
      for (const v of st.S) maxS = Math.max(maxS, Math.abs(v));
      const two = twoPieceFor(maxS, rowL1);
      const learn = it % 4 !== 3;
      const d = stepBoth(js, wasm, rng, learn);
      if (d !== null) {
        t.fail(`iteration ${it} (max |S| ${maxS}, row L1 ${rowL1}, two-piece ${two}, learn ${learn}): ${d}`);
        return;
      }
      if (two) {
        twoPiece++;
        if (near && aligned && L < N * 32767) twoPieceAtBound++;
      } else threePiece++;
    }
    t.log(`steps on the two-piece path: ${twoPiece} (${twoPieceAtBound} with the sums at their bound), three-piece: ${threePiece}`);
    t.true(twoPiece >= 40 && threePiece >= 20, 'both paths reached');
    t.true(twoPieceAtBound >= 10, 'two-piece steps with the sums at their bound');
  });
}

/**
 * The common case of that split, s = 16 (kernels.as chunk16), decides from the pieces it built: with H the largest
 * |hi| (hi = (S + 2^15) >> 16, a wrapped S + 2^15 reads as H = 2^15), it runs when H <= 32767 and
 * 16 L H + L 2^15 / 2^12 + 1 + 2^23 fits int32 (L H and L 2^15 too). Restated here, to put states on both sides.
 */
function split16For(H: number, L: number): boolean {
  if (H > 32767 || L * H > 2147483647 || L * 32768 > 2147483647 - 2048) return false;
  return 16 * L * H + Math.floor((L * 32768) / 4096) + 1 + 8388608 <= 2147483647;
}

for (const c of [
  { kind: 'rtrl', N: 16, update: 'step', tau: 2, gain: 1.5 },
  { kind: 'rtrl', N: 33, update: 'trial', tau: 2, gain: 1.5 },
] as Case[]) {
  (skip ? test.skip : test)(`wasm RTRL equals js at and around the bound of its split at 2^16 (N=${c.N} ${c.update})`, (t) => {
    const [js, wasm] = pair(c);
    const N = c.N;
    const P = js.state.theta;
    const rng = createRng(N * 11 + 3);
    const rand = (n: number) => rngNextU32(rng) % n;
    let inside = 0;
    let atBound = 0;
    let outside = 0;
    let wrapped = 0;
    for (let it = 0; it < 120; it++) {
      const st = zeroedWeights(js, wasm, rng);
      // the largest |hi|: the top, anywhere, or small
      const H = [32767, 1 + rand(32767), 1 + rand(64)][it % 3];
      const Lmax = largestNorm((L) => split16For(H, L));
      const near = it % 4 !== 3;
      const L = Math.min(N * 32767, near ? Math.max(N, Lmax + rand(2 * N + 1) - N) : rand(Lmax + 1) + N);
      const aligned = it % 2 === 0;
      setRowNorms(st, N, L, aligned, rand);
      // S = hi 2^16 + lo with |hi| <= H: aligned, every sum at its extreme (hi = H, lo = 2^15 - 1, or -H and -2^15)
      for (let tt = 0; tt < P; tt++) {
        const sign = rand(2) ? 1 : -1;
        for (let k = 0; k < N; k++) {
          const hi = aligned ? H : rand(H + 1);
          const s = aligned ? sign : rand(2) ? 1 : -1;
          st.S[k * P + tt] = s > 0 ? hi * 65536 + (aligned ? 32767 : rand(32768)) : -hi * 65536 - (aligned ? 32768 : rand(32769));
        }
      }
      // S + 2^15 wrapping past int32 (hi would read -2^15) in one chunk, or S at the int32 minimum
      const wrap = it % 5 === 1;
      if (wrap) st.S[rand(N * P)] = rand(2) ? 2147483647 - rand(32768) : -2147483648 + rand(32768);
      arenaBytes(wasm).set(arenaBytes(js));
      const rowL1 = maxRowL1(st, N);
      let Hs = 0;
      for (const v of st.S) Hs = Math.max(Hs, Math.abs(((v + 32768) | 0) >> 16));
      const fits = split16For(Hs, rowL1);
      const learn = it % 4 !== 2;
      const d = stepBoth(js, wasm, rng, learn);
      if (d !== null) {
        t.fail(`iteration ${it} (largest |hi| ${Hs}, row L1 ${rowL1}, split 2^16 ${fits}, wrapped ${wrap}, learn ${learn}): ${d}`);
        return;
      }
      if (wrap) wrapped++;
      else if (fits) {
        inside++;
        if (near && aligned && rowL1 >= Lmax - N) atBound++;
      } else outside++;
    }
    t.log(`split 2^16 steps: ${inside} (${atBound} with the sums at their bound), beyond it: ${outside}, with a wrapping S: ${wrapped}`);
    t.true(inside >= 30 && outside >= 20 && wrapped >= 20, 'both sides reached');
    t.true(atBound >= 10, 'split 2^16 steps with the sums at their bound');
  });
}

/**
 * The learning step's sums sum_j c_j (S_j >> 16) and sum_j c_j ((S_j & 0xffff) - 2^15) run in i32 lanes (rows in
 * pairs, one i32x4.dot_i16x8_s each) when C = sum_j |c_j| < 2^16, else in i64 lanes. Here every c_j and S_j agree in
 * sign at the int32 extremes, so the first sum is about C 2^15: just inside int32 below 2^16, past it above.
 * h = 0 and zero weights make y = 0, e = target and c_j = round(W_out_q12[0, j] 32767 / 2^12), set to land C on
 * either side; tau 10^4 keeps S' = S (1 - 1/tau) near the extremes.
 */
for (const c of [
  { kind: 'rtrl', N: 16, update: 'step', tau: 10000, gain: 1 },
  { kind: 'rtrl', N: 9, update: 'trial', tau: 10000, gain: 1 },
] as Case[]) {
  (skip ? test.skip : test)(`wasm RTRL learning sums equal js at and around sum |c_j| = 2^16 (N=${c.N} ${c.update})`, (t) => {
    const [js, wasm] = pair(c);
    const N = c.N;
    const P = js.state.theta;
    const rng = createRng(N * 13 + 5);
    const rand = (n: number) => rngNextU32(rng) % n;
    const coef = (w: number) => Math.max(-32768, Math.min(32767, Math.floor((w * 32767 + 2048) / 4096)));
    const x = new Int16Array(M);
    const y = new Int16Array(O);
    const out = new Int16Array(O);
    let below = 0;
    let above = 0;
    let nearBelow = 0;
    for (let it = 0; it < 80; it++) {
      const st = zeroedWeights(js, wasm, rng);
      st.h.fill(0);
      // C aimed at T in 2^16 - 64 .. 2^16 + 64, reached in steps of about 8
      const T = 65536 - 64 + rand(129);
      const sign = Array.from({ length: N }, () => (rand(2) ? 1 : -1));
      const w = new Array<number>(N).fill(Math.floor(T / (8 * N)) - 2);
      let C = w.reduce((a, v) => a + Math.abs(coef(v)), 0);
      for (let j = 0; C < T; j = (j + 1) % N) {
        C += Math.abs(coef(w[j] + 1)) - Math.abs(coef(w[j]));
        w[j]++;
      }
      for (let j = 0; j < N; j++) st.W_out_q12[j] = sign[j] * w[j];
      for (let j = 0; j < N; j++) {
        for (let tt = 0; tt < P; tt++) st.S[j * P + tt] = sign[j] > 0 ? 2147483647 - rand(4096) : -2147483648 + rand(4096);
      }
      arenaBytes(wasm).set(arenaBytes(js));
      for (let j = 0; j < M; j++) x[j] = (rngNextU32(rng) & 0xffff) - 32768;
      y[0] = 32767;
      for (let o = 1; o < O; o++) y[o] = 0;
      js.stepQ(x, y, out);
      wasm.stepQ(x, y, out);
      let Cs = 0;
      for (let j = 0; j < N; j++) Cs += Math.abs(Math.max(-32768, Math.min(32767, (st.fb[j] + 2048) >> 12)));
      const d = firstDiff(js, arenaBytes(js), arenaBytes(wasm));
      if (d !== null) {
        t.fail(`iteration ${it} (sum |c_j| ${Cs}): ${d}`);
        return;
      }
      if (Cs < 65536) {
        below++;
        if (Cs >= 65536 - 32) nearBelow++;
      } else above++;
    }
    t.log(`sum |c_j| below 2^16: ${below} (${nearBelow} within 32 of it), at or above: ${above}`);
    t.true(below >= 15 && above >= 15 && nearBelow >= 10, 'both sides of the bound reached');
  });
}
