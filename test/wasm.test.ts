import test from 'ava';
import { initWeights } from '../runtime/init.ts';
import { createFixedLearner, FixedLearner } from '../runtime/learner.ts';
import { wasmSimdSupported } from '../runtime/wasm/backend.ts';
import { saveSnapshot, loadSnapshot } from '../runtime/snapshot.ts';
import { createRng, rngNextU32, rngUniform } from '../runtime/rng.ts';
import type { LearnerKind, LearnerOptions } from '../runtime/types.ts';

// The wasm backend (runtime/wasm) against the TypeScript kernels: same plan, same weights, same inputs; the whole
// arena (every buffer, counters and step count included) must be byte-identical.

const arenaBytes = (l: FixedLearner) => new Uint8Array(l.arena, l.arenaOffset, l.plan.totalBytes);

function firstDiff(l: FixedLearner, a: Uint8Array, b: Uint8Array): string | null {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const buf = l.plan.buffers.find((s) => i >= s.offset && i < s.offset + s.bytes);
      return `byte ${i} (${buf?.name ?? '?'})`;
    }
  }
  return a.length === b.length ? null : 'length';
}

interface Case {
  kind: LearnerKind;
  N: number;
  update: 'step' | 'trial';
  feedback?: 'random' | 'transpose';
  tau: number;
  gain: number;
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
    lrOut: 0.05,
    update: c.update,
    trialLength: 50,
    feedback: c.feedback,
  };
}

function pair(c: Case): [FixedLearner, FixedLearner] {
  const w = initWeights({ inputs: M, hidden: c.N, outputs: O, tau: c.tau, seed: 7, gain: c.gain, inScale: 2, outScale: 1 });
  const js = createFixedLearner(options(c), w, { backend: 'js' });
  const wasm = createFixedLearner(options(c), w, { backend: 'wasm' });
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
    if (s % 500 === 499 && !check(s)) return s;
  }
  return -1;
}

const CASES: Case[] = [
  { kind: 'rflo', N: 37, update: 'step', tau: 10, gain: 1.5 },
  { kind: 'rflo', N: 64, update: 'trial', feedback: 'transpose', tau: 4, gain: 1.5 },
  { kind: 'snap1', N: 37, update: 'step', tau: 10, gain: 1.5 },
  { kind: 'snap1', N: 24, update: 'trial', tau: 1, gain: 3 },
  { kind: 'output', N: 37, update: 'step', tau: 10, gain: 1.5 },
  { kind: 'output', N: 16, update: 'trial', tau: 2, gain: 1.5 },
  { kind: 'rtrl', N: 8, update: 'step', tau: 10, gain: 1.5 },
  { kind: 'rtrl', N: 7, update: 'trial', tau: 3, gain: 2 },
];

const skip = !wasmSimdSupported();

for (const c of CASES) {
  const name = `${c.kind} N=${c.N} ${c.update}${c.feedback === 'transpose' ? ' transpose' : ''} tau=${c.tau}`;
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
    t.notDeepEqual(Array.from(js.W_out), Array.from(w0.W_out));
    if (c.kind !== 'output') t.notDeepEqual(Array.from(js.W_rec), Array.from(w0.W_rec));
  });
}
