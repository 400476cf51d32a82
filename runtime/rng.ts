/**
 * Deterministic, platform-independent random numbers (xorshift128, Marsaglia 2003) in pure 32-bit integer
 * arithmetic, so the same seed gives the same stream in JavaScript and in the C firmware.
 * State lives in a caller-owned Uint32Array(4); the functions allocate nothing.
 */

export const RNG_STATE_WORDS = 4;

/** Seeds state from a 32-bit integer with splitmix32 so that nearby seeds give unrelated streams. */
export function rngSeed(state: Uint32Array, seed: number): Uint32Array {
  let z = seed >>> 0;
  for (let i = 0; i < 4; i++) {
    z = (z + 0x9e3779b9) >>> 0;
    let t = z;
    t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
    t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
    t = (t ^ (t >>> 16)) >>> 0;
    state[i] = t;
  }
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  return state;
}

export function createRng(seed: number): Uint32Array {
  return rngSeed(new Uint32Array(RNG_STATE_WORDS), seed);
}

/** Next uniformly distributed uint32. */
export function rngNextU32(s: Uint32Array): number {
  let t = s[3];
  const x = s[0];
  s[3] = s[2];
  s[2] = s[1];
  s[1] = x;
  t ^= t << 11;
  t ^= t >>> 8;
  s[0] = (t ^ x ^ (x >>> 19)) >>> 0;
  return s[0];
}

/** Uniform in [0, 1) with 32 bits of resolution. */
export function rngUniform(s: Uint32Array): number {
  return rngNextU32(s) / 4294967296;
}

/** Standard normal by Box-Muller (one value per call, two uniforms consumed). */
export function rngNormal(s: Uint32Array): number {
  const u1 = (rngNextU32(s) + 1) / 4294967297; // (0, 1): log never sees 0
  const u2 = rngNextU32(s) / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
