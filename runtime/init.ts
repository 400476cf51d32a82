/**
 * Seeded initial weights, the same for both engines (the fixed-point engine quantizes these float64 values).
 * Plan-time code: allocates freely.
 */
import type { ModelWeights, NetworkShape } from './types.ts';
import { createRng, rngNormal, rngUniform } from './rng.ts';

export interface InitOptions extends NetworkShape {
  tau: number;
  seed: number;
  /** Gain g of W_rec ~ N(0, g^2 / N) (Murray 2019 uses 1.5). */
  gain?: number;
  /** W_out ~ U(-outScale, outScale) / sqrt(N) (Murray 2019: 0.1). */
  outScale?: number;
  /** W_in ~ U(-inScale, inScale) (default 1). */
  inScale?: number;
  /** Initial state of every unit at a trial start (Murray 2019: 0.1). */
  h0?: number;
}

/** Draws W_rec, W_out, W_in and B in that order from one seeded stream; b = 0. B ~ N(0, 1/O). */
export function initWeights(o: InitOptions): ModelWeights {
  const { inputs: M, hidden: N, outputs: O } = o;
  const g = o.gain ?? 1.5;
  const outScale = o.outScale ?? 0.1;
  const inScale = o.inScale ?? 1;
  const rng = createRng(o.seed);
  const W_rec = new Float64Array(N * N);
  for (let i = 0; i < W_rec.length; i++) W_rec[i] = (g / Math.sqrt(N)) * rngNormal(rng);
  const W_out = new Float64Array(O * N);
  for (let i = 0; i < W_out.length; i++) W_out[i] = ((2 * rngUniform(rng) - 1) * outScale) / Math.sqrt(N);
  const W_in = new Float64Array(N * M);
  for (let i = 0; i < W_in.length; i++) W_in[i] = (2 * rngUniform(rng) - 1) * inScale;
  const B = new Float64Array(N * O);
  for (let i = 0; i < B.length; i++) B[i] = rngNormal(rng) / Math.sqrt(O);
  return {
    tau: o.tau,
    inputs: M,
    hidden: N,
    outputs: O,
    W_in,
    W_rec,
    b: new Float64Array(N),
    W_out,
    h0: new Float64Array(N).fill(o.h0 ?? 0.1),
    B,
  };
}

/** Deep copy, so one initial model can seed several learners. */
export function cloneWeights(w: ModelWeights): ModelWeights {
  return {
    ...w,
    W_in: w.W_in.slice(),
    W_rec: w.W_rec.slice(),
    b: w.b.slice(),
    W_out: w.W_out.slice(),
    h0: w.h0.slice(),
    B: w.B.slice(),
    ...(w.D !== undefined ? { D: w.D.slice() } : {}),
  };
}
