/**
 * Prediction metrics shared by the live loop (firmware-bridge/learning-loop.ts), the simulator, the demo and
 * `neurostream run`: normalised mean squared error (NMSE = sum |e|^2 / sum |target - mean(target)|^2, 1 for a
 * predictor that outputs the target's mean), its running form, and the recovery after a change of the stream.
 * Pure TypeScript, float64; nothing here allocates per sample.
 */

/**
 * Running NMSE over an exponential window of time constant `window` samples: EMAs (rate 1/window) of |e|^2, of each
 * output's mean and of sum_o (t_o - mean_o)^2; value = EMA(|e|^2) / EMA(variance), NaN until a sample was added.
 * The first sample initialises the EMAs of |e|^2 and of the variance.
 */
export class RunningNmse {
  private readonly rate: number;
  private readonly mean: Float64Array;
  private err = 0;
  private variance = 0;
  private seen = 0;

  constructor(outputs: number, window = 1000) {
    if (!(window >= 1)) throw new RangeError(`window must be >= 1 sample (got ${window})`);
    this.rate = 1 / window;
    this.mean = new Float64Array(Math.max(1, outputs));
  }

  /** Samples not scored because a target entry was not finite (a missing target, runtime/ARITHMETIC.md). */
  missing = 0;

  /**
   * Adds one sample's targets t and predictions y (length >= outputs). A target with a non-finite entry is a
   * missing target: the sample is not scored (counted in `missing`), as the learner does not learn from it.
   */
  add(t: ArrayLike<number>, y: ArrayLike<number>): void {
    const a = this.rate;
    const mean = this.mean;
    for (let i = 0; i < mean.length; i++) {
      const v = t[i];
      if (!(v - v === 0)) {
        this.missing++;
        return;
      }
    }
    let e2 = 0;
    let v = 0;
    for (let i = 0; i < mean.length; i++) {
      const e = t[i] - y[i];
      e2 += e * e;
      mean[i] += a * (t[i] - mean[i]);
      const d = t[i] - mean[i];
      v += d * d;
    }
    if (this.seen === 0) {
      this.err = e2;
      this.variance = v;
    } else {
      this.err += a * (e2 - this.err);
      this.variance += a * (v - this.variance);
    }
    this.seen++;
  }

  /** Samples added. */
  get count(): number {
    return this.seen;
  }

  /** The running NMSE, NaN before the first sample. */
  get value(): number {
    return this.seen > 0 ? this.err / this.variance : NaN;
  }
}

/**
 * NMSE of samples [from, to) from per-sample squared errors e2[i] = sum_o |e_o(i)|^2 and targets t[i*O + o]:
 * sum e2 / sum_o sum_i (t_o(i) - mean_o)^2. null when fewer than 2 samples or the targets do not vary.
 */
export function blockNmse(e2: ArrayLike<number>, t: ArrayLike<number>, O: number, from: number, to: number): number | null {
  if (to - from < 2) return null;
  let v = 0;
  for (let o = 0; o < O; o++) {
    let s = 0;
    let s2 = 0;
    for (let i = from; i < to; i++) {
      const x = t[i * O + o];
      s += x;
      s2 += x * x;
    }
    v += s2 - (s * s) / (to - from);
  }
  let e = 0;
  for (let i = from; i < to; i++) e += e2[i];
  return v > 0 ? e / v : null;
}

export interface Recovery {
  /** Sample index of the change (first sample whose target follows the new regime). */
  event: number;
  /** NMSE over the W samples before the change (normalised by the variance of the previous segment's target). */
  preNmse: number;
  /** NMSE over the first W samples after the change (normalised by the new segment's target variance). */
  postNmse: number;
  /** Samples after the change until the trailing-W NMSE is <= ratio * preNmse; null if not within the segment. */
  steps: number | null;
  /** Samples in the segment [event, next change or end of the run). */
  segment: number;
  /**
   * The segment was cut by the end of the run, not by the next change: a null `steps` then means "not recovered
   * before the run ended", which is "never" only if the segment was as long as a whole regime (the caller knows).
   */
  runEnded: boolean;
}

/** Summed (over outputs) variance of the target over samples [from, to). */
function segmentVariance(tgt: ArrayLike<number>, O: number, from: number, to: number): number {
  let v = 0;
  const m = to - from;
  for (let k = 0; k < O; k++) {
    let s = 0;
    let q = 0;
    for (let t = from; t < to; t++) {
      const x = tgt[t * O + k];
      s += x;
      q += x * x;
    }
    v += q / m - (s / m) * (s / m);
  }
  return v;
}

/**
 * Recovery after each change (event e, segment [e, next event or end)): windowed NMSE = mean over W samples of
 * |e|^2 / the segment's target variance. pre = the W samples before e (previous segment's variance); recovered at
 * the first sample t >= e + W - 1 whose trailing window [t - W + 1, t] has NMSE <= ratio * pre; steps = t - e + 1.
 */
export function measureRecovery(err: ArrayLike<number>, tgt: ArrayLike<number>, O: number, n: number, events: readonly number[], W: number, ratio: number): Recovery[] {
  const out: Recovery[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const prevStart = i === 0 ? 0 : events[i - 1];
    const end = Math.min(n, i + 1 < events.length ? events[i + 1] : n);
    if (e - prevStart < W || end - e < W) continue; // segments shorter than a window cannot be measured
    const vPrev = segmentVariance(tgt, O, prevStart, e);
    const vSeg = segmentVariance(tgt, O, e, end);
    let pre = 0;
    for (let t = e - W; t < e; t++) pre += err[t];
    pre /= W * vPrev;
    let win = 0;
    for (let t = e; t < e + W; t++) win += err[t];
    const post = win / (W * vSeg);
    let steps: number | null = null;
    for (let t = e + W - 1; t < end; t++) {
      if (t > e + W - 1) win += err[t] - err[t - W];
      if (win / (W * vSeg) <= ratio * pre) {
        steps = t - e + 1;
        break;
      }
    }
    out.push({ event: e, preNmse: pre, postNmse: post, steps, segment: end - e, runEnded: i + 1 >= events.length || events[i + 1] >= n });
  }
  return out;
}

