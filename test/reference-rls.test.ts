import test from 'ava';
import type { LearnerKind, LearnerOptions, ModelWeights } from '../runtime/types.ts';
import { zeroGradient } from '../runtime/types.ts';
import { initWeights } from '../runtime/init.ts';
import { createFloatLearner } from '../sim/reference/index.ts';
import { createLearner } from '../sim/engine.ts';

function stepOptions(w: ModelWeights, learner: LearnerKind, extra: Partial<LearnerOptions>): LearnerOptions {
  return { learner, inputs: w.inputs, hidden: w.hidden, outputs: w.outputs, tau: w.tau, lrRec: 0, lrOut: 0.5, update: 'step', trialLength: 1, ...extra };
}

/** Solves (A) w = b for a symmetric positive definite A (n x n, row-major) by Cholesky. */
function solveSpd(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(s) : s / L[j * n + j];
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * z[k];
    z[i] = s / L[i * n + i];
  }
  const w = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * w[k];
    w[i] = s / L[i * n + i];
  }
  return w;
}

// RLS with lambda 1 and P(0) = I / delta is exact recursive ridge regression (Haykin, Adaptive Filter Theory): after T
// samples [W_out | D] minimises sum_t |target(t) - W z(t)|^2 + delta |W - W(0)|^2, z(t) = [h(t); x(t)].
test('the RLS readout with lambda 1 equals the ridge solution over [h; x] of all samples so far (to 1e-8)', (t) => {
  const w = initWeights({ inputs: 2, hidden: 5, outputs: 1, tau: 2, seed: 4, gain: 0.9 });
  const delta = 0.1;
  const l = createFloatLearner(stepOptions(w, 'output', { direct: true, rlsReadout: 1, readoutDelta: delta }), w);
  const Lz = 7;
  const A = new Float64Array(Lz * Lz);
  const rhs = new Float64Array(Lz);
  const w0 = new Float64Array(Lz);
  for (let i = 0; i < 5; i++) w0[i] = w.W_out[i];
  for (let i = 0; i < Lz; i++) A[i * Lz + i] = delta;
  for (let i = 0; i < Lz; i++) rhs[i] = delta * w0[i];
  const y = new Float64Array(1);
  const h = new Float64Array(5);
  for (let s = 0; s < 300; s++) {
    const x = [Math.sin(0.21 * s), Math.cos(0.07 * s) * 0.5];
    const target = [Math.sin(0.21 * (s + 2)) * x[1] + 0.3];
    l.step(x, target, y);
    l.readHidden(h);
    const z = [...h, ...x];
    for (let i = 0; i < Lz; i++) {
      for (let j = 0; j < Lz; j++) A[i * Lz + j] += z[i] * z[j];
      rhs[i] += z[i] * target[0];
    }
  }
  const want = solveSpd(A, rhs, Lz);
  const got = l.getWeights();
  const have = [...got.W_out, ...(got.D as Float64Array)];
  let worst = 0;
  for (let i = 0; i < Lz; i++) worst = Math.max(worst, Math.abs(have[i] - want[i]));
  t.true(worst < 1e-8, `largest difference from the ridge solution: ${worst}`);
});

test('the RLS readout changes the step, not the gradient: readGradient is the same as with the delta rule', (t) => {
  const w = initWeights({ inputs: 2, hidden: 4, outputs: 1, tau: 2, seed: 6, gain: 0.9 });
  for (const kind of ['rflo', 'snap1', 'rtrl', 'output'] as const) {
    // One step from the same weights: both learners see the same h, error and traces.
    const rls = createFloatLearner(stepOptions(w, kind, { direct: true, rlsReadout: 0.99, lrRec: 0.01 }), w);
    const lms = createFloatLearner(stepOptions(w, kind, { direct: true, lrRec: 0.01 }), w);
    const y = new Float64Array(1);
    rls.step([0.3, -0.8], [0.5], y);
    lms.step([0.3, -0.8], [0.5], y);
    const a = rls.readGradient(zeroGradient(w));
    const b = lms.readGradient(zeroGradient(w));
    for (const k of ['W_in', 'W_rec', 'b', 'W_out', 'D'] as const) {
      t.deepEqual(Array.from(a[k] as Float64Array), Array.from(b[k] as Float64Array), `${kind} ${k}`);
    }
    // ... but the readout moved differently.
    t.notDeepEqual(Array.from(rls.getWeights().W_out), Array.from(lms.getWeights().W_out), kind);
  }
});

test('the RLS readout tracks a same-time mix of reservoir-visible signals far faster than the normalised delta rule', (t) => {
  // Strongly correlated readout inputs (a slow sinusoid through a reservoir): the eigenvalue spread that makes
  // LMS/NLMS slow (Haykin) does not slow RLS.
  const run = (extra: Partial<LearnerOptions>): number => {
    const w = initWeights({ inputs: 1, hidden: 16, outputs: 1, tau: 2, seed: 2, gain: 0.9 });
    const l = createFloatLearner(stepOptions(w, 'output', { direct: true, ...extra }), w);
    const y = new Float64Array(1);
    let se = 0;
    let v = 0;
    for (let s = 0; s < 3000; s++) {
      const x = Math.sin((2 * Math.PI * s) / 200);
      const target = Math.sin((2 * Math.PI * (s + 6)) / 200) ** 3;
      l.step([x], [target], y);
      if (s >= 1000) {
        se += (target - y[0]) ** 2;
        v += target * target;
      }
    }
    return se / v;
  };
  const rls = run({ rlsReadout: 0.995 });
  const nlms = run({ normalizedReadout: true, lrOut: 0.3 });
  t.true(rls < 1e-3, `RLS NMSE ${rls}`);
  t.true(rls * 10 < nlms, `RLS ${rls} vs normalised delta rule ${nlms}`);
});

test('the RLS readout options are checked, and the fixed-point engine refuses them by name', (t) => {
  const w = initWeights({ inputs: 2, hidden: 4, outputs: 1, tau: 2, seed: 3 });
  t.throws(() => createFloatLearner(stepOptions(w, 'rflo', { rlsReadout: 0 }), w), { message: /rlsReadout .* must be in \(0, 1\]/ });
  t.throws(() => createFloatLearner(stepOptions(w, 'rflo', { rlsReadout: 1.01 }), w), { message: /must be in \(0, 1\]/ });
  t.throws(() => createFloatLearner({ ...stepOptions(w, 'rflo', { rlsReadout: 0.99 }), update: 'trial' }, w), { message: /rlsReadout needs update 'step'/ });
  t.throws(() => createFloatLearner(stepOptions(w, 'rflo', { rlsReadout: 0.99, normalizedReadout: true }), w), { message: /choose one/ });
  t.throws(() => createFloatLearner(stepOptions(w, 'rflo', { rlsReadout: 0.99, readoutDelta: -1 }), w), { message: /readoutDelta must be/ });
  t.throws(() => createLearner('fixed', stepOptions(w, 'rflo', { lrOut: 0.1, rlsReadout: 0.99 }), w), { message: /--rls-readout .* is not yet in the fixed-point engine/ });
});
