/**
 * Linear yardsticks for one-step-ahead stream prediction, float64, scored prequentially (predict, then learn) in
 * the task's signal units, exactly as runStream scores a learner:
 *
 *   persistence   y(t) = the task's "last value" prediction (Task.persistence)
 *   NLMS-AR       y(t) = W phi(t), phi(t) = [x(t), x(t-1), ..., x(t-p+1), 1] (every input channel, p lags, a bias),
 *                 W += mu e(t) phi(t)^T / (eps + |phi(t)|^2)           (Haykin, Adaptive Filter Theory, NLMS)
 *   RLS-AR        the same regressor, exponentially weighted recursive least squares with forgetting lambda:
 *                 k = P phi / (lambda + phi^T P phi),  W += e k^T,  P = (P - k phi^T P) / lambda,  P(0) = I / delta
 *                 (Haykin, Adaptive Filter Theory, Table of the RLS algorithm)
 *
 * They are yardsticks, not learners for the device: a recurrent learner that does not beat them on a stream has not
 * earned its cost there. The regressor is shared by every output (W is O x L, L = M p + 1); before p samples have
 * been seen the missing lags are 0. Everything is allocated at construction; step() allocates nothing.
 */
import type { Task } from './tasks/task.ts';

/** The predictor interface of a baseline: predict y(t) from x(t) into out, then learn from target (if given). */
export interface LinearPredictor {
  readonly name: string;
  step(x: ArrayLike<number>, target: ArrayLike<number> | null, out: Float64Array): Float64Array;
  reset(): void;
}

export interface ArOptions {
  /** Input channels M (>= 1). */
  inputs: number;
  /** Outputs O (>= 1). */
  outputs: number;
  /** Lags p per channel (>= 1, default 8). */
  lags?: number;
}

/** Regressor phi = [x(t) | x(t-1) | ... | x(t-p+1) | 1], kept as a shift register. */
class Regressor {
  readonly phi: Float64Array;
  readonly L: number;
  /** The last valid reading of each channel. */
  private readonly last: Float64Array;
  constructor(
    readonly M: number,
    readonly p: number,
  ) {
    if (!Number.isInteger(M) || M < 1) throw new Error(`a linear AR baseline needs inputs >= 1 (got ${M}); a task without inputs has no regressor`);
    if (!Number.isInteger(p) || p < 1) throw new Error(`lags must be an integer >= 1 (got ${p})`);
    this.L = M * p + 1;
    this.phi = new Float64Array(this.L);
    this.last = new Float64Array(M);
    this.reset();
  }
  /** Shifts in x(t); a missing reading (NaN) holds the channel's last value, as the learners do (ARITHMETIC.md). */
  push(x: ArrayLike<number>): void {
    const M = this.M;
    const phi = this.phi;
    for (let j = 0; j < M; j++) {
      const v = x[j];
      if (v === v) this.last[j] = v;
    }
    for (let i = M * this.p - 1; i >= M; i--) phi[i] = phi[i - M];
    for (let j = 0; j < M; j++) phi[j] = this.last[j];
  }
  reset(): void {
    this.phi.fill(0);
    this.last.fill(0);
    this.phi[this.L - 1] = 1;
  }
}

function checkOutputs(O: number): void {
  if (!Number.isInteger(O) || O < 1) throw new Error(`outputs must be an integer >= 1 (got ${O})`);
}

export interface NlmsOptions extends ArOptions {
  /** Step size mu in (0, 2) (default 0.5; NLMS is stable in the mean for 0 < mu < 2). */
  mu?: number;
  /** Regulariser of the normalisation (default 1e-6). */
  eps?: number;
}

/** NLMS over the last p samples of every input channel (Haykin, Adaptive Filter Theory, NLMS). */
export function createNlmsAr(o: NlmsOptions): LinearPredictor & { readonly weights: Float64Array } {
  checkOutputs(o.outputs);
  const reg = new Regressor(o.inputs, o.lags ?? 8);
  const mu = o.mu ?? 0.5;
  const eps = o.eps ?? 1e-6;
  if (!(mu > 0 && mu < 2)) throw new Error(`NLMS mu must be in (0, 2) (got ${mu}); 0.5 is a safe start`);
  if (!(eps > 0)) throw new Error(`NLMS eps must be > 0 (got ${eps})`);
  const O = o.outputs;
  const L = reg.L;
  const W = new Float64Array(O * L);
  // eps and mu read from a Float64Array, not the closure: a loop sum that starts from a number held in the closure
  // made Node 24's optimizing compiler box the sum, one heap number (16 bytes) per sample in the live loop.
  const c = Float64Array.of(eps, mu);
  return {
    name: `NLMS-AR p${reg.p}`,
    weights: W,
    step(x, target, out) {
      reg.push(x);
      const phi = reg.phi;
      let n2 = c[0];
      for (let i = 0; i < L; i++) n2 += phi[i] * phi[i];
      for (let k = 0; k < O; k++) {
        let s = 0;
        for (let i = 0; i < L; i++) s += W[k * L + i] * phi[i];
        out[k] = s;
      }
      if (target === null) return out;
      for (let k = 0; k < O; k++) {
        const g = (c[1] * (target[k] - out[k])) / n2;
        for (let i = 0; i < L; i++) W[k * L + i] += g * phi[i];
      }
      return out;
    },
    reset() {
      reg.reset();
      W.fill(0);
    },
  };
}

export interface RlsOptions extends ArOptions {
  /** Forgetting factor lambda in (0, 1] (default 0.999: an effective memory of 1 / (1 - lambda) = 1000 samples). */
  lambda?: number;
  /** P(0) = I / delta (default delta 0.01). */
  delta?: number;
}

/** Exponentially weighted RLS over the last p samples of every input channel (Haykin, Adaptive Filter Theory). */
export function createRlsAr(o: RlsOptions): LinearPredictor & { readonly weights: Float64Array } {
  checkOutputs(o.outputs);
  const reg = new Regressor(o.inputs, o.lags ?? 8);
  const lambda = o.lambda ?? 0.999;
  const delta = o.delta ?? 0.01;
  if (!(lambda > 0 && lambda <= 1)) throw new Error(`RLS lambda must be in (0, 1] (got ${lambda}); 0.999 is a safe start`);
  if (!(delta > 0)) throw new Error(`RLS delta must be > 0 (got ${delta})`);
  const O = o.outputs;
  const L = reg.L;
  const W = new Float64Array(O * L);
  const P = new Float64Array(L * L);
  const Pphi = new Float64Array(L);
  const k = new Float64Array(L);
  const initP = (): void => {
    P.fill(0);
    for (let i = 0; i < L; i++) P[i * L + i] = 1 / delta;
  };
  initP();
  return {
    name: `RLS-AR p${reg.p}`,
    weights: W,
    step(x, target, out) {
      reg.push(x);
      const phi = reg.phi;
      for (let q = 0; q < O; q++) {
        let s = 0;
        for (let i = 0; i < L; i++) s += W[q * L + i] * phi[i];
        out[q] = s;
      }
      if (target === null) return out;
      // Pphi = P phi; P stays symmetric, so phi^T P = Pphi^T.
      let den = lambda;
      for (let i = 0; i < L; i++) {
        let s = 0;
        for (let j = 0; j < L; j++) s += P[i * L + j] * phi[j];
        Pphi[i] = s;
        den += phi[i] * s;
      }
      for (let i = 0; i < L; i++) k[i] = Pphi[i] / den;
      for (let q = 0; q < O; q++) {
        const e = target[q] - out[q];
        for (let i = 0; i < L; i++) W[q * L + i] += e * k[i];
      }
      // P = (P - k Pphi^T) / lambda, symmetrised against round-off drift.
      const il = 1 / lambda;
      for (let i = 0; i < L; i++) {
        for (let j = i; j < L; j++) {
          const v = (0.5 * (P[i * L + j] + P[j * L + i]) - k[i] * Pphi[j]) * il;
          P[i * L + j] = v;
          P[j * L + i] = v;
        }
      }
      return out;
    },
    reset() {
      reg.reset();
      W.fill(0);
      initP();
    },
  };
}

export interface BaselineScore {
  /** Samples scored. */
  steps: number;
  nmse: number;
}

/**
 * Prequential NMSE of a predictor over a stream task (from its start), in signal units:
 * sum_t |target(t) - y(t)|^2 / sum_k sum_t (target_k(t) - mean_k)^2, as runStream scores learners.
 */
export function scorePredictor(p: LinearPredictor, task: Task, steps?: number): BaselineScore {
  if (task.trialLength !== null) throw new Error(`task "${task.name}" is trial-based; the linear baselines score streams`);
  const total = steps ?? task.length;
  if (total === null || total === undefined) throw new Error(`task "${task.name}" is endless; give the number of steps`);
  const O = task.outputs;
  const x = new Float64Array(task.inputs);
  const tg = new Float64Array(O);
  const y = new Float64Array(O);
  const tSum = new Float64Array(O);
  const tSq = new Float64Array(O);
  task.reset();
  p.reset();
  let se = 0;
  let n = 0;
  while (n < total && task.next(x, tg)) {
    p.step(x, tg, y);
    for (let k = 0; k < O; k++) {
      const sc = task.scale[k];
      const t = tg[k] * sc + task.offset[k];
      const e = (tg[k] - y[k]) * sc;
      se += Number.isFinite(e) ? e * e : Infinity;
      tSum[k] += t;
      tSq[k] += t * t;
    }
    n++;
  }
  let v = 0;
  for (let k = 0; k < O; k++) v += tSq[k] - (tSum[k] * tSum[k]) / n;
  return { steps: n, nmse: se / v };
}

export interface LinearBaselineOptions {
  /** Lags p of both AR predictors (default 8). */
  lags?: number;
  mu?: number;
  lambda?: number;
}

export interface LinearBaselines {
  nlms: number;
  rls: number;
  /** The lower of the two. */
  best: number;
  variant: 'nlms' | 'rls';
}

/** NLMS-AR and RLS-AR (p lags) scored on the same stream; the task is rewound before each. */
export function scoreLinearBaselines(task: Task, steps?: number, o: LinearBaselineOptions = {}): LinearBaselines {
  const shape = { inputs: task.inputs, outputs: task.outputs, lags: o.lags ?? 8 };
  const nlms = scorePredictor(createNlmsAr({ ...shape, mu: o.mu }), task, steps).nmse;
  const rls = scorePredictor(createRlsAr({ ...shape, lambda: o.lambda }), task, steps).nmse;
  // NaN (a blow-up) ranks last.
  const rlsBetter = Number.isNaN(nlms) || rls < nlms;
  return { nlms, rls, best: rlsBetter ? rls : nlms, variant: rlsBetter ? 'rls' : 'nlms' };
}

/** Lags and step size of the live linear yardstick of `run` and `demo` (the acceptance table's NLMS-AR). */
export const LIVE_LINEAR = { lags: 8, mu: 0.5 } as const;
export const LIVE_LINEAR_NAME = `NLMS-AR p${LIVE_LINEAR.lags}`;
export const PERSISTENCE_NAME = 'persistence';

/**
 * The yardsticks `run` and `demo` hand the live learning loop (firmware-bridge/learning-loop.ts), scored beside the
 * learner on the scaled samples it sees: NLMS-AR p 8 over every input channel. Persistence is the loop's own.
 */
export function liveYardsticks(inputs: number, outputs: number): LinearPredictor[] {
  return [createNlmsAr({ inputs, outputs, lags: LIVE_LINEAR.lags, mu: LIVE_LINEAR.mu })];
}
