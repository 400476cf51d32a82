/**
 * Synthetic multi-channel sensor signals for the virtual board: each channel is a sum of sinusoids plus
 * noise; at known sample indices (every `driftEvery` samples) the frequencies, amplitudes and the mixing that
 * defines the target change abruptly ("drift events"). The target is a fixed linear mix of the noise-free
 * channels within a regime, so a learner has something to learn, and has to relearn after each drift.
 *
 * Deterministic in (seed, n): sample n can be recomputed at any time. Allocation-free after construction.
 *
 * Scenario 'heater' (option `scenario`): a heated body whose temperature depends on the history of its inputs, so a
 * learner needs memory and a nonlinearity, not a same-time mix. Channels: 0 heater drive d(n) in [0, 1] (a new
 * random level every 40 samples), 1 fan speed f(n) in [0, 1] and 2 ambient temperature a(n) (slow sinusoids), further
 * channels slow distractor sinusoids. The drive is a voltage, so the heating power is gain * d^2 (Joule heating);
 * Newton cooling, stronger with the fan. First-order lag, explicit Euler with one sample as the time step:
 *   T(n) = T(n-1) + (gain d(n-1)^2 - (1 + f(n-1)) (T(n-1) - a(n-1))) / tauTh
 * The target is T(n) - 0.5 (one output); gain U(0.6, 1.4) and tauTh U(15, 60) samples are redrawn at every drift
 * event with the fan and ambient waves. The temperature is a recursion: samples are cheapest in increasing n; any
 * other order replays from n = 0.
 */
import { createRng, rngSeed, rngUniform } from '../../runtime/rng.ts';

export interface SignalOptions {
  /** Sensor channels (default 3). */
  channels?: number;
  /** Target values per sample (default 1). */
  outputs?: number;
  /** Sample rate, used to turn frequencies in Hz into phase steps (default 1000). */
  rateHz?: number;
  seed?: number;
  /** Standard deviation of the additive (uniform) noise on the channels (default 0.02). */
  noise?: number;
  /** Samples between drift events; 0 = never (default 4000). Events happen at n = k * driftEvery, k >= 1. */
  driftEvery?: number;
  /** Sinusoids per channel (default 2). */
  components?: number;
  /** Frequency range in Hz (default rateHz/400 .. rateHz/50: 2.5 .. 20 Hz at 1 kHz, so every period spans 50..400 samples). */
  minHz?: number;
  maxHz?: number;
  /** 'mix' (default): the target is a same-time linear mix of the clean channels. 'heater': see above. */
  scenario?: 'mix' | 'heater';
}

/** Samples between two heater drive levels. */
const HEATER_HOLD = 40;

export class SyntheticSignal {
  readonly channels: number;
  readonly outputs: number;
  readonly rateHz: number;
  readonly driftEvery: number;
  private readonly seed: number;
  private readonly noise: number;
  private readonly K: number;
  private readonly minHz: number;
  private readonly maxHz: number;
  private regime = -1;
  private readonly amp: Float64Array;
  private readonly omega: Float64Array;
  private readonly phase: Float64Array;
  private readonly mix: Float64Array; // outputs x channels
  private readonly clean: Float64Array;
  private readonly rng = createRng(0);
  readonly scenario: 'mix' | 'heater';
  /** heater: [gain, tauTh] of the current regime, the temperature T(last) and the last sample index computed. */
  private heatGain = 1;
  private heatTau = 30;
  private temp = 0.5;
  private last = -1;
  private readonly prevX: Float64Array;

  constructor(o: SignalOptions = {}) {
    this.channels = o.channels ?? 3;
    this.outputs = o.outputs ?? 1;
    this.rateHz = o.rateHz ?? 1000;
    this.seed = o.seed ?? 1;
    this.noise = o.noise ?? 0.02;
    this.driftEvery = o.driftEvery ?? 4000;
    this.K = o.components ?? 2;
    this.minHz = o.minHz ?? this.rateHz / 400;
    this.maxHz = o.maxHz ?? this.rateHz / 50;
    if (!Number.isInteger(this.channels) || this.channels < 1) throw new RangeError(`channels must be an integer >= 1 (got ${this.channels})`);
    if (!(this.rateHz > 0)) throw new RangeError(`rateHz must be > 0 (got ${this.rateHz})`);
    this.scenario = o.scenario ?? 'mix';
    if (this.scenario !== 'mix' && this.scenario !== 'heater') throw new RangeError(`scenario must be 'mix' or 'heater' (got ${String(o.scenario)})`);
    if (this.scenario === 'heater' && this.outputs !== 1) throw new RangeError(`the heater scenario has one output, the temperature (got outputs ${this.outputs})`);
    if (this.scenario === 'heater' && this.channels < 3) throw new RangeError(`the heater scenario needs channels >= 3 (drive, fan, ambient; got ${this.channels})`);
    this.prevX = new Float64Array(this.channels);
    const n = this.channels * this.K;
    this.amp = new Float64Array(n);
    this.omega = new Float64Array(n);
    this.phase = new Float64Array(n);
    this.mix = new Float64Array(this.outputs * this.channels);
    this.clean = new Float64Array(this.channels);
  }

  /** Regime index of sample n (0 before the first drift event). */
  regimeOf(n: number): number {
    return this.driftEvery > 0 ? Math.floor(n / this.driftEvery) : 0;
  }

  /** Sample indices of the drift events below n. */
  driftEventsBefore(n: number): number[] {
    const out: number[] = [];
    if (this.driftEvery > 0) for (let k = this.driftEvery; k < n; k += this.driftEvery) out.push(k);
    return out;
  }

  private setRegime(r: number): void {
    if (r === this.regime) return;
    this.regime = r;
    const rng = rngSeed(this.rng, (this.seed * 7919 + r * 104729) >>> 0);
    const C = this.channels;
    for (let i = 0; i < C * this.K; i++) {
      this.amp[i] = (0.3 + 0.7 * rngUniform(rng)) / this.K;
      const hz = this.minHz + (this.maxHz - this.minHz) * rngUniform(rng);
      this.omega[i] = (2 * Math.PI * hz) / this.rateHz;
      this.phase[i] = 2 * Math.PI * rngUniform(rng);
    }
    for (let o = 0; o < this.outputs; o++) {
      let norm = 0;
      for (let c = 0; c < C; c++) {
        const w = 2 * rngUniform(rng) - 1;
        this.mix[o * C + c] = w;
        norm += Math.abs(w);
      }
      for (let c = 0; c < C; c++) this.mix[o * C + c] /= norm > 0 ? norm : 1;
    }
    if (this.scenario === 'heater') {
      this.heatGain = 0.6 + 0.8 * rngUniform(rng);
      this.heatTau = 15 + 45 * rngUniform(rng);
    }
  }

  /** heater: the clean channels of sample n into this.clean (drive, fan, ambient, distractors). */
  private heaterInputs(n: number): void {
    const C = this.channels;
    const K = this.K;
    this.clean[0] = hashUniform(this.seed, Math.floor(n / HEATER_HOLD), 1000003);
    for (let c = 1; c < C; c++) {
      let v = 0;
      for (let k = 0; k < K; k++) {
        const i = c * K + k;
        // Slow waves (a tenth of the mix scenario's frequencies), in [0, 1] for the fan, around 0 otherwise.
        v += this.amp[i] * Math.sin(0.1 * this.omega[i] * n + this.phase[i]);
      }
      this.clean[c] = c === 1 ? 0.5 + 0.5 * v : 0.3 * v;
    }
  }

  /** heater: advances the temperature to sample n (replaying from 0 when n is not the next sample). */
  private heaterSample(n: number, x: Float64Array, target: Float64Array): void {
    if (n !== this.last + 1) {
      if (n <= this.last || n > this.last + 1) {
        this.last = -1;
        this.temp = 0.5;
        for (let m = 0; m < n; m++) this.heaterStep(m);
      }
    }
    this.heaterStep(n);
    const C = this.channels;
    for (let c = 0; c < C; c++) x[c] = this.clean[c] + this.noise * Math.sqrt(3) * (2 * hashUniform(this.seed, n, c) - 1);
    target[0] = this.temp - 0.5;
  }

  /** One Euler step of the heated body: from T(n-1) with the inputs of n-1 to T(n); leaves the inputs of n in clean. */
  private heaterStep(n: number): void {
    if (n > 0) {
      const d = this.prevX[0];
      this.temp += (this.heatGain * d * d - (1 + this.prevX[1]) * (this.temp - this.prevX[2])) / this.heatTau;
    }
    this.setRegime(this.regimeOf(n));
    this.heaterInputs(n);
    this.prevX.set(this.clean);
    this.last = n;
  }

  /** Channels of sample n into x (length channels) and the target into target (length outputs). */
  sample(n: number, x: Float64Array, target: Float64Array): void {
    if (this.scenario === 'heater') {
      this.heaterSample(n, x, target);
      return;
    }
    this.setRegime(this.regimeOf(n));
    const C = this.channels;
    const K = this.K;
    for (let c = 0; c < C; c++) {
      let v = 0;
      for (let k = 0; k < K; k++) {
        const i = c * K + k;
        v += this.amp[i] * Math.sin(this.omega[i] * n + this.phase[i]);
      }
      this.clean[c] = v;
      x[c] = v + this.noise * Math.sqrt(3) * (2 * hashUniform(this.seed, n, c) - 1);
    }
    for (let o = 0; o < this.outputs; o++) {
      let v = 0;
      for (let c = 0; c < C; c++) v += this.mix[o * C + c] * this.clean[c];
      target[o] = v;
    }
  }
}

/** A uniform number in [0, 1) from (seed, n, c) by integer mixing (splitmix32-style finaliser). */
function hashUniform(seed: number, n: number, c: number): number {
  let h = (Math.imul(n >>> 0, 0x9e3779b1) ^ Math.imul(c + 1, 0x85ebca6b) ^ Math.imul(seed >>> 0, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h = (h ^ (h >>> 16)) >>> 0;
  return h / 4294967296;
}
