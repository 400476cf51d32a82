/**
 * Backpropagation through time (full or truncated) as a trainer with the OnlineLearner interface.
 * step() runs the forward pass and records the trial; endTrial() computes the BPTT gradient of the record and
 * applies W -= (lr / trialLength) * grad. Float64 only: the reference gradient for the online learners.
 *
 * Backward pass for the leaky RNN, with dL/dy(t) = -e(t) and a = 1/tau (derived for this model):
 *   dh(t) = -W_out^T e(t) + (1-a) dh(t+1) + W_rec^T gu(t+1)      (dh(t) = dL/dh(t), total)
 *   gu(t) = a phi'(u(t)) * dh(t)                                  (= dL/du(t))
 *   dL/dW_rec += gu(t) h(t-1)^T,  dL/dW_in += gu(t) x(t)^T,  dL/db += gu(t),  dL/dW_out += -e(t) h(t)^T
 *   with options.direct (y = W_out h + D x): dL/dD += -e(t) x(t)^T (D does not reach the hidden units)
 * The error of step t enters through h(t); the first step of a segment uses h(t-1) = the state it started from.
 * Truncated with window K: the error of step t reaches u(t), u(t-1), ..., u(t-K+1) and no further.
 */
import type { Gradient, LearnerKind, LearnerOptions, ModelWeights, OnlineLearner } from '../../runtime/types.ts';
import { checkCommonOptions, checkWeights, copyWeights, copyWeightsInto, withDirect, holdMissingInputs, targetMissing } from './model.ts';
import { copyGradientInto } from './learner.ts';

export interface BpttOptions extends Omit<LearnerOptions, 'learner'> {
  /** Truncation window K in steps; Infinity or 0 means full BPTT. */
  window: number;
}

/** What a BPTT learner's `options` really holds; `options.learner` reads 'bptt' (typed LearnerKind by a cast). */
export type BpttLearnerOptions = Readonly<BpttOptions & { learner: 'bptt' }>;

/** True when a learner made by createBpttLearner is given (its options.learner is 'bptt'). */
export function isBpttLearner(l: OnlineLearner): boolean {
  return (l.options.learner as string) === 'bptt';
}

class BpttLearner implements OnlineLearner {
  readonly engine = 'float' as const;
  /** Holds a BpttLearnerOptions; `learner` is 'bptt', which LearnerKind does not list, hence the cast. */
  readonly options: Readonly<LearnerOptions>;
  readonly bpttOptions: BpttLearnerOptions;

  private readonly N: number;
  private readonly M: number;
  private readonly O: number;
  private readonly a: number;
  /** 0 = full BPTT, else K. */
  private readonly window: number;
  private readonly w: ModelWeights;
  private readonly h: Float64Array;

  /** Record, one row per step: x(t), e(t), target present, segment start, h(t-1), h(t), phi'(u(t)). */
  private cap: number;
  private len = 0;
  private X: Float64Array;
  private E: Float64Array;
  private hasTarget: Uint8Array;
  private segStart: Uint8Array;
  private HP: Float64Array;
  private H: Float64Array;
  private D: Float64Array;
  private nextIsSegStart = true;
  /** Each input channel's last finite value (missing readings hold it). */
  private readonly xHeld: Float64Array;
  /** Input values that were not finite (held), and steps whose target was not finite (not learned from). */
  invalidInputs = 0;
  invalidTargets = 0;

  private readonly dh: Float64Array;
  private readonly gu: Float64Array;
  private readonly carry: Float64Array;
  private readonly grad: Gradient;

  constructor(options: BpttOptions, weights: ModelWeights) {
    checkCommonOptions(options);
    if (options.update !== 'trial') {
      throw new Error(
        `BPTT needs update: 'trial' (got '${options.update}'): its gradient is known only at the end of a trial; ` +
          `use an online learner ('rtrl', 'rflo', 'snap1', 'output') for per-step updates`,
      );
    }
    const K = options.window;
    if (!(K === Infinity || (Number.isInteger(K) && K >= 0))) {
      throw new Error(`window must be a whole number of steps >= 1, or 0 / Infinity for full BPTT (got ${K})`);
    }
    checkWeights(weights, options);
    this.bpttOptions = Object.freeze({ ...options, learner: 'bptt' as const });
    this.options = this.bpttOptions as unknown as Readonly<LearnerOptions>;
    const { inputs: M, hidden: N, outputs: O } = options;
    this.N = N;
    this.M = M;
    this.O = O;
    this.a = 1 / options.tau;
    this.window = K === Infinity ? 0 : K;
    this.w = options.direct === true ? withDirect(weights) : copyWeights(weights);
    this.h = Float64Array.from(this.w.h0);
    this.cap = Math.max(1, Math.ceil(options.trialLength));
    this.X = new Float64Array(this.cap * M);
    this.E = new Float64Array(this.cap * O);
    this.hasTarget = new Uint8Array(this.cap);
    this.segStart = new Uint8Array(this.cap);
    this.HP = new Float64Array(this.cap * N);
    this.H = new Float64Array(this.cap * N);
    this.D = new Float64Array(this.cap * N);
    this.xHeld = new Float64Array(M);
    this.dh = new Float64Array(N);
    this.gu = new Float64Array(N);
    this.carry = new Float64Array(N);
    this.grad = { W_in: new Float64Array(N * M), W_rec: new Float64Array(N * N), b: new Float64Array(N), W_out: new Float64Array(O * N) };
    if (this.w.D) this.grad.D = new Float64Array(O * M);
  }

  /** Doubles the record (allocates: only when a trial is longer than trialLength). */
  private grow(): void {
    const cap = this.cap * 2;
    const more = <T extends Float64Array | Uint8Array>(old: T, width: number): T => {
      const next = new (old.constructor as { new (n: number): T })(cap * width);
      next.set(old);
      return next;
    };
    this.X = more(this.X, this.M);
    this.E = more(this.E, this.O);
    this.hasTarget = more(this.hasTarget, 1);
    this.segStart = more(this.segStart, 1);
    this.HP = more(this.HP, this.N);
    this.H = more(this.H, this.N);
    this.D = more(this.D, this.N);
    this.cap = cap;
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
    // Missing readings, the online learners' policy (runtime/ARITHMETIC.md): a non-finite input holds its channel's
    // last value; a target with a non-finite entry is not learned from.
    this.invalidInputs += holdMissingInputs(x, this.xHeld);
    x = this.xHeld;
    if (target !== null && targetMissing(target)) {
      this.invalidTargets++;
      target = null;
    }
    if (this.len === this.cap) this.grow();
    const t = this.len++;
    this.segStart[t] = this.nextIsSegStart ? 1 : 0;
    this.nextIsSegStart = false;
    const h = this.h;
    const HP = this.HP;
    const H = this.H;
    const D = this.D;
    for (let i = 0; i < N; i++) HP[t * N + i] = h[i];
    for (let j = 0; j < M; j++) this.X[t * M + j] = x[j];
    for (let i = 0; i < N; i++) {
      let s = w.b[i];
      for (let k = 0; k < N; k++) s += w.W_rec[i * N + k] * HP[t * N + k];
      for (let j = 0; j < M; j++) s += w.W_in[i * M + j] * x[j];
      const th = Math.tanh(s);
      H[t * N + i] = (1 - a) * HP[t * N + i] + a * th;
      D[t * N + i] = 1 - th * th;
    }
    for (let i = 0; i < N; i++) h[i] = H[t * N + i];
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let i = 0; i < N; i++) s += w.W_out[o * N + i] * h[i];
      if (w.D) for (let j = 0; j < M; j++) s += w.D[o * M + j] * x[j];
      out[o] = s;
    }
    if (target === null) {
      this.hasTarget[t] = 0;
      for (let o = 0; o < O; o++) this.E[t * O + o] = 0;
    } else {
      this.hasTarget[t] = 1;
      for (let o = 0; o < O; o++) this.E[t * O + o] = target[o] - out[o];
    }
    return out;
  }

  /** dh := dh + (-W_out^T e(t)) for a recorded step with a target. */
  private inject(t: number, dh: Float64Array): void {
    const N = this.N;
    const O = this.O;
    const Wout = this.w.W_out;
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let o = 0; o < O; o++) s += Wout[o * N + j] * this.E[t * O + o];
      dh[j] -= s;
    }
  }

  /** gu = a phi'(u(t)) dh; adds gu h(t-1)^T, gu x(t)^T and gu to the gradient. */
  private accumulate(t: number, dh: Float64Array): void {
    const N = this.N;
    const M = this.M;
    const g = this.grad;
    const gu = this.gu;
    for (let i = 0; i < N; i++) {
      const v = this.a * this.D[t * N + i] * dh[i];
      gu[i] = v;
      for (let k = 0; k < N; k++) g.W_rec[i * N + k] += v * this.HP[t * N + k];
      for (let j = 0; j < M; j++) g.W_in[i * M + j] += v * this.X[t * M + j];
      g.b[i] += v;
    }
  }

  /** dh(t-1) := (1-a) dh(t) + W_rec^T gu(t), written into dst (dst may not alias dh). */
  private backOneStep(dh: Float64Array, dst: Float64Array): void {
    const N = this.N;
    const Wrec = this.w.W_rec;
    const gu = this.gu;
    const decay = 1 - this.a;
    for (let k = 0; k < N; k++) {
      let s = decay * dh[k];
      for (let i = 0; i < N; i++) s += Wrec[i * N + k] * gu[i];
      dst[k] = s;
    }
  }

  /** BPTT of the record into this.grad (overwritten). */
  private compute(): void {
    const N = this.N;
    const O = this.O;
    const g = this.grad;
    g.W_in.fill(0);
    g.W_rec.fill(0);
    g.b.fill(0);
    g.W_out.fill(0);
    if (g.D) g.D.fill(0);
    const M = this.M;
    const len = this.len;
    // dL/dW_out = sum_t -e(t) h(t)^T.
    for (let t = 0; t < len; t++) {
      if (!this.hasTarget[t]) continue;
      for (let o = 0; o < O; o++) {
        const eo = this.E[t * O + o];
        for (let i = 0; i < N; i++) g.W_out[o * N + i] -= eo * this.H[t * N + i];
        if (g.D) for (let j = 0; j < M; j++) g.D[o * M + j] -= eo * this.X[t * M + j];
      }
    }
    let dh = this.dh;
    let other = this.carry;
    if (this.window === 0) {
      // Full BPTT: one backward sweep; the carried dh is cut at segment starts (resetState).
      dh.fill(0);
      for (let t = len - 1; t >= 0; t--) {
        if (this.hasTarget[t]) this.inject(t, dh);
        this.accumulate(t, dh);
        if (this.segStart[t]) dh.fill(0);
        else {
          this.backOneStep(dh, other);
          const tmp = dh;
          dh = other;
          other = tmp;
        }
      }
      return;
    }
    // Truncated: each step's error travels back on its own for at most `window` steps.
    const K = this.window;
    for (let t = 0; t < len; t++) {
      if (!this.hasTarget[t]) continue;
      dh.fill(0);
      this.inject(t, dh);
      for (let s = t; s > t - K; s--) {
        this.accumulate(s, dh);
        if (this.segStart[s] || s === t - K + 1) break;
        this.backOneStep(dh, other);
        const tmp = dh;
        dh = other;
        other = tmp;
      }
    }
  }

  resetState(): void {
    this.h.set(this.w.h0);
    this.nextIsSegStart = true;
  }

  /** Applies W -= (lr / trialLength) * BPTT gradient of the record, then clears the record. */
  endTrial(): void {
    this.compute();
    const sRec = this.options.lrRec / this.options.trialLength;
    const sOut = this.options.lrOut / this.options.trialLength;
    const g = this.grad;
    const w = this.w;
    for (let i = 0; i < g.W_rec.length; i++) w.W_rec[i] -= sRec * g.W_rec[i];
    for (let i = 0; i < g.W_in.length; i++) w.W_in[i] -= sRec * g.W_in[i];
    for (let i = 0; i < g.b.length; i++) w.b[i] -= sRec * g.b[i];
    for (let i = 0; i < g.W_out.length; i++) w.W_out[i] -= sOut * g.W_out[i];
    if (g.D && w.D) for (let i = 0; i < g.D.length; i++) w.D[i] -= sOut * g.D[i];
    this.clearGradient();
  }

  /** The BPTT gradient of what was recorded since the last endTrial()/clearGradient(). */
  readGradient(out: Gradient): Gradient {
    this.compute();
    return copyGradientInto(out, this.grad);
  }

  /** Forgets the record; the state h is kept, and the gradient will not flow back past this point. */
  clearGradient(): void {
    this.len = 0;
    this.nextIsSegStart = true;
  }

  readHidden(out: Float64Array): Float64Array {
    if (out.length < this.N) throw new Error(`out must have at least ${this.N} entries (hidden), got ${out.length}`);
    for (let i = 0; i < this.N; i++) out[i] = this.h[i];
    return out;
  }

  /**
   * h(t) += delta between steps (state noise). The next step records the perturbed state as its h(t-1); the noise
   * does not depend on the weights, so the gradient flows through it unchanged (dh(t) = d(h(t) + delta)).
   */
  perturbHidden(delta: ArrayLike<number>): void {
    if (delta.length !== this.N) throw new Error(`delta must have ${this.N} entries (hidden), got ${delta.length}`);
    for (let i = 0; i < this.N; i++) this.h[i] += delta[i];
  }

  getWeights(): ModelWeights {
    return copyWeights(this.w);
  }

  /** Replaces all parameters, resets the state and forgets the record (it was made with the old weights). */
  setWeights(w: ModelWeights): void {
    checkWeights(w, this.options);
    copyWeightsInto(this.w, w);
    this.resetState();
    this.clearGradient();
  }
}

/**
 * A BPTT trainer with the OnlineLearner interface (update must be 'trial'). `options.learner` reads 'bptt'
 * at run time (typed LearnerKind through a cast; see BpttLearnerOptions and isBpttLearner).
 */
export function createBpttLearner(options: BpttOptions, weights: ModelWeights): OnlineLearner {
  return new BpttLearner(options, weights);
}

/** The kinds computeGradient accepts. */
export type GradientKind = LearnerKind | 'bptt';
