/**
 * Float64 online learners (RTRL, RFLO, SnAp-1, output-only) behind the shared OnlineLearner interface.
 * The float twin of runtime/learners: simple loops over preallocated Float64Arrays, obviously correct first,
 * and allocation-free in step() so long simulations cost no garbage.
 *
 * Recurrent parameters theta are indexed in one flat layout [W_rec (N*N) | W_in (N*M) | b (N)], so the
 * trace of W_rec_ab is at a*N + b, of W_in_ab at N*N + a*M + b and of b_a at N*N + N*M + a. The unit
 * a parameter "belongs to" is the row a in every block.
 *
 * Options beyond Murray 2019 (runtime/types.ts LearnerOptions): `direct` adds D x(t) to the readout, D learned by the
 * same delta rule as W_out (its gradient -e(t) x(t)^T is exact and does not reach the hidden units);
 * `normalizedReadout` divides the readout step by eps + |h|^2 (+ |x|^2), NLMS-style; `maxRecStep` bounds the norm of
 * each per-step recurrent update (a divergence guard; `guardedSteps` counts how often it acted); `rlsReadout`
 * replaces the readout's delta rule by exponentially weighted RLS over z = [h; x] (Jaeger 2003; Sussillo & Abbott 2009),
 * which converges in about L samples whatever the eigenvalue spread of the state correlation (LMS/NLMS on reservoir
 * states is slow because that spread is large).
 *
 * Missing readings, the fixed-point runtime's policy (runtime/ARITHMETIC.md, "Missing readings"): a non-finite input
 * value holds that channel's last finite value (0 before the first), counted in `invalidInputs`; a target with any
 * non-finite entry makes the step inference only (predict, do not learn), counted per step in `invalidTargets`.
 *
 * Sign convention: term(t) is the descent direction of step t (minus the gradient of 1/2 |e(t)|^2 for RTRL);
 * the accumulator holds minus the summed terms, so readGradient() has the sign of a gradient.
 */
import type {
  Feedback,
  Gradient,
  LearnerKind,
  LearnerOptions,
  ModelWeights,
  OnlineLearner,
} from '../../runtime/types.ts';
import { LEARNER_KIND_CODES } from '../../runtime/layout.ts';
import { checkCommonOptions, checkWeights, copyWeights, copyWeightsInto, withDirect, holdMissingInputs, targetMissing } from './model.ts';

// The runtime's kind codes (runtime/layout.ts), so that both engines number the learners alike.
const KIND_RTRL = LEARNER_KIND_CODES.rtrl;
const KIND_RFLO = LEARNER_KIND_CODES.rflo;
const KIND_SNAP1 = LEARNER_KIND_CODES.snap1;
const KIND_OUTPUT = LEARNER_KIND_CODES.output;

function kindCode(k: LearnerKind): number {
  switch (k) {
    case 'rtrl':
      return KIND_RTRL;
    case 'rflo':
      return KIND_RFLO;
    case 'snap1':
      return KIND_SNAP1;
    case 'output':
      return KIND_OUTPUT;
    default:
      throw new Error(`learner must be one of 'rtrl', 'rflo', 'snap1', 'output' (got ${String(k)}); BPTT is createBpttLearner`);
  }
}

export class FloatLearner implements OnlineLearner {
  readonly engine = 'float' as const;
  readonly options: Readonly<LearnerOptions>;

  private readonly kind: number;
  private readonly N: number;
  private readonly M: number;
  private readonly O: number;
  /** Number of recurrent parameters N*N + N*M + N. */
  private readonly P: number;
  private readonly a: number;
  private readonly stepMode: boolean;
  /** Feedback through W_out^T (RTRL, SnAp-1, RFLO 'transpose') rather than B (RFLO 'random'). */
  private readonly transposeFeedback: boolean;
  private readonly w: ModelWeights;
  /** options.direct: D (O x M) lives in w.D; otherwise an empty array. */
  private readonly direct: boolean;
  private readonly Dw: Float64Array;
  private readonly normalized: boolean;
  private readonly readoutEps: number;
  /** maxRecStep, or Infinity when unbounded. */
  private readonly maxRecStep: number;
  /** RLS readout: lambda (0 when off), P (L x L), P z and k (L), L = N (+ M with direct). */
  private readonly rlsLambda: number;
  private readonly rlsDelta: number;
  private readonly rlsP: Float64Array;
  private readonly rlsPz: Float64Array;
  private readonly rlsK: Float64Array;
  /** Steps whose recurrent update the guard scaled down (maxRecStep). */
  guardedSteps = 0;

  private h: Float64Array;
  private hPrev: Float64Array;
  /** phi'(u(t)) = 1 - tanh(u(t))^2 of the last step. */
  private readonly dphi: Float64Array;
  private readonly err: Float64Array;
  /** Error fed back to the hidden units: (W_out^T e) or (B e). */
  private readonly fb: Float64Array;
  /** RTRL: S (N x P) and its next value; RFLO/SnAp-1: one trace per parameter in S (length P). */
  private S: Float64Array;
  private S2: Float64Array;
  /** RTRL scratch: one row of sum_k W_rec_jk S_k + direct term. */
  private readonly row: Float64Array;
  /** This step's descent terms of the recurrent parameters (length P). */
  private readonly term: Float64Array;
  private readonly grad: Gradient;
  /** The input as used: each channel's last finite value (missing readings hold it). */
  private readonly xHeld: Float64Array;
  /** Input values that were not finite (held), the fixed engine's 'x_invalid'. */
  invalidInputs = 0;
  /** Steps whose target had a non-finite entry (inference only), the fixed engine's 'target_invalid'. */
  invalidTargets = 0;

  constructor(options: LearnerOptions, weights: ModelWeights) {
    this.kind = kindCode(options.learner);
    checkCommonOptions(options);
    checkWeights(weights, options);
    const feedback: Feedback = options.feedback ?? 'random';
    this.options = Object.freeze({ ...options, feedback });
    const { inputs: M, hidden: N, outputs: O } = options;
    this.N = N;
    this.M = M;
    this.O = O;
    this.P = N * N + N * M + N;
    this.a = 1 / options.tau;
    this.stepMode = options.update === 'step';
    this.transposeFeedback = this.kind !== KIND_RFLO || feedback === 'transpose';
    this.direct = options.direct === true;
    this.w = this.direct ? withDirect(weights) : copyWeights(weights);
    this.Dw = this.w.D ?? new Float64Array(0);
    this.normalized = options.normalizedReadout === true;
    this.readoutEps = options.readoutEps ?? 1e-3;
    this.maxRecStep = options.maxRecStep ?? Infinity;
    this.rlsLambda = options.rlsReadout ?? 0;
    this.rlsDelta = options.readoutDelta ?? 0.01;
    const L = this.rlsLambda > 0 ? N + (this.direct ? M : 0) : 0;
    this.rlsP = new Float64Array(L * L);
    this.rlsPz = new Float64Array(L);
    this.rlsK = new Float64Array(L);
    this.resetReadoutCorrelation();
    this.h = new Float64Array(N);
    this.hPrev = new Float64Array(N);
    this.dphi = new Float64Array(N);
    this.err = new Float64Array(O);
    this.fb = new Float64Array(N);
    const traceLen = this.kind === KIND_RTRL ? N * this.P : this.kind === KIND_OUTPUT ? 0 : this.P;
    this.S = new Float64Array(traceLen);
    this.S2 = new Float64Array(this.kind === KIND_RTRL ? traceLen : 0);
    this.row = new Float64Array(this.kind === KIND_RTRL ? this.P : 0);
    this.term = new Float64Array(this.P);
    this.xHeld = new Float64Array(M);
    this.grad = {
      W_in: new Float64Array(N * M),
      W_rec: new Float64Array(N * N),
      b: new Float64Array(N),
      W_out: new Float64Array(O * N),
    };
    if (this.direct) this.grad.D = new Float64Array(O * M);
    this.resetState();
  }

  step(x: ArrayLike<number>, target: ArrayLike<number> | null, out: Float64Array): Float64Array {
    const N = this.N;
    const M = this.M;
    const O = this.O;
    const a = this.a;
    const w = this.w;
    if (x.length !== M) throw new Error(`x must have ${M} entries (inputs), got ${x.length}`);
    if (out.length < O) throw new Error(`out must have at least ${O} entries (outputs), got ${out.length}`);
    if (target !== null && target.length !== O) throw new Error(`target must have ${O} entries (outputs) or be null, got ${target.length}`);
    // Missing readings: a non-finite input holds its channel's last value; a non-finite target means no learning.
    this.invalidInputs += holdMissingInputs(x, this.xHeld);
    x = this.xHeld;
    if (target !== null && targetMissing(target)) {
      this.invalidTargets++;
      target = null;
    }

    // Forward pass (Murray 2019): u = W_rec h(t-1) + W_in x + b; h = (1-a) h(t-1) + a tanh(u).
    const hp = this.h;
    const h = this.hPrev;
    this.hPrev = hp;
    this.h = h;
    const Wrec = w.W_rec;
    const Win = w.W_in;
    const bias = w.b;
    const dphi = this.dphi;
    for (let i = 0; i < N; i++) {
      let s = bias[i];
      for (let k = 0; k < N; k++) s += Wrec[i * N + k] * hp[k];
      for (let j = 0; j < M; j++) s += Win[i * M + j] * x[j];
      const th = Math.tanh(s);
      h[i] = (1 - a) * hp[i] + a * th;
      dphi[i] = 1 - th * th;
    }
    const Wout = w.W_out;
    const Dw = this.Dw;
    const direct = this.direct;
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let i = 0; i < N; i++) s += Wout[o * N + i] * h[i];
      if (direct) for (let j = 0; j < M; j++) s += Dw[o * M + j] * x[j];
      out[o] = s;
    }

    // Traces advance with or without a target.
    if (this.kind === KIND_RTRL) this.advanceRtrl(x);
    else if (this.kind === KIND_RFLO) this.advanceLocal(x, false);
    else if (this.kind === KIND_SNAP1) this.advanceLocal(x, true);

    if (target === null) return out;

    const err = this.err;
    for (let o = 0; o < O; o++) err[o] = target[o] - out[o];

    if (this.kind !== KIND_OUTPUT) {
      // Error delivered to each hidden unit, with the pre-update W_out: (W_out^T e) or RFLO's (B e) (Murray 2019).
      const fb = this.fb;
      const B = w.B;
      for (let j = 0; j < N; j++) {
        let s = 0;
        if (this.transposeFeedback) for (let o = 0; o < O; o++) s += Wout[o * N + j] * err[o];
        else for (let o = 0; o < O; o++) s += B[j * O + o] * err[o];
        fb[j] = s;
      }
      this.formTerms();
      this.applyRecurrent();
    }

    if (this.rlsLambda > 0) {
      this.rlsReadoutStep(x);
      return out;
    }
    // Delta rule on W_out (and D) for every learner: term = e(t) h(t)^T (and e(t) x(t)^T).
    const gOut = this.grad.W_out;
    let sOut = this.options.lrOut / this.options.trialLength;
    if (this.normalized) {
      // NLMS: the step divided by eps + the squared norm of what the readout reads.
      let n2 = this.readoutEps;
      for (let i = 0; i < N; i++) n2 += h[i] * h[i];
      if (direct) for (let j = 0; j < M; j++) n2 += x[j] * x[j];
      sOut /= n2;
    }
    const gD = this.grad.D as Float64Array;
    for (let o = 0; o < O; o++) {
      const eo = err[o];
      for (let i = 0; i < N; i++) {
        const t = eo * h[i];
        gOut[o * N + i] -= t;
        if (this.stepMode) Wout[o * N + i] += sOut * t;
      }
      if (direct) {
        for (let j = 0; j < M; j++) {
          const t = eo * x[j];
          gD[o * M + j] -= t;
          if (this.stepMode) Dw[o * M + j] += sOut * t;
        }
      }
    }
    return out;
  }

  /**
   * RLS readout step (Haykin, Adaptive Filter Theory, the exponentially weighted RLS algorithm), z = [h(t); x(t)]:
   *   Pz = P z,  k = Pz / (lambda + z^T Pz),  W += e(t) k^T,  P = (P - k Pz^T) / lambda   (P kept symmetric)
   * with W = [W_out | D] and e(t) the a-priori error of this step. The readout gradient is still accumulated (it is
   * the gradient; RLS only changes the step). O(L^2) per step, L = N (+ M). In fixed point the one division per step
   * is by lambda + z^T P z >= lambda > 0 (an integer reciprocal); P needs a wide format or the inverse-QR form.
   */
  private rlsReadoutStep(x: ArrayLike<number>): void {
    const N = this.N;
    const M = this.direct ? this.M : 0;
    const O = this.O;
    const L = N + M;
    const h = this.h;
    const P = this.rlsP;
    const Pz = this.rlsPz;
    const k = this.rlsK;
    const lambda = this.rlsLambda;
    for (let i = 0; i < L; i++) {
      let s = 0;
      for (let j = 0; j < N; j++) s += P[i * L + j] * h[j];
      for (let j = 0; j < M; j++) s += P[i * L + N + j] * x[j];
      Pz[i] = s;
    }
    // lambda + z^T P z, accumulated in k[0] (a typed-array slot: no boxed double per step).
    k[0] = lambda;
    for (let i = 0; i < N; i++) k[0] += h[i] * Pz[i];
    for (let j = 0; j < M; j++) k[0] += x[j] * Pz[N + j];
    const den = k[0];
    for (let i = 0; i < L; i++) k[i] = Pz[i] / den;
    const gOut = this.grad.W_out;
    const gD = this.grad.D as Float64Array;
    const Wout = this.w.W_out;
    const Dw = this.Dw;
    const MM = this.M;
    for (let o = 0; o < O; o++) {
      const eo = this.err[o];
      for (let i = 0; i < N; i++) {
        gOut[o * N + i] -= eo * h[i];
        Wout[o * N + i] += eo * k[i];
      }
      for (let j = 0; j < M; j++) {
        gD[o * MM + j] -= eo * x[j];
        Dw[o * MM + j] += eo * k[N + j];
      }
    }
    const il = 1 / lambda;
    for (let i = 0; i < L; i++) {
      for (let j = i; j < L; j++) {
        const v = (0.5 * (P[i * L + j] + P[j * L + i]) - k[i] * Pz[j]) * il;
        P[i * L + j] = v;
        P[j * L + i] = v;
      }
    }
  }

  /** P := I / readoutDelta (RLS readout only). */
  private resetReadoutCorrelation(): void {
    const P = this.rlsP;
    const L = this.rlsK.length;
    P.fill(0);
    for (let i = 0; i < L; i++) P[i * L + i] = 1 / this.rlsDelta;
  }

  /**
   * RTRL (Williams & Zipser 1989) for the leaky RNN:
   * S_j,theta(t) = (1-a) S_j,theta(t-1) + a phi'(u_j(t)) (du_j/dtheta direct + sum_k W_rec_jk S_k,theta(t-1)).
   * The direct term is h_b(t-1) for W_rec_jb, x_b(t) for W_in_jb and 1 for b_j. O(N^2 P) = O(N^4).
   */
  private advanceRtrl(x: ArrayLike<number>): void {
    const N = this.N;
    const M = this.M;
    const P = this.P;
    const S = this.S;
    const Snext = this.S2;
    const row = this.row;
    const Wrec = this.w.W_rec;
    const hp = this.hPrev;
    const decay = 1 - this.a;
    const inBase = N * N;
    const bBase = N * N + N * M;
    for (let j = 0; j < N; j++) {
      for (let th = 0; th < P; th++) row[th] = 0;
      for (let k = 0; k < N; k++) {
        const wjk = Wrec[j * N + k];
        const base = k * P;
        for (let th = 0; th < P; th++) row[th] += wjk * S[base + th];
      }
      for (let bb = 0; bb < N; bb++) row[j * N + bb] += hp[bb];
      for (let bb = 0; bb < M; bb++) row[inBase + j * M + bb] += x[bb];
      row[bBase + j] += 1;
      const coef = this.a * this.dphi[j];
      const base = j * P;
      for (let th = 0; th < P; th++) Snext[base + th] = decay * S[base + th] + coef * row[th];
    }
    this.S = Snext;
    this.S2 = S;
  }

  /**
   * RFLO (Murray 2019, eq. 13-14): P_ab(t) = (1-a) P_ab(t-1) + a phi'(u_a(t)) h_b(t-1) (x_b(t) for W_in, 1 for b).
   * SnAp-1 (Menick et al. 2021) keeps the diagonal of the exact recursion, so its decay also has a phi'(u_a) W_rec_aa.
   */
  private advanceLocal(x: ArrayLike<number>, snap: boolean): void {
    const N = this.N;
    const M = this.M;
    const S = this.S;
    const Wrec = this.w.W_rec;
    const hp = this.hPrev;
    const a = this.a;
    const inBase = N * N;
    const bBase = N * N + N * M;
    for (let u = 0; u < N; u++) {
      const coef = a * this.dphi[u];
      const decay = snap ? 1 - a + coef * Wrec[u * N + u] : 1 - a;
      for (let bb = 0; bb < N; bb++) {
        const i = u * N + bb;
        S[i] = decay * S[i] + coef * hp[bb];
      }
      for (let bb = 0; bb < M; bb++) {
        const i = inBase + u * M + bb;
        S[i] = decay * S[i] + coef * x[bb];
      }
      S[bBase + u] = decay * S[bBase + u] + coef;
    }
  }

  /** term_theta = sum_j fb_j S_j,theta (RTRL), or fb_a S_theta for theta of unit a (RFLO, SnAp-1). */
  private formTerms(): void {
    const N = this.N;
    const M = this.M;
    const P = this.P;
    const S = this.S;
    const fb = this.fb;
    const term = this.term;
    if (this.kind === KIND_RTRL) {
      for (let th = 0; th < P; th++) term[th] = 0;
      for (let j = 0; j < N; j++) {
        const c = fb[j];
        const base = j * P;
        for (let th = 0; th < P; th++) term[th] += c * S[base + th];
      }
      return;
    }
    const inBase = N * N;
    const bBase = N * N + N * M;
    for (let u = 0; u < N; u++) {
      const c = fb[u];
      for (let bb = 0; bb < N; bb++) term[u * N + bb] = c * S[u * N + bb];
      for (let bb = 0; bb < M; bb++) term[inBase + u * M + bb] = c * S[inBase + u * M + bb];
      term[bBase + u] = c * S[bBase + u];
    }
  }

  /** Accumulates minus the terms; in 'step' mode also W += (lrRec / trialLength) * term. */
  private applyRecurrent(): void {
    const N = this.N;
    const M = this.M;
    const term = this.term;
    const g = this.grad;
    const w = this.w;
    let s = this.options.lrRec / this.options.trialLength;
    const step = this.stepMode;
    const nRec = N * N;
    const nIn = N * M;
    if (step && this.maxRecStep !== Infinity) {
      // Divergence guard: |s term| <= maxRecStep, by scaling the whole step (its direction is kept).
      let n2 = 0;
      for (let i = 0; i < this.P; i++) n2 += term[i] * term[i];
      const norm = Math.abs(s) * Math.sqrt(n2);
      if (norm > this.maxRecStep) {
        s *= this.maxRecStep / norm;
        this.guardedSteps++;
      }
    }
    for (let i = 0; i < nRec; i++) {
      const t = term[i];
      g.W_rec[i] -= t;
      if (step) w.W_rec[i] += s * t;
    }
    for (let i = 0; i < nIn; i++) {
      const t = term[nRec + i];
      g.W_in[i] -= t;
      if (step) w.W_in[i] += s * t;
    }
    for (let i = 0; i < N; i++) {
      const t = term[nRec + nIn + i];
      g.b[i] -= t;
      if (step) w.b[i] += s * t;
    }
  }

  resetState(): void {
    this.h.set(this.w.h0);
    this.hPrev.set(this.w.h0);
    this.S.fill(0);
    this.S2.fill(0);
  }

  /**
   * 'trial' mode: W -= (lr / trialLength) * accumulated gradient (lrRec for W_in, W_rec, b; lrOut for W_out).
   * Both modes then clear the accumulator, so readGradient() always covers the steps since the last endTrial().
   */
  endTrial(): void {
    if (!this.stepMode) {
      const sRec = this.options.lrRec / this.options.trialLength;
      const sOut = this.options.lrOut / this.options.trialLength;
      const g = this.grad;
      const w = this.w;
      for (let i = 0; i < g.W_rec.length; i++) w.W_rec[i] -= sRec * g.W_rec[i];
      for (let i = 0; i < g.W_in.length; i++) w.W_in[i] -= sRec * g.W_in[i];
      for (let i = 0; i < g.b.length; i++) w.b[i] -= sRec * g.b[i];
      for (let i = 0; i < g.W_out.length; i++) w.W_out[i] -= sOut * g.W_out[i];
      if (g.D) for (let i = 0; i < g.D.length; i++) this.Dw[i] -= sOut * g.D[i];
    }
    this.clearGradient();
  }

  readGradient(out: Gradient): Gradient {
    copyGradientInto(out, this.grad);
    return out;
  }

  clearGradient(): void {
    this.grad.W_in.fill(0);
    this.grad.W_rec.fill(0);
    this.grad.b.fill(0);
    this.grad.W_out.fill(0);
    if (this.grad.D) this.grad.D.fill(0);
  }

  readHidden(out: Float64Array): Float64Array {
    if (out.length < this.N) throw new Error(`out must have at least ${this.N} entries (hidden), got ${out.length}`);
    for (let i = 0; i < this.N; i++) out[i] = this.h[i];
    return out;
  }

  /** h(t) += delta between steps (state noise); traces are unchanged since the noise does not depend on the weights. */
  perturbHidden(delta: ArrayLike<number>): void {
    if (delta.length !== this.N) throw new Error(`delta must have ${this.N} entries (hidden), got ${delta.length}`);
    for (let i = 0; i < this.N; i++) this.h[i] += delta[i];
  }

  getWeights(): ModelWeights {
    return copyWeights(this.w);
  }

  setWeights(w: ModelWeights): void {
    checkWeights(w, this.options);
    copyWeightsInto(this.w, w);
    this.resetReadoutCorrelation();
    this.resetState();
  }
}

/** Copies src into out, checking that the blocks have the same shape. */
export function copyGradientInto(out: Gradient, src: Gradient): Gradient {
  if (
    out.W_in.length !== src.W_in.length ||
    out.W_rec.length !== src.W_rec.length ||
    out.b.length !== src.b.length ||
    out.W_out.length !== src.W_out.length
  ) {
    throw new Error('gradient out has the wrong shape; make it with zeroGradient(options) from runtime/types.ts');
  }
  out.W_in.set(src.W_in);
  out.W_rec.set(src.W_rec);
  out.b.set(src.b);
  out.W_out.set(src.W_out);
  if (src.D) {
    // A caller that made `out` before knowing about D gets one (allocates once; later reads reuse it).
    if (!out.D) out.D = new Float64Array(src.D.length);
    if (out.D.length !== src.D.length) throw new Error(`gradient out.D has ${out.D.length} entries, expected ${src.D.length} (O x M)`);
    out.D.set(src.D);
  }
  return out;
}

/**
 * A float64 learner ('rtrl' | 'rflo' | 'snap1' | 'output') with the runtime's OnlineLearner interface.
 * Copies the weights; options.tau must equal weights.tau.
 */
export function createFloatLearner(options: LearnerOptions, weights: ModelWeights): FloatLearner {
  return new FloatLearner(options, weights);
}
