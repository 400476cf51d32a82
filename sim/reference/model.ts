/**
 * Float64 model helpers shared by the reference learners: option and weight validation, weight copies, and an
 * allocating forward pass / loss for tests and finite differences. Plan-time code: allocates freely.
 *
 * Model (Murray 2019), a = 1/tau:
 *   u(t) = W_rec h(t-1) + W_in x(t) + b
 *   h(t) = (1 - a) h(t-1) + a tanh(u(t))
 *   y(t) = W_out h(t) (+ D x(t) with options.direct)
 */
import type { Gradient, LearnerOptions, ModelWeights, NetworkShape } from '../../runtime/types.ts';
import { gotValue } from '../../runtime/plan.ts';

function checkCount(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min} (got ${gotValue(v)})`);
}

/** Throws a message naming the first bad field of a network shape. */
export function checkShape(s: NetworkShape): void {
  checkCount('inputs', s.inputs, 0);
  checkCount('hidden', s.hidden, 1);
  checkCount('outputs', s.outputs, 1);
}

/** Validates the options every float learner shares (everything but `learner`). */
export function checkCommonOptions(o: Omit<LearnerOptions, 'learner'>): void {
  checkShape(o);
  if (!(o.tau >= 1) || !Number.isFinite(o.tau)) throw new Error(`tau must be a finite number >= 1 (got ${gotValue(o.tau)})`);
  if (!Number.isFinite(o.lrRec)) throw new Error(`lrRec must be a finite number (got ${gotValue(o.lrRec)})`);
  if (!Number.isFinite(o.lrOut)) throw new Error(`lrOut must be a finite number (got ${gotValue(o.lrOut)})`);
  if (o.update !== 'step' && o.update !== 'trial') throw new Error(`update must be 'step' or 'trial' (got ${String(o.update)})`);
  if (!(o.trialLength > 0) || !Number.isFinite(o.trialLength)) {
    throw new Error(`trialLength must be a finite number > 0 (got ${gotValue(o.trialLength)}); use 1 for open streams`);
  }
  if (o.feedback !== undefined && o.feedback !== 'random' && o.feedback !== 'transpose') {
    throw new Error(`feedback must be 'random' or 'transpose' (got ${String(o.feedback)})`);
  }
  if (o.normalizedReadout && o.update !== 'step') {
    throw new Error(`normalizedReadout needs update 'step' (got '${o.update}'): the normalisation is per step; turn it off for trial updates`);
  }
  if (o.readoutEps !== undefined && !(o.readoutEps > 0 && Number.isFinite(o.readoutEps))) {
    throw new Error(`readoutEps must be a finite number > 0 (got ${o.readoutEps}); 1e-3 is the default`);
  }
  if (o.rlsReadout !== undefined) {
    if (!(o.rlsReadout > 0 && o.rlsReadout <= 1)) throw new Error(`rlsReadout (the RLS forgetting factor lambda) must be in (0, 1] (got ${o.rlsReadout}); 0.995 is the stream default`);
    if (o.update !== 'step') throw new Error(`rlsReadout needs update 'step' (got '${o.update}'): RLS updates the readout every sample`);
    if (o.normalizedReadout) throw new Error('rlsReadout and normalizedReadout are two readout rules; choose one');
  }
  if (o.readoutDelta !== undefined && !(o.readoutDelta > 0 && Number.isFinite(o.readoutDelta))) {
    throw new Error(`readoutDelta must be a finite number > 0 (got ${o.readoutDelta}); 0.01 is the default`);
  }
  if (o.maxRecStep !== undefined && !(o.maxRecStep > 0 && Number.isFinite(o.maxRecStep))) {
    throw new Error(`maxRecStep must be a finite number > 0 (got ${o.maxRecStep}); leave it out for no bound`);
  }
}

function checkLength(name: string, a: ArrayLike<number> | undefined, n: number, what: string): void {
  if (a === undefined || a === null || a.length !== n) {
    throw new Error(`${name} must have ${n} entries (${what}), got ${a === undefined || a === null ? 'none' : a.length}`);
  }
}

/** Checks that weights have the shape and tau of the options; throws a message saying what differs. */
export function checkWeights(w: ModelWeights, o: NetworkShape & { tau: number; direct?: boolean }): void {
  const { inputs: M, hidden: N, outputs: O } = o;
  if (w.inputs !== M || w.hidden !== N || w.outputs !== O) {
    throw new Error(
      `weights are for inputs=${w.inputs}, hidden=${w.hidden}, outputs=${w.outputs} but the options say ` +
        `inputs=${M}, hidden=${N}, outputs=${O}`,
    );
  }
  if (w.tau !== o.tau) throw new Error(`weights.tau (${w.tau}) differs from options.tau (${o.tau}); make them equal`);
  checkLength('W_in', w.W_in, N * M, 'N x M');
  checkLength('W_rec', w.W_rec, N * N, 'N x N');
  checkLength('b', w.b, N, 'N');
  checkLength('W_out', w.W_out, O * N, 'O x N');
  checkLength('h0', w.h0, N, 'N');
  checkLength('B', w.B, N * O, 'N x O');
  if (w.D !== undefined && w.D !== null) {
    if (o.direct !== true) throw new Error('weights carry D (the input-to-output readout) but options.direct is off; turn it on or drop D');
    checkLength('D', w.D, O * M, 'O x M');
  }
}

/** The weights with D (O x M) present: a copy of w.D, or zeros when w has none. Allocates. */
export function withDirect(w: ModelWeights): ModelWeights {
  const c = copyWeights(w);
  c.D = w.D ? Float64Array.from(w.D) : new Float64Array(w.outputs * w.inputs);
  return c;
}

/** Copies the parameters of `src` into the preallocated `dst` (same shape); the arrays are never shared. */
export function copyWeightsInto(dst: ModelWeights, src: ModelWeights): ModelWeights {
  dst.W_in.set(src.W_in);
  dst.W_rec.set(src.W_rec);
  dst.b.set(src.b);
  dst.W_out.set(src.W_out);
  dst.h0.set(src.h0);
  dst.B.set(src.B);
  if (dst.D && src.D) dst.D.set(src.D);
  else if (dst.D) dst.D.fill(0);
  return dst;
}

/** A fresh deep copy with Float64Array storage (accepts any ArrayLike-backed weights). */
export function copyWeights(w: ModelWeights): ModelWeights {
  const c: ModelWeights = {
    tau: w.tau,
    inputs: w.inputs,
    hidden: w.hidden,
    outputs: w.outputs,
    W_in: Float64Array.from(w.W_in),
    W_rec: Float64Array.from(w.W_rec),
    b: Float64Array.from(w.b),
    W_out: Float64Array.from(w.W_out),
    h0: Float64Array.from(w.h0),
    B: Float64Array.from(w.B),
  };
  if (w.D) c.D = Float64Array.from(w.D);
  return c;
}

export interface Trajectory {
  /** h[t] for t = 0..T, h[0] = h0. */
  h: Float64Array[];
  /** u[t] for t = 1..T (u[0] is unused and zero). */
  u: Float64Array[];
  /** y[t] for t = 1..T (y[0] is unused and zero). */
  y: Float64Array[];
}

/**
 * Missing readings, the policy of every engine (runtime/ARITHMETIC.md, "Missing readings"): each finite input is
 * copied into `held` (length M); a non-finite one leaves that channel's last value there. Returns how many inputs
 * were held. Allocates nothing.
 */
export function holdMissingInputs(x: ArrayLike<number>, held: Float64Array): number {
  let invalid = 0;
  for (let j = 0; j < held.length; j++) {
    const v = x[j];
    // v - v is 0 for every finite v, NaN for NaN and +-Infinity.
    if (v - v === 0) held[j] = v;
    else invalid++;
  }
  return invalid;
}

/** True when a target has a non-finite entry: the step predicts and does not learn from it. */
export function targetMissing(target: ArrayLike<number>): boolean {
  for (let o = 0; o < target.length; o++) {
    const v = target[o];
    if (!(v - v === 0)) return true;
  }
  return false;
}

/**
 * Runs the model over x (x[t-1] is the input of step t) from h0 (default weights.h0). Index t of every returned
 * array is step t; h[0] is the initial state. Allocates: for tests and finite differences, not for loops.
 */
export function forward(w: ModelWeights, x: ArrayLike<number>[], h0: ArrayLike<number> = w.h0): Trajectory {
  const { inputs: M, hidden: N, outputs: O } = w;
  const a = 1 / w.tau;
  const T = x.length;
  const h: Float64Array[] = [Float64Array.from(h0)];
  const u: Float64Array[] = [new Float64Array(N)];
  const y: Float64Array[] = [new Float64Array(O)];
  for (let t = 1; t <= T; t++) {
    const xt = x[t - 1];
    const hp = h[t - 1];
    const ut = new Float64Array(N);
    const ht = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      let s = w.b[i];
      for (let k = 0; k < N; k++) s += w.W_rec[i * N + k] * hp[k];
      for (let j = 0; j < M; j++) s += w.W_in[i * M + j] * xt[j];
      ut[i] = s;
      ht[i] = (1 - a) * hp[i] + a * Math.tanh(s);
    }
    const yt = new Float64Array(O);
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let i = 0; i < N; i++) s += w.W_out[o * N + i] * ht[i];
      if (w.D) for (let j = 0; j < M; j++) s += w.D[o * M + j] * xt[j];
      yt[o] = s;
    }
    h.push(ht);
    u.push(ut);
    y.push(yt);
  }
  return { h, u, y };
}

/** L = 1/2 sum_t sum_o (target_o(t) - y_o(t))^2 over the sequence, starting from weights.h0. */
export function loss(w: ModelWeights, x: ArrayLike<number>[], target: ArrayLike<number>[]): number {
  if (target.length !== x.length) throw new Error(`target has ${target.length} steps but x has ${x.length}; give one per step`);
  const { y } = forward(w, x);
  let L = 0;
  for (let t = 1; t < y.length; t++) {
    const yt = y[t];
    const tt = target[t - 1];
    for (let o = 0; o < yt.length; o++) {
      const e = tt[o] - yt[o];
      L += 0.5 * e * e;
    }
  }
  return L;
}

/** Largest absolute entry over all parameter blocks of a gradient (four, five with D). */
export function gradientMaxAbs(g: Gradient): number {
  let m = 0;
  for (const arr of [g.W_in, g.W_rec, g.b, g.W_out, g.D ?? new Float64Array(0)]) for (let i = 0; i < arr.length; i++) m = Math.max(m, Math.abs(arr[i]));
  return m;
}

/** max |a - b| / max |b| over all four blocks (0 when both are zero): the relative error the tests quote. */
export function gradientRelativeError(a: Gradient, b: Gradient): number {
  let diff = 0;
  const pairs: [Float64Array, Float64Array][] = [
    [a.W_in, b.W_in],
    [a.W_rec, b.W_rec],
    [a.b, b.b],
    [a.W_out, b.W_out],
  ];
  if (a.D || b.D) {
    if (!a.D || !b.D) throw new Error('one gradient has a D block and the other has none');
    pairs.push([a.D, b.D]);
  }
  for (const [p, q] of pairs) {
    if (p.length !== q.length) throw new Error(`gradient blocks differ in length (${p.length} vs ${q.length})`);
    for (let i = 0; i < p.length; i++) diff = Math.max(diff, Math.abs(p[i] - q[i]));
  }
  const scale = gradientMaxAbs(b);
  if (scale === 0) return diff === 0 ? 0 : Infinity;
  return diff / scale;
}
