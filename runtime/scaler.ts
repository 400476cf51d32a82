/**
 * Streaming input scaler: raw sensor readings (integer ADC counts) -> the network's Q3.12 inputs.
 *
 * Modes
 * - 'range': a fixed range [min, max] per channel maps linearly onto [-1, 1]: x = (2 (c - min) - (max - min)) / (max - min).
 *   Readings outside [min, max] are rejected.
 * - 'running': online mean and variance (exponential moving averages with rate r, Welford-style update
 *   mean += r d; var = (1 - r) (var + r d^2) with d = c - mean), x = (c - mean) / sqrt(var + eps), clipped to
 *   [-clip, clip]. The first `warmup` readings only update the statistics and are reported as not ready (false).
 *   Readings outside [rawMin, rawMax] are rejected and do not move the statistics.
 * - 'cumulative': mean and sample variance of every accepted reading so far (Welford 1962), x = (c - mean) / sd with
 *   sd = sqrt(M2 / (n - 1)) (1 while it is below 1e-12, e.g. a constant channel), clipped to [-clip, clip]: a finite
 *   recording replayed without looking ahead. Readings outside [rawMin, rawMax] are rejected.
 * Every reading that is not a finite number is rejected. A rejected sample is counted (rejected / rejectedPerChannel)
 * and the call returns false without writing the output: the caller must not feed it to the network.
 *
 * Outlier guard ('running' and 'cumulative'): once a channel's statistics rest on `warmup` readings (and at least 8),
 * a reading more than `outlier` standard deviations from the channel's mean, |c - mean| > outlier * sd, is rejected
 * before it touches the statistics, so one absurd value (a 1e200 glitch) cannot inflate the scale and flatten every
 * later reading. Counted apart from range rejections (outliers / outliersPerChannel). A real level shift is not an
 * outlier forever: after `outlierRun` consecutive outliers in a channel, its statistics restart from the new level
 * (counted in restarts). Chebyshev's inequality bounds the share of any distribution beyond k sd by 1/k^2
 * (1/64 at the default k = 8), so the guard rejects almost nothing that belongs to the stream.
 * Before that, over a channel's first 32 readings (from its 2nd), the guard judges by robust statistics of the
 * readings accepted so far: with m their median, s = max(1.4826 * MAD, (max - min) / 2) their spread (MAD: the median
 * absolute deviation; 1.4826 MAD estimates sd for normal data, Hampel 1974) and n their number, a reading with
 * |c - m| > 4 * outlier * (32 / n) * s is rejected. The bound is wide because a few readings of a slow signal show
 * little of its spread: it shrinks as readings come in, and a signal that moves on continuously widens its own range
 * as it goes. (A 2 kHz sine first seen at a flat stretch lost 15 clean readings to the narrower 4 * outlier * 1.4826
 * * MAD.) An absurd value is thousands of spreads away: a -9999 in a log's seventh row or a 65535 in its third can
 * neither pass nor widen the spread that judges the later rows. From the 33rd reading until `warmup`, nothing is
 * judged: a signal that holds levels (a heater drive, a setpoint) shows its spread only over many readings, and its
 * first step is not a glitch. In 'running' mode s is at least sqrt(eps), the floor of the later guard's sd; otherwise,
 * while the early readings are all equal (no spread yet), nothing is judged.
 *
 * Arithmetic: float64 with + - * / and sqrt only, which IEEE 754 rounds correctly, so results are identical on every
 * platform (C: compile without FMA contraction, -ffp-contract=off); the result is rounded half up to Q3.12 and
 * saturated. Allocates nothing per sample.
 */

export type ScalerMode = 'range' | 'running' | 'cumulative';

export interface ScalerConfig {
  channels: number;
  mode: ScalerMode;
  /** 'range': lower and upper count of each channel (one number for all, or one per channel). */
  min?: number | number[];
  max?: number | number[];
  /** 'running': EMA rate in (0, 1] (default 1/1024). */
  rate?: number;
  /** 'running': samples used only to settle the statistics (default 16). */
  warmup?: number;
  /** 'running': output clip in standard deviations (default 4, at most 7.99). */
  clip?: number;
  /** 'running', 'cumulative': reject readings more than this many standard deviations from the mean (default 8;
   * Infinity turns the guard off). */
  outlier?: number;
  /** Consecutive outliers in one channel after which its statistics restart at the new level (default 16). */
  outlierRun?: number;
  /** 'running', 'cumulative': accepted raw range (default +-2^31). */
  rawMin?: number;
  rawMax?: number;
  /** 'running': variance floor (default 1, one count squared). */
  eps?: number;
}

function perChannel(name: string, v: number | number[] | undefined, n: number): Float64Array {
  if (v === undefined) throw new RangeError(`${name} is required in 'range' mode (a number or one per channel)`);
  const a = typeof v === 'number' ? new Array<number>(n).fill(v) : v;
  if (a.length !== n) throw new RangeError(`${name} must have ${n} entries (channels), got ${a.length}`);
  for (const x of a) if (!Number.isFinite(x)) throw new RangeError(`${name} must be finite numbers (got ${x})`);
  return Float64Array.from(a);
}

export class StreamScaler {
  readonly config: Readonly<ScalerConfig>;
  readonly channels: number;
  /** Samples accepted and scaled. */
  accepted = 0;
  /** Samples rejected (NaN, infinite, or out of range in any channel). */
  rejected = 0;
  readonly rejectedPerChannel: Uint32Array;
  /** Samples rejected by the outlier guard (a subset of rejected), per channel, and statistics restarts. */
  outliers = 0;
  readonly outliersPerChannel: Uint32Array;
  restarts = 0;
  private readonly runLength: Uint32Array;
  private readonly count: Float64Array;
  private readonly m2: Float64Array;
  private readonly outlier: number;
  private readonly outlierRun: number;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  readonly mean: Float64Array;
  readonly variance: Float64Array;
  private seen = 0;
  private readonly rate: number;
  private readonly warmup: number;
  private readonly clip: number;
  private readonly eps: number;
  private readonly tmp: Float64Array;
  /** The first EARLY accepted readings of each channel, kept sorted (channel i at i * EARLY), for the early guard. */
  private readonly early: Float64Array;
  private readonly earlyLen: Uint8Array;
  /** Smallest and largest reading accepted since the channel's statistics (re)started, for the early guard. */
  private readonly earlyMin: Float64Array;
  private readonly earlyMax: Float64Array;
  private readonly dev: Float64Array;
  /**
   * sd() and guardSd() write here: a method that returns a float returns it boxed when the compiler does not inline
   * it (Node 24, in about one run in three: one 16-byte heap number per reading, 60 bytes a sample in the live loop).
   */
  private readonly sdOut = new Float64Array(1);

  constructor(c: ScalerConfig) {
    if (!Number.isInteger(c.channels) || c.channels < 1) throw new RangeError(`channels must be an integer >= 1 (got ${c.channels})`);
    if (c.mode !== 'range' && c.mode !== 'running' && c.mode !== 'cumulative') throw new RangeError(`mode must be 'range', 'running' or 'cumulative' (got ${String(c.mode)})`);
    const n = c.channels;
    this.channels = n;
    this.config = Object.freeze({ ...c });
    this.rejectedPerChannel = new Uint32Array(n);
    this.outliersPerChannel = new Uint32Array(n);
    this.runLength = new Uint32Array(n);
    this.count = new Float64Array(n);
    this.m2 = new Float64Array(n);
    this.outlier = c.outlier ?? 8;
    if (!(this.outlier > 0)) throw new RangeError(`outlier must be > 0 standard deviations, or Infinity for no guard (got ${c.outlier})`);
    this.outlierRun = c.outlierRun ?? 16;
    if (!Number.isInteger(this.outlierRun) || this.outlierRun < 1) throw new RangeError(`outlierRun must be an integer >= 1 (got ${c.outlierRun})`);
    this.mean = new Float64Array(n);
    this.variance = new Float64Array(n);
    this.tmp = new Float64Array(n);
    this.early = new Float64Array(n * EARLY);
    this.earlyLen = new Uint8Array(n);
    this.earlyMin = new Float64Array(n);
    this.earlyMax = new Float64Array(n);
    this.dev = new Float64Array(EARLY);
    this.rate = c.rate ?? 1 / 1024;
    if (!(this.rate > 0 && this.rate <= 1)) throw new RangeError(`rate must be in (0, 1] (got ${c.rate})`);
    this.warmup = c.warmup ?? (c.mode === 'cumulative' ? 0 : 16);
    const minWarmup = c.mode === 'cumulative' ? 0 : 1;
    if (!Number.isInteger(this.warmup) || this.warmup < minWarmup) throw new RangeError(`warmup must be an integer >= ${minWarmup} (got ${c.warmup})`);
    this.clip = c.clip ?? 4;
    if (!(this.clip > 0 && this.clip < 8)) throw new RangeError(`clip must be in (0, 8) standard deviations (got ${c.clip})`);
    this.eps = c.eps ?? 1;
    if (c.mode === 'range') {
      this.lo = perChannel('min', c.min, n);
      this.hi = perChannel('max', c.max, n);
      for (let i = 0; i < n; i++) {
        if (!(this.hi[i] > this.lo[i])) throw new RangeError(`max must be > min in channel ${i} (got min ${this.lo[i]}, max ${this.hi[i]})`);
      }
    } else {
      this.lo = new Float64Array(n).fill(c.rawMin ?? -(2 ** 31));
      this.hi = new Float64Array(n).fill(c.rawMax ?? 2 ** 31);
    }
  }

  /**
   * Scales one sample (length channels) into outq (Q3.12). Returns false, and leaves outq untouched, when the sample
   * is rejected or (running mode) the scaler is still warming up.
   */
  scaleQ(raw: ArrayLike<number>, outq: Int16Array): boolean {
    if (!this.scaleInto(raw)) return false;
    for (let i = 0; i < this.channels; i++) {
      const v = Math.floor(this.tmp[i] * 4096 + 0.5);
      outq[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    return true;
  }

  /** As scaleQ, writing the Q3.12 value as a float (what learner.step quantizes back exactly). */
  scale(raw: ArrayLike<number>, out: Float64Array): boolean {
    if (!this.scaleInto(raw)) return false;
    for (let i = 0; i < this.channels; i++) {
      const v = Math.floor(this.tmp[i] * 4096 + 0.5);
      out[i] = (v > 32767 ? 32767 : v < -32768 ? -32768 : v) / 4096;
    }
    return true;
  }

  private scaleInto(raw: ArrayLike<number>): boolean {
    const n = this.channels;
    if (raw.length !== n) throw new RangeError(`sample must have ${n} entries (channels), got ${raw.length}`);
    let bad = false;
    for (let i = 0; i < n; i++) {
      const c = raw[i];
      if (!(c >= this.lo[i] && c <= this.hi[i])) {
        this.rejectedPerChannel[i]++;
        bad = true;
      }
    }
    if (bad) {
      this.rejected++;
      return false;
    }
    if (this.config.mode !== 'range' && this.isOutlier(raw)) {
      this.rejected++;
      this.outliers++;
      return false;
    }
    const clip = this.clip;
    if (this.config.mode === 'cumulative') {
      this.seen++;
      for (let i = 0; i < n; i++) {
        const c = raw[i];
        // Welford (1962): running mean and sum of squared deviations.
        this.count[i]++;
        this.noteEarly(i, c);
        const d = c - this.mean[i];
        this.mean[i] += d / this.count[i];
        this.m2[i] += d * (c - this.mean[i]);
        this.variance[i] = this.count[i] > 1 ? this.m2[i] / (this.count[i] - 1) : 0;
        this.sd(i);
        this.tmp[i] = Math.max(-clip, Math.min(clip, (c - this.mean[i]) / this.sdOut[0]));
      }
      if (this.seen <= this.warmup) return false;
      this.accepted++;
      return true;
    }
    if (this.config.mode === 'range') {
      for (let i = 0; i < n; i++) {
        const w = this.hi[i] - this.lo[i];
        this.tmp[i] = (2 * (raw[i] - this.lo[i]) - w) / w;
      }
      this.accepted++;
      return true;
    }
    const r = this.rate;
    this.seen++;
    for (let i = 0; i < n; i++) {
      const c = raw[i];
      this.count[i]++;
      this.noteEarly(i, c);
      if (this.count[i] === 1) {
        this.mean[i] = c;
        this.variance[i] = 0;
      } else {
        // Exponentially weighted mean and variance (Finch 2009, "Incremental calculation of weighted mean and variance").
        const d = c - this.mean[i];
        this.mean[i] += r * d;
        this.variance[i] = (1 - r) * (this.variance[i] + r * d * d);
      }
      // clipped with Math.min/max, not a branch that assigns this.clip to z: a phi of z and a field that holds an
      // integer (clip 4) made the optimizing compiler box z, one heap number per reading
      this.tmp[i] = Math.max(-clip, Math.min(clip, (c - this.mean[i]) / Math.sqrt(this.variance[i] + this.eps)));
    }
    if (this.seen <= this.warmup) return false;
    this.accepted++;
    return true;
  }

  /** The standard deviation the guard and 'cumulative' scaling divide by, into sdOut[0]. */
  private sd(i: number): void {
    if (this.config.mode === 'running') {
      this.sdOut[0] = Math.sqrt(this.variance[i] + this.eps);
      return;
    }
    const s = Math.sqrt(this.variance[i]);
    this.sdOut[0] = s > 1e-12 ? s : 1;
  }

  /**
   * The standard deviation the guard compares with, into sdOut[0]. 'running': the exponentially weighted variance
   * starts at 0 and is biased low for its first ~1/rate readings; divided by 1 - (1 - rate)^(n-1) it is not (the bias correction of
   * Kingma & Ba 2015, Adam, sec. 3), so the guard does not take the early spread for outliers.
   */
  private guardSd(i: number): void {
    if (this.config.mode === 'running') {
      const k = this.count[i] - 1;
      const unbias = k > 0 ? 1 - Math.pow(1 - this.rate, k) : 1;
      this.sdOut[0] = Math.sqrt(this.variance[i] / unbias + this.eps);
      return;
    }
    this.sd(i);
  }

  /**
   * Whether `value` would be rejected by the outlier guard in channel `channel` given the statistics so far (read
   * only: counts nothing, moves nothing). Lets a caller check a value it scales elsewhere, e.g. a target.
   */
  wouldRejectOutlier(channel: number, value: number): boolean {
    if (this.config.mode === 'range') return false;
    const seen = this.count[channel];
    if (seen < 8 || seen <= this.warmup) return seen <= EARLY && this.earlyOutlier(channel, value);
    const d = value - this.mean[channel];
    this.guardSd(channel);
    return !(Math.abs(d) <= this.outlier * this.sdOut[0]);
  }

  /**
   * Keeps the first EARLY accepted readings of a channel in sorted order (insertion; allocates nothing) and the
   * smallest and largest of all of them.
   */
  private noteEarly(i: number, c: number): void {
    const n = this.earlyLen[i];
    if (n === 0 || c < this.earlyMin[i]) this.earlyMin[i] = c;
    if (n === 0 || c > this.earlyMax[i]) this.earlyMax[i] = c;
    if (n >= EARLY) return;
    const e = this.early;
    const base = i * EARLY;
    let k = base + n;
    while (k > base && e[k - 1] > c) {
      e[k] = e[k - 1];
      k--;
    }
    e[k] = c;
    this.earlyLen[i] = n + 1;
  }

  /**
   * The early guard: |c - median| > 4 * outlier * (EARLY / n) * max(1.4826 * MAD, (max - min) / 2) over the n
   * readings kept so far (2 or more, spread > 0; 'running': spread >= sqrt(eps)).
   */
  private earlyOutlier(i: number, value: number): boolean {
    const n = this.earlyLen[i];
    if (n < 2 || this.outlier === Infinity) return false;
    const e = this.early;
    const base = i * EARLY;
    const med = median(e, base, n);
    const dev = this.dev;
    for (let k = 0; k < n; k++) {
      // insertion into dev[0..k) sorted
      const d = Math.abs(e[base + k] - med);
      let j = k;
      while (j > 0 && dev[j - 1] > d) {
        dev[j] = dev[j - 1];
        j--;
      }
      dev[j] = d;
    }
    // 'running': no smaller than the floor sqrt(eps) the later guard's sd has (guardSd)
    const floor = this.config.mode === 'running' ? Math.sqrt(this.eps) : 0;
    const spread = Math.max(1.4826 * median(dev, 0, n), (this.earlyMax[i] - this.earlyMin[i]) / 2, floor);
    if (!(spread > 0)) return false;
    return !(Math.abs(value - med) <= 4 * this.outlier * (EARLY / n) * spread);
  }

  /** Outlier test of a whole sample; counts per channel; restarts a channel after outlierRun outliers in a row. */
  private isOutlier(raw: ArrayLike<number>): boolean {
    let any = false;
    for (let i = 0; i < this.channels; i++) {
      if (this.wouldRejectOutlier(i, raw[i])) {
        this.outliersPerChannel[i]++;
        any = true;
        if (++this.runLength[i] >= this.outlierRun) {
          // not a glitch but a new level: forget the old statistics of this channel
          this.runLength[i] = 0;
          this.count[i] = 0;
          this.mean[i] = 0;
          this.m2[i] = 0;
          this.variance[i] = 0;
          this.earlyLen[i] = 0;
          this.restarts++;
        }
      } else this.runLength[i] = 0;
    }
    return any;
  }

  /** Forgets every statistic and count (a new stream). */
  reset(): void {
    this.accepted = 0;
    this.rejected = 0;
    this.outliers = 0;
    this.restarts = 0;
    this.seen = 0;
    this.rejectedPerChannel.fill(0);
    this.outliersPerChannel.fill(0);
    this.runLength.fill(0);
    this.count.fill(0);
    this.mean.fill(0);
    this.m2.fill(0);
    this.variance.fill(0);
    this.earlyLen.fill(0);
  }
}

/** Readings per channel the early guard keeps. */
const EARLY = 32;

/** Median of the sorted run a[base .. base + n). */
function median(a: Float64Array, base: number, n: number): number {
  const h = n >> 1;
  return n % 2 === 1 ? a[base + h] : (a[base + h - 1] + a[base + h]) / 2;
}

export function createScaler(c: ScalerConfig): StreamScaler {
  return new StreamScaler(c);
}
